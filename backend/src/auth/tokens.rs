//! Signed tokens (JWT, HS256 only; the algorithm is pinned so `alg: none` and algorithm
//! confusion are refused). Three kinds, told apart by the `aud` claim so one can never be used
//! as another: staff access tokens, staff refresh tokens and visitor tokens.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::StaffRole;
use crate::error::{AppError, AppResult};

/// Which kind of token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Staff access token (short-lived).
    StaffAccess,
    /// Staff refresh token (long-lived, only for `/v1/auth/refresh`).
    StaffRefresh,
    /// Visitor token (long-lived; the widget keeps it).
    Visitor,
}

impl TokenKind {
    fn audience(self) -> &'static str {
        match self {
            TokenKind::StaffAccess => "natter:staff",
            TokenKind::StaffRefresh => "natter:refresh",
            TokenKind::Visitor => "natter:visitor",
        }
    }
}

/// The claims natter signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Staff or visitor id.
    pub sub: String,
    /// Tenant id.
    pub tid: String,
    /// Token kind (see [`TokenKind`]).
    pub aud: String,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Expiry (seconds since the epoch).
    pub exp: u64,
    /// Staff role at issue time (access tokens only; the account is re-checked on use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<StaffRole>,
}

/// Issues and verifies tokens with one shared secret.
#[derive(Clone)]
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenService { .. }")
    }
}

/// Shortest accepted signing secret, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

impl TokenService {
    /// A service signing with `secret` (at least [`MIN_SECRET_BYTES`] bytes).
    pub fn new(secret: &[u8]) -> anyhow::Result<Self> {
        anyhow::ensure!(
            secret.len() >= MIN_SECRET_BYTES,
            "the token signing secret must be at least {MIN_SECRET_BYTES} bytes"
        );
        Ok(TokenService {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        })
    }

    /// Signs a token of `kind` for `sub` in tenant `tid`, valid for `ttl` from `now_secs`.
    pub fn issue(
        &self,
        kind: TokenKind,
        sub: &str,
        tid: &str,
        role: Option<StaffRole>,
        now_secs: u64,
        ttl: Duration,
    ) -> AppResult<String> {
        let claims = Claims {
            sub: sub.to_owned(),
            tid: tid.to_owned(),
            aud: kind.audience().to_owned(),
            iat: now_secs,
            exp: now_secs + ttl.as_secs(),
            role,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::Internal(format!("token signing failed: {e}")))
    }

    /// Verifies signature, algorithm, audience and expiry; returns the claims.
    pub fn verify(&self, kind: TokenKind, token: &str) -> AppResult<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_audience(&[kind.audience()]);
        validation.set_required_spec_claims(&["exp", "sub", "aud"]);
        validation.leeway = 0;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    AppError::Unauthenticated("token expired")
                }
                _ => AppError::Unauthenticated("invalid token"),
            })
    }
}

/// Seconds since the epoch, now.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn service() -> TokenService {
        TokenService::new(b"0123456789abcdef0123456789abcdef").unwrap()
    }

    #[test]
    fn a_token_verifies_with_its_own_kind_only() {
        let s = service();
        let t = s
            .issue(
                TokenKind::Visitor,
                "v1",
                "t1",
                None,
                now_secs(),
                Duration::from_secs(60),
            )
            .unwrap();
        assert_eq!(s.verify(TokenKind::Visitor, &t).unwrap().sub, "v1");
        assert!(s.verify(TokenKind::StaffAccess, &t).is_err());
        assert!(s.verify(TokenKind::StaffRefresh, &t).is_err());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let s = service();
        let t = s
            .issue(
                TokenKind::StaffAccess,
                "s",
                "t",
                None,
                now_secs() - 120,
                Duration::from_secs(60),
            )
            .unwrap();
        assert!(matches!(
            s.verify(TokenKind::StaffAccess, &t),
            Err(AppError::Unauthenticated("token expired"))
        ));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = TokenService::new(b"another-secret-another-secret-xx").unwrap();
        let t = other
            .issue(
                TokenKind::StaffAccess,
                "s",
                "t",
                None,
                now_secs(),
                Duration::from_secs(60),
            )
            .unwrap();
        assert!(service().verify(TokenKind::StaffAccess, &t).is_err());
    }

    #[test]
    fn an_alg_none_token_is_refused() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"sub":"s","tid":"t","aud":"natter:staff","iat":1,"exp":{}}}"#,
            now_secs() + 600
        ));
        let forged = format!("{header}.{payload}.");
        assert!(service().verify(TokenKind::StaffAccess, &forged).is_err());
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(TokenService::new(b"short").is_err());
    }
}
