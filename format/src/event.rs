//! The record types: one JSON object per line, tagged by `kind`.

use serde::{Deserialize, Serialize};

/// Nanoseconds since the start of the recording (monotonic clock).
pub type Nanos = u64;

/// One line of a trace file.
///
/// The first line is always a [`Header`]; then come events in the order the
/// tracer observed them; a clean recording ends with [`End`]. Unknown kinds
/// written by a newer minor version are read as [`Record::Unknown`] and skipped
/// by the analyzer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Record {
    Header(Header),
    Spawn(SpawnEvent),
    Exec(ExecEvent),
    Socketpair(SocketpairEvent),
    Pipe(PipeEvent),
    Exit(ExitEvent),
    Warning(WarningEvent),
    /// Format 1.1: an executable mapping that stack frames point into.
    Module(crate::stack::ModuleRecord),
    /// Format 1.1: one distinct call stack of raw frames.
    Stack(crate::stack::StackRecord),
    /// Format 1.1: symbolization of one frame address.
    Symbols(crate::stack::SymbolsRecord),
    End(End),
    /// A kind this version does not know (written by a newer minor version).
    #[serde(other)]
    Unknown,
}

impl Record {
    /// The `kind` tag as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Header(_) => "header",
            Record::Spawn(_) => "spawn",
            Record::Exec(_) => "exec",
            Record::Socketpair(_) => "socketpair",
            Record::Pipe(_) => "pipe",
            Record::Exit(_) => "exit",
            Record::Warning(_) => "warning",
            Record::Module(_) => "module",
            Record::Stack(_) => "stack",
            Record::Symbols(_) => "symbols",
            Record::End(_) => "end",
            Record::Unknown => "unknown",
        }
    }

    /// The event's timestamp, if it has one.
    pub fn time(&self) -> Option<Nanos> {
        match self {
            Record::Spawn(e) => Some(e.t_entry.unwrap_or(e.t_event)),
            Record::Exec(e) => Some(e.t_entry.unwrap_or(e.t_exit)),
            Record::Socketpair(e) => Some(e.t),
            Record::Pipe(e) => Some(e.t),
            Record::Exit(e) => Some(e.t),
            Record::Warning(e) => Some(e.t),
            Record::End(e) => Some(e.t),
            Record::Header(_) | Record::Module(_) | Record::Stack(_) | Record::Symbols(_) | Record::Unknown => None,
        }
    }
}

/// First line of every trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`crate::FORMAT_NAME`].
    pub format: String,
    /// `MAJOR.MINOR`; readers reject a newer major.
    pub format_version: String,
    /// Version of the spawnscope that wrote the file.
    pub tool_version: String,
    /// The traced command line (empty when attached to a running process).
    pub command: Vec<String>,
    /// Working directory of the tracer at start.
    pub cwd: String,
    /// Wall-clock start, nanoseconds since the Unix epoch.
    pub start_unix_ns: u64,
    /// Facts about the machine that recorded the trace.
    pub host: HostFacts,
    /// How the tracer worked.
    pub tracer: TracerInfo,
    /// Where the trace came from when it was not recorded by the ptrace tracer
    /// (for example `"strace"` for an imported strace log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Format 1.1: how the `env_hash` values were made (scheme and the id of
    /// this trace's random key; the key itself is never stored). None in
    /// older traces, whose hashes are unkeyed FNV-1a.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_hash: Option<crate::EnvHashInfo>,
    /// Format 1.1: which redaction rules were applied to command lines. None
    /// when unknown (older traces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction: Option<crate::RedactionInfo>,
}

/// Host facts; every field may be missing on an exotic machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostFacts {
    #[serde(default)]
    pub hostname: Option<String>,
    /// `uname -r`.
    #[serde(default)]
    pub kernel_release: Option<String>,
    /// glibc version of the host (`gnu_get_libc_version`), e.g. `"2.36"`; None
    /// for non-glibc systems or when unknown.
    #[serde(default)]
    pub glibc_version: Option<String>,
    /// e.g. `"x86_64"`.
    #[serde(default)]
    pub arch: Option<String>,
    #[serde(default)]
    pub cpus: Option<u32>,
    /// Total memory in bytes.
    #[serde(default)]
    pub memory_bytes: Option<u64>,
    /// Whether the kernel implements clone3 (None: not probed).
    #[serde(default)]
    pub clone3: Option<bool>,
}

/// How the recording was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TracerInfo {
    /// The mode actually used (after `auto` resolved).
    pub mode: TracerMode,
    /// Whether PTRACE_GET_SYSCALL_INFO was used (false: register reads).
    #[serde(default)]
    pub syscall_info: bool,
    /// Pid attached to with `-p`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attached_pid: Option<i32>,
    /// Whether environment values were captured (`--capture-env`).
    #[serde(default)]
    pub capture_env: bool,
    /// Environment of the tracer itself: variable count.
    #[serde(default)]
    pub env_count: u64,
    /// Environment of the tracer itself: total bytes (`KEY=VALUE\0` each).
    #[serde(default)]
    pub env_bytes: u64,
    /// Format 1.1: how call stacks were captured; None when they were not
    /// (`--stacks off`, `events` mode, imported logs, older traces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stacks: Option<StackCapture>,
}

/// Stack capture settings of a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackCapture {
    /// Most raw frames per stack (`--stack-depth`).
    pub max_depth: u32,
}

/// Tracer mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TracerMode {
    /// seccomp-bpf filter returns SECCOMP_RET_TRACE for recorded syscalls only.
    Seccomp,
    /// A stop at every syscall entry and exit.
    Syscall,
    /// Only ptrace events (fork/vfork/clone/exec/exit): no failed exec attempts,
    /// no socketpair/pipe, no syscall-entry timestamps.
    Events,
    /// Not recorded by the ptrace tracer (e.g. imported from strace).
    Imported,
}

impl TracerMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TracerMode::Seccomp => "seccomp",
            TracerMode::Syscall => "syscall",
            TracerMode::Events => "events",
            TracerMode::Imported => "imported",
        }
    }
}

/// Which clone-family syscall created a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CloneSyscall {
    Clone,
    Clone3,
    Fork,
    Vfork,
}

impl CloneSyscall {
    pub fn as_str(self) -> &'static str {
        match self {
            CloneSyscall::Clone => "clone",
            CloneSyscall::Clone3 => "clone3",
            CloneSyscall::Fork => "fork",
            CloneSyscall::Vfork => "vfork",
        }
    }
}

/// The ptrace event the kernel reported for a new task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PtraceEvent {
    /// PTRACE_EVENT_FORK: exit signal SIGCHLD, no CLONE_VFORK.
    Fork,
    /// PTRACE_EVENT_VFORK: CLONE_VFORK.
    Vfork,
    /// PTRACE_EVENT_CLONE: any other exit signal (threads: 0).
    Clone,
}

/// `struct clone_args` as read from the tracee for clone3 (fields past `size`
/// are None).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    #[serde(default)]
    pub set_tid: Option<u64>,
    #[serde(default)]
    pub set_tid_size: Option<u64>,
    #[serde(default)]
    pub cgroup: Option<u64>,
    /// The `size` argument the tracee passed.
    pub size: u64,
}

/// Memory of a process, from `/proc/PID/status`, in KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemInfo {
    /// VmRSS in KiB.
    pub rss_kb: u64,
    /// VmPTE (page tables) in KiB.
    pub pte_kb: u64,
}

/// A clone/clone3/fork/vfork that created a task (process or thread).
///
/// Written once the parent runs again, so the child's own events may come
/// before or after it in the file: match by pid. Failed clone calls are written with `child: None` and
/// `result` set to the errno.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpawnEvent {
    /// Parent process id (thread group id).
    pub pid: i32,
    /// Parent thread id that made the call.
    pub tid: i32,
    /// New task id (a pid for processes, a tid for threads); None if the call failed
    /// or the event was not seen.
    pub child: Option<i32>,
    pub syscall: CloneSyscall,
    /// Raw clone flags without the exit-signal byte (CSIGNAL masked off).
    /// fork() is recorded as `SIGCHLD` exit signal and flags 0; vfork() as
    /// CLONE_VM|CLONE_VFORK.
    pub flags: u64,
    /// Exit signal number (low byte of clone's flags, or clone_args.exit_signal).
    pub exit_signal: u32,
    /// Child stack pointer given (clone's 2nd argument, clone3's `stack`); 0 = none.
    #[serde(default)]
    pub stack: u64,
    /// clone3 only: the whole `struct clone_args`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clone_args: Option<CloneArgs>,
    /// The ptrace event reported by the kernel (None if not seen).
    pub ptrace_event: Option<PtraceEvent>,
    /// CLONE_THREAD was set: a thread, not a spawn.
    pub thread: bool,
    /// 0 on success, else the (positive) errno.
    #[serde(default)]
    pub result: i32,
    /// Syscall entry (None in `events` mode).
    pub t_entry: Option<Nanos>,
    /// The ptrace fork/vfork/clone event stop.
    pub t_event: Nanos,
    /// When the parent ran again: syscall exit, or VFORK_DONE for CLONE_VFORK.
    pub t_resume: Option<Nanos>,
    /// Parent memory at the call, for fork-style clones (no CLONE_VM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_mem: Option<MemInfo>,
    /// Number of threads in the parent process at the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_threads: Option<u32>,
    /// Format 1.1: the calling thread's native call stack at syscall entry,
    /// an id of a [`Record::Stack`] line written before this one. None when
    /// stacks were not captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_id: Option<u32>,
}

/// Which exec syscall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExecSyscall {
    Execve,
    Execveat,
}

/// One execve/execveat attempt, successful or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecEvent {
    /// Process id (after a successful exec from a non-leader thread, the
    /// thread group id, which the calling thread takes over).
    pub pid: i32,
    /// Thread that called exec (differs from `pid` for a non-leader exec).
    pub tid: i32,
    pub syscall: ExecSyscall,
    /// The path argument, lossily decoded as UTF-8; bounded to
    /// [`crate::MAX_STRING`] bytes.
    pub path: String,
    /// execveat: the dirfd argument (-100 is AT_FDCWD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirfd: Option<i32>,
    /// execveat: the flags argument.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_flags: Option<u32>,
    /// argv, bounded to [`crate::MAX_ARGS`] strings of [`crate::MAX_STRING`] bytes.
    pub argv: Vec<String>,
    /// True when argv or a string in it was cut.
    #[serde(default)]
    pub argv_truncated: bool,
    /// Number of environment variables (counted up to [`crate::MAX_ENV_COUNT`]).
    pub env_count: u64,
    /// Total environment bytes, each `KEY=VALUE` plus its NUL.
    pub env_bytes: u64,
    /// Hash of the environment block (order-sensitive), 16 hex digits, keyed
    /// per trace (see `header.env_hash`): compare it only within one trace
    /// or between traces with the same key id.
    pub env_hash: String,
    /// Environment values, only with `--capture-env`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    /// 0 on success, else the positive errno (2 = ENOENT, 13 = EACCES, ...).
    pub result: i32,
    /// Syscall entry (None in `events` mode).
    pub t_entry: Option<Nanos>,
    /// Syscall exit (success: the PTRACE_EVENT_EXEC stop).
    pub t_exit: Nanos,
}

/// A socketpair() call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocketpairEvent {
    pub pid: i32,
    pub tid: i32,
    /// e.g. 1 = AF_UNIX.
    pub domain: i32,
    /// Raw type including SOCK_CLOEXEC / SOCK_NONBLOCK (5 = SOCK_SEQPACKET).
    pub socket_type: i32,
    pub protocol: i32,
    /// The two fds on success.
    pub fds: Option<[i32; 2]>,
    /// 0 or positive errno.
    pub result: i32,
    pub t: Nanos,
}

/// A pipe() or pipe2() call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipeEvent {
    pub pid: i32,
    pub tid: i32,
    /// pipe2 flags (0 for pipe()).
    pub flags: i32,
    pub fds: Option<[i32; 2]>,
    /// 0 or positive errno.
    pub result: i32,
    pub t: Nanos,
}

/// A process (thread group) or thread ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExitEvent {
    pub pid: i32,
    pub tid: i32,
    /// Exit code when it exited normally.
    pub code: Option<i32>,
    /// Signal number when killed by a signal.
    pub signal: Option<i32>,
    #[serde(default)]
    pub core_dumped: bool,
    /// True when this was a thread of a process that goes on, not the process.
    #[serde(default)]
    pub thread: bool,
    pub t: Nanos,
}

/// Something the tracer wants the reader to know (lost tracee, detach, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarningEvent {
    #[serde(default)]
    pub pid: Option<i32>,
    pub message: String,
    pub t: Nanos,
}

/// Last line of a clean recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct End {
    pub t: Nanos,
    /// The target's exit code (128+N when killed by signal N); None if unknown
    /// (e.g. detached from an attached process).
    pub exit_code: Option<i32>,
    /// Number of event lines written, by kind.
    #[serde(default)]
    pub counts: std::collections::BTreeMap<String, u64>,
}
