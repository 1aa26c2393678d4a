//! Wait estimates for visitors in line, from the recent pace at which the line moves.
//!
//! Like the engine this is sans-IO: the caller reports each dequeue and asks for estimates with
//! the current time in milliseconds, so tests need no clock. The pace is an exponentially
//! weighted moving average of the intervals between dequeues, which follows changes in staffing
//! within a few conversations while smoothing out single quick or slow ones.

/// Weight of the newest interval in the moving average.
const ALPHA: f64 = 0.2;

/// A line that has not moved for this long tells nothing about its pace any more.
const STALE_AFTER_MS: i64 = 15 * 60 * 1000;

/// Longest wait ever announced; beyond an hour a precise figure means nothing to a visitor.
const MAX_ESTIMATE_MS: u64 = 60 * 60 * 1000;

/// Estimates how long a waiting conversation will wait, from the recent pace of the line.
#[derive(Debug, Clone, Default)]
pub struct WaitEstimator {
    /// When the latest dequeue happened (the latest seen, if the clock ever went back).
    last_dequeue_ms: Option<i64>,
    /// Moving average of the interval between dequeues, in ms; set from the second dequeue on.
    average_interval_ms: Option<f64>,
}

impl WaitEstimator {
    /// An estimator that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A conversation left the line (was assigned) at `now_ms`.
    ///
    /// Several conversations assigned at once count as intervals of 0: the line did move that
    /// fast, and the average recovers within a few ordinary intervals.
    pub fn record_dequeue(&mut self, now_ms: i64) {
        if let Some(last) = self.last_dequeue_ms {
            // A clock that went back (another instance's, or an adjustment) counts as no time.
            let interval = now_ms.saturating_sub(last).max(0) as f64;
            self.average_interval_ms = Some(match self.average_interval_ms {
                None => interval,
                Some(average) => average + ALPHA * (interval - average),
            });
            self.last_dequeue_ms = Some(last.max(now_ms));
        } else {
            self.last_dequeue_ms = Some(now_ms);
        }
    }

    /// Estimated wait in ms for the conversation at 1-based `position`, or `None` while there is
    /// no data (fewer than 2 dequeues observed, or the last one more than 15 minutes old).
    ///
    /// The estimate is `position` times the average interval, capped at an hour. While nothing
    /// leaves the line the interval in progress is already as long as the time since the last
    /// dequeue, so that time is used instead whenever it is longer than the average: a stalled
    /// line announces growing waits rather than the pace it had before it stalled.
    pub fn estimate(&self, position: u32, now_ms: i64) -> Option<u64> {
        let last = self.last_dequeue_ms?;
        let average = self.average_interval_ms?;
        let since_last = now_ms.saturating_sub(last).max(0);
        if since_last > STALE_AFTER_MS {
            return None;
        }
        let interval = average.max(since_last as f64);
        // `as` saturates, and the product is never negative.
        let estimate = (f64::from(position) * interval).round() as u64;
        Some(estimate.min(MAX_ESTIMATE_MS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1000;
    const MINUTE: i64 = 60 * SECOND;

    /// An estimator that saw dequeues at `times`.
    fn after(times: &[i64]) -> WaitEstimator {
        let mut estimator = WaitEstimator::new();
        for &time in times {
            estimator.record_dequeue(time);
        }
        estimator
    }

    #[test]
    fn there_is_no_estimate_before_two_dequeues() {
        assert_eq!(after(&[]).estimate(1, 0), None);
        assert_eq!(after(&[5 * SECOND]).estimate(1, 5 * SECOND), None);
        assert!(
            after(&[5 * SECOND, 6 * SECOND])
                .estimate(1, 6 * SECOND)
                .is_some()
        );
    }

    #[test]
    fn the_estimate_is_the_position_times_the_average_interval() {
        let estimator = after(&[0, 10 * SECOND]);
        assert_eq!(estimator.estimate(1, 10 * SECOND), Some(10_000));
        assert_eq!(estimator.estimate(3, 10 * SECOND), Some(30_000));
        assert_eq!(estimator.estimate(3, 12 * SECOND), Some(30_000));
    }

    #[test]
    fn the_average_leans_towards_recent_intervals() {
        // Intervals of 10 s, then 20 s: 10 + 0.2 × (20 − 10) = 12 s.
        let estimator = after(&[0, 10 * SECOND, 30 * SECOND]);
        assert_eq!(estimator.estimate(1, 30 * SECOND), Some(12_000));

        // A long run of 1 s intervals brings it down near 1 s.
        let times: Vec<i64> = (0..40).map(|i| 30 * SECOND + i * SECOND).collect();
        let mut estimator = estimator;
        for time in times {
            estimator.record_dequeue(time);
        }
        let estimate = estimator.estimate(1, 69 * SECOND).expect("an estimate");
        assert!((1_000..1_100).contains(&estimate), "{estimate}");
    }

    #[test]
    fn a_stalled_line_announces_growing_waits() {
        let estimator = after(&[0, 10 * SECOND]);
        let now = 10 * SECOND + 25 * SECOND;
        assert_eq!(estimator.estimate(1, now), Some(25_000));
        assert_eq!(estimator.estimate(2, now), Some(50_000));
        assert_eq!(estimator.estimate(1, now + MINUTE), Some(85_000));
    }

    #[test]
    fn a_line_that_has_not_moved_for_15_minutes_has_no_estimate() {
        let mut estimator = after(&[0, 10 * SECOND]);
        let last = 10 * SECOND;
        assert!(estimator.estimate(1, last + 15 * MINUTE).is_some());
        assert_eq!(estimator.estimate(1, last + 15 * MINUTE + 1), None);

        // The next dequeue brings it back, slowed by the long interval.
        estimator.record_dequeue(last + 20 * MINUTE);
        assert_eq!(
            estimator.estimate(1, last + 20 * MINUTE),
            Some((8 * SECOND + 4 * MINUTE) as u64)
        );
    }

    #[test]
    fn estimates_are_capped_at_an_hour() {
        let estimator = after(&[0, 10 * MINUTE]);
        assert_eq!(estimator.estimate(5, 10 * MINUTE), Some(50 * 60_000));
        assert_eq!(estimator.estimate(7, 10 * MINUTE), Some(60 * 60_000));
        assert_eq!(estimator.estimate(u32::MAX, 10 * MINUTE), Some(60 * 60_000));
    }

    #[test]
    fn a_clock_going_back_counts_as_no_time() {
        let estimator = after(&[10 * SECOND, 20 * SECOND, 15 * SECOND]);
        // Intervals 10 s and 0 s: 10 − 0.2 × 10 = 8 s, measured from the later dequeue.
        assert_eq!(estimator.estimate(1, 20 * SECOND), Some(8_000));
        assert_eq!(estimator.estimate(1, 5 * SECOND), Some(8_000));
    }

    #[test]
    fn simultaneous_dequeues_speed_the_pace_up() {
        let estimator = after(&[0, 10 * SECOND, 10 * SECOND, 10 * SECOND]);
        // 10 s, then two intervals of 0: 10 × 0.8 × 0.8 = 6.4 s.
        assert_eq!(estimator.estimate(1, 10 * SECOND), Some(6_400));
    }
}
