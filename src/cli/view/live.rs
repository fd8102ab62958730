//! Recording under the live UI (Linux only): the recorder runs on its own
//! thread, writes the trace file and sends each record over a channel; the
//! UI snapshots the analysis about 10 times a second. The tracer never
//! waits for the UI (the channel is unbounded; if the UI is gone, records
//! still go to the file).

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use spawnscope_analyzer::Thresholds;
use spawnscope_format::{escape, Record};
use spawnscope_session::{analyze_recording, Tap, TraceFile};
use spawnscope_tracer::{Control, RecordOptions, TargetIo};
use spawnscope_tui::run::LiveMsg;
use spawnscope_tui::{Exit, LiveInfo};

use super::{display, print_report, DemoArgs, RunArgs};
use crate::cli::record::session_error;

/// SIGKILL (9 on every Linux architecture).
const SIGKILL: i32 = 9;

/// Feeds the UI (the session writes the trace).
struct LiveTap {
    tx: Option<Sender<LiveMsg>>,
    line: u64,
}

impl LiveTap {
    fn send(&mut self, m: LiveMsg) {
        if let Some(tx) = &self.tx {
            if tx.send(m).is_err() {
                // The UI is closed ("let it finish"): keep writing the file.
                self.tx = None;
            }
        }
    }
}

impl Tap for LiveTap {
    fn started(&mut self, root_pid: i32) {
        self.send(LiveMsg::Started(root_pid));
    }

    fn record(&mut self, record: &Record) {
        self.line += 1;
        if self.tx.is_some() {
            self.send(LiveMsg::Record(self.line, record.clone()));
        }
    }
}

/// One recording to show.
struct Session {
    opts: RecordOptions,
    trace: PathBuf,
    /// Where the target's stdout and stderr go (None when attaching).
    target_output: Option<PathBuf>,
    /// The command as the UI names it.
    display: Vec<String>,
}

pub fn run(a: RunArgs) -> anyhow::Result<i32> {
    let opts = a.trace.record_options();
    let trace = match &a.output {
        Some(o) => crate::cli::common::output_name(o)?,
        None => crate::cli::common::default_trace_name(),
    };
    let target_output = match a.trace.pid {
        Some(_) => None,
        None => Some(a.target_output.unwrap_or_else(|| with_suffix(&trace, ".out"))),
    };
    let display = match a.trace.pid {
        Some(pid) => vec![format!("pid {pid}")],
        None => a.trace.command.iter().map(|c| c.to_string_lossy().into_owned()).collect(),
    };
    go(Session { opts, trace, target_output, display })
}

pub fn demo(a: DemoArgs) -> anyhow::Result<i32> {
    let exe = std::env::current_exe().context("cannot find the spawnscope executable")?;
    let mut cmd: Vec<OsString> = vec![exe.into(), "demo".into(), "--workload".into()];
    for id in &a.scenarios {
        cmd.push("--scenario".into());
        cmd.push(id.into());
    }
    let trace = match &a.output {
        Some(o) => crate::cli::common::output_name(o)?,
        None => crate::cli::common::default_demo_trace(),
    };
    let target_output = Some(with_suffix(&trace, ".out"));
    let display = vec!["spawnscope".into(), "demo".into()];
    go(Session { opts: RecordOptions::new(cmd), trace, target_output, display })
}

fn go(s: Session) -> anyhow::Result<i32> {
    let Session { mut opts, trace, target_output, display: shown } = s;
    if let Some(out) = &target_output {
        // One open file for both streams, so they interleave instead of overwriting.
        let f = spawnscope_format::create_output(out, spawnscope_format::Existing::Replace)?;
        let f2 = f.try_clone().with_context(|| format!("cannot share {}", display(out)))?;
        opts.stdin = TargetIo::Null;
        opts.stdout = TargetIo::Fd(f.into());
        opts.stderr = TargetIo::Fd(f2.into());
    }
    let file = TraceFile::create(&trace).map_err(session_error)?;
    let control = Control::new();
    opts.control = Some(control.clone());
    control.install_signal_handlers(opts.attach_pid.is_some());
    let where_ = match &target_output {
        Some(o) => format!("trace {} · target output {}", display(&trace), display(o)),
        None => format!("trace {}", display(&trace)),
    };
    if !std::io::stdout().is_terminal() {
        eprintln!("spawnscope: recording ({where_})");
        let outcome = file.record(&opts, &mut ()).map_err(session_error)?;
        let recorded = analyze_recording(&trace, outcome, &Thresholds::default())?;
        print_report(&recorded.analysis, &trace)?;
        return Ok(recorded.outcome.exit_code.unwrap_or(0));
    }
    let attached = opts.attach_pid.is_some();
    let (tx, rx) = mpsc::channel();
    let recorder = std::thread::Builder::new()
        .name("spawnscope-record".into())
        .spawn(move || {
            let mut tap = LiveTap { tx: Some(tx), line: 0 };
            let result = file.record(&opts, &mut tap);
            if let Some(tx) = tap.tx {
                let _ = tx.send(match &result {
                    Ok(o) => LiveMsg::Finished(o.exit_code),
                    Err(e) => LiveMsg::Failed(escape(&e.to_string()).into_owned()),
                });
            }
            result
        })
        .context("cannot start the recorder thread")?;
    watch_for_hangup();
    let info = LiveInfo { command: shown, output: target_output.clone(), trace: Some(trace.clone()), attached };
    let exit = match spawnscope_tui::run::run_live(info, rx) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("spawnscope: the terminal UI failed ({e}); stopping the target");
            Exit::KillTarget
        }
    };
    match exit {
        Exit::KillTarget => {
            control.forward_signal(SIGKILL);
            if !wait_for(&recorder, Duration::from_secs(2)) {
                // The tracer acts on the request at its next stop; a target that
                // makes no syscall we trace is killed by PTRACE_O_EXITKILL when
                // we exit now.
                eprintln!("spawnscope: target killed; {where_} (cut short)");
                return Ok(128 + SIGKILL);
            }
        }
        Exit::LetFinish => eprintln!("spawnscope: UI closed; waiting for the target to finish ({where_})"),
        Exit::Quit if attached && !recorder.is_finished() => {
            control.request_detach();
            if !wait_for(&recorder, Duration::from_secs(2)) {
                // The tracer sees the request at its next stop; an idle process
                // is detached by the kernel when we exit (no PTRACE_O_EXITKILL
                // when attached).
                eprintln!("spawnscope: detached; {where_} (cut short)");
                return Ok(0);
            }
        }
        Exit::Quit => {}
    }
    let result = recorder.join().map_err(|_| anyhow::anyhow!("the recorder thread panicked"))?;
    let outcome = result.map_err(session_error)?;
    eprintln!("spawnscope: {where_}");
    Ok(outcome.exit_code.unwrap_or(0))
}

fn wait_for<T>(h: &JoinHandle<T>, limit: Duration) -> bool {
    let start = Instant::now();
    while !h.is_finished() {
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Ends the process when its terminal hangs up (the window was closed).
///
/// `run` catches SIGHUP to forward it to the target, so the hangup does not
/// end spawnscope by itself, and crossterm then spins on the terminal's
/// end-of-file inside its poll without returning to the UI loop. Exiting
/// ends a launched target through PTRACE_O_EXITKILL (what a hangup does to a
/// shell's job) and leaves an attached process running (the kernel detaches
/// it); the trace written so far stays readable, marked incomplete.
fn watch_for_hangup() {
    const SIGHUP: i32 = 1;
    let _ = std::thread::Builder::new().name("spawnscope-hangup".into()).spawn(|| loop {
        std::thread::sleep(Duration::from_millis(200));
        // isatty fails (EIO) once the terminal has hung up. stdout, not stdin:
        // the UI runs only when stdout is a terminal; stdin may be redirected.
        if !std::io::stdout().is_terminal() {
            std::process::exit(128 + SIGHUP);
        }
    });
}
