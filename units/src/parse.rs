//! Reading durations and sizes written by people (flags, policy files).

/// Parses a duration with a unit: `"5ms"`, `"1.5s"`, `"250us"` (or `µs`), `"800ns"`.
/// Returns nanoseconds. The unit is required: a bare `"5"` is ambiguous.
///
/// ```
/// use spawnscope_units::parse_duration;
/// assert_eq!(parse_duration("5ms"), Ok(5_000_000));
/// assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
/// assert!(parse_duration("5").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, unit) = split_number(t);
    let scale: f64 = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "" => return Err(format!("bad duration {s:?}: give a unit (ns, us, ms or s), e.g. \"5ms\"")),
        _ => return Err(format!("bad duration {s:?}: unknown unit {unit:?} (use ns, us, ms or s)")),
    };
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') || num.matches('.').count() > 1 {
        return Err(format!("bad duration {s:?}: expected a number then a unit, e.g. \"5ms\""));
    }
    let v: f64 = num.parse().map_err(|_| format!("bad duration {s:?}: {num:?} is not a number"))?;
    let ns = v * scale;
    if !ns.is_finite() || ns > u64::MAX as f64 / 2.0 {
        return Err(format!("bad duration {s:?}: too large"));
    }
    Ok(ns.round() as u64)
}

/// Parses a byte size: a number with an optional binary unit `K`, `M`, `G`,
/// `T` (also `KiB`, `MB`, ...; all mean powers of 1024). A bare number is bytes.
///
/// ```
/// use spawnscope_units::parse_size;
/// assert_eq!(parse_size("1G"), Ok(1 << 30));
/// assert_eq!(parse_size("1.5KiB"), Ok(1536));
/// assert!(parse_size("lots").is_err());
/// ```
pub fn parse_size(s: &str) -> Result<u64, String> {
    let bad = || format!("not a size: {s:?} (write e.g. 512M, 1G, 4096)");
    let (num, unit) = split_number(s.trim());
    if num.is_empty() {
        return Err(bad());
    }
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(bad()),
    };
    let n: f64 = num.parse().map_err(|_| bad())?;
    let bytes = n * mult as f64;
    if !bytes.is_finite() || bytes > (1u64 << 50) as f64 {
        return Err(format!("size too large: {s:?}"));
    }
    Ok(bytes as u64)
}

/// `"1.5 ms"` → (`"1.5"`, `"ms"`).
fn split_number(t: &str) -> (&str, &str) {
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    (num, unit.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("800ns"), Ok(800));
        assert_eq!(parse_duration("250us"), Ok(250_000));
        assert_eq!(parse_duration("250µs"), Ok(250_000));
        assert_eq!(parse_duration(" 5ms "), Ok(5_000_000));
        assert_eq!(parse_duration("0.5 ms"), Ok(500_000));
        assert_eq!(parse_duration("2s"), Ok(2_000_000_000));
    }

    #[test]
    fn bad_durations_say_why() {
        assert!(parse_duration("5").unwrap_err().contains("give a unit"));
        assert!(parse_duration("5 min").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("ms").unwrap_err().contains("expected a number"));
        assert!(parse_duration("-5ms").is_err());
        assert!(parse_duration("1.2.3ms").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999999s").unwrap_err().contains("too large"));
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("256G"), Ok(256 << 30));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("2 kb"), Ok(2048));
        assert_eq!(parse_size("1T"), Ok(1 << 40));
        assert!(parse_size("lots").unwrap_err().contains("not a size"));
        assert!(parse_size("-1G").is_err());
        assert!(parse_size("5X").is_err());
        assert!(parse_size("1e30").is_err());
        assert!(parse_size("99999999999T").unwrap_err().contains("too large"));
    }
}
