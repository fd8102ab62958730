//! Pass 1: read every line of every file, join split calls, decode the
//! recorded syscalls, note when each task was first seen.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::BufRead;

use super::decode::{self, Call, Ret};
use super::line::{parse_line, split_attach_message, Body, Stamp};
use super::names;
use super::LogInput;
use crate::ImportError;

/// Longest line accepted (a `-v -s 65536` exec with a big environment fits easily).
const MAX_LINE: usize = 64 * 1024 * 1024;
/// Stand-in for the pid of lines without a pid column, resolved later.
pub(crate) const UNKNOWN_PID: i32 = i32::MIN;
/// Below this many seconds a `-ttt`-looking stamp is really `-r` (relative).
const RELATIVE_LIMIT_NS: u64 = 1_000_000 * 1_000_000_000;

#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // items are short-lived and moved, never stored in bulk
pub(crate) enum ItemKind {
    Call { call: Call, ret: Ret },
    Exit { code: Option<i32>, signal: Option<i32>, core: bool },
}

/// One thing that happened, with absolute times in ns (on the log's clock).
#[derive(Debug, Clone)]
pub(crate) struct Item {
    /// The thread that made the call (strace's pid column).
    pub tid: i32,
    pub t_entry: u64,
    /// When the call returned (`-T` or the resumed line), or the line's time.
    pub t_done: u64,
    pub kind: ItemKind,
    pub file: usize,
}

/// How times were given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Clock {
    Unix,
    TimeOfDay,
    Relative,
    /// No timestamps: line numbers stand in.
    Lines,
}

#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub items: Vec<Item>,
    pub files: usize,
    pub lines: u64,
    /// Earliest time each task appears on any line.
    pub first_seen: HashMap<i32, u64>,
    /// Earliest time each task made a call other than exec or exit: proof it
    /// was running before its exec (only full logs, without `-e trace=`, show one).
    pub first_busy: HashMap<i32, u64>,
    pub clocks: BTreeSet<Clock>,
    /// Complete recorded calls printed without a `-T` duration.
    pub calls_without_duration: u64,
    pub orphan_resumes: u64,
    pub unfinished_at_end: u64,
    /// pids that appeared in a pid column.
    pub prefixed: BTreeSet<i32>,
    /// Candidates for the pid of lines without a pid column.
    pub root_hints: Vec<i32>,
    /// The pid found for lines without a pid column, if any.
    pub unknown_is: Option<i32>,
    pub used_unknown_pid: bool,
    pub min_t: Option<u64>,
    pub max_t: u64,
    /// `strace -k` stack lines by the call they follow (tid, entry, done, file).
    pub stacks: HashMap<(i32, u64, u64, usize), Vec<crate::stacks::StackLine>>,
}

struct Pending {
    caller: i32,
    name: String,
    text: String,
    t: u64,
    line: u64,
}

/// Per-file time keeping.
struct FileClock {
    clock: Option<Clock>,
    last: u64,
    day_offset: u64,
    rel_sum: u64,
}

impl FileClock {
    /// Absolute ns for a line's stamp; `line_ns` stands in when there is none.
    fn time(&mut self, stamp: Option<Stamp>, line_ns: u64) -> u64 {
        let t = match stamp {
            None => match self.clock {
                None | Some(Clock::Lines) => {
                    self.clock = Some(Clock::Lines);
                    line_ns
                }
                Some(_) => self.last,
            },
            Some(Stamp::Unix(ns)) => {
                if self.clock.is_none() {
                    self.clock = Some(if ns < RELATIVE_LIMIT_NS { Clock::Relative } else { Clock::Unix });
                }
                if self.clock == Some(Clock::Relative) {
                    self.rel_sum = self.rel_sum.saturating_add(ns);
                    self.rel_sum
                } else {
                    ns
                }
            }
            Some(Stamp::TimeOfDay(ns)) => {
                self.clock.get_or_insert(Clock::TimeOfDay);
                const DAY: u64 = 86_400 * 1_000_000_000;
                // Past midnight: the time of day jumps back by most of a day.
                if ns.saturating_add(self.day_offset).saturating_add(DAY / 2) < self.last {
                    self.day_offset = self.day_offset.saturating_add(DAY);
                }
                ns.saturating_add(self.day_offset)
            }
        };
        self.last = self.last.max(t);
        t
    }
}

/// Reads one line into `buf`; false at end of file.
fn read_line(r: &mut dyn BufRead, buf: &mut Vec<u8>, name: &str, line: u64) -> Result<bool, ImportError> {
    buf.clear();
    loop {
        let avail = match r.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => return Err(ImportError::Io { path: name.to_string(), source }),
        };
        if avail.is_empty() {
            return Ok(!buf.is_empty());
        }
        let (take, found) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if buf.len() + take > MAX_LINE {
            return Err(ImportError::Malformed {
                path: name.to_string(),
                line,
                detail: format!("line longer than {} MiB: not an strace log?", MAX_LINE >> 20),
            });
        }
        buf.extend_from_slice(&avail[..take]);
        r.consume(take);
        if found {
            return Ok(true);
        }
    }
}

/// Environment values are only kept when they will be stored (memory: a
/// 27 KiB environment times every exec of a long log).
fn keep_env(mut call: Call, keep: bool) -> Call {
    if let (Call::Exec(e), false) = (&mut call, keep) {
        e.env.values = None;
    }
    call
}

pub(crate) fn parse_all(inputs: Vec<LogInput>, env_values: bool) -> Result<Parsed, ImportError> {
    let mut p = Parsed { files: inputs.len(), ..Parsed::default() };
    for (file, input) in inputs.into_iter().enumerate() {
        parse_file(&mut p, file, input, env_values)?;
    }
    Ok(p)
}

/// The tasks of one file: calls waiting for their `<... resumed>` half,
/// the tasks alive now, and those strace announced as new.
struct Tasks<'a> {
    pending: &'a mut HashMap<i32, Pending>,
    live: &'a mut HashSet<i32>,
    attached: &'a HashSet<i32>,
}

impl Tasks<'_> {
    /// The task a line belongs to: the file's pid (`-ff`), the line's pid
    /// column, or, without one, the only live task.
    fn task_of(&mut self, p: &mut Parsed, file_pid: Option<i32>, line_pid: Option<i32>) -> i32 {
        match (file_pid, line_pid) {
            (Some(f), _) => f,
            (None, Some(pid)) => {
                p.prefixed.insert(pid);
                // strace on stderr prefixes lines only while several tasks
                // live: the first prefixed pid that strace did not announce as
                // a new child is the first process, seen so far without a pid.
                if p.used_unknown_pid && p.unknown_is.is_none() && !self.attached.contains(&pid) {
                    p.unknown_is = Some(pid);
                    if let Some(pe) = self.pending.remove(&UNKNOWN_PID) {
                        self.pending.insert(pid, Pending { caller: pid, ..pe });
                    }
                    if self.live.remove(&UNKNOWN_PID) {
                        self.live.insert(pid);
                    }
                }
                self.live.insert(pid);
                pid
            }
            (None, None) => {
                // No prefix: the only live task (strace prints none then).
                let only = if self.live.len() == 1 { self.live.iter().next().copied() } else { None };
                match only.or(p.unknown_is) {
                    Some(t) => t,
                    None => {
                        p.used_unknown_pid = true;
                        self.live.insert(UNKNOWN_PID);
                        UNKNOWN_PID
                    }
                }
            }
        }
    }
}

/// Keeps the file's time range and each task's first line (and first line
/// other than an exec or exit).
fn note_time(p: &mut Parsed, tid: i32, t: u64, body: &Body) {
    p.min_t = Some(p.min_t.map_or(t, |m| m.min(t)));
    p.max_t = p.max_t.max(t);
    let fs = p.first_seen.entry(tid).or_insert(t);
    *fs = (*fs).min(t);
    if let Body::Call { name, .. } | Body::Resumed { name, .. } = body {
        if !matches!(*name, "execve" | "execveat" | "exit_group" | "exit") {
            let fb = p.first_busy.entry(tid).or_insert(t);
            *fb = (*fb).min(t);
        }
    }
}

/// Where a call was read, and whether environment values are kept.
#[derive(Clone, Copy)]
struct Place {
    file: usize,
    line: u64,
    env_values: bool,
}

/// A call strace printed in one piece; the error is the malformed detail.
fn complete_call(p: &mut Parsed, sys: &str, text: &str, tid: i32, t: u64, at: Place) -> Result<Item, String> {
    let c = decode::parse_complete(text).map_err(|d| format!("{sys}: {d}"))?;
    let call = keep_env(decode::decode(&c)?, at.env_values);
    p.calls_without_duration += u64::from(c.dur_ns.is_none() && c.ret != Ret::Unknown);
    let t_done = c.dur_ns.map_or(t, |d| t.saturating_add(d));
    p.max_t = p.max_t.max(t_done);
    Ok(Item { tid, t_entry: t, t_done, kind: ItemKind::Call { call, ret: c.ret }, file: at.file })
}

/// A call joined from its `<unfinished ...>` and `<... resumed>` halves;
/// the error (for the unfinished half's line) names where it resumed.
fn resumed_call(p: &mut Parsed, sys: &str, pend: &Pending, rest: &str, t: u64, at: Place) -> Result<Item, String> {
    let full = format!("{}{}", pend.text, rest);
    let where_ = |d: String| format!("{sys} (resumed on line {}): {d}", at.line);
    let c = decode::parse_complete(&full).map_err(where_)?;
    let call = keep_env(decode::decode(&c).map_err(where_)?, at.env_values);
    let t_done = c.dur_ns.map_or(t, |d| pend.t.saturating_add(d));
    p.max_t = p.max_t.max(t_done);
    Ok(Item { tid: pend.caller, t_entry: pend.t, t_done, kind: ItemKind::Call { call, ret: c.ret }, file: at.file })
}

/// An exit or a kill.
fn exit_item(tid: i32, t: u64, code: Option<i32>, signal: Option<i32>, core: bool, file: usize) -> Item {
    Item { tid, t_entry: t, t_done: t, kind: ItemKind::Exit { code, signal, core }, file }
}

fn parse_file(p: &mut Parsed, file: usize, mut input: LogInput, env_values: bool) -> Result<(), ImportError> {
    let name = input.name.clone();
    let malformed = |line: u64, detail: String| ImportError::Malformed { path: name.clone(), line, detail };
    let mut pending: HashMap<i32, Pending> = HashMap::new();
    let mut clock = FileClock { clock: None, last: 0, day_offset: 0, rel_sum: 0 };
    let mut buf = Vec::new();
    let mut fragment: Option<(String, u64)> = None;
    let mut lineno = 0u64;
    let mut seen_any = false;
    let mut seen_syscall = false;
    // Tasks alive now, and those strace announced as new ("Process N attached").
    let mut live: HashSet<i32> = HashSet::new();
    let mut attached: HashSet<i32> = HashSet::new();
    // strace -k: the call the next ` > ` lines belong to (issue 10).
    let mut items_mark = p.items.len();
    let mut stack_target = None;
    while read_line(&mut *input.reader, &mut buf, &name, lineno + 1)? {
        lineno += 1;
        p.lines += 1;
        let raw = String::from_utf8_lossy(&buf);
        if raw.contains('\0') {
            return Err(malformed(lineno, "binary data (NUL byte): not an strace log".into()));
        }
        let mut text: String = match fragment.take() {
            Some((f, _)) => f + raw.trim_end_matches(['\n', '\r']),
            None => raw.trim_end_matches(['\n', '\r']).to_string(),
        };
        if p.items.len() > items_mark {
            stack_target = p.items.last().map(|it| (it.tid, it.t_entry, it.t_done, it.file));
        }
        items_mark = p.items.len();
        if let Some(sl) = crate::stacks::stack_line(&text) {
            if let Some(k) = stack_target {
                p.stacks.entry(k).or_default().push(sl);
            }
            continue;
        }
        stack_target = None;
        // strace writing to stderr cuts a line in two with its own message.
        if let Some((before, pid)) = split_attach_message(&text) {
            if before.trim().is_empty() {
                if seen_syscall {
                    attached.insert(pid);
                    live.insert(pid);
                } else {
                    p.root_hints.push(pid);
                }
                continue;
            }
            // Cut into a line: always a new child.
            attached.insert(pid);
            live.insert(pid);
            let before = before.to_string();
            fragment = Some((before, lineno));
            text.clear();
            continue;
        }
        let line = parse_line(&text).map_err(|d| malformed(lineno, d))?;
        if matches!(line.body, Body::SummaryStart) {
            break;
        }
        if matches!(line.body, Body::Ignore) {
            continue;
        }
        seen_any = true;
        let mut tasks = Tasks { pending: &mut pending, live: &mut live, attached: &attached };
        let tid = tasks.task_of(p, input.pid, line.pid);
        let t = clock.time(line.stamp, p.lines * 1_000);
        note_time(p, tid, t, &line.body);
        match line.body {
            Body::Ignore | Body::Signal | Body::SummaryStart => {}
            Body::Call { name: sys, text: call_text, unfinished, pid_changed } => {
                seen_syscall = true;
                if !decode::is_recorded(sys) {
                    continue;
                }
                if unfinished {
                    if let Some(n) = pid_changed {
                        p.root_hints.push(n);
                    }
                    let pend = Pending { caller: tid, name: sys.to_string(), text: call_text.to_string(), t, line: lineno };
                    pending.insert(pid_changed.unwrap_or(tid), pend);
                    continue;
                }
                let at = Place { file, line: lineno, env_values };
                let item = complete_call(p, sys, call_text, tid, t, at).map_err(|d| malformed(lineno, d))?;
                p.items.push(item);
            }
            Body::Resumed { name: sys, rest } => {
                seen_syscall = true;
                if !decode::is_recorded(sys) {
                    continue;
                }
                let Some(pend) = pending.remove(&tid).filter(|pe| pe.name == sys) else {
                    p.orphan_resumes += 1;
                    continue;
                };
                let at = Place { file, line: lineno, env_values };
                let item = resumed_call(p, sys, &pend, rest, t, at).map_err(|d| malformed(pend.line, d))?;
                p.items.push(item);
            }
            Body::Exited(code) => {
                live.remove(&tid);
                p.items.push(exit_item(tid, t, Some(code), None, false, file));
            }
            Body::Killed { signal, core } => {
                live.remove(&tid);
                let sig = names::signal_number(signal).ok_or_else(|| malformed(lineno, format!("unknown signal {signal:?}")))?;
                p.items.push(exit_item(tid, t, None, Some(sig as i32), core, file));
            }
            // The exec itself arrives as the resumed call on this pid.
            Body::Superseded(_) => {}
        }
    }
    if let Some((_, l)) = fragment {
        return Err(malformed(l, "line cut by a strace message and never continued".into()));
    }
    if !seen_any {
        return Err(ImportError::Empty { path: name });
    }
    p.unfinished_at_end += pending.len() as u64;
    if let Some(c) = clock.clock {
        p.clocks.insert(c);
    }
    Ok(())
}
