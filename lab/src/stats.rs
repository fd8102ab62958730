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
        let mut ns: Vec<u64> = d
            .iter()
            .map(|d| d.as_nanos().min(u64::MAX as u128) as u64)
            .collect();
        if ns.is_empty() {
            return Stats::default();
        }
        ns.sort_unstable();
        let n = ns.len();
        let rank = |p: f64| ns[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
        let median = if n % 2 == 1 {
            ns[n / 2]
        } else {
            (ns[n / 2 - 1] + ns[n / 2]) / 2
        };
        Stats {
            count: n,
            mean_ns: (ns.iter().map(|&v| v as u128).sum::<u128>() / n as u128) as u64,
            median_ns: median,
            p90_ns: rank(0.90),
            p99_ns: rank(0.99),
            min_ns: ns[0],
            max_ns: ns[n - 1],
        }
    }
}

/// Formats nanoseconds with a unit fitting the value (`850 ns`, `12.3 µs`, `15.20 ms`, `1.234 s`).
pub fn format_ns(ns: u64) -> String {
    let v = ns as f64;
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{:.1} µs", v / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2} ms", v / 1e6)
    } else {
        format!("{:.3} s", v / 1e9)
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
        assert_eq!(
            (s.median_ns, s.min_ns, s.max_ns, s.mean_ns),
            (3_000_000, 1_000_000, 5_000_000, 3_000_000)
        );
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

    #[test]
    fn units() {
        assert_eq!(format_ns(850), "850 ns");
        assert_eq!(format_ns(12_340), "12.3 µs");
        assert_eq!(format_ns(15_200_000), "15.20 ms");
        assert_eq!(format_ns(1_234_000_000), "1.234 s");
    }
}
