//! The tables: column builders per table, one `push` per row.
//!
//! Each table is declared once with [`table!`]: its columns in order, each
//! with its builder, name and nullability; that gives the builders' struct,
//! the `*_COLUMNS` name list (documented in docs/reference/parquet.md, and
//! checked by the tests) and the batch of the rows pushed so far.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Int32Builder, ListBuilder, StringBuilder, TimestampNanosecondBuilder, UInt32Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::ArrowError;
use spawnscope_analyzer::origin::{Frame, Origin};
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

/// A timestamp column (ns, UTC).
pub(crate) struct Ts(TimestampNanosecondBuilder);

impl Default for Ts {
    fn default() -> Self {
        Ts(TimestampNanosecondBuilder::new().with_timezone("UTC"))
    }
}

impl Ts {
    fn append_value(&mut self, ns: i64) {
        self.0.append_value(ns);
    }
    fn finish(&mut self) -> arrow_array::TimestampNanosecondArray {
        self.0.finish()
    }
}

fn arr<T: arrow_array::Array + 'static>(a: T) -> ArrayRef {
    Arc::new(a)
}

/// Declares a table: `field: Builder = "column", nullable;` per column, in
/// order. Makes the `$cols` list of names, the builders' struct and its
/// [`Table`] impl (the batch of the rows pushed so far, builders reset).
macro_rules! table {
    ($(#[$doc:meta])* $name:ident, $table:literal, $cols:ident { $($field:ident: $ty:ty = $col:literal, $null:literal;)* }) => {
        $(#[$doc])*
        pub const $cols: &[&str] = &[$($col),*];

        #[derive(Default)]
        pub(crate) struct $name {
            $($field: $ty,)*
        }

        impl Table for $name {
            const NAME: &'static str = $table;
            fn batch(&mut self) -> Result<RecordBatch, ArrowError> {
                RecordBatch::try_from_iter_with_nullable([$(($col, arr(self.$field.finish()), $null)),*])
            }
        }
    };
}

table! {
    /// Columns of the spawns table, in order (one row per spawn (process creation)).
    Spawns, "spawns", SPAWNS_COLUMNS {
        trace_id: StringBuilder = "trace_id", false;
        host: StringBuilder = "host", false;
        index: UInt64Builder = "spawn_index", false;
        parent_pid: Int32Builder = "parent_pid", false;
        parent_tid: Int32Builder = "parent_tid", false;
        child_pid: Int32Builder = "child_pid", false;
        parent: UInt64Builder = "parent_process", true;
        child: UInt64Builder = "child_process", true;
        syscall: StringBuilder = "syscall", false;
        flags: UInt64Builder = "flags", false;
        exit_signal: UInt32Builder = "exit_signal", false;
        style: StringBuilder = "style", false;
        code_path: StringBuilder = "code_path", false;
        ptrace_event: StringBuilder = "ptrace_event", true;
        style_mismatch: BooleanBuilder = "style_mismatch", false;
        socketpair: BooleanBuilder = "socketpair", false;
        exec_path: StringBuilder = "exec_path", true;
        executable: StringBuilder = "executable", true;
        exec_success: BooleanBuilder = "exec_success", true;
        failed_attempts: UInt32Builder = "failed_attempts", true;
        failed_ns: UInt64Builder = "failed_ns", true;
        env_count: UInt64Builder = "env_count", true;
        env_bytes: UInt64Builder = "env_bytes", true;
        t_start: UInt64Builder = "t_start_ns", false;
        t_done: UInt64Builder = "t_done_ns", true;
        start_time: Ts = "start_time", false;
        latency: UInt64Builder = "latency_ns", true;
        blocked: UInt64Builder = "parent_blocked_ns", true;
        clone: UInt64Builder = "clone_ns", true;
        rss: UInt64Builder = "parent_rss_kb", true;
        pte: UInt64Builder = "parent_pte_kb", true;
        threads: UInt32Builder = "parent_threads", true;
        in_flight: UInt32Builder = "in_flight", false;
        from_event: BooleanBuilder = "from_event", false;
        line: UInt64Builder = "line", false;
        stack_id: UInt32Builder = "stack_id", true;
        call_site: StringBuilder = "call_site", true;
    }
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
        self.start_time.append_value(c.wall(s.t_start));
        self.latency.append_option(s.latency_ns);
        self.blocked.append_option(s.parent_blocked_ns);
        self.clone.append_option(s.clone_ns);
        self.rss.append_option(s.parent_mem.map(|m| m.rss_kb));
        self.pte.append_option(s.parent_mem.map(|m| m.pte_kb));
        self.threads.append_option(s.parent_threads);
        self.in_flight.append_value(s.in_flight);
        self.from_event.append_value(s.from_event);
        self.line.append_value(s.line);
        self.stack_id.append_option(s.origin);
        self.call_site.append_option(c.analysis.origins.of(s).map(|o| o.site_label()));
    }
}

table! {
    /// Columns of the execs table, in order (one row per exec attempt).
    Execs, "execs", EXECS_COLUMNS {
        trace_id: StringBuilder = "trace_id", false;
        host: StringBuilder = "host", false;
        process: UInt64Builder = "process", false;
        pid: Int32Builder = "pid", false;
        tid: Int32Builder = "tid", false;
        attempt: UInt32Builder = "attempt", false;
        spawn: UInt64Builder = "spawn_index", true;
        path: StringBuilder = "path", false;
        argv: ListBuilder<StringBuilder> = "argv", false;
        env_count: UInt64Builder = "env_count", false;
        env_bytes: UInt64Builder = "env_bytes", false;
        result: Int32Builder = "result", false;
        success: BooleanBuilder = "success", false;
        t_entry: UInt64Builder = "t_entry_ns", true;
        t_exit: UInt64Builder = "t_exit_ns", false;
        duration: UInt64Builder = "duration_ns", true;
        exit_time: Ts = "exit_time", false;
    }
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
        self.exit_time.append_value(c.wall(e.t_exit));
    }
}

table! {
    /// Columns of the processes table, in order (one row per process).
    Processes, "processes", PROCESSES_COLUMNS {
        trace_id: StringBuilder = "trace_id", false;
        host: StringBuilder = "host", false;
        process: UInt64Builder = "process", false;
        pid: Int32Builder = "pid", false;
        parent: UInt64Builder = "parent_process", true;
        parent_pid: Int32Builder = "parent_pid", true;
        spawn: UInt64Builder = "spawn_index", true;
        name: StringBuilder = "name", false;
        execs: UInt32Builder = "exec_attempts", false;
        children: UInt32Builder = "children", false;
        threads_created: UInt32Builder = "threads_created", false;
        threads_exited: UInt32Builder = "threads_exited", false;
        t_start: UInt64Builder = "t_start_ns", false;
        t_exit: UInt64Builder = "t_exit_ns", true;
        code: Int32Builder = "exit_code", true;
        signal: Int32Builder = "exit_signal", true;
    }
}

impl Processes {
    /// The row of `p`, whose parent (if any) has pid `parent_pid`.
    pub fn push(&mut self, c: &Context<'_>, p: &Process, parent_pid: Option<i32>) {
        self.trace_id.append_value(c.trace_id);
        self.host.append_value(c.host);
        self.process.append_value(p.index as u64);
        self.pid.append_value(p.pid);
        self.parent.append_option(p.parent.map(|i| i as u64));
        self.parent_pid.append_option(parent_pid);
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

table! {
    /// Columns of the traces table, in order (one row per trace).
    Traces, "traces", TRACES_COLUMNS {
        trace_id: StringBuilder = "trace_id", false;
        host: StringBuilder = "host", false;
        file: StringBuilder = "file", false;
        command: ListBuilder<StringBuilder> = "command", false;
        cwd: StringBuilder = "cwd", false;
        start_time: Ts = "start_time", false;
        duration: UInt64Builder = "duration_ns", false;
        complete: BooleanBuilder = "complete", false;
        exit_code: Int32Builder = "exit_code", true;
        mode: StringBuilder = "tracer_mode", false;
        kernel: StringBuilder = "kernel_release", true;
        glibc: StringBuilder = "glibc_version", true;
        arch: StringBuilder = "arch", true;
        cpus: UInt32Builder = "cpus", true;
        memory: UInt64Builder = "memory_bytes", true;
        spawns: UInt64Builder = "spawns", false;
        threads: UInt64Builder = "threads", false;
        processes: UInt64Builder = "processes", false;
        execs: UInt64Builder = "exec_attempts", false;
        failed_execs: UInt64Builder = "failed_exec_attempts", false;
        failed_clones: UInt64Builder = "failed_clones", false;
    }
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
        self.start_time.append_value(c.start_unix_ns);
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

table! {
    /// Columns of the stacks table, in order (one row per frame of each
    /// distinct spawn stack, innermost first).
    Stacks, "stacks", STACKS_COLUMNS {
        trace_id: StringBuilder = "trace_id", false;
        host: StringBuilder = "host", false;
        stack_id: UInt32Builder = "stack_id", false;
        frame: UInt32Builder = "frame", false;
        function: StringBuilder = "function", false;
        module: StringBuilder = "module", false;
        offset: UInt64Builder = "offset", false;
        file: StringBuilder = "file", true;
        line: UInt32Builder = "line", true;
        inlined: BooleanBuilder = "inlined", false;
        is_call_site: BooleanBuilder = "is_call_site", false;
        api: StringBuilder = "api", false;
        runtime: StringBuilder = "runtime", false;
    }
}

impl Stacks {
    /// The row of frame `i` of stack `id`.
    pub fn push(&mut self, c: &Context<'_>, id: u32, o: &Origin, i: usize, f: &Frame) {
        self.trace_id.append_value(c.trace_id);
        self.host.append_value(c.host);
        self.stack_id.append_value(id);
        self.frame.append_value(i as u32);
        self.function.append_value(&f.function);
        self.module.append_value(&f.module);
        self.offset.append_value(f.offset);
        self.file.append_option(f.file.as_deref());
        self.line.append_option(f.line);
        self.inlined.append_value(f.inlined);
        self.is_call_site.append_value(o.call_site_index == Some(i));
        self.api.append_value(&o.api);
        self.runtime.append_value(o.runtime.as_str());
    }
}
