//! The analysis model: what a trace means. Shared by report, tui, check and diff.
//!
//! Indices (`usize`) point into `Analysis::processes` / `Analysis::spawns`.

use serde::{Deserialize, Serialize};
use spawnscope_format::{CloneSyscall, Header, MemInfo, Nanos, PtraceEvent};

/// How a new process got its memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpawnStyle {
    /// No CLONE_VM: copy-on-write copy of the parent's address space.
    Fork,
    /// CLONE_VM|CLONE_VFORK: shares memory, parent suspended until exec/exit.
    Vfork,
    /// CLONE_VM without CLONE_VFORK (and not a thread).
    Vm,
}

impl SpawnStyle {
    pub const ALL: [SpawnStyle; 3] = [SpawnStyle::Fork, SpawnStyle::Vfork, SpawnStyle::Vm];
    pub fn as_str(self) -> &'static str {
        match self {
            SpawnStyle::Fork => "fork",
            SpawnStyle::Vfork => "vfork",
            SpawnStyle::Vm => "vm",
        }
    }
}

/// The library route that produced a spawn, recognised from its fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CodePath {
    /// CLONE_VM|CLONE_VFORK by clone3 or clone with a separate stack, no socketpair.
    GlibcPosixSpawn,
    /// The vfork() syscall (CPython subprocess, dash, Java VFORK mode).
    VforkSyscall,
    /// clone(CLONE_VM|CLONE_VFORK) with a NULL stack (Go os/exec).
    CloneVforkNoStack,
    /// Rust std fork+exec fallback: socketpair(AF_UNIX, SOCK_SEQPACKET) in the
    /// spawning thread right before a fork-style clone.
    RustStdForkFallback,
    /// Plain fork() then exec in the child.
    ForkExec,
    /// Fork-style spawn whose child never exec'd (multiprocessing, subshells).
    ForkNoExec,
    /// musl's posix_spawn (CLONE_VM|CLONE_VFORK on its own stack, like
    /// glibc's): told apart by the call stack only.
    MuslPosixSpawn,
    /// libuv's `uv_spawn` by fork + exec (node's child_process): by the call stack.
    LibuvFork,
    /// Not recognised (an honest answer).
    Unknown,
}

impl CodePath {
    pub const ALL: [CodePath; 9] = [
        CodePath::GlibcPosixSpawn,
        CodePath::VforkSyscall,
        CodePath::CloneVforkNoStack,
        CodePath::RustStdForkFallback,
        CodePath::ForkExec,
        CodePath::ForkNoExec,
        CodePath::MuslPosixSpawn,
        CodePath::LibuvFork,
        CodePath::Unknown,
    ];
    /// Stable machine name (JSON, CLI flags).
    pub fn as_str(self) -> &'static str {
        match self {
            CodePath::GlibcPosixSpawn => "glibc-posix-spawn",
            CodePath::VforkSyscall => "vfork-syscall",
            CodePath::CloneVforkNoStack => "clone-vfork-no-stack",
            CodePath::RustStdForkFallback => "rust-std-fork-fallback",
            CodePath::ForkExec => "fork-exec",
            CodePath::ForkNoExec => "fork-no-exec",
            CodePath::MuslPosixSpawn => "musl-posix-spawn",
            CodePath::LibuvFork => "libuv-fork",
            CodePath::Unknown => "unknown",
        }
    }
    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            CodePath::GlibcPosixSpawn => "glibc posix_spawn",
            CodePath::VforkSyscall => "vfork() syscall",
            CodePath::CloneVforkNoStack => "clone(VM|VFORK), no stack (Go)",
            CodePath::RustStdForkFallback => "Rust std fork+exec fallback",
            CodePath::ForkExec => "fork + exec",
            CodePath::ForkNoExec => "fork without exec",
            CodePath::MuslPosixSpawn => "musl posix_spawn",
            CodePath::LibuvFork => "libuv fork + exec",
            CodePath::Unknown => "unknown",
        }
    }
    pub fn from_name(s: &str) -> Option<CodePath> {
        CodePath::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// One exec attempt as the model sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecAttempt {
    pub tid: i32,
    pub path: String,
    pub argv: Vec<String>,
    pub env_count: u64,
    pub env_bytes: u64,
    /// 0 = success, else errno.
    pub result: i32,
    pub t_entry: Option<Nanos>,
    pub t_exit: Nanos,
    /// FNV-1a hash of the environment block (the trace's `env_hash`), if
    /// the trace has one: tells whether a child got its parent's environment
    /// unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_hash: Option<u64>,
}

/// What the child of a spawn exec'd.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpawnExec {
    /// Path of the last successful exec (the end of an exec chain), or of
    /// the last attempt if none succeeded.
    pub path: String,
    /// An exec chain: the programs that exec'd before the final one, in
    /// order (`env`, `sh -c "exec …"`, Java's `jspawnhelper`, `nice`, ...).
    /// Empty when the child exec'd once. A later exec belongs to the chain
    /// while the child has made no spawn of its own.
    pub chain: Vec<String>,
    pub argv: Vec<String>,
    pub success: bool,
    /// Failed attempts of the whole chain (PATH searches), in order. Their
    /// `argv` is left empty to save memory (the same argv is in `argv`, and
    /// every attempt with its argv is in the child's `Process::execs`).
    pub failed_attempts: Vec<ExecAttempt>,
    /// Time spent in the failed attempts.
    pub failed_ns: Nanos,
    pub env_count: u64,
    pub env_bytes: u64,
}

/// One creation of a new process (not a thread).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spawn {
    /// Position in `Analysis::spawns`.
    pub index: usize,
    pub parent_pid: i32,
    pub parent_tid: i32,
    pub child_pid: i32,
    /// Index of the child in `Analysis::processes`.
    pub child: Option<usize>,
    /// Index of the parent in `Analysis::processes`.
    pub parent: Option<usize>,
    pub syscall: CloneSyscall,
    /// Raw flags (without exit signal).
    pub flags: u64,
    pub exit_signal: u32,
    pub stack: u64,
    pub style: SpawnStyle,
    pub ptrace_event: Option<PtraceEvent>,
    /// The ptrace event disagrees with the flags.
    pub style_mismatch: bool,
    pub code_path: CodePath,
    /// The Rust-fallback socketpair(AF_UNIX, SOCK_SEQPACKET) preceded it.
    pub socketpair: bool,
    pub exec: Option<SpawnExec>,
    /// Clone entry → child's last successful exec of its exec chain (or
    /// exit if it never exec'd).
    pub latency_ns: Option<Nanos>,
    /// Clone entry → parent runs again.
    pub parent_blocked_ns: Option<Nanos>,
    /// Clone entry → fork event: the kernel's own cost of the clone.
    pub clone_ns: Option<Nanos>,
    pub parent_mem: Option<MemInfo>,
    pub parent_threads: Option<u32>,
    /// Spawns of the whole trace in flight (started, child not yet exec'd/exited) at its start.
    pub in_flight: u32,
    pub t_start: Nanos,
    /// When the child exec'd successfully (or exited without exec): the end of
    /// `latency_ns`. None while the child is still on its way.
    pub t_done: Option<Nanos>,
    /// Line of the `spawn` event in the trace file (0 when fed live without lines).
    pub line: u64,
    /// `t_start` is the ptrace event, not the syscall entry (events mode): the
    /// latencies of this spawn are lower bounds.
    pub from_event: bool,
    /// Where in the code: index into `Analysis::origins.list` (None: no stack).
    pub origin: Option<u32>,
}

impl Spawn {
    /// The executable's display name: exec path basename, or parent's name if none.
    pub fn executable(&self) -> &str {
        match &self.exec {
            Some(e) => e.path.rsplit('/').next().unwrap_or(&e.path),
            None => "(no exec)",
        }
    }
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessExit {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub t: Nanos,
}

impl ProcessExit {
    /// Exited with a non-zero code or was killed by a signal.
    pub fn failed(&self) -> bool {
        self.code.is_some_and(|c| c != 0) || self.signal.is_some()
    }
}

/// One process (thread group); a reused pid is a new `Process`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Process {
    pub index: usize,
    pub pid: i32,
    pub parent: Option<usize>,
    /// The spawn that created it (None for the root or processes seen first by exec).
    pub spawn: Option<usize>,
    pub children: Vec<usize>,
    /// Every exec attempt, in order.
    pub execs: Vec<ExecAttempt>,
    /// Name: last successful exec's path, else inherited from the parent.
    pub name: String,
    pub threads_created: u32,
    pub exit: Option<ProcessExit>,
    pub t_start: Nanos,
    /// Threads that ended (thread exits seen).
    pub threads_exited: u32,
}

impl Process {
    /// How long it ran: from its spawn (or first sight) to its exit, or to
    /// `end` (the end of the recording) if it had not exited.
    pub fn duration_ns(&self, end: Nanos) -> Nanos {
        self.exit.map_or(end, |e| e.t).saturating_sub(self.t_start)
    }
}

/// Distribution of durations.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LatencyStats {
    pub count: u64,
    pub min: Nanos,
    pub p50: Nanos,
    pub p90: Nanos,
    pub p99: Nanos,
    pub max: Nanos,
    pub mean: Nanos,
    /// Log-2 buckets: `buckets[i]` counts values in [2^i, 2^(i+1)) ns.
    pub buckets: Vec<u64>,
}

/// A group of spawns (by style, code path, executable or parent).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub key: String,
    pub count: u64,
    pub styles: std::collections::BTreeMap<String, u64>,
    pub failed_attempts: u64,
    pub failed_ns: Nanos,
    pub env_bytes_max: u64,
    pub latency: LatencyStats,
    /// Indices of the spawns in this group.
    pub spawns: Vec<usize>,
}

/// Totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub spawns: u64,
    pub threads: u64,
    pub processes: u64,
    /// Keys `fork`, `vfork`, `vm` always present.
    pub styles: std::collections::BTreeMap<String, u64>,
    pub code_paths: std::collections::BTreeMap<String, u64>,
    pub exec_attempts: u64,
    pub failed_exec_attempts: u64,
    pub failed_exec_ns: Nanos,
    pub env_bytes_max: u64,
    pub env_count_max: u64,
    pub latency: LatencyStats,
    pub duration_ns: Nanos,
    /// Spawns per second over the recording.
    pub spawn_rate: f64,
    pub exit_code: Option<i32>,
    /// Clone calls that failed (EAGAIN, ENOMEM, ...): neither spawns nor threads.
    pub failed_clones: u64,
    /// Spawns whose child made at least one failed exec attempt before the
    /// success (or never succeeded).
    pub path_search_spawns: u64,
    /// Environment bytes copied into children by successful execs, summed.
    pub env_bytes_total: u64,
    /// Mean environment size of the successful execs of spawned children.
    pub env_bytes_mean: u64,
    /// Most spawns in flight at once.
    pub max_in_flight: u32,
    /// Spawn rate over time: spawns started per `timeline_bucket_ns`, from t = 0.
    pub timeline: Vec<u64>,
    pub timeline_bucket_ns: Nanos,
    /// Spawns whose child never exec'd successfully although it tried.
    pub exec_failed_spawns: u64,
    /// Spawns whose ptrace event disagrees with their flags.
    pub style_mismatches: u64,
    /// Wall time of the recording (the end line's time, else the last event's).
    pub recording_ns: Nanos,
    /// Wall time during which at least one parent thread was blocked in a
    /// spawn (the union of the spawns' blocked intervals, so at most
    /// `recording_ns`); see [`crate::blocked_ns`] for what counts as blocked.
    pub spawn_blocked_ns: Nanos,
    /// The blocked times of all spawns added up (thread time: parallel
    /// spawners can make it exceed `recording_ns`).
    pub spawn_blocked_total_ns: Nanos,
    /// Processes that ended with a non-zero exit code or a signal (the
    /// traced command itself included).
    pub failed_processes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::High => "high",
        }
    }
}

/// An explained cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable id, e.g. `SS001` (see the README's table).
    pub id: &'static str,
    /// Short slug, e.g. `fork-large-parent`.
    pub name: &'static str,
    pub severity: Severity,
    /// One line: what and how much.
    pub message: String,
    /// What to do about it.
    pub advice: String,
    /// The numbers behind it (name → value).
    pub numbers: std::collections::BTreeMap<String, f64>,
    /// Indices of the spawns that show it (a bounded-memory analysis keeps
    /// the first ones only, see [`crate::aggregate::EVIDENCE_CAP`]).
    pub evidence: Vec<usize>,
    /// All the spawns that show it, counted by origin (index into
    /// `Analysis::origins.list`; None: no stack), in origin order: where in
    /// the code they come from, also when `evidence` was cut.
    #[serde(skip)]
    pub evidence_sites: Vec<(Option<u32>, u64)>,
    /// Estimated wall time fixing it would save (None: no sound estimate).
    /// Severity follows it: `info` when it is under the `impact_share`
    /// threshold of the recording.
    pub savings_ns: Option<Nanos>,
}

/// Everything the analyzer derives from one trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub header: Header,
    /// The end line was present.
    pub complete: bool,
    /// Reader and analyzer warnings (line numbers included).
    pub warnings: Vec<String>,
    pub processes: Vec<Process>,
    pub spawns: Vec<Spawn>,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    /// The thresholds the findings were computed with.
    pub thresholds: crate::Thresholds,
    /// Where in the code the spawns came from, one origin per distinct stack.
    pub origins: crate::origin::Origins,
    /// Changes whenever the analyzer has seen something new (a live view can
    /// skip redrawing when it did not change). 0 for a finished analysis
    /// built in one go is fine: compare revisions of the same analyzer only.
    #[serde(skip)]
    pub revision: u64,
    /// A bounded-memory analysis ([`crate::Retention::Aggregate`]): its
    /// groups, failures and longest processes, computed as the spawns went
    /// by (`spawns` is then empty and `processes` holds the longest only).
    /// None for a full analysis.
    #[serde(skip)]
    pub aggregate: Option<Box<crate::Aggregated>>,
}

impl Analysis {
    /// Processes without a known parent (the traced command, attached processes).
    pub fn roots(&self) -> impl Iterator<Item = &Process> {
        self.processes.iter().filter(|p| p.parent.is_none())
    }

    /// Spawns made by a process, in order.
    pub fn spawns_of(&self, process: usize) -> impl Iterator<Item = &Spawn> {
        let p = self.processes.get(process);
        p.into_iter()
            .flat_map(|p| p.children.iter())
            .filter_map(|&c| self.processes.get(c)?.spawn)
            .filter_map(|s| self.spawns.get(s))
    }

    /// Whether latencies were measured from syscall entry (false in events mode).
    pub fn has_syscall_times(&self) -> bool {
        self.header.tracer.mode != spawnscope_format::TracerMode::Events
    }
}
