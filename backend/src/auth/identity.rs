//! Identity verification for visitors: the site owner's server computes
//! `hex(HMAC-SHA256(tenant.identity_secret, user_id))` and passes it to the widget; natter checks
//! it in constant time. A verified visitor's conversations follow their user id across devices.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The hex signature the site owner's server must produce for `user_id`.
pub fn sign_user_id(secret: &str, user_id: &str) -> String {
    let mut mac = new_mac(secret);
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `user_hash` is the valid signature of `user_id` (constant-time comparison).
pub fn verify_user_hash(secret: &str, user_id: &str, user_hash: &str) -> bool {
    let Ok(tag) = hex::decode(user_hash.trim()) else {
        return false;
    };
    let mut mac = new_mac(secret);
    mac.update(user_id.as_bytes());
    mac.verify_slice(&tag).is_ok()
}

fn new_mac(secret: &str) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail; the fallback keeps clippy's
    // no-unwrap rule without a panic path.
    <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_made_with_the_secret_verifies() {
        let hash = sign_user_id("s3cret", "user-42");
        assert_eq!(hash.len(), 64);
        assert!(verify_user_hash("s3cret", "user-42", &hash));
    }

    #[test]
    fn a_signature_for_another_user_or_secret_is_refused() {
        let hash = sign_user_id("s3cret", "user-42");
        assert!(!verify_user_hash("s3cret", "user-43", &hash));
        assert!(!verify_user_hash("other", "user-42", &hash));
        assert!(!verify_user_hash("s3cret", "user-42", "zz-not-hex"));
        assert!(!verify_user_hash("s3cret", "user-42", ""));
    }

    #[test]
    fn the_signature_matches_a_known_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            sign_user_id("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
