//! `spawnscope record`: run a command (or attach to a process) under the
//! tracer and write every spawn to a trace file. A thin layer over
//! [`spawnscope_session::TraceFile`].

use std::ffi::OsString;
use std::path::PathBuf;

use spawnscope_format::Redactor;

/// Tracer mode on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// seccomp if the kernel allows it, else syscall (events when attaching).
    Auto,
    /// Stop only at spawning syscalls (seccomp-bpf filter): fast, complete.
    Seccomp,
    /// Stop at every syscall entry and exit: complete, slow on syscall-heavy programs.
    Syscall,
    /// Only fork/exec/exit events: cheapest; no failed exec attempts, no socketpair/pipe.
    Events,
}

/// Arguments of `spawnscope record`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The command keeps its terminal, exit code and signals; spawnscope exits with the command's
exit code (128+N when it was killed by signal N; 127 not found, 126 not executable).

Examples:
  spawnscope record -o build.jsonl -- make -j8
  spawnscope record -- python3 -c 'import subprocess; subprocess.run([\"true\"])'
  spawnscope record -p 1234 -o server.jsonl      attach; Ctrl-C detaches")]
pub struct Args {
    /// Trace file to write (.jsonl, or .jsonl.zst for zstd; `-`: standard output;
    /// %h host, %p pid, %t time) [default: spawnscope-<time>-<pid>.jsonl, never overwritten].
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    trace: TraceArgs,
    /// No progress line and no summary on stderr.
    #[arg(short = 'q', long)]
    quiet: bool,
}

/// A `--redact` pattern that compiles.
pub(crate) fn redact_pattern(s: &str) -> Result<String, String> {
    Redactor::none().with_pattern(s).map(|_| s.to_string()).map_err(|e| e.to_string())
}

/// What to trace and how: the options `record` and `run` share.
#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// How to trace.
    #[arg(long, value_enum, default_value_t = Mode::Auto)]
    pub mode: Mode,
    /// Read syscall arguments from registers, not PTRACE_GET_SYSCALL_INFO (as on
    /// kernels before 5.3; also SPAWNSCOPE_NO_SYSCALL_INFO=1).
    #[arg(long)]
    pub no_syscall_info: bool,
    /// Store environment values in exec records (default: only count, bytes, hash).
    #[arg(long)]
    pub capture_env: bool,
    /// Keep every argument as it was (default: mask secret-looking values such
    /// as `--password X`, `TOKEN=X`, `https://user:X@host`; see docs/reference/security.md).
    #[arg(long)]
    pub no_redact: bool,
    /// Also mask what this regular expression matches in command lines
    /// (repeatable; with a capture group only the group is masked).
    #[arg(long = "redact", value_name = "REGEX", value_parser = redact_pattern)]
    pub redact: Vec<String>,
    /// Capture the native call stack of every spawn: where in the code it
    /// came from (on by default; `off` saves a stack walk per spawn).
    #[arg(long, value_name = "on|off", default_value = "on", value_parser = ["on", "off"])]
    pub stacks: String,
    /// Most frames per call stack.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub stack_depth: usize,
    /// Attach to a running process and all its threads instead of running a command.
    #[arg(short = 'p', long = "pid", value_name = "PID", conflicts_with = "command")]
    pub pid: Option<i32>,
    /// The command to run (after `--`, or from the first word that is not an
    /// option: `ls -l` works, `--typo ls` is a usage error).
    #[arg(value_name = "CMD", trailing_var_arg = true, required_unless_present = "pid")]
    pub command: Vec<OsString>,
}

#[cfg(target_os = "linux")]
impl TraceArgs {
    /// The recorder's options for these arguments.
    pub fn record_options(&self) -> spawnscope_tracer::RecordOptions {
        use spawnscope_tracer::{ModeRequest, RecordOptions};
        let mut opts = match self.pid {
            Some(pid) => RecordOptions::attach(pid),
            None => RecordOptions::new(self.command.clone()),
        };
        opts.mode = match self.mode {
            Mode::Auto => ModeRequest::Auto,
            Mode::Seccomp => ModeRequest::Seccomp,
            Mode::Syscall => ModeRequest::Syscall,
            Mode::Events => ModeRequest::Events,
        };
        let env_off = std::env::var_os("SPAWNSCOPE_NO_SYSCALL_INFO").is_some_and(|v| !v.is_empty() && v != "0");
        opts.syscall_info = !(self.no_syscall_info || env_off);
        opts.capture_env = self.capture_env;
        let mut redactor = if self.no_redact { Redactor::none() } else { Redactor::new() };
        for p in &self.redact {
            // Checked when parsing the arguments (redact_pattern).
            if let Ok(r) = redactor.clone().with_pattern(p) {
                redactor = r;
            }
        }
        opts.redact = redactor;
        if std::env::var_os(spawnscope_format::ENV_KEY_VAR).is_some() {
            // A fixed env-hash key (tests) is for spawnscope, not for the target.
            opts.env.push((spawnscope_format::ENV_KEY_VAR.into(), None));
        }
        opts.stacks = self.stacks == "on";
        opts.stack_depth = self.stack_depth;
        opts
    }
}

#[cfg(target_os = "linux")]
pub fn run(args: Args) -> anyhow::Result<i32> {
    imp::run(args)
}

#[cfg(target_os = "linux")]
pub(crate) use imp::session_error;

#[cfg(not(target_os = "linux"))]
pub fn run(_args: Args) -> anyhow::Result<i32> {
    Err(super::common::exit_error(2, "recording needs Linux (ptrace); other commands read traces anywhere"))
}

#[cfg(target_os = "linux")]
mod imp {
    use std::io::{IsTerminal, Write};
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use spawnscope_format::{escape, Record};
    use spawnscope_session::{SessionError, Tap, TraceFile};
    use spawnscope_tracer::Outcome;
    use spawnscope_units::{count, counted};

    use super::{Args, Mode};
    use crate::cli::common::exit_error;

    /// The live progress line on stderr.
    struct Progress {
        start: Instant,
        last: Instant,
        spawns: u64,
        execs: u64,
        shown: bool,
    }

    impl Progress {
        fn update(&mut self, rec: &Record) {
            match rec {
                Record::Spawn(s) if !s.thread && s.child.is_some() => self.spawns += 1,
                Record::Exec(_) => self.execs += 1,
                _ => return,
            }
            if self.last.elapsed() >= Duration::from_millis(200) {
                self.last = Instant::now();
                let secs = self.start.elapsed().as_secs_f64().max(0.001);
                eprint!(
                    "\r\x1b[Kspawnscope: {}, {}, {:.0} spawns/s",
                    counted(self.spawns, "spawn", "spawns"),
                    counted(self.execs, "exec attempt", "exec attempts"),
                    self.spawns as f64 / secs
                );
                self.shown = true;
            }
        }

        fn clear(&mut self) {
            if self.shown {
                eprint!("\r\x1b[K");
                self.shown = false;
            }
        }
    }

    impl Tap for Progress {
        fn record(&mut self, record: &Record) {
            self.update(record);
            if matches!(record, Record::End(_)) {
                self.clear();
            }
        }
    }

    /// `spawnscope: 1 spawn (vfork 1, fork 0, vm 0), 0 threads, 1 exec
    /// attempt (0 failed), seccomp mode -> t.jsonl (2.1 KiB)`.
    fn summary(o: &Outcome, path: &Path) -> String {
        let s = &o.spawns;
        let mut line = format!(
            "spawnscope: {} (vfork {}, fork {}, vm {}), {}, {} ({} failed), {} mode",
            counted(s.total(), "spawn", "spawns"),
            count(s.vfork),
            count(s.fork),
            count(s.vm),
            counted(s.threads, "thread", "threads"),
            counted(o.exec_attempts, "exec attempt", "exec attempts"),
            count(o.exec_failed),
            o.mode.as_str()
        );
        if o.detached > 0 {
            line.push_str(&format!(", detached from {}", counted(o.detached, "task", "tasks")));
        }
        let warnings = o.counts.get("warning").copied().unwrap_or(0);
        if warnings > 0 {
            line.push_str(&format!(", {} in the trace", counted(warnings, "warning", "warnings")));
        }
        if spawnscope_format::is_stdio(path) {
            line.push_str(" -> the trace went to standard output");
        } else {
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            line.push_str(&format!(" -> {} ({})", escape(&path.display().to_string()), spawnscope_units::bytes(size)));
        }
        line
    }

    /// A session error as the CLI reports it: escaped, with the exit code a
    /// shell would give (127 not found, 126 not executable, else 2).
    pub(crate) fn session_error(e: SessionError) -> anyhow::Error {
        exit_error(e.exit_code(), escape(&e.to_string()).into_owned())
    }

    pub fn run(args: Args) -> anyhow::Result<i32> {
        // Before anything else (no trace file is created for a typo).
        if let Some(pid) = args.trace.pid {
            if pid <= 0 || !Path::new(&format!("/proc/{pid}")).exists() {
                return Err(exit_error(2, format!("no such process: {pid} (-p takes the pid of a running process)")));
            }
        }
        let out: PathBuf = match &args.output {
            Some(o) => crate::cli::common::output_name(o)?,
            None => crate::cli::common::default_trace_name(),
        };
        let file = TraceFile::create(&out).map_err(session_error)?;
        let mut opts = args.trace.record_options();
        if spawnscope_format::is_stdio(&out) {
            // The trace goes to standard output: the target's own output goes
            // to standard error, so the trace stays clean.
            if let Ok(fd) = std::os::fd::AsFd::as_fd(&std::io::stderr()).try_clone_to_owned() {
                opts.stdout = spawnscope_tracer::TargetIo::Fd(fd);
            }
        }
        if args.trace.capture_env && !args.quiet {
            crate::cli::common::warn(format_args!(
                "--capture-env stores environment values (secrets too) in {}",
                escape(&out.display().to_string())
            ));
        }
        if args.trace.pid.is_some() && !args.quiet {
            let how = match args.trace.mode {
                Mode::Syscall => "syscall mode: every syscall of every thread stops twice (slow)",
                _ => {
                    "events mode: fork/exec/exit only (no failed exec attempts, no socketpair/pipe); \
                      a seccomp filter cannot be added to a running process"
                }
            };
            eprintln!("spawnscope: attaching in {how}; Ctrl-C detaches and leaves it running");
        }
        let control = spawnscope_tracer::Control::new();
        opts.control = Some(control.clone());
        control.install_signal_handlers(args.trace.pid.is_some());
        let now = Instant::now();
        let mut progress = Progress { start: now, last: now, spawns: 0, execs: 0, shown: false };
        let show = !args.quiet && std::io::stderr().is_terminal();
        let result = if show { file.record(&opts, &mut progress) } else { file.record(&opts, &mut ()) };
        progress.clear();
        let outcome = result.map_err(session_error)?;
        if !args.quiet {
            eprintln!("{}", summary(&outcome, &out));
        }
        let _ = std::io::stderr().flush();
        Ok(outcome.exit_code.unwrap_or(0))
    }
}
