//! Parsing and printing of durations, byte counts and command lines.

use spawnscope_format::escape;

/// Parses a duration with a unit: `"5ms"`, `"1.5s"`, `"250us"` (or `µs`), `"800ns"`.
/// Returns nanoseconds. The unit is required: a bare `"5"` is ambiguous.
///
/// ```
/// use spawnscope_check::parse_duration;
/// assert_eq!(parse_duration("5ms"), Ok(5_000_000));
/// assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
/// assert!(parse_duration("5").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit = unit.trim();
    let scale: f64 = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "" => {
            return Err(format!("bad duration {s:?}: give a unit (ns, us, ms or s), e.g. \"5ms\""))
        }
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

/// Prints nanoseconds with a readable unit: `850ns`, `12.3us`, `4.56ms`, `1.20s`.
pub fn format_duration(ns: u64) -> String {
    let f = ns as f64;
    if ns < 1_000 {
        format!("{ns}ns")
    } else if ns < 1_000_000 {
        format!("{}us", three_digits(f / 1e3))
    } else if ns < 1_000_000_000 {
        format!("{}ms", three_digits(f / 1e6))
    } else {
        format!("{}s", three_digits(f / 1e9))
    }
}

fn three_digits(v: f64) -> String {
    let s = if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    // "5.00" reads better as "5".
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A command line as a shell would need it typed, with every control
/// character escaped (argv comes from the traced program and may hold
/// terminal escape codes).
///
/// ```
/// use spawnscope_check::quote_argv;
/// assert_eq!(quote_argv(&["sh".into(), "-c".into(), "echo hi".into()]), "sh -c 'echo hi'");
/// assert_eq!(quote_argv(&["printf".into(), "\x1b[2J".into()]), "printf '\\x1b[2J'");
/// ```
pub fn quote_argv(argv: &[String]) -> String {
    let mut out = String::new();
    for (i, a) in argv.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&quote_arg(a));
    }
    out
}

fn quote_arg(a: &str) -> String {
    let e = escape(a);
    let plain = !e.is_empty()
        && e.chars().all(|c| c.is_alphanumeric() || "-_./:=+,@%^".contains(c))
        && e.as_ref() == a;
    if plain {
        e.into_owned()
    } else {
        format!("'{}'", e.replace('\'', "'\\''"))
    }
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
    fn durations_print_readably() {
        assert_eq!(format_duration(850), "850ns");
        assert_eq!(format_duration(12_300), "12.3us");
        assert_eq!(format_duration(5_000_000), "5ms");
        assert_eq!(format_duration(4_560_000), "4.56ms");
        assert_eq!(format_duration(1_200_000_000), "1.2s");
    }

    #[test]
    fn argv_is_quoted_and_escaped() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(quote_argv(&v(&["git", "status"])), "git status");
        assert_eq!(quote_argv(&v(&["echo", "it's"])), "echo 'it'\\''s'");
        assert_eq!(quote_argv(&v(&["x", ""])), "x ''");
        assert_eq!(quote_argv(&v(&["a\nb"])), "'a\\nb'");
        assert!(!quote_argv(&v(&["\x1b]0;owned\x07"])).contains('\x1b'));
    }
}
