//! One trace record as one short, escaped line of the events view.

use spawnscope_format::flags::{socket_type_name, CLONE_FLAGS};
use spawnscope_format::{Nanos, Record};

use std::fmt::Write;

use crate::fmt;

/// One trace record as the events view shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// Line number in the trace file.
    pub line: u64,
    pub t: Option<Nanos>,
    pub pid: i32,
    pub kind: &'static str,
    /// For a spawn, the new process (the detail pane shows its spawn).
    pub child: Option<i32>,
    /// The record summarised on one line, already escaped.
    pub text: Box<str>,
}

/// Longest summary kept per row.
const TEXT_MAX: usize = 160;

impl EventRow {
    /// Whether this row passes the events filter: `needle` (lowercase) in
    /// its kind or text, ASCII case-insensitively, or, when it is a number,
    /// at the start of its pid or (for a spawn) its new process's pid.
    /// Each test holds for a longer needle only if it held for its prefix,
    /// so narrowing the previous matches when the filter grows is exact.
    pub fn matches(&self, needle: &str, numeric: bool, buf: &mut String) -> bool {
        let mut pid_starts = |pid: i32| {
            buf.clear();
            let _ = write!(buf, "{pid}");
            buf.starts_with(needle)
        };
        (numeric && (pid_starts(self.pid) || self.child.is_some_and(&mut pid_starts)))
            || contains_ci(self.kind, needle)
            || contains_ci(&self.text, needle)
    }

    /// Whether a record has a row (not the header, nor stack records).
    pub fn shown(rec: &Record) -> bool {
        !matches!(rec, Record::Header(_) | Record::Module(_) | Record::Stack(_) | Record::Symbols(_) | Record::Unknown)
    }
}

/// ASCII case-insensitive substring test; `needle` is already lowercase.
fn contains_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() {
        return true;
    }
    if n.len() > h.len() {
        return false;
    }
    h.windows(n.len()).any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

/// ` (tid N)` when a thread other than the main one made the call.
fn by_thread(out: &mut String, pid: i32, tid: i32) {
    if pid != tid {
        let _ = write!(out, " (tid {tid})");
    }
}

/// Clone flag names joined by `|`, unknown bits as one hex remainder (as
/// `flags::clone_flag_names`, without a vector of strings per row).
fn flag_names(out: &mut String, flags: u64) {
    let mut rest = flags;
    for &(bit, name) in CLONE_FLAGS {
        if flags & bit != 0 {
            if rest != flags {
                out.push('|');
            }
            out.push_str(name);
            rest &= !bit;
        }
    }
    if rest != 0 {
        if rest != flags {
            out.push('|');
        }
        let _ = write!(out, "{rest:#x}");
    }
}

/// The errno name (or number) after an arrow; `ok` for success.
fn result(out: &mut String, errno: i32) {
    out.push_str(" → ");
    match (errno, spawnscope_format::flags::errno_name(errno)) {
        (0, _) => out.push_str("ok"),
        (_, Some(n)) => out.push_str(n),
        (e, None) => {
            let _ = write!(out, "errno {e}");
        }
    }
}

impl EventRow {
    /// The row of a record (None for the header).
    pub fn of(line: u64, rec: &Record) -> Option<EventRow> {
        row(line, rec)
    }
}

/// Builds the row of a record: one string per row, written in place (this
/// runs for every event of a million-event trace).
fn row(line: u64, rec: &Record) -> Option<EventRow> {
    let mut text = String::with_capacity(96);
    let mut child = None;
    let pid = match rec {
        Record::Spawn(e) => {
            text.push_str(e.syscall.as_str());
            by_thread(&mut text, e.pid, e.tid);
            text.push_str(if e.thread { " → thread " } else { " → process " });
            match e.child {
                Some(c) => {
                    let _ = write!(text, "{c}");
                }
                None => text.push('?'),
            }
            if e.result != 0 {
                result(&mut text, e.result);
            }
            text.push_str(" [");
            flag_names(&mut text, e.flags);
            text.push(']');
            child = e.child.filter(|_| !e.thread);
            e.pid
        }
        Record::Exec(e) => {
            text.push_str(&spawnscope_format::escape(&e.path));
            by_thread(&mut text, e.pid, e.tid);
            result(&mut text, e.result);
            if let Some(t) = e.t_entry {
                text.push_str(" in ");
                text.push_str(&fmt::dur(e.t_exit.saturating_sub(t)));
            }
            text.push_str(" · ");
            // Only what fits in the row; each argument escaped, quoted when it holds a space.
            for (i, a) in e.argv.iter().enumerate() {
                if text.len() > TEXT_MAX {
                    break;
                }
                if i > 0 {
                    text.push(' ');
                }
                let a = spawnscope_format::escape(a);
                if a.is_empty() || a.contains(' ') {
                    text.push('"');
                    text.push_str(&a);
                    text.push('"');
                } else {
                    text.push_str(&a);
                }
            }
            e.pid
        }
        Record::Socketpair(e) => {
            let _ = write!(text, "domain {} {}", e.domain, socket_type_name(e.socket_type));
            result(&mut text, e.result);
            e.pid
        }
        Record::Pipe(e) => {
            let _ = write!(text, "flags {:#x}", e.flags);
            result(&mut text, e.result);
            e.pid
        }
        Record::Exit(e) => {
            if e.thread {
                let _ = write!(text, "thread {} ", e.tid);
            }
            let _ = match (e.code, e.signal) {
                (Some(c), _) => write!(text, "exit code {c}"),
                (None, Some(s)) => write!(
                    text,
                    "killed by {}{}",
                    spawnscope_format::names::signal_label(s),
                    if e.core_dumped { " (core dumped)" } else { "" }
                ),
                _ => write!(text, "exited"),
            };
            e.pid
        }
        Record::Warning(w) => {
            text.push_str(&spawnscope_format::escape(&w.message));
            w.pid.unwrap_or(0)
        }
        Record::End(e) => {
            let _ = match e.exit_code {
                Some(c) => write!(text, "end of trace, exit code {c}"),
                None => write!(text, "end of trace, exit code ?"),
            };
            0
        }
        Record::Header(_) | Record::Module(_) | Record::Stack(_) | Record::Symbols(_) | Record::Unknown => return None,
    };
    if text.len() > TEXT_MAX {
        let cut = (0..=TEXT_MAX - 3).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        text.truncate(cut);
        text.push('…');
    }
    Some(EventRow { line, t: rec.time(), pid, kind: rec.kind(), child, text: text.into_boxed_str() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_names_match_the_format_crate() {
        for flags in [0u64, 0x4100, 0x0120_0000, 0x003d_0f00, 0x100 | (1 << 40), 1 << 40] {
            let mut s = String::new();
            flag_names(&mut s, flags);
            assert_eq!(s, spawnscope_format::flags::clone_flag_names(flags).join("|"), "{flags:#x}");
        }
    }
}
