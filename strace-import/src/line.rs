//! One line of strace output: optional pid column, optional timestamp, then a
//! syscall (complete, `<unfinished ...>` or `<... NAME resumed>`), an exit
//! (`+++ exited with N +++`), a signal (`--- SIGCHLD {...} ---`) or one of
//! strace's own messages.

/// A timestamp as printed, before it is put on a common time base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// `-ttt`: seconds since the epoch with a fraction, in ns.
    Unix(u64),
    /// `-t` / `-tt`: time of day, ns since midnight.
    TimeOfDay(u64),
}

/// What a line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body<'a> {
    /// `name(args) = ret` (complete) or `name(args <unfinished ...>`.
    Call {
        name: &'a str,
        /// From the name to the end (complete) or up to the unfinished marker.
        text: &'a str,
        unfinished: bool,
        /// `<pid changed to N ...>`: an exec from a non-leader thread; the call
        /// resumes under the thread group leader's id N.
        pid_changed: Option<i32>,
    },
    /// `<... name resumed>rest`.
    Resumed {
        name: &'a str,
        rest: &'a str,
    },
    Exited(i32),
    Killed {
        signal: &'a str,
        core: bool,
    },
    /// `+++ superseded by execve in pid T +++`: thread T exec'd and took over
    /// this thread group id.
    Superseded(i32),
    /// `--- SIGCHLD ... ---` and other stops: nothing we record.
    Signal,
    /// Blank lines, `strace: ...` messages, unknown `+++ ... +++` notes.
    Ignore,
    /// `% time     seconds ...`: the `-c`/`-C` summary table starts.
    SummaryStart,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    pub pid: Option<i32>,
    pub stamp: Option<Stamp>,
    pub body: Body<'a>,
}

/// If the line ends with strace's "Process N attached" message (alone, or cut
/// into the middle of a syscall line when strace writes to stderr), returns
/// the text before it and N.
pub(crate) fn split_attach_message(line: &str) -> Option<(&str, i32)> {
    let t = line.trim_end();
    let head = t.strip_suffix(" attached").or_else(|| t.strip_suffix(" detached"))?;
    let digits = head.len() - head.bytes().rev().take_while(u8::is_ascii_digit).count();
    let n: i32 = head[digits..].parse().ok()?;
    let before = head[..digits].strip_suffix("Process ")?;
    let before = before.strip_suffix("strace: ").unwrap_or(before);
    Some((before, n))
}

/// Parses one line (without its newline). `Err` carries what was expected.
pub(crate) fn parse_line(raw: &str) -> Result<Line<'_>, String> {
    let mut s = raw.trim_end_matches(['\r', '\n']);
    let mut pid = None;
    let mut stamp = None;
    if s.trim().is_empty() {
        return Ok(Line { pid, stamp, body: Body::Ignore });
    }
    if let Some(rest) = s.strip_prefix("[pid ") {
        let end = rest.find(']').ok_or("unclosed \"[pid\"")?;
        pid = Some(rest[..end].trim().parse::<i32>().map_err(|_| "bad pid in \"[pid N]\"")?);
        s = rest[end + 1..].trim_start();
    } else {
        let tok_len = s.bytes().take_while(u8::is_ascii_digit).count();
        if tok_len > 0 && s[tok_len..].starts_with([' ', '\t']) {
            pid = Some(s[..tok_len].parse::<i32>().map_err(|_| "pid out of range")?);
            s = s[tok_len..].trim_start();
        }
    }
    s = s.trim_start();
    let tok_len = s.find([' ', '\t']).unwrap_or(s.len());
    if let Some(st) = parse_stamp(&s[..tok_len]) {
        stamp = Some(st);
        s = s[tok_len..].trim_start();
    }
    // `-i` ([ip]) and `-n` ([ nr]) columns.
    while s.starts_with('[') {
        let end = s.find(']').ok_or("unclosed '['")?;
        s = s[end + 1..].trim_start();
    }
    let body = parse_body(s)?;
    Ok(Line { pid, stamp, body })
}

fn parse_stamp(tok: &str) -> Option<Stamp> {
    if tok.is_empty() || !tok.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b':') {
        return None;
    }
    let (whole, frac) = match tok.split_once('.') {
        Some((w, f)) => (w, f),
        None => (tok, ""),
    };
    if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 9 {
        return None;
    }
    let frac_ns: u64 = if frac.is_empty() { 0 } else { frac.parse::<u64>().ok()? * 10u64.pow(9 - frac.len() as u32) };
    if whole.contains(':') {
        let parts: Vec<&str> = whole.split(':').collect();
        if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || p.len() > 2) {
            return None;
        }
        let h: u64 = parts[0].parse().ok()?;
        let m: u64 = parts[1].parse().ok()?;
        let sec: u64 = parts[2].parse().ok()?;
        if h > 23 || m > 59 || sec > 60 {
            return None;
        }
        Some(Stamp::TimeOfDay(((h * 60 + m) * 60 + sec) * 1_000_000_000 + frac_ns))
    } else if !frac.is_empty() {
        let secs: u64 = whole.parse().ok()?;
        Some(Stamp::Unix(secs.checked_mul(1_000_000_000)?.checked_add(frac_ns)?))
    } else {
        None
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'?'
}

fn parse_body(s: &str) -> Result<Body<'_>, String> {
    if let Some(inner) = s.strip_prefix("+++ ") {
        let inner = inner.strip_suffix(" +++").ok_or("unclosed \"+++\" line")?;
        if let Some(n) = inner.strip_prefix("exited with ") {
            return n.trim().parse().map(Body::Exited).map_err(|_| "bad exit code".to_string());
        }
        if let Some(sig) = inner.strip_prefix("killed by ") {
            let (sig, core) = match sig.strip_suffix(" (core dumped)") {
                Some(s) => (s, true),
                None => (sig, false),
            };
            return Ok(Body::Killed { signal: sig.trim(), core });
        }
        if let Some(p) = inner.strip_prefix("superseded by execve in pid ") {
            return p.trim().parse().map(Body::Superseded).map_err(|_| "bad pid".to_string());
        }
        return Ok(Body::Ignore);
    }
    if s.starts_with("--- ") {
        return Ok(Body::Signal);
    }
    if s.starts_with("strace: ") || split_attach_message(s).is_some_and(|(b, _)| b.is_empty()) {
        return Ok(Body::Ignore);
    }
    if s.starts_with("% time") {
        return Ok(Body::SummaryStart);
    }
    if let Some(rest) = s.strip_prefix("<... ") {
        let end = rest.find(" resumed>").ok_or("expected \"<... NAME resumed>\"")?;
        let name = &rest[..end];
        if name.is_empty() || !name.bytes().all(is_name_byte) {
            return Err("bad syscall name in \"<... resumed>\"".into());
        }
        return Ok(Body::Resumed { name, rest: &rest[end + " resumed>".len()..] });
    }
    let name_len = s.bytes().take_while(|&b| is_name_byte(b)).count();
    if name_len == 0 || !s[name_len..].starts_with('(') {
        return Err("expected a syscall like \"execve(...) = 0\", \"+++ exited with N +++\" \
                    or \"<... NAME resumed>\""
            .into());
    }
    let name = &s[..name_len];
    let t = s.trim_end();
    if let Some(text) = t.strip_suffix("<unfinished ...>") {
        return Ok(Body::Call { name, text: text.trim_end(), unfinished: true, pid_changed: None });
    }
    if t.ends_with(" ...>") {
        if let Some(pos) = t.rfind("<pid changed to ") {
            let n = t.get(pos + "<pid changed to ".len()..t.len() - " ...>".len()).unwrap_or("").trim();
            let n: i32 = n.parse().map_err(|_| "bad pid in \"<pid changed to N ...>\"")?;
            return Ok(Body::Call { name, text: t[..pos].trim_end(), unfinished: true, pid_changed: Some(n) });
        }
    }
    if !t.contains('=') {
        return Err("syscall line without \"= result\" and not <unfinished ...>".into());
    }
    Ok(Body::Call { name, text: t, unfinished: false, pid_changed: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_and_unix_stamp() {
        let l = parse_line("9266  1795766722.396586 clone(child_stack=NULL) = 9267 <0.000315>").unwrap();
        assert_eq!(l.pid, Some(9266));
        assert_eq!(l.stamp, Some(Stamp::Unix(1_795_766_722_396_586_000)));
        assert!(matches!(l.body, Body::Call { name: "clone", unfinished: false, .. }));
    }

    #[test]
    fn stderr_pid_prefix_and_time_of_day() {
        let l = parse_line("[pid  9472] 08:05:44.838367 execve(\"/bin/true\", [\"true\"], 0x7ffe /* 2 vars */ <unfinished ...>")
            .unwrap();
        assert_eq!(l.pid, Some(9472));
        assert_eq!(l.stamp, Some(Stamp::TimeOfDay((8 * 3600 + 5 * 60 + 44) * 1_000_000_000 + 838_367_000)));
        match l.body {
            Body::Call { name, text, unfinished, .. } => {
                assert_eq!(name, "execve");
                assert!(unfinished);
                assert!(text.ends_with("/* 2 vars */"));
            }
            b => panic!("{b:?}"),
        }
    }

    #[test]
    fn no_pid_no_stamp() {
        let l = parse_line("vfork()                                 = 1234").unwrap();
        assert_eq!((l.pid, l.stamp), (None, None));
        assert!(matches!(l.body, Body::Call { name: "vfork", .. }));
    }

    #[test]
    fn exits_signals_resumes() {
        assert_eq!(parse_line("9 1.5 +++ exited with 3 +++").unwrap().body, Body::Exited(3));
        assert_eq!(
            parse_line("9 +++ killed by SIGSEGV (core dumped) +++").unwrap().body,
            Body::Killed { signal: "SIGSEGV", core: true }
        );
        assert_eq!(parse_line("11233 1.0 +++ superseded by execve in pid 11234 +++").unwrap().body, Body::Superseded(11234));
        assert_eq!(parse_line("9 --- SIGCHLD {si_signo=SIGCHLD} ---").unwrap().body, Body::Signal);
        assert_eq!(
            parse_line("9 1.0 <... clone3 resumed>) = 9408 <0.010128>").unwrap().body,
            Body::Resumed { name: "clone3", rest: ") = 9408 <0.010128>" }
        );
        assert_eq!(parse_line("strace: Process 9472 attached").unwrap().body, Body::Ignore);
        assert_eq!(parse_line("Process 9472 detached").unwrap().body, Body::Ignore);
    }

    #[test]
    fn pid_changed_marker() {
        let l = parse_line("11234 1.0 execve(\"/bin/true\", [\"true\"], [] <pid changed to 11233 ...>").unwrap();
        assert_eq!(
            l.body,
            Body::Call {
                name: "execve",
                text: "execve(\"/bin/true\", [\"true\"], []",
                unfinished: true,
                pid_changed: Some(11233)
            }
        );
    }

    #[test]
    fn attach_message_inside_a_line() {
        assert_eq!(
            split_attach_message("clone3({flags=CLONE_VM}, 88strace: Process 9472 attached"),
            Some(("clone3({flags=CLONE_VM}, 88", 9472))
        );
        assert_eq!(split_attach_message("execve(\"Process 12\")"), None);
        assert_eq!(split_attach_message("execve(\"Process 12 attached\") = 0"), None);
    }

    #[test]
    fn a_pid_change_marker_without_a_pid_is_an_error() {
        assert!(parse_line("1 x(<pid changed to ...>").is_err());
        assert!(parse_line("1 x(a <pid changed to  ...>").is_err());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_line("{\"kind\":\"header\"}").is_err());
        assert!(parse_line("hello world").is_err());
        assert!(parse_line("123 1.0 execve(\"x\"").is_err());
    }
}
