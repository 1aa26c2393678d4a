//! Reconnect delays: capped exponential backoff with full jitter.
//!
//! The ceiling for the n-th consecutive failure is `min(cap, base * 2^(n-1))` and the delay is
//! drawn uniformly from `0..=ceiling` ("full jitter" in the AWS Architecture Blog's
//! *Exponential Backoff and Jitter*). Full jitter spreads thousands of clients that lost the same
//! server over the whole window instead of letting them return in synchronised waves.

use super::rng::SplitMix64;

/// Counts consecutive failed connection attempts and turns the count into a delay.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    base_ms: u64,
    cap_ms: u64,
    /// Consecutive failures since the last reset.
    failures: u32,
}

impl Backoff {
    /// A backoff starting at `base_ms` and never waiting longer than `cap_ms`.
    pub(crate) fn new(base_ms: u64, cap_ms: u64) -> Self {
        Self {
            base_ms,
            cap_ms: cap_ms.max(base_ms),
            failures: 0,
        }
    }

    /// Consecutive failures recorded since the last reset.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// Records one more failure and returns how long to wait before the next attempt.
    pub(crate) fn next_delay(&mut self, rng: &mut SplitMix64) -> u64 {
        self.failures = self.failures.saturating_add(1);
        rng.up_to(self.ceiling(self.failures))
    }

    /// The largest delay the `failures`-th consecutive failure can produce.
    pub(crate) fn ceiling(&self, failures: u32) -> u64 {
        let doublings = failures.saturating_sub(1).min(63);
        self.base_ms
            .saturating_mul(1_u64 << doublings)
            .min(self.cap_ms)
    }

    /// Forgets past failures (after a connection that stayed up).
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_from_the_base_and_stops_at_the_cap() {
        let backoff = Backoff::new(500, 30_000);
        let ceilings: Vec<u64> = (1..=9).map(|n| backoff.ceiling(n)).collect();
        assert_eq!(
            ceilings,
            [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]
        );
        assert_eq!(backoff.ceiling(u32::MAX), 30_000);
    }

    #[test]
    fn delays_are_jittered_within_the_ceiling() {
        let mut rng = SplitMix64::new(3);
        for _ in 0..200 {
            let mut backoff = Backoff::new(500, 30_000);
            for n in 1..=12 {
                let delay = backoff.next_delay(&mut rng);
                assert!(
                    delay <= backoff.ceiling(n),
                    "{delay} > ceiling of attempt {n}"
                );
            }
        }
        // Jitter means different draws, not one fixed schedule.
        let mut backoff = Backoff::new(500, 30_000);
        let first: Vec<u64> = (0..5)
            .map(|_| {
                backoff.reset();
                backoff.next_delay(&mut rng)
            })
            .collect();
        assert!(first.windows(2).any(|w| w[0] != w[1]));
    }
}
