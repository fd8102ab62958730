//! Number formatting shared by the exports and the diff.

/// `245 µs`, `2.1 ms`, `1.30 s`.
pub fn duration(ns: u64) -> String {
    let n = ns as f64;
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{:.0} µs", n / 1e3)
    } else if ns < 10_000_000 {
        format!("{:.2} ms", n / 1e6)
    } else if ns < 1_000_000_000 {
        format!("{:.1} ms", n / 1e6)
    } else {
        format!("{:.2} s", n / 1e9)
    }
}

/// A signed duration difference: `+1.80 ms`, `-12 µs`.
pub fn signed_duration(ns: i64) -> String {
    let sign = if ns < 0 { "-" } else { "+" };
    format!("{sign}{}", duration(ns.unsigned_abs()))
}

/// `27.1 KiB`, `5.0 GiB`, `39 B`.
pub fn bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `8.6x`; `-` when undefined.
pub fn ratio(r: Option<f64>) -> String {
    match r {
        Some(r) if r.is_finite() => {
            if r >= 100.0 {
                format!("{r:.0}x")
            } else {
                format!("{r:.1}x")
            }
        }
        _ => "-".to_string(),
    }
}

/// b / a when both are positive.
pub fn ratio_of(a: u64, b: u64) -> Option<f64> {
    (a > 0 && b > 0).then(|| b as f64 / a as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(duration(999), "999 ns");
        assert_eq!(duration(245_000), "245 µs");
        assert_eq!(duration(2_100_000), "2.10 ms");
        assert_eq!(duration(25_400_000_000), "25.40 s");
        assert_eq!(signed_duration(-12_000), "-12 µs");
        assert_eq!(bytes(39), "39 B");
        assert_eq!(bytes(27_750), "27.1 KiB");
        assert_eq!(bytes(5 << 30), "5.0 GiB");
        assert_eq!(ratio(Some(8.61)), "8.6x");
        assert_eq!(ratio(None), "-");
        assert_eq!(ratio_of(0, 5), None);
    }
}
