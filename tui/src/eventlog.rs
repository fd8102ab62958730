//! The raw event list: one short, escaped line per trace record, kept
//! compact so a million events fit, and a case-insensitive filter over it.

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

/// All records of a trace, in time order (the file's order is the order
/// the tracer observed them: a vfork-style spawn line comes after its
/// child's exec, which happened later).
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    pub rows: Vec<EventRow>,
    /// Lowest row index that changed since [`EventLog::take_changed`]
    /// (a late row inserted before others moves every row after it).
    changed_from: Option<usize>,
}

/// Longest summary kept per row.
const TEXT_MAX: usize = 160;

impl EventLog {
    /// Adds a record's row at its place in time (rows without a time go
    /// last); equal times keep the file's order.
    pub fn push(&mut self, line: u64, rec: &Record) {
        let Some(row) = EventRow::of(line, rec) else { return };
        let at = match row.t {
            Some(t) if self.rows.last().is_some_and(|l| l.t.is_some_and(|lt| lt > t)) => {
                // Rows are sorted by time: the first row later than this one.
                self.rows.partition_point(|r| r.t.is_none_or(|rt| rt <= t))
            }
            _ => self.rows.len(),
        };
        if at < self.rows.len() {
            self.changed_from = Some(self.changed_from.map_or(at, |c| c.min(at)));
        }
        self.rows.insert(at, row);
    }

    /// The lowest row index that moved since the last call (None: rows were
    /// only appended).
    pub fn take_changed(&mut self) -> Option<usize> {
        self.changed_from.take()
    }

    /// Keeps the rows `keep` accepts.
    pub fn retain(&mut self, keep: impl FnMut(&EventRow) -> bool) {
        self.rows.retain(keep);
        self.changed_from = Some(0);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Those of `candidates` (row indices) whose kind or text contain
    /// `needle`, ASCII case-insensitively, or whose pid (or, for a spawn, new
    /// process) starts with it when it is a number. Every test holds for a
    /// longer needle only if it held for its prefix, so narrowing a previous
    /// result when the filter grows is exact, and filtering only new rows
    /// keeps typing fast on a million rows.
    pub fn filter(&self, needle: &str, candidates: impl Iterator<Item = u32>) -> Vec<u32> {
        let needle = needle.to_ascii_lowercase();
        let numeric = !needle.is_empty() && needle.bytes().all(|b| b.is_ascii_digit());
        let mut buf = String::new();
        let mut pid_starts = |pid: i32| {
            use std::fmt::Write as _;
            buf.clear();
            let _ = write!(buf, "{pid}");
            buf.starts_with(&needle)
        };
        candidates
            .filter(|&i| {
                let r = &self.rows[i as usize];
                (numeric && (pid_starts(r.pid) || r.child.is_some_and(&mut pid_starts)))
                    || contains_ci(r.kind, &needle)
                    || contains_ci(&r.text, &needle)
            })
            .collect()
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
    use spawnscope_format::{ExitEvent, WarningEvent};

    #[test]
    fn flag_names_match_the_format_crate() {
        for flags in [0u64, 0x4100, 0x0120_0000, 0x003d_0f00, 0x100 | (1 << 40), 1 << 40] {
            let mut s = String::new();
            flag_names(&mut s, flags);
            assert_eq!(s, spawnscope_format::flags::clone_flag_names(flags).join("|"), "{flags:#x}");
        }
    }

    #[test]
    fn filter_is_case_insensitive_and_narrows() {
        let mut log = EventLog::default();
        log.push(
            2,
            &Record::Exit(ExitEvent { pid: 7, tid: 7, code: Some(3), signal: None, core_dumped: false, thread: false, t: 5 }),
        );
        log.push(3, &Record::Warning(WarningEvent { pid: Some(8), message: "Lost \x1b[31mTask".into(), t: 6 }));
        assert_eq!(log.rows[1].text.as_ref(), "Lost \\x1b[31mTask");
        let all = || 0..log.len() as u32;
        assert_eq!(log.filter("LOST", all()), vec![1]);
        assert_eq!(log.filter("exit", all()), vec![0]);
        assert_eq!(log.filter("7", all()), vec![0]);
        let first = log.filter("t", all());
        assert_eq!(log.filter("ta", first.into_iter()), vec![1]);
    }

    fn exec(pid: i32, path: &str, t: u64) -> Record {
        Record::Exec(spawnscope_format::ExecEvent {
            pid,
            tid: pid,
            syscall: spawnscope_format::ExecSyscall::Execve,
            path: path.into(),
            dirfd: None,
            at_flags: None,
            argv: vec![],
            argv_truncated: false,
            env_count: 0,
            env_bytes: 0,
            env_hash: String::new(),
            env: None,
            result: 0,
            t_entry: Some(t),
            t_exit: t + 1,
        })
    }

    fn exit(pid: i32, t: u64) -> Record {
        Record::Exit(ExitEvent { pid, tid: pid, code: Some(0), signal: None, core_dumped: false, thread: false, t })
    }

    #[test]
    fn typing_a_pid_keeps_its_exec_and_exit_lines() {
        // Regression (issue 12): each keystroke narrowed the previous
        // matches, and "1" then "12" then "1234" lost pid 1234's own lines.
        let mut log = EventLog::default();
        log.push(2, &exec(1234, "/bin/true", 10));
        log.push(3, &exec(99, "/bin/sh", 20));
        log.push(4, &exit(1234, 30));
        let mut m: Vec<u32> = (0..log.len() as u32).collect();
        for n in ["1", "12", "123", "1234"] {
            m = log.filter(n, m.into_iter());
        }
        assert_eq!(m, vec![0, 2]);
        // A prefix matches the pids that start with it.
        assert_eq!(log.filter("12", 0..3), vec![0, 2]);
        assert_eq!(log.filter("9", 0..3), vec![1]);
    }

    #[test]
    fn rows_are_in_time_order() {
        // A vfork-style spawn line is written after the child's exec.
        let mut log = EventLog::default();
        log.push(2, &exec(11, "/bin/true", 500));
        assert_eq!(log.take_changed(), None);
        log.push(3, &exit(11, 900));
        // Parsed from the line the tracer writes (optional fields default).
        let text = concat!(
            r#"{"kind":"header","format":"spawnscope-trace","format_version":"1.0","tool_version":"0","command":[],"cwd":"/","start_unix_ns":0,"host":{},"tracer":{"mode":"seccomp"}}"#,
            "\n",
            r#"{"kind":"spawn","pid":10,"tid":10,"child":11,"syscall":"clone3","flags":16640,"exit_signal":17,"stack":1,"ptrace_event":"vfork","thread":false,"result":0,"t_entry":100,"t_event":150,"t_resume":600}"#,
            "\n"
        );
        let spawn = spawnscope_format::read_all(text.as_bytes()).unwrap().1.remove(0);
        log.push(4, &spawn);
        assert_eq!(log.rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![4, 2, 3]);
        assert_eq!(log.take_changed(), Some(0));
        // The spawn line is found by its new process's pid too.
        assert_eq!(log.filter("11", 0..3), vec![0, 1, 2]);
    }
}
