//! Text formatting shared by the views: durations, sizes, safe trace strings.

/// Durations (`850 ns`, `1.2 ms`, `15 ms`), sizes (`512 B`, `27 KiB`) and
/// counts (`1,234,567`): the workspace's one formatter, `spawnscope_units`,
/// so the views read the same as the report, check, diff and lab.
pub use spawnscope_units::{bytes, count, duration as dur, opt_duration as opt_dur};

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
    spawnscope_format::names::errno_label(e)
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
    fn units_are_the_workspace_style() {
        assert_eq!(dur(850), "850 ns");
        assert_eq!(dur(15_000_000), "15 ms");
        assert_eq!(opt_dur(None), "-");
        assert_eq!(bytes(27_750), "27 KiB");
        assert_eq!(count(1_234_567), "1,234,567");
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
