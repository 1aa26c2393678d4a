//! Latency percentiles from a sorted vector of samples (nearest-rank), which is exact and fast
//! enough for the few hundred thousand samples of one run.

use std::time::Duration;

/// Percentiles of a set of latency samples.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LatencySummary {
    /// Number of samples.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Largest sample.
    pub max: Duration,
}

impl LatencySummary {
    /// Summarises samples given in nanoseconds (sorted in place).
    pub fn from_nanos(samples: &mut [u64]) -> Self {
        samples.sort_unstable();
        LatencySummary {
            count: samples.len(),
            p50: Duration::from_nanos(percentile(samples, 50.0)),
            p99: Duration::from_nanos(percentile(samples, 99.0)),
            max: Duration::from_nanos(samples.last().copied().unwrap_or(0)),
        }
    }
}

/// The nearest-rank percentile `p` (0–100) of sorted samples; 0 when there are none.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    // Nearest rank: the smallest sample with at least p% of the samples at or below it.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Milliseconds with two decimals, for tables.
pub fn ms(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_pick_real_samples() {
        let sorted: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&sorted, 50.0), 50);
        assert_eq!(percentile(&sorted, 99.0), 99);
        assert_eq!(percentile(&sorted, 100.0), 100);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
    }

    #[test]
    fn a_summary_sorts_its_samples_first() {
        let mut samples = vec![3_000_000, 1_000_000, 2_000_000];
        let summary = LatencySummary::from_nanos(&mut samples);
        assert_eq!(summary.count, 3);
        assert_eq!(summary.p50, Duration::from_millis(2));
        assert_eq!(summary.max, Duration::from_millis(3));
        assert_eq!(ms(summary.p99), "3.00");
    }
}
