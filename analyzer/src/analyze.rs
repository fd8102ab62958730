//! The streaming analyzer: trace records in, [`Analysis`] out.
//!
//! Events come in the order the tracer observed them, which is not the order
//! things happened: a `spawn` line is written when the parent runs again, so a
//! child's `exec` (always, for vfork-style spawns) and even its own spawns and
//! its exit can come before the line that created it. Everything is matched
//! by pid: a pid first seen without a spawn gets a *provisional* process that
//! the spawn line adopts when it arrives. A pid whose process exited and that
//! shows up again is a new process (pid reuse).

use std::collections::HashMap as StdHashMap;
use std::hash::{BuildHasherDefault, Hasher};

use spawnscope_format::{ExecEvent, ExitEvent, Header, Nanos, Record, SocketpairEvent, SpawnEvent, TracerMode};

use crate::classify::{self, BasePath};

mod bounded;

use crate::model::*;
use crate::stats;
use crate::Thresholds;
use bounded::Bounded;
pub use bounded::Retention;

/// Maps keyed by pids and indices: a multiply-xorshift hash (the keys come
/// from the trace, but a slow lookup is all a crafted trace could cause).
type HashMap<K, V> = StdHashMap<K, V, BuildHasherDefault<IdHasher>>;

#[derive(Debug, Default, Clone, Copy)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        let h = self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^ (h >> 29)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_i32(&mut self, n: i32) {
        self.write_u64(n as u32 as u64);
    }
}

/// Most warnings kept; the rest are counted.
const MAX_WARNINGS: usize = 200;
/// Longest parent chain walked when checking that an adoption makes no cycle.
const MAX_WALK: usize = 10_000;

#[derive(Debug, Clone, Default)]
struct ProcState {
    /// Created by an event before any spawn line named it: may still be adopted.
    provisional: bool,
    first_seen: Nanos,
    last_seen: Nanos,
    /// Created by a spawn we saw: its thread count is known.
    threads_known: bool,
    /// Has exec'd successfully: its name is its own, not its parent's.
    named: bool,
    /// Bounded retention: spawns it made that are not final yet.
    open_spawns: u32,
    /// It made a spawn (its own exec chain, if any, is closed).
    spawned: bool,
    /// The earliest start of the spawns it made.
    first_spawn_t: Option<Nanos>,
    /// Bounded retention: the spawn that created it is final.
    creating_final: bool,
    /// Bounded retention: its parent's name and environment when it was
    /// created, for when the parent is gone.
    inherit_name: Option<String>,
    inherit_env: Option<(u64, u64, Option<u64>)>,
}

#[derive(Debug, Clone, Copy)]
struct SpawnState {
    base: BasePath,
    /// The child made a spawn of its own: its later execs are its own
    /// business, no longer part of this spawn's exec chain.
    chain_closed: bool,
    /// The spawn's call stack (`spawn.stack_id`), resolved in `derive`.
    stack_id: Option<u32>,
    /// Bounded retention: the start of the next spawn of the same thread,
    /// when it came before this one was final (SS005's "one at a time").
    next_start: Option<Nanos>,
}

/// Builds an [`Analysis`] from trace records fed one at a time.
///
/// Memory grows with the number of processes and spawns, not with the
/// number of events. [`Analyzer::snapshot`] can be called at any time (the
/// live terminal UI does so ~10 times a second); [`Analyzer::current`] does the
/// same without copying.
///
/// ```
/// use spawnscope_analyzer::{Analyzer, Thresholds};
/// use spawnscope_format::*;
/// let header = Header::new(vec!["sh".into()], TracerMode::Seccomp);
/// let mut an = Analyzer::new(header, Thresholds::default());
/// an.push(2, &Record::Spawn(SpawnEvent {
///     pid: 10, tid: 10, child: Some(11), syscall: CloneSyscall::Clone,
///     flags: 0x0120_0000, exit_signal: 17, stack: 0, clone_args: None,
///     ptrace_event: Some(PtraceEvent::Fork), thread: false, result: 0,
///     t_entry: Some(1_000), t_event: 2_000, t_resume: Some(3_000),
///     parent_mem: None, parent_threads: Some(1), stack_id: None,
/// }));
/// let a = an.finish();
/// assert_eq!(a.summary.spawns, 1);
/// assert_eq!(a.spawns[0].style.as_str(), "fork");
/// assert_eq!(a.spawns[0].code_path.as_str(), "fork-no-exec");
/// ```
#[derive(Debug)]
pub struct Analyzer {
    /// Processes and spawns live here; the derived parts (code paths of
    /// undecided forks, in-flight counts, summary, findings) are refreshed
    /// by `derive`.
    a: Analysis,
    proc_state: Vec<ProcState>,
    spawn_state: Vec<SpawnState>,
    by_pid: HashMap<i32, usize>,
    /// Thread id → line of a Rust-fallback socketpair not yet followed by
    /// anything else in that thread.
    rust_socketpair: HashMap<i32, u64>,
    /// Stack records and their classification (issue 10).
    origins: crate::origin::OriginTable,
    /// The stack records were read before the events ([`Analyzer::with_stacks`]).
    primed: bool,
    threads: u64,
    failed_clones: u64,
    execs: stats::ExecTotals,
    warnings: Vec<String>,
    warnings_dropped: u64,
    last_t: Nanos,
    end: Option<(Nanos, Option<i32>)>,
    /// Bumped by every push; `current` recomputes only when it changed.
    generation: u64,
    derived: Option<u64>,
    /// Processes and spawns changed since the last `snapshot_into` (flag +
    /// list, so each is listed once).
    dirty_procs: Vec<bool>,
    dirty_proc_list: Vec<usize>,
    dirty_spawns: Vec<bool>,
    dirty_spawn_list: Vec<usize>,
    /// Revision handed out by the last `snapshot_into`.
    synced: Option<u64>,
    /// Bounded retention ([`Retention::Aggregate`]): the live spawns and
    /// processes and what the others were folded into.
    bounded: Option<Box<Bounded>>,
}

impl Analyzer {
    pub fn new(header: Header, thresholds: Thresholds) -> Analyzer {
        Analyzer::with_retention(header, thresholds, Retention::Full)
    }

    /// An analyzer that keeps every spawn ([`Retention::Full`], what
    /// [`Analyzer::new`] does) or only what is still changing
    /// ([`Retention::Aggregate`]: memory grows with what is distinct, not with
    /// events). A trace whose header says it has call stacks is kept whole
    /// here: its symbols come at the end, and a bounded analysis needs them
    /// as it goes ([`Analyzer::with_stacks`] takes them first).
    pub fn with_retention(header: Header, thresholds: Thresholds, retention: Retention) -> Analyzer {
        let retention = if header.tracer.stacks.is_some() { Retention::Full } else { retention };
        Analyzer::build(header, thresholds, retention, None)
    }

    /// An analyzer for a trace with call stacks whose stack records
    /// (`module`, `stack`, `symbols`) were read beforehand
    /// ([`spawnscope_format::stack::scan_file`]): every retention works, each
    /// spawn's call site is known when it is folded, and the stack records
    /// met again while reading are skipped.
    pub fn with_stacks(
        header: Header,
        thresholds: Thresholds,
        retention: Retention,
        stacks: spawnscope_format::StackTable,
    ) -> Analyzer {
        Analyzer::build(header, thresholds, retention, Some(stacks))
    }

    fn build(
        header: Header,
        thresholds: Thresholds,
        retention: Retention,
        stacks: Option<spawnscope_format::StackTable>,
    ) -> Analyzer {
        let warnings = Vec::new();
        let primed = stacks.is_some();
        let (retention, spill) = match retention {
            Retention::Stream => match crate::spill::SpillWriter::create() {
                Ok(w) => (retention, Some(w)),
                // No temporary file: every spawn stays in memory instead.
                Err(_) => (Retention::Full, None),
            },
            _ => (retention, None),
        };
        let bounded = (retention != Retention::Full).then(|| {
            Box::new(Bounded {
                spawns: HashMap::default(),
                procs: HashMap::default(),
                n_spawns: 0,
                n_procs: 0,
                parent_groups: HashMap::default(),
                threads: HashMap::default(),
                fold: crate::aggregate::Fold::new(crate::findings::Observers::new(
                    &header,
                    &thresholds,
                    crate::aggregate::EVIDENCE_CAP,
                )),
                spill,
                gone: HashMap::default(),
                origin_ix: HashMap::default(),
                with_stacks: primed || header.tracer.stacks.is_some(),
            })
        });
        Analyzer {
            a: Analysis {
                header,
                complete: false,
                warnings: Vec::new(),
                processes: Vec::new(),
                spawns: Vec::new(),
                summary: Summary::default(),
                findings: Vec::new(),
                thresholds,
                origins: Default::default(),
                revision: 0,
                aggregate: None,
            },
            proc_state: Vec::new(),
            spawn_state: Vec::new(),
            by_pid: HashMap::default(),
            rust_socketpair: HashMap::default(),
            origins: stacks.map_or_else(crate::origin::OriginTable::new, crate::origin::OriginTable::from_table),
            primed,
            threads: 0,
            failed_clones: 0,
            execs: stats::ExecTotals::default(),
            warnings,
            warnings_dropped: 0,
            last_t: 0,
            end: None,
            generation: 0,
            derived: None,
            dirty_procs: Vec::new(),
            dirty_proc_list: Vec::new(),
            dirty_spawns: Vec::new(),
            dirty_spawn_list: Vec::new(),
            synced: None,
            bounded,
        }
    }

    /// Bounded retention: how many spawns and processes are held now (full
    /// retention: all of them).
    pub fn live_counts(&self) -> (usize, usize) {
        match &self.bounded {
            Some(b) => (b.spawns.len(), b.procs.len()),
            None => (self.a.spawns.len(), self.a.processes.len()),
        }
    }

    /// The retention actually used (a trace with stacks whose stack records
    /// were not read first is kept whole).
    pub fn retention(&self) -> Retention {
        match &self.bounded {
            Some(b) if b.spill.is_some() => Retention::Stream,
            Some(_) => Retention::Aggregate,
            None => Retention::Full,
        }
    }

    pub fn header(&self) -> &Header {
        &self.a.header
    }

    pub fn thresholds(&self) -> &Thresholds {
        &self.a.thresholds
    }

    /// Changes the thresholds (findings are recomputed at the next snapshot).
    pub fn set_thresholds(&mut self, t: Thresholds) {
        self.a.thresholds = t;
        self.generation += 1;
    }

    /// Number of spawns so far (cheap).
    pub fn spawn_count(&self) -> usize {
        match &self.bounded {
            Some(b) => b.n_spawns,
            None => self.a.spawns.len(),
        }
    }

    /// Adds a warning (e.g. from the trace reader) to the analysis.
    pub fn warn(&mut self, msg: impl Into<String>) {
        self.generation += 1;
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(msg.into());
        } else {
            self.warnings_dropped += 1;
        }
    }

    /// Feeds one record; `line` is its line number in the trace (for messages).
    pub fn push(&mut self, line: u64, rec: &Record) {
        self.push_owned(line, rec.clone());
    }

    /// Like [`Analyzer::push`], without copying the record's strings.
    pub fn push_owned(&mut self, line: u64, rec: Record) {
        self.generation += 1;
        if let Some(t) = rec.time() {
            self.last_t = self.last_t.max(t);
        }
        match rec {
            Record::Spawn(ev) => self.on_spawn(line, ev),
            Record::Exec(ev) => self.on_exec(ev),
            Record::Socketpair(ev) => self.on_socketpair(line, &ev),
            Record::Pipe(ev) => {
                self.live(ev.pid, ev.t);
                self.rust_socketpair.remove(&ev.tid);
            }
            Record::Exit(ev) => self.on_exit(ev),
            Record::Warning(w) => {
                let pid = w.pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
                self.warn(format!("line {line}: tracer: {}{pid}", w.message));
            }
            Record::End(e) => self.end = Some((e.t, e.exit_code)),
            // Stack records: resolved into origins by the call-site analysis (issue 10).
            Record::Module(_) | Record::Stack(_) | Record::Symbols(_) => {
                if !self.primed {
                    self.origins.add(&rec);
                }
            }
            Record::Header(_) => self.warn(format!("line {line}: a second header, ignored")),
            Record::Unknown => {}
        }
    }

    /// The analysis so far, as an owned copy (cost: a copy of every process
    /// and spawn; [`Analyzer::current`] avoids it). Spawns whose child has not
    /// exec'd yet have code path `unknown` until it does (or exits).
    pub fn snapshot(&self) -> Analysis {
        let mut a = self.a.clone();
        self.derive(&mut a, false);
        a
    }

    /// The analysis so far, without a copy; recomputed only if records
    /// arrived since the last call.
    pub fn current(&mut self) -> &Analysis {
        if self.derived != Some(self.generation) {
            let mut a = std::mem::replace(&mut self.a, placeholder());
            self.derive(&mut a, false);
            self.a = a;
            self.derived = Some(self.generation);
        }
        &self.a
    }

    /// Brings `dst` up to date with the analysis so far, copying only the
    /// processes and spawns that changed since the previous call for the same
    /// `dst` (any other `dst`, e.g. a fresh `Analysis::default()`-like one
    /// from [`Analyzer::snapshot`], gets a full copy). Same result as
    /// [`Analyzer::snapshot`], at a fraction of the cost on a big live trace;
    /// `dst` must not be modified between calls.
    pub fn snapshot_into(&mut self, dst: &mut Analysis) {
        let incremental = self.synced == Some(dst.revision)
            && dst.spawns.len() <= self.a.spawns.len()
            && dst.processes.len() <= self.a.processes.len()
            && dst.header == self.a.header;
        if incremental {
            for &i in &self.dirty_proc_list {
                if let (Some(d), Some(s)) = (dst.processes.get_mut(i), self.a.processes.get(i)) {
                    d.clone_from(s);
                }
            }
            for &i in &self.dirty_spawn_list {
                if let (Some(d), Some(s)) = (dst.spawns.get_mut(i), self.a.spawns.get(i)) {
                    d.clone_from(s);
                }
            }
            let (np, ns) = (dst.processes.len(), dst.spawns.len());
            dst.processes.extend_from_slice(&self.a.processes[np..]);
            dst.spawns.extend_from_slice(&self.a.spawns[ns..]);
            dst.thresholds.clone_from(&self.a.thresholds);
        } else {
            dst.clone_from(&self.a);
        }
        for &i in &self.dirty_proc_list {
            self.dirty_procs[i] = false;
        }
        for &i in &self.dirty_spawn_list {
            self.dirty_spawns[i] = false;
        }
        self.dirty_proc_list.clear();
        self.dirty_spawn_list.clear();
        self.derive(dst, false);
        dst.revision = self.generation;
        self.synced = Some(self.generation);
    }

    fn touch_proc(&mut self, i: usize) {
        if self.bounded.is_some() {
            return;
        }
        mark_dirty(&mut self.dirty_procs, &mut self.dirty_proc_list, i);
    }

    fn touch_spawn(&mut self, i: usize) {
        if self.bounded.is_some() {
            return;
        }
        mark_dirty(&mut self.dirty_spawns, &mut self.dirty_spawn_list, i);
    }

    /// The final analysis: children that never exec'd are `fork-no-exec`.
    pub fn finish(mut self) -> Analysis {
        if self.bounded.is_some() {
            return self.finish_bounded();
        }
        let mut a = std::mem::replace(&mut self.a, placeholder());
        self.derive(&mut a, true);
        a
    }

    // ---- events ----

    fn on_socketpair(&mut self, line: u64, ev: &SocketpairEvent) {
        self.live(ev.pid, ev.t);
        if classify::is_rust_fallback_socketpair(ev) {
            self.rust_socketpair.insert(ev.tid, line);
        } else {
            self.rust_socketpair.remove(&ev.tid);
        }
    }

    fn on_spawn(&mut self, line: u64, ev: SpawnEvent) {
        let t0 = ev.t_entry.unwrap_or(ev.t_event);
        let parent_seen_before = match self.by_pid.get(&ev.pid) {
            Some(&p) => self.ps(p).map(|st| st.last_seen),
            None => self.bounded.as_ref().and_then(|b| b.gone.get(&ev.pid).copied()),
        };
        let parent = self.live(ev.pid, t0);
        let socketpair_line = self.rust_socketpair.remove(&ev.tid);
        if ev.result != 0 {
            self.failed_clones += 1;
            return;
        }
        if classify::is_thread(&ev) {
            self.threads += 1;
            if let Some(p) = self.pr_mut(parent) {
                p.threads_created += 1;
            }
            self.touch_proc(parent);
            return;
        }
        let si = self.spawn_count();
        let style = classify::style_of(ev.flags);
        let mismatch = classify::style_mismatch(&ev);
        if mismatch {
            self.warn(format!(
                "line {line}: spawn of pid {}: the kernel reported a {} event but the flags ({}, exit signal {}) mean {}",
                ev.child.unwrap_or(0),
                ev.ptrace_event.map_or("no", event_name),
                flag_list(ev.flags),
                ev.exit_signal,
                classify::expected_event(ev.flags, ev.exit_signal).map_or("no event (CLONE_UNTRACED)", event_name),
            ));
        }
        let child = match ev.child {
            Some(pid) => Some(self.child_for(pid, parent, si, &ev, parent_seen_before)),
            None => {
                self.warn(format!(
                    "line {line}: spawn by pid {} without a child pid (the tracer did not see the new task)",
                    ev.pid
                ));
                None
            }
        };
        let parent_threads = ev.parent_threads.or_else(|| {
            let p = self.pr(parent)?;
            let known = self.ps(parent).is_some_and(|st| st.threads_known);
            known.then(|| 1 + p.threads_created.saturating_sub(p.threads_exited))
        });
        let base = classify::base_path(&ev, socketpair_line.is_some());
        let spawn = Spawn {
            index: si,
            parent_pid: ev.pid,
            parent_tid: ev.tid,
            child_pid: ev.child.unwrap_or(0),
            child,
            parent: Some(parent),
            syscall: ev.syscall,
            flags: ev.flags,
            exit_signal: ev.exit_signal,
            stack: ev.stack,
            style,
            ptrace_event: ev.ptrace_event,
            style_mismatch: mismatch,
            code_path: CodePath::Unknown,
            socketpair: socketpair_line.is_some(),
            exec: None,
            latency_ns: None,
            parent_blocked_ns: ev.t_resume.map(|r| r.saturating_sub(t0)),
            clone_ns: ev.t_entry.map(|e| ev.t_event.saturating_sub(e)),
            parent_mem: ev.parent_mem,
            parent_threads,
            in_flight: 0,
            t_start: t0,
            t_done: None,
            line,
            from_event: ev.t_entry.is_none(),
            origin: None,
        };
        let state = SpawnState { base, chain_closed: false, stack_id: ev.stack_id, next_start: None };
        match &mut self.bounded {
            Some(b) => {
                let mut spawn = spawn;
                spawn.origin = b.origin_of(ev.stack_id, &self.origins, &mut self.a.origins);
                b.spawns.insert(si, (spawn, state));
                b.n_spawns += 1;
                b.fold.started(t0);
                if let Some(st) = b.procs.get_mut(&parent).map(|x| &mut x.1) {
                    st.open_spawns += 1;
                }
                self.serial_arrival(parent, ev.tid, si, t0);
            }
            None => {
                self.a.spawns.push(spawn);
                self.spawn_state.push(state);
            }
        }
        // The parent made a spawn (with a child, as a full analysis counts
        // its children): an exec chain of its own is over.
        let parent_first = child.is_some()
            && self
                .ps_mut(parent)
                .map(|st| {
                    st.first_spawn_t = Some(st.first_spawn_t.map_or(t0, |f| f.min(t0)));
                    !std::mem::replace(&mut st.spawned, true)
                })
                .unwrap_or(false);
        // Replay what the child did before this line arrived.
        if let Some(c) = child {
            let execs = self.pr_mut(c).map(|p| std::mem::take(&mut p.execs)).unwrap_or_default();
            for a in &execs {
                self.apply_exec(si, a);
            }
            let exit = self.pr_mut(c).and_then(|p| {
                p.execs = execs;
                p.exit
            });
            if let Some(exit) = exit {
                self.apply_exit(si, exit.t);
            }
        }
        if self.bounded.is_some() {
            if parent_first {
                if let Some(ps) = self.pr(parent).and_then(|p| p.spawn) {
                    self.settle_spawn(ps);
                }
            }
            self.settle_spawn(si);
        }
    }

    /// The process for a spawn's child: a provisional process of that pid if
    /// it is plausibly this child, else a new one.
    fn child_for(&mut self, pid: i32, parent: usize, si: usize, ev: &SpawnEvent, parent_seen_before: Option<Nanos>) -> usize {
        let t0 = ev.t_entry.unwrap_or(ev.t_event);
        let adopt = self.by_pid.get(&pid).copied().filter(|&c| {
            let (Some(st), Some(p)) = (self.ps(c), self.pr(c)) else { return false };
            let timely = match ev.t_entry {
                Some(entry) => st.first_seen >= entry,
                None => st.first_seen >= parent_seen_before.unwrap_or(0),
            };
            st.provisional && p.spawn.is_none() && p.parent.is_none() && c != parent && timely && !self.is_ancestor(c, parent)
        });
        let inherit = self.bounded.is_some().then(|| (self.resolved_name(parent), self.env_at(parent, t0)));
        let c = match adopt {
            Some(c) => {
                if let Some(p) = self.pr_mut(c) {
                    p.parent = Some(parent);
                    p.spawn = Some(si);
                    p.t_start = p.t_start.min(t0);
                }
                if let Some(st) = self.ps_mut(c) {
                    st.provisional = false;
                    st.threads_known = true;
                }
                c
            }
            None => {
                let c = self.new_process(pid, t0, false);
                if let Some(p) = self.pr_mut(c) {
                    p.parent = Some(parent);
                    p.spawn = Some(si);
                }
                if let Some(st) = self.ps_mut(c) {
                    st.threads_known = true;
                }
                c
            }
        };
        if let Some((name, env)) = inherit {
            if let Some(st) = self.ps_mut(c) {
                st.inherit_name = Some(name);
                st.inherit_env = env;
            }
        }
        if self.bounded.as_ref().is_none_or(|b| b.spill.is_some()) {
            if let Some(p) = self.pr_mut(parent) {
                p.children.push(c);
            }
        }
        self.touch_proc(parent);
        self.touch_proc(c);
        c
    }

    /// Whether `a` is `b` or an ancestor of `b` (bounded walk; a chain too
    /// long to walk counts as "yes", which only costs a missed adoption).
    fn is_ancestor(&self, a: usize, b: usize) -> bool {
        let leaf = match &self.bounded {
            Some(_) => self.ps(a).is_none_or(|st| !st.spawned),
            None => self.pr(a).is_none_or(|p| p.children.is_empty()),
        };
        if leaf {
            return a == b;
        }
        let mut cur = Some(b);
        for _ in 0..MAX_WALK {
            match cur {
                None => return false,
                Some(x) if x == a => return true,
                Some(x) => cur = self.pr(x).and_then(|p| p.parent),
            }
        }
        true
    }

    fn on_exec(&mut self, ev: ExecEvent) {
        let t = ev.t_entry.unwrap_or(ev.t_exit);
        let c = self.live(ev.pid, t);
        self.rust_socketpair.remove(&ev.tid);
        let mut argv = ev.argv;
        // The parser grows the Vec by doubling; this one lives as long as the analysis.
        argv.shrink_to_fit();
        let attempt = ExecAttempt {
            tid: ev.tid,
            path: ev.path,
            argv,
            env_count: ev.env_count,
            env_bytes: ev.env_bytes,
            result: ev.result,
            t_entry: ev.t_entry,
            t_exit: ev.t_exit,
            env_hash: u64::from_str_radix(&ev.env_hash, 16).ok(),
        };
        self.execs.add(attempt.result, attempt.t_entry, attempt.t_exit);
        self.touch_proc(c);
        if let Some(si) = self.pr(c).and_then(|p| p.spawn) {
            self.apply_exec(si, &attempt);
        }
        if attempt.result == 0 {
            if let Some(st) = self.ps_mut(c) {
                st.named = true;
            }
        }
        let Some(p) = self.pr_mut(c) else { return };
        if p.execs.capacity() == 0 {
            // Most processes exec once: no room for four.
            p.execs.reserve_exact(1);
        }
        if attempt.result == 0 {
            p.name.clone_from(&attempt.path);
        }
        p.execs.push(attempt);
    }

    /// Attributes one exec attempt of a spawn's child to the spawn. An exec
    /// chain (`env prog`, `sh -c "exec prog"`, jspawnhelper, nice, timeout)
    /// stays with the spawn that started it: its failed attempts, its final
    /// program and the latency to its last exec. The chain ends when the
    /// child makes a spawn of its own (a shell that runs commands, then
    /// execs): what it execs after that is not part of starting it.
    fn apply_exec(&mut self, si: usize, a: &ExecAttempt) {
        if self.ss(si).is_none_or(|st| st.chain_closed) {
            return;
        }
        let t = a.t_entry.unwrap_or(a.t_exit);
        if let Some(c) = self.sp(si).and_then(|s| s.child) {
            if self.spawned_before(c, t) {
                if let Some(st) = self.ss_mut(si) {
                    st.chain_closed = true;
                }
                return;
            }
        }
        self.touch_spawn(si);
        // Bounded: nothing shows a spawn's whole argv, the rules read argv[0].
        let whole_argv = self.bounded.as_ref().is_none_or(|b| b.spill.is_some());
        let argv = |e: &mut Vec<String>| {
            if whole_argv {
                e.clone_from(&a.argv);
            } else {
                e.clear();
                e.extend(a.argv.first().cloned());
            }
        };
        let Some(s) = self.sp_mut(si) else { return };
        let done_before = s.t_done;
        let e = s.exec.get_or_insert_with(|| SpawnExec {
            path: String::new(),
            chain: Vec::new(),
            argv: Vec::new(),
            success: false,
            failed_attempts: Vec::new(),
            failed_ns: 0,
            env_count: 0,
            env_bytes: 0,
        });
        if a.result != 0 {
            if !e.success {
                // Until one succeeds, the exec is the last attempt.
                e.path.clone_from(&a.path);
                argv(&mut e.argv);
                e.env_count = a.env_count;
                e.env_bytes = a.env_bytes;
            }
            e.failed_ns = e.failed_ns.saturating_add(stats::attempt_ns(a.t_entry, a.t_exit));
            // argv stays in Process::execs only: a PATH walk repeats the same
            // argv for every directory, and copying it here doubled the memory
            // of PATH-searching spawns.
            e.failed_attempts.push(ExecAttempt {
                tid: a.tid,
                path: a.path.clone(),
                argv: Vec::new(),
                env_count: a.env_count,
                env_bytes: a.env_bytes,
                result: a.result,
                t_entry: a.t_entry,
                t_exit: a.t_exit,
                env_hash: a.env_hash,
            });
        } else {
            if e.success {
                let previous = std::mem::take(&mut e.path);
                e.chain.push(previous);
            }
            e.path.clone_from(&a.path);
            argv(&mut e.argv);
            e.env_count = a.env_count;
            e.env_bytes = a.env_bytes;
            e.success = true;
            s.t_done = Some(a.t_exit);
            s.latency_ns = Some(a.t_exit.saturating_sub(s.t_start));
            if let Some(b) = &mut self.bounded {
                b.fold.ended(done_before, a.t_exit);
            }
        }
    }

    /// Whether process `c` started a spawn before time `t`.
    fn spawned_before(&self, c: usize, t: Nanos) -> bool {
        if self.bounded.is_some() {
            return self.ps(c).and_then(|st| st.first_spawn_t).is_some_and(|f| f < t);
        }
        self.a.processes[c]
            .children
            .iter()
            .filter_map(|&k| self.a.processes.get(k)?.spawn)
            .any(|k| self.a.spawns.get(k).is_some_and(|x| x.t_start < t))
    }

    fn apply_exit(&mut self, si: usize, t: Nanos) {
        self.touch_spawn(si);
        let Some(s) = self.sp_mut(si) else { return };
        if s.t_done.is_none() {
            s.t_done = Some(t);
            s.latency_ns = Some(t.saturating_sub(s.t_start));
            if let Some(b) = &mut self.bounded {
                b.fold.ended(None, t);
            }
        }
    }

    fn on_exit(&mut self, ev: ExitEvent) {
        if ev.thread {
            let c = self.live(ev.pid, ev.t);
            if let Some(p) = self.pr_mut(c) {
                p.threads_exited += 1;
            }
            self.touch_proc(c);
            return;
        }
        let c = self.live(ev.pid, ev.t);
        self.touch_proc(c);
        if let Some(p) = self.pr_mut(c) {
            p.exit = Some(ProcessExit { code: ev.code, signal: ev.signal, t: ev.t });
        }
        self.rust_socketpair.remove(&ev.tid);
        let spawn = self.pr(c).and_then(|p| p.spawn);
        if let Some(si) = spawn {
            self.apply_exit(si, ev.t);
        }
        if self.bounded.is_some() {
            if let Some(si) = spawn {
                self.settle_spawn(si);
            }
            // Its spawn may have been final before (it exec'd and spawned).
            self.settle_process(c);
        }
    }

    /// The live process of a pid, creating a provisional one if the pid is
    /// new or its last process has exited (pid reuse).
    fn live(&mut self, pid: i32, t: Nanos) -> usize {
        let idx = match self.by_pid.get(&pid) {
            Some(&i) if self.pr(i).is_some_and(|p| p.exit.is_none()) => i,
            _ => self.new_process(pid, t, true),
        };
        if let Some(st) = self.ps_mut(idx) {
            st.last_seen = st.last_seen.max(t);
        }
        idx
    }

    fn new_process(&mut self, pid: i32, t: Nanos, provisional: bool) -> usize {
        let idx = match &self.bounded {
            Some(b) => b.n_procs,
            None => self.a.processes.len(),
        };
        let p = Process {
            index: idx,
            pid,
            parent: None,
            spawn: None,
            children: Vec::new(),
            execs: Vec::new(),
            name: String::new(),
            threads_created: 0,
            exit: None,
            t_start: t,
            threads_exited: 0,
        };
        let st = ProcState { provisional, first_seen: t, last_seen: t, ..ProcState::default() };
        match &mut self.bounded {
            Some(b) => {
                b.procs.insert(idx, (p, st));
                b.n_procs += 1;
            }
            None => {
                self.a.processes.push(p);
                self.proc_state.push(st);
            }
        }
        self.by_pid.insert(pid, idx);
        if let Some(b) = &mut self.bounded {
            b.gone.remove(&pid);
        }
        idx
    }

    // ---- derived ----

    /// Refreshes the derived parts of `a` (idempotent).
    fn derive(&self, a: &mut Analysis, last: bool) {
        for (s, st) in a.spawns.iter_mut().zip(&self.spawn_state) {
            s.code_path = match st.base {
                BasePath::Known(c) => c,
                BasePath::PlainFork => {
                    let exited = s.child.and_then(|c| a.processes.get(c)).is_some_and(|p| p.exit.is_some());
                    if s.exec.is_some() {
                        CodePath::ForkExec
                    } else if last || exited {
                        CodePath::ForkNoExec
                    } else {
                        CodePath::Unknown
                    }
                }
            };
        }
        let states = &self.spawn_state;
        self.origins.fill(&a.header, &mut a.spawns, |i| states.get(i).and_then(|st| st.stack_id), &mut a.origins);
        for i in 0..a.processes.len() {
            if self.proc_state.get(i).is_some_and(|st| !st.named) {
                let name = self.inherited_name(a, i);
                a.processes[i].name = name;
            }
        }
        let max_in_flight = stats::fill_in_flight(&mut a.spawns);
        let (end_t, exit_code) = self.end.unwrap_or((self.last_t, None));
        a.summary = stats::summarize(
            a.processes.len(),
            &a.spawns,
            self.execs,
            self.threads,
            self.failed_clones,
            end_t.max(self.last_t),
            exit_code,
        );
        a.summary.max_in_flight = max_in_flight;
        crate::proportion::fill_summary(a, a.summary.duration_ns);
        self.fill_status(a);
        a.findings = crate::findings::evaluate(a);
    }

    /// The warnings (the events-mode note first), whether the end line
    /// was seen, and the revision: what every analysis ends with.
    fn fill_status(&self, a: &mut Analysis) {
        a.warnings.clear();
        if a.header.tracer.mode == TracerMode::Events {
            a.warnings.push(EVENTS_MODE_NOTE.to_string());
        }
        a.warnings.extend(self.warnings.iter().cloned());
        if self.warnings_dropped > 0 {
            a.warnings.push(format!("... and {} more warnings", self.warnings_dropped));
        }
        a.complete = self.end.is_some();
        a.revision = self.generation;
    }

    /// Name of a process that never exec'd: the program its parent ran when
    /// it was created (a fork runs its parent's program: a shell's
    /// subshell is the shell, even if the shell later execs something
    /// else), found up the ancestors, else the traced command.
    fn inherited_name(&self, a: &Analysis, i: usize) -> String {
        let mut before = a.processes[i].t_start;
        let mut cur = a.processes[i].parent;
        for _ in 0..64 {
            let Some(p) = cur.and_then(|p| a.processes.get(p)) else { break };
            if let Some(e) = p.execs.iter().rev().find(|e| e.result == 0 && e.t_exit <= before) {
                return e.path.clone();
            }
            before = p.t_start;
            cur = p.parent;
        }
        match a.header.command.first() {
            Some(c) if !c.is_empty() => c.clone(),
            _ => "?".to_string(),
        }
    }
}

fn placeholder() -> Analysis {
    Analysis {
        header: Header::new(Vec::new(), TracerMode::Imported),
        complete: false,
        warnings: Vec::new(),
        processes: Vec::new(),
        spawns: Vec::new(),
        summary: Summary::default(),
        findings: Vec::new(),
        thresholds: Thresholds::default(),
        origins: Default::default(),
        revision: 0,
        aggregate: None,
    }
}

/// Shown first in the warnings of an events-mode trace.
pub const EVENTS_MODE_NOTE: &str = "events mode: no syscall-entry times (latencies start at the kernel's fork event and are lower bounds), no failed exec attempts and no socketpair/pipe calls: PATH search and the Rust std fork fallback (which shows as fork + exec) cannot be seen";

fn event_name(e: spawnscope_format::PtraceEvent) -> &'static str {
    match e {
        spawnscope_format::PtraceEvent::Fork => "FORK",
        spawnscope_format::PtraceEvent::Vfork => "VFORK",
        spawnscope_format::PtraceEvent::Clone => "CLONE",
    }
}

fn flag_list(flags: u64) -> String {
    let names = spawnscope_format::flags::clone_flag_names(flags);
    if names.is_empty() {
        "0".to_string()
    } else {
        names.join("|")
    }
}

/// Marks element `i` changed since the last live copy, once.
fn mark_dirty(flags: &mut Vec<bool>, list: &mut Vec<usize>, i: usize) {
    if flags.len() <= i {
        flags.resize(i + 1, false);
    }
    if !flags[i] {
        flags[i] = true;
        list.push(i);
    }
}
