//! Text formatting shared by the views: durations, sizes, safe trace strings.

use spawnscope_format::Nanos;

/// A duration in the unit that keeps it short: `850ns`, `81µs`, `1.2ms`, `15ms`, `2.3s`.
pub fn dur(ns: Nanos) -> String {
    let f = ns as f64;
    if ns < 1_000 {
        format!("{ns}ns")
    } else if ns < 1_000_000 {
        short(f / 1e3, "µs")
    } else if ns < 1_000_000_000 {
        short(f / 1e6, "ms")
    } else {
        short(f / 1e9, "s")
    }
}

/// An optional duration, `-` when unknown.
pub fn opt_dur(ns: Option<Nanos>) -> String {
    ns.map(dur).unwrap_or_else(|| "-".to_string())
}

/// Two significant digits below 10, none above: `1.2`, `15`, `150`.
fn short(v: f64, unit: &str) -> String {
    if v < 9.95 {
        format!("{v:.1}{unit}")
    } else {
        format!("{v:.0}{unit}")
    }
}

/// A byte count: `512B`, `27.7K`, `1.0G` (powers of 1024).
pub fn bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "K", "M", "G", "T"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b}B")
    } else if v < 9.95 {
        format!("{v:.1}{}", UNITS[i])
    } else {
        format!("{v:.0}{}", UNITS[i])
    }
}

/// A count with thousands separators: `1,234,567`.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A string from a trace, made safe for the terminal (control characters
/// escaped, see [`spawnscope_format::escape`]) and cut to `max` characters
/// with `…`.
pub fn safe(s: &str, max: usize) -> String {
    let e = spawnscope_format::escape(s);
    clip(&e, max)
}

/// Cuts a (safe) string to `max` characters, ending in `…` when cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// argv as one safe line: each argument escaped, quoted when it holds a space.
pub fn argv(args: &[String], max: usize) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let e = spawnscope_format::escape(a);
        if e.is_empty() || e.contains(' ') {
            out.push('"');
            out.push_str(&e);
            out.push('"');
        } else {
            out.push_str(&e);
        }
        if out.len() > max * 4 {
            break;
        }
    }
    clip(&out, max)
}

/// errno as its name (`ENOENT`), or the number when unnamed; `ok` for 0.
pub fn errno(e: i32) -> String {
    if e == 0 {
        return "ok".to_string();
    }
    spawnscope_format::flags::errno_name(e)
        .map(str::to_string)
        .unwrap_or_else(|| format!("errno {e}"))
}

/// Word-wraps (safe) text to `width` columns; words longer than a line are cut.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    wrap_hanging(text, width, width)
}

/// Wraps with a first line of `first` columns and the rest of `rest` columns
/// (text that follows a label on its first line). A word longer than a line
/// is cut, and its pieces stay pieces (never re-joined with a space).
pub fn wrap_hanging(text: &str, first: usize, rest: usize) -> Vec<String> {
    let width = |lines: &Vec<String>| if lines.is_empty() { first.max(1) } else { rest.max(1) };
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let (cw, ww) = (cur.chars().count(), word.chars().count());
        if cw > 0 && cw + 1 + ww > width(&lines) {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
        while cur.chars().count() > width(&lines) {
            let w = width(&lines);
            let head: String = cur.chars().take(w).collect();
            cur = cur.chars().skip(w).collect();
            lines.push(head);
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_a_short_unit() {
        assert_eq!(dur(850), "850ns");
        assert_eq!(dur(81_400), "81µs");
        assert_eq!(dur(1_240_000), "1.2ms");
        assert_eq!(dur(15_000_000), "15ms");
        assert_eq!(dur(2_300_000_000), "2.3s");
        assert_eq!(opt_dur(None), "-");
    }

    #[test]
    fn sizes_and_counts() {
        assert_eq!(bytes(512), "512B");
        assert_eq!(bytes(27_750), "27K");
        assert_eq!(bytes(3_000), "2.9K");
        assert_eq!(bytes(1 << 30), "1.0G");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
    }

    #[test]
    fn trace_strings_are_escaped_and_clipped() {
        assert_eq!(safe("a\x1b[2Jb", 20), "a\\x1b[2Jb");
        assert_eq!(safe("abcdef", 4), "abc…");
        assert_eq!(argv(&["echo".into(), "a b".into(), "\x07".into()], 40), "echo \"a b\" \\x07");
        assert_eq!(errno(2), "ENOENT");
        assert_eq!(errno(0), "ok");
        assert_eq!(errno(999), "errno 999");
    }

    #[test]
    fn wrapping() {
        assert_eq!(wrap("use posix_spawn instead of fork", 12), vec!["use", "posix_spawn", "instead of", "fork"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), vec![""]);
        assert_eq!(wrap_hanging("aa bb cc dd ee", 2, 5), vec!["aa", "bb cc", "dd ee"]);
        // Regression (issue 12): a hard-cut long word was re-joined with a space.
        assert_eq!(
            wrap_hanging("in /opt/x86_64-unknown-linux-gnu/bin", 10, 12),
            vec!["in", "/opt/x86_64-", "unknown-linu", "x-gnu/bin"]
        );
    }
}
