//! Summary statistics of per-spawn durations.

use std::time::Duration;

/// Distribution of a set of durations, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stats {
    pub count: usize,
    pub mean_ns: u64,
    pub median_ns: u64,
    pub p90_ns: u64,
    pub p99_ns: u64,
    pub min_ns: u64,
    pub max_ns: u64,
}

impl Stats {
    /// Computes the statistics (nearest-rank percentiles). Empty input gives zeros.
    pub fn from_durations(d: &[Duration]) -> Stats {
        let mut ns: Vec<u64> = d.iter().map(|d| d.as_nanos().min(u64::MAX as u128) as u64).collect();
        if ns.is_empty() {
            return Stats::default();
        }
        ns.sort_unstable();
        let n = ns.len();
        let rank = |pct: u32| spawnscope_units::percentile(&ns, pct).unwrap_or(0);
        let median = if n % 2 == 1 { ns[n / 2] } else { (ns[n / 2 - 1] + ns[n / 2]) / 2 };
        Stats {
            count: n,
            mean_ns: (ns.iter().map(|&v| v as u128).sum::<u128>() / n as u128) as u64,
            median_ns: median,
            p90_ns: rank(90),
            p99_ns: rank(99),
            min_ns: ns[0],
            max_ns: ns[n - 1],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn odd_and_even_medians() {
        let s = Stats::from_durations(&ms(&[5, 1, 3]));
        assert_eq!((s.median_ns, s.min_ns, s.max_ns, s.mean_ns), (3_000_000, 1_000_000, 5_000_000, 3_000_000));
        let s = Stats::from_durations(&ms(&[4, 1, 3, 2]));
        assert_eq!(s.median_ns, 2_500_000);
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        let s = Stats::from_durations(&ms(&v));
        assert_eq!(s.p90_ns, 90_000_000);
        assert_eq!(s.p99_ns, 99_000_000);
        assert_eq!(s.count, 100);
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(Stats::from_durations(&[]), Stats::default());
    }
}
