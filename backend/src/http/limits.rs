//! Rate limits: per client IP on the unauthenticated entry points (sign-in, visitor sessions),
//! with tower_governor, and per principal on message sending (WebSocket and REST), with a keyed
//! governor limiter, so one abusive token cannot flood conversations from many connections.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::Request;
use axum::response::IntoResponse;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tower_governor::GovernorError;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::{KeyExtractor, PeerIpKeyExtractor, SmartIpKeyExtractor};

use crate::error::AppError;

/// Keys requests by client IP: the socket peer, or with `trust_proxy` the address a trusted
/// reverse proxy reports.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp {
    /// Read X-Forwarded-For / X-Real-IP / Forwarded.
    pub trust_proxy: bool,
}

impl KeyExtractor for ClientIp {
    type Key = IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<IpAddr, GovernorError> {
        if self.trust_proxy {
            SmartIpKeyExtractor.extract(req)
        } else {
            PeerIpKeyExtractor.extract(req)
        }
    }
}

/// A per-IP limit of `burst` requests at once, refilled at one request per `refill`, on the
/// given methods only (all methods when empty).
pub fn per_ip(
    refill: Duration,
    burst: u32,
    trust_proxy: bool,
    methods: &[axum::http::Method],
) -> tower_governor::GovernorLayer<ClientIp, governor::middleware::NoOpMiddleware, axum::body::Body>
{
    let mut builder = GovernorConfigBuilder::default();
    builder.period(refill).burst_size(burst);
    if !methods.is_empty() {
        builder.methods(methods.to_vec());
    }
    let config = builder
        .key_extractor(ClientIp { trust_proxy })
        .finish()
        .expect("callers pass a non-zero period and burst");
    tower_governor::GovernorLayer::new(Arc::new(config)).error_handler(|error| match error {
        GovernorError::TooManyRequests { wait_time, .. } => {
            let mut response = AppError::RateLimited.into_response();
            if let Ok(value) = wait_time.to_string().parse() {
                response.headers_mut().insert("retry-after", value);
            }
            response
        }
        GovernorError::UnableToExtractKey => {
            AppError::Internal("rate limiter could not determine the client address".into())
                .into_response()
        }
        GovernorError::Other { code, msg, .. } => AppError::Internal(format!(
            "rate limiter error {code}: {}",
            msg.unwrap_or_default()
        ))
        .into_response(),
    })
}

/// Messages per second a principal may sustain.
pub const MESSAGES_PER_SECOND: u32 = 10;
/// Messages a principal may send in a burst (an outbox flushing after a reconnect).
pub const MESSAGE_BURST: u32 = 50;

/// Per-principal message rate limit.
pub struct MessageLimiter {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    checks: AtomicU64,
}

impl MessageLimiter {
    /// A limiter; `enabled = false` lets everything through (load benchmarks only).
    pub fn new(enabled: bool) -> Self {
        let quota =
            Quota::per_second(nonzero(MESSAGES_PER_SECOND)).allow_burst(nonzero(MESSAGE_BURST));
        MessageLimiter {
            limiter: enabled.then(|| RateLimiter::keyed(quota)),
            checks: AtomicU64::new(0),
        }
    }

    /// Counts one message of `principal_id`; `RateLimited` when over the limit.
    pub fn check(&self, principal_id: &str) -> Result<(), AppError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        // Forget idle principals now and then so the map does not grow without bound.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 10_000 == 9_999 {
            limiter.retain_recent();
        }
        limiter
            .check_key(&principal_id.to_owned())
            .map_err(|_| AppError::RateLimited)
    }
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_principal_over_its_burst_is_limited_and_others_are_not() {
        let limits = MessageLimiter::new(true);
        for _ in 0..MESSAGE_BURST {
            assert!(limits.check("a").is_ok());
        }
        assert!(matches!(limits.check("a"), Err(AppError::RateLimited)));
        assert!(limits.check("b").is_ok());
    }

    #[test]
    fn a_disabled_limiter_lets_everything_through() {
        let limits = MessageLimiter::new(false);
        for _ in 0..(MESSAGE_BURST * 2) {
            assert!(limits.check("a").is_ok());
        }
    }
}
