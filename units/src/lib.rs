//! The one home for units: every presentation of spawnscope (report, check,
//! diff, export, lab, the TUI) prints durations, sizes and ratios with these
//! functions, and reads them with these parsers, so the same number reads the
//! same everywhere.
//!
//! One style: a number, a space, a unit; two significant digits below 10,
//! none above (`1.2 ms`, `21 ms`, `150 ms`, `1.4 KiB`, `27 KiB`). Sizes are
//! binary (powers of 1024, `KiB`).
//!
//! ```
//! use spawnscope_units::{bytes, duration, percentile};
//! assert_eq!(duration(21_400_000), "21 ms");
//! assert_eq!(duration(1_240_000), "1.2 ms");
//! assert_eq!(bytes(1_434), "1.4 KiB");
//! assert_eq!(percentile(&[1, 2, 3, 4], 50), Some(2));
//! ```
//!
//! No dependencies: the lab (which measures without a trace) uses it too.

mod parse;

pub use parse::{parse_duration, parse_size};

/// A duration in nanoseconds, in the unit that keeps it short:
/// `850 ns`, `2.4 µs`, `81 µs`, `1.2 ms`, `21 ms`, `2.3 s`, `15 s`.
pub fn duration(ns: u64) -> String {
    // The unit changes where the rounded number would reach 1000.
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 999_500 {
        scaled(ns as f64 / 1e3, "µs")
    } else if ns < 999_500_000 {
        scaled(ns as f64 / 1e6, "ms")
    } else {
        scaled(ns as f64 / 1e9, "s")
    }
}

/// An optional duration; `-` when unknown.
pub fn opt_duration(ns: Option<u64>) -> String {
    ns.map_or_else(|| "-".to_string(), duration)
}

/// A signed duration difference: `+1.8 ms`, `-12 µs`, `+0 ns`.
pub fn signed_duration(ns: i64) -> String {
    let sign = if ns < 0 { "-" } else { "+" };
    format!("{sign}{}", duration(ns.unsigned_abs()))
}

/// A size in bytes, binary units: `39 B`, `1.4 KiB`, `27 KiB`, `512 MiB`, `4.0 GiB`.
pub fn bytes(b: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if b < 1024 {
        return format!("{b} B");
    }
    let mut v = b as f64;
    let mut u = 0;
    // 1023.6 KiB would round to "1024 KiB": move up a unit first.
    while v >= 1023.5 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    scaled(v, UNITS[u])
}

/// A ratio such as "B over A": `8.6x`, `120x`; `-` when undefined.
pub fn ratio(r: Option<f64>) -> String {
    match r {
        Some(r) if r.is_finite() && r >= 0.0 => {
            if r < 9.95 {
                format!("{r:.1}x")
            } else {
                format!("{r:.0}x")
            }
        }
        _ => "-".to_string(),
    }
}

/// `b / a` when both are positive.
pub fn ratio_of(a: u64, b: u64) -> Option<f64> {
    (a > 0 && b > 0).then(|| b as f64 / a as f64)
}

/// A count with thousands separators: `1,234,567`.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The word for `n` things: `plural(1, "thread", "threads")` is `thread`,
/// any other count (0 included) `threads`.
pub fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// A count and its noun, for prose: `1 thread`, `0 threads`,
/// `1,234 processes` (the number as [`count`] writes it).
///
/// ```
/// use spawnscope_units::counted;
/// assert_eq!(counted(1, "warning", "warnings"), "1 warning");
/// assert_eq!(counted(1_234, "process", "processes"), "1,234 processes");
/// ```
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), plural(n, one, many))
}

/// Nearest-rank percentile of **sorted** values, `pct` in 0..=100: the
/// smallest value with at least `pct`% of the values at or below it.
/// `None` for no values.
///
/// ```
/// let v: Vec<u64> = (1..=100).collect();
/// assert_eq!(spawnscope_units::percentile(&v, 99), Some(99));
/// assert_eq!(spawnscope_units::percentile(&[7], 99), Some(7));
/// assert_eq!(spawnscope_units::percentile(&[], 50), None);
/// ```
pub fn percentile(sorted: &[u64], pct: u32) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let pct = pct.min(100) as usize;
    let rank = (sorted.len() * pct).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

/// Two significant digits below 10, none above: `1.2`, `15`, `150`.
fn scaled(v: f64, unit: &str) -> String {
    if v < 9.95 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.0} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration(0), "0 ns");
        assert_eq!(duration(850), "850 ns");
        assert_eq!(duration(999), "999 ns");
        assert_eq!(duration(1_000), "1.0 µs");
        assert_eq!(duration(2_440), "2.4 µs");
        assert_eq!(duration(9_960), "10 µs");
        assert_eq!(duration(81_400), "81 µs");
        assert_eq!(duration(245_000), "245 µs");
        assert_eq!(duration(999_499), "999 µs");
        assert_eq!(duration(999_500), "1.0 ms");
        assert_eq!(duration(1_240_000), "1.2 ms");
        assert_eq!(duration(15_200_000), "15 ms");
        assert_eq!(duration(21_400_000), "21 ms");
        assert_eq!(duration(150_000_000), "150 ms");
        assert_eq!(duration(999_600_000), "1.0 s");
        assert_eq!(duration(2_300_000_000), "2.3 s");
        assert_eq!(duration(25_400_000_000), "25 s");
        assert_eq!(duration(u64::MAX), "18446744074 s");
        assert_eq!(opt_duration(None), "-");
        assert_eq!(opt_duration(Some(15_000_000)), "15 ms");
        assert_eq!(signed_duration(-12_000), "-12 µs");
        assert_eq!(signed_duration(1_800_000), "+1.8 ms");
        assert_eq!(signed_duration(0), "+0 ns");
    }

    #[test]
    fn sizes() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(39), "39 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1.0 KiB");
        assert_eq!(bytes(1_434), "1.4 KiB");
        assert_eq!(bytes(27_750), "27 KiB");
        assert_eq!(bytes(1_048_000), "1023 KiB");
        assert_eq!(bytes(1_048_500), "1.0 MiB");
        assert_eq!(bytes(512 << 20), "512 MiB");
        assert_eq!(bytes(5 << 30), "5.0 GiB");
        assert_eq!(bytes(u64::MAX), "16384 PiB");
    }

    #[test]
    fn ratios_and_counts() {
        assert_eq!(ratio(Some(8.61)), "8.6x");
        assert_eq!(ratio(Some(120.4)), "120x");
        assert_eq!(ratio(Some(f64::NAN)), "-");
        assert_eq!(ratio(None), "-");
        assert_eq!(ratio_of(0, 5), None);
        assert_eq!(ratio_of(2, 5), Some(2.5));
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(counted(0, "thread", "threads"), "0 threads");
        assert_eq!(counted(1, "thread", "threads"), "1 thread");
        assert_eq!(counted(2, "process", "processes"), "2 processes");
        assert_eq!(counted(1000, "spawn", "spawns"), "1,000 spawns");
        assert_eq!(plural(1, "is", "are"), "is");
        assert_eq!(plural(3, "is", "are"), "are");
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), Some(50));
        assert_eq!(percentile(&v, 90), Some(90));
        assert_eq!(percentile(&v, 99), Some(99));
        assert_eq!(percentile(&v, 100), Some(100));
        assert_eq!(percentile(&v, 0), Some(1));
        assert_eq!(percentile(&[1, 2], 99), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(percentile(&[], 99), None);
    }
}
