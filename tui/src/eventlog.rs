//! The raw event list: one short, escaped line per trace record, kept
//! compact so a million events fit, and a case-insensitive filter over it.

use spawnscope_format::flags::{clone_flag_names, socket_type_name};
use spawnscope_format::{Nanos, Record};

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

/// All records of a trace, in file order.
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    pub rows: Vec<EventRow>,
}

/// Longest summary kept per row.
const TEXT_MAX: usize = 160;

impl EventLog {
    pub fn push(&mut self, line: u64, rec: &Record) {
        if let Some(row) = row(line, rec) {
            self.rows.push(row);
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Those of `candidates` (row indices) whose kind, pid or text contain
    /// `needle`, ASCII case-insensitively. Narrowing a previous result when
    /// the filter grows, or filtering only new rows, keeps typing fast on a
    /// million rows.
    pub fn filter(&self, needle: &str, candidates: impl Iterator<Item = u32>) -> Vec<u32> {
        let needle = needle.to_ascii_lowercase();
        let pid: Option<i32> = needle.parse().ok();
        candidates
            .filter(|&i| {
                let r = &self.rows[i as usize];
                Some(r.pid) == pid || contains_ci(r.kind, &needle) || contains_ci(&r.text, &needle)
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
fn by_thread(pid: i32, tid: i32) -> String {
    if pid == tid {
        String::new()
    } else {
        format!(" (tid {tid})")
    }
}

fn row(line: u64, rec: &Record) -> Option<EventRow> {
    let (pid, text) = match rec {
        Record::Spawn(e) => {
            let what = if e.thread { "thread" } else { "process" };
            let child = e.child.map(|c| c.to_string()).unwrap_or_else(|| "?".into());
            let flags = clone_flag_names(e.flags).join("|");
            let res = if e.result == 0 { String::new() } else { format!(" → {}", fmt::errno(e.result)) };
            (e.pid, format!("{}{} → {what} {child}{res} [{flags}]", e.syscall.as_str(), by_thread(e.pid, e.tid)))
        }
        Record::Exec(e) => {
            let took = e.t_entry.map(|t| format!(" in {}", fmt::dur(e.t_exit.saturating_sub(t)))).unwrap_or_default();
            let text = format!(
                "{}{} → {}{took} · {}",
                fmt::safe(&e.path, 60),
                by_thread(e.pid, e.tid),
                fmt::errno(e.result),
                fmt::argv(&e.argv, 80)
            );
            (e.pid, text)
        }
        Record::Socketpair(e) => (e.pid, format!("domain {} {} → {}", e.domain, socket_type_name(e.socket_type), fmt::errno(e.result))),
        Record::Pipe(e) => (e.pid, format!("flags {:#x} → {}", e.flags, fmt::errno(e.result))),
        Record::Exit(e) => {
            let how = match (e.code, e.signal) {
                (Some(c), _) => format!("exit code {c}"),
                (None, Some(s)) => format!("killed by signal {s}{}", if e.core_dumped { " (core dumped)" } else { "" }),
                _ => "exited".to_string(),
            };
            (e.pid, format!("{}{how}", if e.thread { format!("thread {} ", e.tid) } else { String::new() }))
        }
        Record::Warning(w) => (w.pid.unwrap_or(0), fmt::safe(&w.message, TEXT_MAX)),
        Record::End(e) => (0, format!("end of trace, exit code {}", e.exit_code.map(|c| c.to_string()).unwrap_or_else(|| "?".into()))),
        Record::Header(_) | Record::Unknown => return None,
    };
    let child = match rec {
        Record::Spawn(e) if !e.thread => e.child,
        _ => None,
    };
    Some(EventRow { line, t: rec.time(), pid, kind: rec.kind(), child, text: fmt::clip(&text, TEXT_MAX).into() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use spawnscope_format::{ExitEvent, WarningEvent};

    #[test]
    fn filter_is_case_insensitive_and_narrows() {
        let mut log = EventLog::default();
        log.push(2, &Record::Exit(ExitEvent { pid: 7, tid: 7, code: Some(3), signal: None, core_dumped: false, thread: false, t: 5 }));
        log.push(3, &Record::Warning(WarningEvent { pid: Some(8), message: "Lost \x1b[31mTask".into(), t: 6 }));
        assert_eq!(log.rows[1].text.as_ref(), "Lost \\x1b[31mTask");
        let all = || 0..log.len() as u32;
        assert_eq!(log.filter("LOST", all()), vec![1]);
        assert_eq!(log.filter("exit", all()), vec![0]);
        assert_eq!(log.filter("7", all()), vec![0]);
        let first = log.filter("t", all());
        assert_eq!(log.filter("ta", first.into_iter()), vec![1]);
    }
}
