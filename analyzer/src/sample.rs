//! Bounded-memory distributions: a [`Sampler`] keeps the exact values up to
//! a cap (so small traces give exact, nearest-rank percentiles) and beyond
//! it the mergeable log-linear [`Histogram`] (percentiles within 3.2%;
//! count, min, max, mean and the log-2 buckets stay exact).

use spawnscope_format::Nanos;

use crate::model::LatencyStats;

/// Values kept exactly per group before a [`Sampler`] switches to its histogram.
pub const EXACT_SAMPLES: usize = 4096;

/// A distribution of durations: exact up to `cap` values, then a histogram.
#[derive(Debug, Clone, PartialEq)]
pub enum Sampler {
    Exact(Vec<Nanos>),
    Histogram(Box<Histogram>),
}

impl Default for Sampler {
    fn default() -> Self {
        Sampler::Exact(Vec::new())
    }
}

impl Sampler {
    pub fn add(&mut self, v: Nanos, cap: usize) {
        match self {
            Sampler::Exact(vals) => {
                vals.push(v);
                if vals.len() > cap {
                    let mut h = Histogram::default();
                    for &x in vals.iter() {
                        h.add(x);
                    }
                    *self = Sampler::Histogram(Box::new(h));
                }
            }
            Sampler::Histogram(h) => h.add(v),
        }
    }

    pub fn merge(&mut self, o: &Sampler, cap: usize) {
        match o {
            Sampler::Exact(vals) => {
                for &v in vals {
                    self.add(v, cap);
                }
            }
            Sampler::Histogram(oh) => {
                let mut h = match std::mem::take(self) {
                    Sampler::Exact(vals) => {
                        let mut h = Histogram::default();
                        for v in vals {
                            h.add(v);
                        }
                        h
                    }
                    Sampler::Histogram(h) => *h,
                };
                h.merge(oh);
                *self = Sampler::Histogram(Box::new(h));
            }
        }
    }

    pub fn count(&self) -> u64 {
        match self {
            Sampler::Exact(v) => v.len() as u64,
            Sampler::Histogram(h) => h.count(),
        }
    }

    /// The values as a histogram (for merging with other traces').
    pub fn to_histogram(&self) -> Histogram {
        match self {
            Sampler::Exact(v) => {
                let mut h = Histogram::default();
                for &x in v {
                    h.add(x);
                }
                h
            }
            Sampler::Histogram(h) => (**h).clone(),
        }
    }

    /// Whether the values are still exact.
    pub fn is_exact(&self) -> bool {
        matches!(self, Sampler::Exact(_))
    }

    /// The distribution (exact percentiles while exact).
    pub fn stats(&self) -> LatencyStats {
        match self {
            Sampler::Exact(v) => LatencyStats::from_values(&mut v.clone()),
            Sampler::Histogram(h) => h.stats(),
        }
    }

    /// The value at position `len / 2` of the sorted values (the upper
    /// median), None when empty.
    pub fn upper_median(&self) -> Option<Nanos> {
        match self {
            Sampler::Exact(v) => {
                let mut v = v.clone();
                v.sort_unstable();
                v.get(v.len() / 2).copied()
            }
            Sampler::Histogram(h) => {
                let n = h.count();
                (n > 0).then(|| h.value_at_rank(n / 2 + 1))
            }
        }
    }

    /// Sum of `max(v - b, 0)` over the values (saturating; from bucket
    /// midpoints once approximate).
    pub fn sum_excess(&self, b: Nanos) -> Nanos {
        match self {
            Sampler::Exact(v) => v.iter().fold(0u64, |acc, &x| acc.saturating_add(x.saturating_sub(b))),
            Sampler::Histogram(h) => h.sum_excess(b),
        }
    }
}

/// A mergeable histogram of durations with bounded relative error: values
/// below 32 ns are counted exactly; above, each power of two is split into 16
/// equal buckets, so a bucket's width is at most 1/16 of its lower bound and
/// its midpoint is within 1/32 (3.2%) of any value in it. 64-bit values need
/// at most 976 buckets (7.6 KiB); a trace of latencies between 10 µs and 10 s
/// uses about 330. Count, min, max and mean are kept exactly.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    counts: Vec<u64>,
    count: u64,
    sum: u128,
    min: Nanos,
    max: Nanos,
}

const SUB_BITS: u32 = 4;
const SUB: u64 = 1 << SUB_BITS;
const LINEAR: u64 = 2 * SUB; // values below are their own bucket

impl Histogram {
    pub(crate) fn index(v: Nanos) -> usize {
        if v < LINEAR {
            return v as usize;
        }
        let octave = 63 - v.leading_zeros(); // >= 5
        let sub = (v >> (octave - SUB_BITS)) & (SUB - 1);
        (LINEAR + u64::from(octave - SUB_BITS - 1) * SUB + sub) as usize
    }

    /// The smallest value of bucket `i` and the bucket's width.
    pub(crate) fn bounds(i: usize) -> (Nanos, Nanos) {
        let i = i as u64;
        if i < LINEAR {
            return (i, 1);
        }
        let octave = (i - LINEAR) / SUB + u64::from(SUB_BITS) + 1;
        let sub = (i - LINEAR) % SUB;
        let width = 1u64 << (octave - u64::from(SUB_BITS));
        ((1u64 << octave) + sub * width, width)
    }

    pub fn add(&mut self, v: Nanos) {
        let i = Self::index(v);
        if self.counts.len() <= i {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += 1;
        self.min = if self.count == 0 { v } else { self.min.min(v) };
        self.max = self.max.max(v);
        self.count += 1;
        self.sum += u128::from(v);
    }

    pub fn merge(&mut self, o: &Histogram) {
        if o.count == 0 {
            return;
        }
        if self.counts.len() < o.counts.len() {
            self.counts.resize(o.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a += b;
        }
        self.min = if self.count == 0 { o.min } else { self.min.min(o.min) };
        self.max = self.max.max(o.max);
        self.count += o.count;
        self.sum += o.sum;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The value of rank `rank` (1-based) as the midpoint of its bucket,
    /// clamped to the exact min and max.
    fn value_at_rank(&self, rank: u64) -> Nanos {
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (lo, w) = Self::bounds(i);
                return (lo + w / 2).clamp(self.min, self.max);
            }
        }
        self.max
    }

    /// The nearest-rank percentile `p` (0-100), as the midpoint of its
    /// bucket, clamped to the exact min and max.
    pub fn percentile(&self, p: f64) -> Option<Nanos> {
        if self.count == 0 {
            return None;
        }
        let rank = ((p / 100.0 * self.count as f64).ceil() as u64).clamp(1, self.count);
        Some(self.value_at_rank(rank))
    }

    /// Sum of `max(v - b, 0)`, each value taken as its bucket's midpoint.
    fn sum_excess(&self, b: Nanos) -> Nanos {
        let mut sum: Nanos = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            if c == 0 {
                continue;
            }
            let (lo, w) = Self::bounds(i);
            let mid = (lo + w / 2).clamp(self.min, self.max);
            sum = sum.saturating_add(mid.saturating_sub(b).saturating_mul(c));
        }
        sum
    }

    /// Count, min, max and mean exact; p50/p90/p99 from the buckets; the
    /// model's log-2 `buckets` (exact: each log-2 bucket is a union of ours).
    pub fn stats(&self) -> LatencyStats {
        if self.count == 0 {
            return LatencyStats::default();
        }
        let mut buckets: Vec<u64> = Vec::new();
        for (i, &c) in self.counts.iter().enumerate() {
            if c == 0 {
                continue;
            }
            let b = crate::bucket_of(Self::bounds(i).0);
            if buckets.len() <= b {
                buckets.resize(b + 1, 0);
            }
            buckets[b] += c;
        }
        LatencyStats {
            count: self.count,
            min: self.min,
            p50: self.percentile(50.0).unwrap_or(0),
            p90: self.percentile(90.0).unwrap_or(0),
            p99: self.percentile(99.0).unwrap_or(0),
            max: self.max,
            mean: (self.sum / u128::from(self.count)) as Nanos,
            buckets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_cover_values_with_bounded_error() {
        for v in (0..5000u64).chain([1 << 20, 123_456_789, u64::MAX / 3, u64::MAX]) {
            let i = Histogram::index(v);
            let (lo, w) = Histogram::bounds(i);
            assert!(lo <= v && v - lo < w, "{v}: bucket {i} = [{lo}, +{w})");
            let mid = lo + w / 2;
            assert!((mid.abs_diff(v) as f64) <= (v as f64) / 32.0 + 0.5, "{v}: midpoint {mid}");
        }
        assert_eq!(Histogram::index(u64::MAX), 975);
    }

    #[test]
    fn percentiles_are_within_the_stated_error_and_merge_exactly() {
        let values: Vec<u64> = (1..=10_000u64).map(|i| i * i * 37 % 9_999_991 + 1000).collect();
        let mut whole = Histogram::default();
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        for (i, &v) in values.iter().enumerate() {
            whole.add(v);
            if i % 3 == 0 {
                a.add(v)
            } else {
                b.add(v)
            }
        }
        a.merge(&b);
        assert_eq!(a, whole);
        let mut sorted = values.clone();
        let exact = LatencyStats::from_values(&mut sorted);
        let got = whole.stats();
        assert_eq!((got.count, got.min, got.max, got.mean), (exact.count, exact.min, exact.max, exact.mean));
        assert_eq!(got.buckets, exact.buckets);
        for (g, e) in [(got.p50, exact.p50), (got.p90, exact.p90), (got.p99, exact.p99)] {
            assert!((g.abs_diff(e) as f64) <= e as f64 / 32.0, "{g} vs exact {e}");
        }
    }

    #[test]
    fn a_sampler_is_exact_up_to_its_cap_then_within_the_error() {
        let values: Vec<u64> = (1..=5_000u64).map(|i| i * 7919 % 100_003 + 50).collect();
        let mut small = Sampler::default();
        for &v in &values[..100] {
            small.add(v, 100);
        }
        assert!(small.is_exact());
        assert_eq!(small.stats(), LatencyStats::from_values(&mut values[..100].to_vec()));
        let mut big = Sampler::default();
        for &v in &values {
            big.add(v, 100);
        }
        assert!(!big.is_exact());
        let exact = LatencyStats::from_values(&mut values.clone());
        let got = big.stats();
        assert_eq!(
            (got.count, got.min, got.max, got.mean, &got.buckets),
            (exact.count, exact.min, exact.max, exact.mean, &exact.buckets)
        );
        for (g, e) in [(got.p50, exact.p50), (got.p90, exact.p90), (got.p99, exact.p99)] {
            assert!((g.abs_diff(e) as f64) <= e as f64 / 32.0, "{g} vs exact {e}");
        }
        let mut sorted = values.clone();
        sorted.sort_unstable();
        let m = big.upper_median().unwrap();
        let em = sorted[sorted.len() / 2];
        assert!((m.abs_diff(em) as f64) <= em as f64 / 32.0, "{m} vs {em}");
        // Merging two exact halves past the cap switches to the histogram.
        let (mut a, mut b) = (Sampler::default(), Sampler::default());
        for (i, &v) in values.iter().enumerate() {
            if i % 2 == 0 {
                a.add(v, 10_000)
            } else {
                b.add(v, 10_000)
            }
        }
        a.merge(&b, 4_000);
        assert!(!a.is_exact());
        assert_eq!(a.stats(), got_with(&values));
        let excess = small.sum_excess(1000);
        let want: u64 = values[..100].iter().map(|v| v.saturating_sub(1000)).sum();
        assert_eq!(excess, want);
    }

    fn got_with(values: &[u64]) -> LatencyStats {
        let mut h = Histogram::default();
        for &v in values {
            h.add(v);
        }
        h.stats()
    }
}
