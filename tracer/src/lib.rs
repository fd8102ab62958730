//! Linux ptrace recorder of process spawns: runs a command (or attaches to a
//! running process), follows every descendant, and reports each clone,
//! exec attempt, socketpair, pipe and exit as a [`spawnscope_format::Record`].
//!
//! # Overview
//!
//! [`record`] forks the target, seizes it with ptrace (PTRACE_SEIZE, options
//! to follow fork/vfork/clone/exec, vfork-done, exit-kill) and runs the stop
//! loop **on the calling thread** until every traced task is gone. Records
//! go to an [`Observer`]: the [`Record::Header`] first, [`Record::End`] last.
//! [`FileSink`] writes them to a trace file (flushed every 100 ms, so a killed
//! recording stays readable); a `Vec<Record>` collects them; an
//! `mpsc::Sender<Record>` streams them to another thread (the live UI).
//!
//! Modes ([`ModeRequest`]):
//! - `Seccomp` (what `Auto` picks when the kernel allows): a seccomp-bpf
//!   filter installed in the target before exec makes only clone, clone3,
//!   fork, vfork, execve, execveat, socketpair, pipe and pipe2 stop the
//!   tracee; every other syscall runs at full speed. Kernels before 4.8
//!   report the seccomp stop *before* a syscall-entry stop of the same call;
//!   the order is decided at start-up ([`StopOrder`]) and can be forced
//!   ([`RecordOptions::seccomp_stop_order`], [`STOP_ORDER_VAR`]).
//! - `Syscall`: a stop at every syscall entry and exit (no filter).
//! - `Events`: ptrace events only (fork/vfork/clone/exec/exit): cheapest,
//!   but no failed exec attempts, no socketpair/pipe, no entry times.
//!
//! Only the native syscall ABI is decoded: an i386 or x32 process (or an
//! `int 0x80` call from a 64-bit one) is reported in a warning record.
//!
//! # Leaving the tracees early
//!
//! A detach request or a Ctrl-C after the target exited stops the
//! recording. Tracees without the seccomp filter are detached and run on;
//! tracees of a `seccomp` recording are ended (SIGTERM, SIGKILL after 2 s),
//! because without a tracer every spawn and exec under the filter fails
//! with ENOSYS; stderr and a warning record say so ([`Outcome::ended`]).
//! See [`Control`] for its process-wide effects (a SIGURG wake handler,
//! signal handlers for command-line tools).
//!
//! # Where the unsafe code is
//!
//! Raw system calls through `libc`, each with a `SAFETY` comment:
//! `ptrace.rs` (ptrace requests, waitpid, process_vm_readv: the thin layer
//! below the stop guards in `guard.rs`, whose resume methods consume the
//! stop), `launch.rs` (fork and the child's async-signal-safe set-up before
//! exec), `seccomp.rs` (installing and probing the filter), `control.rs`
//! (signal handlers, tgkill), `sink.rs` (the flush thread's signal mask),
//! `host.rs` (glibc version, clone3 probe), `engine.rs` and
//! `engine/detach.rs` (kill of traced, unreaped processes).
//!
//! # Example
//!
//! ```
//! use spawnscope_tracer::{record, RecordOptions};
//! use spawnscope_format::Record;
//!
//! let opts = RecordOptions::new(["sh", "-c", "true; /bin/true"]);
//! let mut records: Vec<Record> = Vec::new();
//! let outcome = record(&opts, &mut records).unwrap();
//! assert_eq!(outcome.exit_code, Some(0));
//! let execs = records.iter().filter(|r| matches!(r, Record::Exec(_))).count();
//! assert!(execs >= 2);
//! ```

#![cfg(target_os = "linux")]

mod arch;
mod control;
mod engine;
/// Which rustc built an executable (for the analyzer's SS002 rules); not wired into recording yet.
pub mod exe_info;
mod guard;
mod host;
mod launch;
mod mem;
mod procfs;
mod ptrace;
mod seccomp;
mod signal;
mod sink;
mod stack;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

pub use control::Control;
pub use engine::task::{StopOrder, STOP_ORDER_VAR};
pub use host::{has_clone3, host_facts};
pub use signal::Sig;
pub use sink::FileSink;
pub use spawnscope_format::{Record, TracerMode};
pub use stack::{StackStats, DEFAULT_DEPTH as DEFAULT_STACK_DEPTH};

/// Which tracer mode to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModeRequest {
    /// Seccomp when the kernel accepts the filter, else syscall mode (with a
    /// one-line notice on stderr); `events` when attaching.
    #[default]
    Auto,
    Seccomp,
    Syscall,
    Events,
}

/// Where one of the target's standard streams goes.
#[derive(Debug, Default)]
pub enum TargetIo {
    /// The tracer's own stream (the default: the target keeps its terminal).
    #[default]
    Inherit,
    /// /dev/null.
    Null,
    /// A file, created or truncated (stdin: opened for reading).
    Path(PathBuf),
    /// An open descriptor, e.g. the write end of a pipe for a UI pane.
    Fd(OwnedFd),
}

/// What to record and how.
#[derive(Debug)]
pub struct RecordOptions {
    /// Program and arguments; the program is searched in PATH like execvp.
    /// Empty when attaching with `attach_pid`.
    pub command: Vec<OsString>,
    /// Attach to this running process (all its threads) instead of starting one.
    pub attach_pid: Option<i32>,
    pub mode: ModeRequest,
    /// Use PTRACE_GET_SYSCALL_INFO when the kernel has it (false forces
    /// register reads, the path taken on kernels before 5.3).
    pub syscall_info: bool,
    /// Store environment values in exec records (off: count, bytes, hash only).
    pub capture_env: bool,
    /// Masks secret-looking values in command lines and captured
    /// environment values (default: the built-in rules;
    /// `Redactor::none()` keeps everything, as `--no-redact`).
    pub redact: spawnscope_format::Redactor,
    /// Key of the environment hash. None: `SPAWNSCOPE_ENV_KEY` if set, else
    /// a random key per recording. Set it only in tests that compare hashes
    /// across recordings.
    pub env_key: Option<spawnscope_format::EnvKey>,
    /// Environment changes for the target on top of the tracer's own
    /// (None value: remove the variable).
    pub env: Vec<(OsString, Option<OsString>)>,
    /// Start the target with an empty environment (before `env` is applied).
    pub env_clear: bool,
    /// Working directory of the target (default: the tracer's).
    pub cwd: Option<PathBuf>,
    pub stdin: TargetIo,
    pub stdout: TargetIo,
    pub stderr: TargetIo,
    /// Requests from other threads or signal handlers (forward a signal, detach).
    pub control: Option<Control>,
    /// Seccomp mode: the order in which this kernel reports the seccomp stop
    /// and the syscall-entry stop. None (the default) decides it at start-up:
    /// the variable [`STOP_ORDER_VAR`] if set, else the kernel version
    /// (before 4.8: seccomp stop first). For tests and for kernels whose
    /// version number does not tell (backports).
    pub seccomp_stop_order: Option<StopOrder>,
    /// Capture the native call stack of every spawn at its syscall-entry
    /// stop (default: on; x86_64 only). Costs a register read, one 16 KiB
    /// stack read and a walk per spawn; symbolization runs on a background
    /// thread. `--stacks off` turns it off.
    pub stacks: bool,
    /// Most frames per stack (`--stack-depth`, default [`DEFAULT_STACK_DEPTH`]).
    pub stack_depth: usize,
}

impl RecordOptions {
    /// Options to run `command` in the default mode with inherited stdio.
    pub fn new<I, S>(command: I) -> RecordOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        RecordOptions {
            command: command.into_iter().map(Into::into).collect(),
            attach_pid: None,
            mode: ModeRequest::Auto,
            syscall_info: true,
            capture_env: false,
            redact: spawnscope_format::Redactor::new(),
            env_key: None,
            env: Vec::new(),
            env_clear: false,
            cwd: None,
            stdin: TargetIo::Inherit,
            stdout: TargetIo::Inherit,
            stderr: TargetIo::Inherit,
            control: None,
            seccomp_stop_order: None,
            stacks: true,
            stack_depth: stack::DEFAULT_DEPTH,
        }
    }

    /// Redaction and env-hash key of one recording.
    pub(crate) fn privacy(&self) -> Result<spawnscope_format::Privacy, TraceError> {
        let key = spawnscope_format::EnvKey::for_recording(self.env_key.as_ref())
            .map_err(|e| TraceError::Setting { message: e.to_string() })?;
        Ok(spawnscope_format::Privacy::new(key, self.redact.clone()))
    }

    /// Options to attach to a running process.
    pub fn attach(pid: i32) -> RecordOptions {
        let mut o = RecordOptions::new(Vec::<OsString>::new());
        o.attach_pid = Some(pid);
        o
    }

    /// Options that run what a [`std::process::Command`] describes: program,
    /// arguments, explicit environment changes and working directory. Its
    /// stdio settings and `env_clear` cannot be read back from a `Command`:
    /// set `stdout`/`stderr`/`env_clear` here instead.
    pub fn from_command(cmd: &std::process::Command) -> RecordOptions {
        let mut argv: Vec<OsString> = vec![cmd.get_program().to_owned()];
        argv.extend(cmd.get_args().map(|a| a.to_owned()));
        let mut o = RecordOptions::new(argv);
        o.env = cmd.get_envs().map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned()))).collect();
        o.cwd = cmd.get_current_dir().map(|d| d.to_owned());
        o
    }

    pub fn mode(mut self, mode: ModeRequest) -> Self {
        self.mode = mode;
        self
    }
}

/// Receives the records of a recording, in order.
pub trait Observer {
    /// The target process exists (forked and seized, not yet exec'd) or has
    /// been attached; a UI can signal it from now on.
    fn started(&mut self, _root_pid: i32) {}

    /// One record: [`Record::Header`] first, [`Record::End`] last. An error
    /// stops delivery (the recording itself goes on so the target is not
    /// disturbed) and is returned in [`Outcome::observer_error`].
    fn record(&mut self, record: Record) -> Result<(), ObserverError>;
}

/// Error type observers return.
pub type ObserverError = Box<dyn std::error::Error + Send + Sync>;

impl Observer for Vec<Record> {
    fn record(&mut self, record: Record) -> Result<(), ObserverError> {
        self.push(record);
        Ok(())
    }
}

impl Observer for std::sync::mpsc::Sender<Record> {
    fn record(&mut self, record: Record) -> Result<(), ObserverError> {
        self.send(record).map_err(|e| e.to_string().into())
    }
}

/// Spawns counted by style (see the vocabulary in DESIGN.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpawnCounts {
    /// No CLONE_VM: a copy-on-write copy of the parent.
    pub fork: u64,
    /// CLONE_VM|CLONE_VFORK.
    pub vfork: u64,
    /// CLONE_VM without CLONE_VFORK, not a thread.
    pub vm: u64,
    /// CLONE_THREAD: threads (not spawns).
    pub threads: u64,
    /// Clone calls that failed.
    pub failed: u64,
}

impl SpawnCounts {
    /// Processes created (threads excluded).
    pub fn total(&self) -> u64 {
        self.fork + self.vfork + self.vm
    }
}

/// How a recording ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The target's exit code (128+N when killed by signal N); None when the
    /// tracer detached from an attached process.
    pub exit_code: Option<i32>,
    pub root_pid: i32,
    /// The mode actually used.
    pub mode: TracerMode,
    /// Whether PTRACE_GET_SYSCALL_INFO was used.
    pub syscall_info: bool,
    /// Event lines by kind (as in the end line).
    pub counts: BTreeMap<String, u64>,
    pub spawns: SpawnCounts,
    pub exec_attempts: u64,
    pub exec_failed: u64,
    /// ptrace-stops handled: the tracer's whole cost.
    pub stops: u64,
    /// New tasks whose first stop arrived before their parent's fork event
    /// (a known ptrace ordering; counted so tests can see it was handled).
    pub early_child_stops: u64,
    /// Recording time in nanoseconds.
    pub duration_ns: u64,
    /// The first error the observer returned, if any.
    pub observer_error: Option<String>,
    /// Tasks still traced when the tracer detached (attach mode, or a
    /// detach request without a seccomp filter); they run on.
    pub detached: u64,
    /// Processes still running when the recording was stopped that carried
    /// the seccomp filter and were therefore ended (SIGTERM, then SIGKILL):
    /// without a tracer they could no longer spawn. See [`Control`].
    pub ended: u64,
    /// Stack capture costs (None when stacks were off).
    pub stacks: Option<StackStats>,
}

/// An errno value from a failed system call, e.g. `Errno(1)` for EPERM.
/// Displayed as `EPERM: Operation not permitted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    pub(crate) fn of(e: nix::errno::Errno) -> Errno {
        Errno(e as i32)
    }

    /// The raw value.
    pub fn raw(self) -> i32 {
        self.0
    }
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = nix::errno::Errno::from_raw(self.0);
        write!(f, "{e:?}: {}", e.desc())
    }
}

impl std::error::Error for Errno {}

/// Why a recording could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("no command given")]
    NoCommand,
    #[error("{program}: command not found")]
    NotFound { program: String },
    #[error("{program}: permission denied (not an executable file)")]
    NotExecutable { program: String },
    #[error("cannot start {program}: {errno}")]
    Exec {
        program: String,
        #[source]
        errno: Errno,
    },
    #[error(
        "ptrace refused for pid {pid} ({errno}): run as root or with CAP_SYS_PTRACE \
         (containers: --cap-add=SYS_PTRACE), or lower kernel.yama.ptrace_scope \
         (sysctl kernel.yama.ptrace_scope=0)"
    )]
    PtraceDenied {
        pid: i32,
        #[source]
        errno: Errno,
    },
    #[error("the kernel refused the seccomp filter ({errno}): use --mode syscall")]
    SeccompRefused {
        #[source]
        errno: Errno,
    },
    #[error("pid {pid} is already traced by pid {tracer} (a debugger or strace): only one tracer at a time")]
    AlreadyTraced { pid: i32, tracer: i32 },
    #[error("a seccomp filter cannot be added to a running process (pid {pid}): use --mode events (cheap) or --mode syscall (complete, slow)")]
    SeccompAttach { pid: i32 },
    #[error("no such process: {pid}")]
    NoSuchProcess { pid: i32 },
    #[error("cannot open {path} for the target: {source}")]
    TargetIo { path: String, source: std::io::Error },
    #[error("{what} failed: {errno}")]
    Sys {
        what: &'static str,
        #[source]
        errno: Errno,
    },
    #[error("this Control already belongs to a running recording: give each recording its own")]
    ControlInUse,
    /// A setting (an environment variable for tests) has a bad value.
    #[error("{message}")]
    Setting { message: String },
}

impl TraceError {
    /// The exit code a shell would give: 127 not found, 126 not executable
    /// (or exec failed otherwise), 2 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            TraceError::NotFound { .. } => 127,
            TraceError::Exec { errno: Errno(libc::ENOENT), .. } => 127,
            TraceError::NotExecutable { .. } | TraceError::Exec { .. } => 126,
            _ => 2,
        }
    }
}

/// Records `opts.command` (or the process `opts.attach_pid`) until every
/// traced task has exited (or detached), passing each record to `observer`.
/// All ptrace work happens on the calling thread.
pub fn record(opts: &RecordOptions, observer: &mut dyn Observer) -> Result<Outcome, TraceError> {
    if let Some(c) = &opts.control {
        if !c.bind() {
            return Err(TraceError::ControlInUse);
        }
    }
    let r = engine::run(opts, observer);
    if let Some(c) = &opts.control {
        c.unbind();
    }
    r
}

/// Records and collects every record in memory (tests, `check`).
pub fn record_to_vec(opts: &RecordOptions) -> Result<(Outcome, Vec<Record>), TraceError> {
    let mut v = Vec::new();
    let o = record(opts, &mut v)?;
    Ok((o, v))
}

/// Whether the kernel accepts the seccomp filter (what `Auto` probes).
pub fn seccomp_available() -> bool {
    seccomp::probe()
}
