//! Assert how your code spawns processes, in your own tests.
//!
//! A process cannot trace itself, so the code under test runs in a traced
//! child process and the test gets its [`Analysis`]:
//!
//! - [`record_command`] runs a [`std::process::Command`] as the traced root:
//!   it checks what that program spawns (your CLI binary, a build script).
//! - [`record`] re-runs *the current test* in a traced child (the test binary
//!   with `--exact <this test>`), where the closure runs: it checks how your
//!   Rust code itself spawns (`Command::spawn` taking posix_spawn or the fork
//!   fallback, a PATH search for a bare program name). The closure and any
//!   code before it run twice (once in the child), so call `record` first in
//!   the test. It works from `#[test]` functions under libtest (the test
//!   thread's name is the test's name), once per test.
//!
//! Recording runs on its own thread (the tracer waits only for its own
//! tracees, so parallel tests and their children are not disturbed) and needs
//! ptrace: root, CAP_SYS_PTRACE or `kernel.yama.ptrace_scope=0`.
//!
//! The assertion helpers fail (with the offending spawns: pid, argv, style,
//! code path) when a rule is broken, and also when nothing was spawned at all,
//! since a check of zero spawns passes vacuously.
//!
//! # Example
//!
//! ```
//! use std::process::Command;
//! use spawnscope_session::testing::record_command;
//! use spawnscope_session::SpawnStyle;
//!
//! // dash runs each command of a list with vfork() then execve().
//! let rec = record_command(Command::new("/bin/sh").args(["-c", "/bin/true && /bin/true"])).unwrap();
//! assert_eq!(rec.spawns.len(), 2);
//! assert!(rec.spawns.iter().all(|s| s.style == SpawnStyle::Vfork));
//! rec.assert_all_vfork().assert_no_path_search().assert_spawned("true");
//! ```
//!
//! In a `#[test]`, recording your own code (see `session/tests/spawn_assertions.rs`):
//!
//! ```no_run
//! # use std::process::Command;
//! # use spawnscope_session::testing::record;
//! let rec = record(|| {
//!     Command::new("/bin/true").status().unwrap();
//! })
//! .unwrap();
//! rec.assert_all_vfork().assert_no_path_search();
//! ```

use std::ffi::OsString;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::Command;

use spawnscope_analyzer::{Analysis, CodePath, SpawnStyle};
use spawnscope_check::{evaluate, format_value, render, CheckReport, Format, Policy, Status, Unit};
use spawnscope_tracer::{ModeRequest, RecordOptions, TargetIo};

use crate::session::{record_and_analyze, temp_trace};
use crate::SessionError as Error;

/// Environment variable that tells a re-run test binary it is the traced
/// child of [`record`]: its value is the test's name.
pub const CHILD_ENV: &str = "SPAWNSCOPE_CHECK_RECORD_TEST";

/// Exit code of the re-run test binary after the closure returned (so a
/// filter that ran no test, exiting 0, is told apart).
const CHILD_DONE: i32 = 97;

/// Records the command as the traced root, with default settings.
pub fn record_command(cmd: &Command) -> Result<Recording, Error> {
    Recorder::new().command(cmd)
}

/// Re-runs the current test in a traced child, runs `f` there, and returns
/// the recording (in the child, this call runs `f` and exits the process).
pub fn record<F: FnOnce()>(f: F) -> Result<Recording, Error> {
    Recorder::new().closure(f)
}

/// Settings for a recording.
#[derive(Debug, Clone)]
pub struct Recorder {
    mode: ModeRequest,
    quiet_stdout: bool,
    quiet_stderr: bool,
    keep: Option<PathBuf>,
    policy: Policy,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

impl Recorder {
    /// Default settings: seccomp mode when available, the target's stderr
    /// inherited; for [`record`] the test binary's stdout goes to /dev/null
    /// (libtest's own lines), for [`record_command`] it is inherited.
    pub fn new() -> Recorder {
        Recorder { mode: ModeRequest::Auto, quiet_stdout: false, quiet_stderr: false, keep: None, policy: Policy::new() }
    }

    /// Tracer mode (`Events` sees no failed exec attempts).
    pub fn mode(mut self, mode: ModeRequest) -> Self {
        self.mode = mode;
        self
    }

    /// Sends the target's stdout and stderr to /dev/null.
    pub fn quiet(mut self) -> Self {
        self.quiet_stdout = true;
        self.quiet_stderr = true;
        self
    }

    /// Keeps the trace file at `path` (e.g. to open it with `spawnscope view`).
    pub fn keep_trace(mut self, path: impl Into<PathBuf>) -> Self {
        self.keep = Some(path.into());
        self
    }

    /// Finding thresholds and other analysis settings come from this policy
    /// (its rules are not applied here; use [`Recording::assert_policy`]).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Records a command (program, arguments, environment changes, working
    /// directory; a `Command`'s stdio and `env_clear` cannot be read back).
    pub fn command(&self, cmd: &Command) -> Result<Recording, Error> {
        let mut opts = RecordOptions::from_command(cmd);
        self.apply(&mut opts, false);
        let rec = self.run(opts)?;
        Ok(rec)
    }

    /// Runs `f` in a traced re-run of the current test; see [`record`].
    pub fn closure<F: FnOnce()>(&self, f: F) -> Result<Recording, Error> {
        if let Some(name) = std::env::var_os(CHILD_ENV) {
            // We are the traced child: run the code under test and stop here,
            // before the rest of the test (its assertions) runs.
            let _ = name;
            f();
            use std::io::Write;
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().flush();
            std::process::exit(CHILD_DONE);
        }
        let thread = std::thread::current();
        let name = match thread.name() {
            Some(n) if n != "main" => n.to_string(),
            _ => {
                return Err(Error::usage(
                    "testing::record",
                    "must be called from a #[test] function run by libtest (the test is re-run by its \
                     thread's name); use testing::record_command to record a program",
                ))
            }
        };
        let exe = std::env::current_exe()
            .map_err(|source| Error::Io { what: "testing::record: cannot find the test binary".into(), source })?;
        let argv: Vec<OsString> =
            vec![exe.into_os_string(), name.clone().into(), "--exact".into(), "--nocapture".into(), "--test-threads=1".into()];
        let mut opts = RecordOptions::new(argv);
        opts.env.push((CHILD_ENV.into(), Some(name.clone().into())));
        self.apply(&mut opts, true);
        let mut rec = self.run(opts)?;
        match rec.exit_code {
            Some(CHILD_DONE) => {
                rec.exit_code = Some(0);
                rec.analysis.summary.exit_code = Some(0);
                Ok(rec)
            }
            Some(0) => Err(Error::usage(
                "testing::record",
                format!("the re-run test binary did not run test {name:?} (no test of that exact name?)"),
            )),
            code => Err(Error::usage(
                "testing::record",
                format!(
                    "the recorded closure did not finish: the re-run of test {name:?} exited with {} \
                     (a panic exits 101; its message is above)",
                    code.map(|c| c.to_string()).unwrap_or_else(|| "no exit code".into())
                ),
            )),
        }
    }

    fn apply(&self, opts: &mut RecordOptions, test_binary: bool) {
        opts.mode = self.mode;
        if self.quiet_stdout || test_binary {
            opts.stdout = TargetIo::Null;
        }
        if self.quiet_stderr {
            opts.stderr = TargetIo::Null;
        }
    }

    fn run(&self, opts: RecordOptions) -> Result<Recording, Error> {
        let temp;
        let path: &Path = match &self.keep {
            Some(p) => p,
            None => {
                temp = temp_trace("spawnscope-test-")?;
                &temp
            }
        };
        // The tracer waits for its own tracees on the thread that started
        // them: a fresh thread keeps the test thread's other children out.
        let thresholds = self.policy.thresholds.clone().unwrap_or_default();
        let recorded = std::thread::scope(|s| {
            s.spawn(|| record_and_analyze(&opts, path, &thresholds)).join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        })?;
        Ok(Recording { exit_code: recorded.outcome.exit_code, analysis: recorded.analysis, trace: self.keep.clone() })
    }
}

/// A recording's analysis, with assertion helpers. Derefs to [`Analysis`].
#[derive(Debug, Clone)]
pub struct Recording {
    pub analysis: Analysis,
    /// The recorded command's exit code (for [`record`]: 0 when the closure returned).
    pub exit_code: Option<i32>,
    /// The trace file, when kept with [`Recorder::keep_trace`].
    pub trace: Option<PathBuf>,
}

impl Deref for Recording {
    type Target = Analysis;
    fn deref(&self) -> &Analysis {
        &self.analysis
    }
}

impl Recording {
    /// Checks a policy (including the command's exit status).
    pub fn check(&self, policy: &Policy) -> CheckReport {
        evaluate(policy, &self.analysis)
    }

    /// Panics, listing every violated rule and its spawns, unless the
    /// policy holds (a failing command fails it too, unless allowed).
    #[track_caller]
    pub fn assert_policy(&self, policy: &Policy) -> &Self {
        let report = self.check(policy);
        if !report.passed() {
            panic!("{}", render(&report, Format::Text));
        }
        self
    }

    /// Every spawn was vfork-style (CLONE_VM|CLONE_VFORK: posix_spawn, vfork).
    #[track_caller]
    pub fn assert_all_vfork(&self) -> &Self {
        let p = Policy::new().deny_style(SpawnStyle::Fork).deny_style(SpawnStyle::Vm);
        self.assert_rules("assert_all_vfork", "every spawn vfork-style", p)
    }

    /// No spawn was fork-style (a copy of the parent's address space).
    #[track_caller]
    pub fn assert_no_fork(&self) -> &Self {
        self.assert_rules("assert_no_fork", "no fork-style spawn", Policy::new().deny_style(SpawnStyle::Fork))
    }

    /// No failed exec attempt: no child searched PATH (or failed to exec).
    #[track_caller]
    pub fn assert_no_path_search(&self) -> &Self {
        self.assert_rules("assert_no_path_search", "no failed exec attempt", Policy::new().max_failed_exec_attempts(0))
    }

    /// Every spawn took this code path.
    #[track_caller]
    pub fn assert_code_path(&self, path: CodePath) -> &Self {
        let what = format!("every spawn via {}", path.as_str());
        self.assert_rules("assert_code_path", &what, Policy::new().require_code_path(path))
    }

    /// Exactly `n` spawns.
    #[track_caller]
    pub fn assert_spawn_count(&self, n: u64) -> &Self {
        let what = format!("exactly {n} spawns");
        self.assert_rules_allow_empty("assert_spawn_count", &what, Policy::new().min_spawns(n).max_spawns(n))
    }

    /// At least one spawn of `exe` (a basename like `git`, or a full path).
    #[track_caller]
    pub fn assert_spawned(&self, exe: &str) -> &Self {
        let what = format!("a spawn of {exe}");
        self.assert_rules_allow_empty("assert_spawned", &what, Policy::new().min_spawns_of(exe, 1))
    }

    #[track_caller]
    fn assert_rules(&self, name: &str, what: &str, policy: Policy) -> &Self {
        if self.analysis.spawns.is_empty() {
            panic!(
                "spawnscope: {name} failed: no spawns were recorded, so \"{what}\" holds only vacuously \
                 (did the code under test run?){}",
                self.context()
            );
        }
        self.assert_rules_allow_empty(name, what, policy)
    }

    #[track_caller]
    fn assert_rules_allow_empty(&self, name: &str, what: &str, policy: Policy) -> &Self {
        let report = self.check(&policy);
        let failed: Vec<_> = report.results.iter().filter(|r| r.status == Status::Fail && r.rule != "command-exit").collect();
        if failed.is_empty() {
            return self;
        }
        let mut msg = format!("spawnscope: {name} failed: expected {what}");
        for r in failed {
            msg.push_str(&format!("\n  {}: {}", r.title, r.message));
            if let Some(n) = &r.note {
                msg.push_str(&format!("\n    {n}"));
            }
            for o in &r.offenders {
                msg.push_str(&format!("\n    {}", spawnscope_check::output::offender_line(o)));
            }
            if r.offenders_total > r.offenders.len() {
                msg.push_str(&format!("\n    ... and {} more", r.offenders_total - r.offenders.len()));
            }
        }
        msg.push_str(&self.context());
        panic!("{msg}");
    }

    /// The recorded spawns in a few words, for failure messages.
    fn context(&self) -> String {
        let mut s = format!("\n  recorded: {}", format_value(self.analysis.spawns.len() as u64, Unit::Spawns));
        for (k, v) in &self.analysis.summary.styles {
            if *v > 0 {
                s.push_str(&format!(", {v} {k}"));
            }
        }
        if let Some(t) = &self.trace {
            s.push_str(&format!("\n  trace: {}", t.display()));
        }
        s
    }
}
