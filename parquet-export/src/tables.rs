//! The four tables: column builders per table, one `push` per row.
//!
//! Column order and names are the `*_COLUMNS` constants (documented in
//! docs/reference/parquet.md); a test checks every batch against them.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Int32Builder, ListBuilder, StringBuilder, TimestampNanosecondBuilder, UInt32Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::ArrowError;
use spawnscope_analyzer::{Analysis, ExecAttempt, Process, Spawn};

use crate::Table;

/// What every row of one trace shares.
pub(crate) struct Context<'a> {
    pub analysis: &'a Analysis,
    pub trace_id: &'a str,
    pub host: &'a str,
    pub source: &'a str,
    pub start_unix_ns: i64,
}

impl<'a> Context<'a> {
    pub fn new(analysis: &'a Analysis, trace_id: &'a str, source: &'a str) -> Self {
        Context {
            analysis,
            trace_id,
            host: analysis.header.host.hostname.as_deref().unwrap_or(""),
            source,
            start_unix_ns: i64::try_from(analysis.header.start_unix_ns).unwrap_or(i64::MAX),
        }
    }
    /// Wall-clock time of a trace time (ns since the recording started).
    fn wall(&self, t: u64) -> i64 {
        self.start_unix_ns.saturating_add(i64::try_from(t).unwrap_or(i64::MAX))
    }
}

fn ts() -> TimestampNanosecondBuilder {
    TimestampNanosecondBuilder::new().with_timezone("UTC")
}

fn arr<T: arrow_array::Array + 'static>(a: T) -> ArrayRef {
    Arc::new(a)
}

/// Builds a batch from (name, array, nullable) columns, checking the names
/// against the documented list.
fn batch(names: &[&str], cols: Vec<(ArrayRef, bool)>) -> Result<RecordBatch, ArrowError> {
    debug_assert_eq!(names.len(), cols.len());
    RecordBatch::try_from_iter_with_nullable(names.iter().zip(cols).map(|(n, (a, null))| (*n, a, null)))
}

/// Columns of the spawns table, in order.
pub const SPAWNS_COLUMNS: &[&str] = &[
    "trace_id",
    "host",
    "spawn_index",
    "parent_pid",
    "parent_tid",
    "child_pid",
    "parent_process",
    "child_process",
    "syscall",
    "flags",
    "exit_signal",
    "style",
    "code_path",
    "ptrace_event",
    "style_mismatch",
    "socketpair",
    "exec_path",
    "executable",
    "exec_success",
    "failed_attempts",
    "failed_ns",
    "env_count",
    "env_bytes",
    "t_start_ns",
    "t_done_ns",
    "start_time",
    "latency_ns",
    "parent_blocked_ns",
    "clone_ns",
    "parent_rss_kb",
    "parent_pte_kb",
    "parent_threads",
    "in_flight",
    "from_event",
    "line",
];

#[derive(Default)]
pub(crate) struct Spawns {
    trace_id: StringBuilder,
    host: StringBuilder,
    index: UInt64Builder,
    parent_pid: Int32Builder,
    parent_tid: Int32Builder,
    child_pid: Int32Builder,
    parent: UInt64Builder,
    child: UInt64Builder,
    syscall: StringBuilder,
    flags: UInt64Builder,
    exit_signal: UInt32Builder,
    style: StringBuilder,
    code_path: StringBuilder,
    ptrace_event: StringBuilder,
    style_mismatch: BooleanBuilder,
    socketpair: BooleanBuilder,
    exec_path: StringBuilder,
    executable: StringBuilder,
    exec_success: BooleanBuilder,
    failed_attempts: UInt32Builder,
    failed_ns: UInt64Builder,
    env_count: UInt64Builder,
    env_bytes: UInt64Builder,
    t_start: UInt64Builder,
    t_done: UInt64Builder,
    start_time: Option<TimestampNanosecondBuilder>,
    latency: UInt64Builder,
    blocked: UInt64Builder,
    clone: UInt64Builder,
    rss: UInt64Builder,
    pte: UInt64Builder,
    threads: UInt32Builder,
    in_flight: UInt32Builder,
    from_event: BooleanBuilder,
    line: UInt64Builder,
}

fn ptrace_event_name(e: spawnscope_format::PtraceEvent) -> &'static str {
    match e {
        spawnscope_format::PtraceEvent::Fork => "fork",
        spawnscope_format::PtraceEvent::Vfork => "vfork",
        spawnscope_format::PtraceEvent::Clone => "clone",
    }
}

impl Spawns {
    pub fn push(&mut self, c: &Context<'_>, s: &Spawn) {
        self.trace_id.append_value(c.trace_id);
        self.host.append_value(c.host);
        self.index.append_value(s.index as u64);
        self.parent_pid.append_value(s.parent_pid);
        self.parent_tid.append_value(s.parent_tid);
        self.child_pid.append_value(s.child_pid);
        self.parent.append_option(s.parent.map(|i| i as u64));
        self.child.append_option(s.child.map(|i| i as u64));
        self.syscall.append_value(s.syscall.as_str());
        self.flags.append_value(s.flags);
        self.exit_signal.append_value(s.exit_signal);
        self.style.append_value(s.style.as_str());
        self.code_path.append_value(s.code_path.as_str());
        self.ptrace_event.append_option(s.ptrace_event.map(ptrace_event_name));
        self.style_mismatch.append_value(s.style_mismatch);
        self.socketpair.append_value(s.socketpair);
        let e = s.exec.as_ref();
        self.exec_path.append_option(e.map(|e| e.path.as_str()));
        self.executable.append_option(e.map(|_| s.executable()));
        self.exec_success.append_option(e.map(|e| e.success));
        self.failed_attempts.append_option(e.map(|e| e.failed_attempts.len() as u32));
        self.failed_ns.append_option(e.map(|e| e.failed_ns));
        self.env_count.append_option(e.map(|e| e.env_count));
        self.env_bytes.append_option(e.map(|e| e.env_bytes));
        self.t_start.append_value(s.t_start);
        self.t_done.append_option(s.t_done);
        self.start_time.get_or_insert_with(ts).append_value(c.wall(s.t_start));
        self.latency.append_option(s.latency_ns);
        self.blocked.append_option(s.parent_blocked_ns);
        self.clone.append_option(s.clone_ns);
        self.rss.append_option(s.parent_mem.map(|m| m.rss_kb));
        self.pte.append_option(s.parent_mem.map(|m| m.pte_kb));
        self.threads.append_option(s.parent_threads);
        self.in_flight.append_value(s.in_flight);
        self.from_event.append_value(s.from_event);
        self.line.append_value(s.line);
    }
}

impl Table for Spawns {
    const NAME: &'static str = "spawns";
    fn batch(&mut self) -> Result<RecordBatch, ArrowError> {
        let cols = vec![
            (arr(self.trace_id.finish()), false),
            (arr(self.host.finish()), false),
            (arr(self.index.finish()), false),
            (arr(self.parent_pid.finish()), false),
            (arr(self.parent_tid.finish()), false),
            (arr(self.child_pid.finish()), false),
            (arr(self.parent.finish()), true),
            (arr(self.child.finish()), true),
            (arr(self.syscall.finish()), false),
            (arr(self.flags.finish()), false),
            (arr(self.exit_signal.finish()), false),
            (arr(self.style.finish()), false),
            (arr(self.code_path.finish()), false),
            (arr(self.ptrace_event.finish()), true),
            (arr(self.style_mismatch.finish()), false),
            (arr(self.socketpair.finish()), false),
            (arr(self.exec_path.finish()), true),
            (arr(self.executable.finish()), true),
            (arr(self.exec_success.finish()), true),
            (arr(self.failed_attempts.finish()), true),
            (arr(self.failed_ns.finish()), true),
            (arr(self.env_count.finish()), true),
            (arr(self.env_bytes.finish()), true),
            (arr(self.t_start.finish()), false),
            (arr(self.t_done.finish()), true),
            (arr(self.start_time.get_or_insert_with(ts).finish()), false),
            (arr(self.latency.finish()), true),
            (arr(self.blocked.finish()), true),
            (arr(self.clone.finish()), true),
            (arr(self.rss.finish()), true),
            (arr(self.pte.finish()), true),
            (arr(self.threads.finish()), true),
            (arr(self.in_flight.finish()), false),
            (arr(self.from_event.finish()), false),
            (arr(self.line.finish()), false),
        ];
        batch(SPAWNS_COLUMNS, cols)
    }
}

/// Columns of the execs table, in order.
pub const EXECS_COLUMNS: &[&str] = &[
    "trace_id",
    "host",
    "process",
    "pid",
    "tid",
    "attempt",
    "spawn_index",
    "path",
    "argv",
    "env_count",
    "env_bytes",
    "result",
    "success",
    "t_entry_ns",
    "t_exit_ns",
    "duration_ns",
    "exit_time",
];

#[derive(Default)]
pub(crate) struct Execs {
    trace_id: StringBuilder,
    host: StringBuilder,
    process: UInt64Builder,
    pid: Int32Builder,
    tid: Int32Builder,
    attempt: UInt32Builder,
    spawn: UInt64Builder,
    path: StringBuilder,
    argv: ListBuilder<StringBuilder>,
    env_count: UInt64Builder,
    env_bytes: UInt64Builder,
    result: Int32Builder,
    success: BooleanBuilder,
    t_entry: UInt64Builder,
    t_exit: UInt64Builder,
    duration: UInt64Builder,
    exit_time: Option<TimestampNanosecondBuilder>,
}

impl Execs {
    pub fn push(&mut self, c: &Context<'_>, p: &Process, attempt: usize, e: &ExecAttempt) {
        self.trace_id.append_value(c.trace_id);
        self.host.append_value(c.host);
        self.process.append_value(p.index as u64);
        self.pid.append_value(p.pid);
        self.tid.append_value(e.tid);
        self.attempt.append_value(attempt as u32);
        self.spawn.append_option(p.spawn.map(|i| i as u64));
        self.path.append_value(&e.path);
        for a in &e.argv {
            self.argv.values().append_value(a);
        }
        self.argv.append(true);
        self.env_count.append_value(e.env_count);
        self.env_bytes.append_value(e.env_bytes);
        self.result.append_value(e.result);
        self.success.append_value(e.result == 0);
        self.t_entry.append_option(e.t_entry);
        self.t_exit.append_value(e.t_exit);
        self.duration.append_option(e.t_entry.map(|t| e.t_exit.saturating_sub(t)));
        self.exit_time.get_or_insert_with(ts).append_value(c.wall(e.t_exit));
    }
}

impl Table for Execs {
    const NAME: &'static str = "execs";
    fn batch(&mut self) -> Result<RecordBatch, ArrowError> {
        let cols = vec![
            (arr(self.trace_id.finish()), false),
            (arr(self.host.finish()), false),
            (arr(self.process.finish()), false),
            (arr(self.pid.finish()), false),
            (arr(self.tid.finish()), false),
            (arr(self.attempt.finish()), false),
            (arr(self.spawn.finish()), true),
            (arr(self.path.finish()), false),
            (arr(self.argv.finish()), false),
            (arr(self.env_count.finish()), false),
            (arr(self.env_bytes.finish()), false),
            (arr(self.result.finish()), false),
            (arr(self.success.finish()), false),
            (arr(self.t_entry.finish()), true),
            (arr(self.t_exit.finish()), false),
            (arr(self.duration.finish()), true),
            (arr(self.exit_time.get_or_insert_with(ts).finish()), false),
        ];
        batch(EXECS_COLUMNS, cols)
    }
}

/// Columns of the processes table, in order.
pub const PROCESSES_COLUMNS: &[&str] = &[
    "trace_id",
    "host",
    "process",
    "pid",
    "parent_process",
    "parent_pid",
    "spawn_index",
    "name",
    "exec_attempts",
    "children",
    "threads_created",
    "threads_exited",
    "t_start_ns",
    "t_exit_ns",
    "exit_code",
    "exit_signal",
];

#[derive(Default)]
pub(crate) struct Processes {
    trace_id: StringBuilder,
    host: StringBuilder,
    process: UInt64Builder,
    pid: Int32Builder,
    parent: UInt64Builder,
    parent_pid: Int32Builder,
    spawn: UInt64Builder,
    name: StringBuilder,
    execs: UInt32Builder,
    children: UInt32Builder,
    threads_created: UInt32Builder,
    threads_exited: UInt32Builder,
    t_start: UInt64Builder,
    t_exit: UInt64Builder,
    code: Int32Builder,
    signal: Int32Builder,
}

impl Processes {
    pub fn push(&mut self, c: &Context<'_>, p: &Process) {
        self.trace_id.append_value(c.trace_id);
        self.host.append_value(c.host);
        self.process.append_value(p.index as u64);
        self.pid.append_value(p.pid);
        self.parent.append_option(p.parent.map(|i| i as u64));
        self.parent_pid.append_option(p.parent.and_then(|i| c.analysis.processes.get(i)).map(|q| q.pid));
        self.spawn.append_option(p.spawn.map(|i| i as u64));
        self.name.append_value(&p.name);
        self.execs.append_value(p.execs.len() as u32);
        self.children.append_value(p.children.len() as u32);
        self.threads_created.append_value(p.threads_created);
        self.threads_exited.append_value(p.threads_exited);
        self.t_start.append_value(p.t_start);
        self.t_exit.append_option(p.exit.map(|e| e.t));
        self.code.append_option(p.exit.and_then(|e| e.code));
        self.signal.append_option(p.exit.and_then(|e| e.signal));
    }
}

impl Table for Processes {
    const NAME: &'static str = "processes";
    fn batch(&mut self) -> Result<RecordBatch, ArrowError> {
        let cols = vec![
            (arr(self.trace_id.finish()), false),
            (arr(self.host.finish()), false),
            (arr(self.process.finish()), false),
            (arr(self.pid.finish()), false),
            (arr(self.parent.finish()), true),
            (arr(self.parent_pid.finish()), true),
            (arr(self.spawn.finish()), true),
            (arr(self.name.finish()), false),
            (arr(self.execs.finish()), false),
            (arr(self.children.finish()), false),
            (arr(self.threads_created.finish()), false),
            (arr(self.threads_exited.finish()), false),
            (arr(self.t_start.finish()), false),
            (arr(self.t_exit.finish()), true),
            (arr(self.code.finish()), true),
            (arr(self.signal.finish()), true),
        ];
        batch(PROCESSES_COLUMNS, cols)
    }
}

/// Columns of the traces table, in order.
pub const TRACES_COLUMNS: &[&str] = &[
    "trace_id",
    "host",
    "file",
    "command",
    "cwd",
    "start_time",
    "duration_ns",
    "complete",
    "exit_code",
    "tracer_mode",
    "kernel_release",
    "glibc_version",
    "arch",
    "cpus",
    "memory_bytes",
    "spawns",
    "threads",
    "processes",
    "exec_attempts",
    "failed_exec_attempts",
    "failed_clones",
];

#[derive(Default)]
pub(crate) struct Traces {
    trace_id: StringBuilder,
    host: StringBuilder,
    file: StringBuilder,
    command: ListBuilder<StringBuilder>,
    cwd: StringBuilder,
    start_time: Option<TimestampNanosecondBuilder>,
    duration: UInt64Builder,
    complete: BooleanBuilder,
    exit_code: Int32Builder,
    mode: StringBuilder,
    kernel: StringBuilder,
    glibc: StringBuilder,
    arch: StringBuilder,
    cpus: UInt32Builder,
    memory: UInt64Builder,
    spawns: UInt64Builder,
    threads: UInt64Builder,
    processes: UInt64Builder,
    execs: UInt64Builder,
    failed_execs: UInt64Builder,
    failed_clones: UInt64Builder,
}

impl Traces {
    pub fn push(&mut self, c: &Context<'_>) {
        let a = c.analysis;
        let h = &a.header;
        self.trace_id.append_value(c.trace_id);
        self.host.append_value(c.host);
        self.file.append_value(c.source);
        for s in &h.command {
            self.command.values().append_value(s);
        }
        self.command.append(true);
        self.cwd.append_value(&h.cwd);
        self.start_time.get_or_insert_with(ts).append_value(c.start_unix_ns);
        self.duration.append_value(a.summary.duration_ns);
        self.complete.append_value(a.complete);
        self.exit_code.append_option(a.summary.exit_code);
        self.mode.append_value(h.tracer.mode.as_str());
        self.kernel.append_option(h.host.kernel_release.as_deref());
        self.glibc.append_option(h.host.glibc_version.as_deref());
        self.arch.append_option(h.host.arch.as_deref());
        self.cpus.append_option(h.host.cpus);
        self.memory.append_option(h.host.memory_bytes);
        self.spawns.append_value(a.summary.spawns);
        self.threads.append_value(a.summary.threads);
        self.processes.append_value(a.summary.processes);
        self.execs.append_value(a.summary.exec_attempts);
        self.failed_execs.append_value(a.summary.failed_exec_attempts);
        self.failed_clones.append_value(a.summary.failed_clones);
    }
}

impl Table for Traces {
    const NAME: &'static str = "traces";
    fn batch(&mut self) -> Result<RecordBatch, ArrowError> {
        let cols = vec![
            (arr(self.trace_id.finish()), false),
            (arr(self.host.finish()), false),
            (arr(self.file.finish()), false),
            (arr(self.command.finish()), false),
            (arr(self.cwd.finish()), false),
            (arr(self.start_time.get_or_insert_with(ts).finish()), false),
            (arr(self.duration.finish()), false),
            (arr(self.complete.finish()), false),
            (arr(self.exit_code.finish()), true),
            (arr(self.mode.finish()), false),
            (arr(self.kernel.finish()), true),
            (arr(self.glibc.finish()), true),
            (arr(self.arch.finish()), true),
            (arr(self.cpus.finish()), true),
            (arr(self.memory.finish()), true),
            (arr(self.spawns.finish()), false),
            (arr(self.threads.finish()), false),
            (arr(self.processes.finish()), false),
            (arr(self.execs.finish()), false),
            (arr(self.failed_execs.finish()), false),
            (arr(self.failed_clones.finish()), false),
        ];
        batch(TRACES_COLUMNS, cols)
    }
}
