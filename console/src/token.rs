//! What a saved access token says about itself, read without verifying it: its audience
//! (`natter:staff`, `natter:visitor`, ...). Only the server can verify a token, and it refuses a
//! visitor's token on every staff endpoint; the console reads the audience just to say the
//! right thing ("this console is for staff accounts") instead of "your session ended", and to
//! not send a token that cannot open it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

/// The audience of staff access tokens.
pub const STAFF_AUDIENCE: &str = "natter:staff";

#[derive(Deserialize)]
struct Claims {
    aud: String,
}

/// The `aud` claim of a JWT, if the token is one and has it.
pub fn audience(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice::<Claims>(&bytes).ok().map(|c| c.aud)
}

/// Whether `token` is readable and plainly not a staff access token (a visitor's, a refresh
/// token). An unreadable token is left for the server to judge.
pub fn is_foreign(token: &str) -> bool {
    audience(token).is_some_and(|aud| aud != STAFF_AUDIENCE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(claims: &str) -> String {
        format!(
            "{}.{}.signature",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn a_staff_token_is_recognised() {
        let staff = token(r#"{"sub":"s1","aud":"natter:staff","exp":1,"role":"agent"}"#);
        assert_eq!(audience(&staff).as_deref(), Some(STAFF_AUDIENCE));
        assert!(!is_foreign(&staff));
    }

    #[test]
    fn a_visitor_or_refresh_token_is_foreign() {
        assert!(is_foreign(&token(r#"{"sub":"v1","aud":"natter:visitor"}"#)));
        assert!(is_foreign(&token(r#"{"sub":"s1","aud":"natter:refresh"}"#)));
    }

    #[test]
    fn an_unreadable_token_is_left_to_the_server() {
        for odd in [
            "",
            "abc",
            "a.%%%.c",
            &token("not json"),
            &token(r#"{"sub":"x"}"#),
        ] {
            assert_eq!(audience(odd), None, "{odd}");
            assert!(!is_foreign(odd));
        }
    }
}
