//! Helpers for the tracer's tests: run a fixture under the tracer in a
//! given mode, under a watchdog, and pick records apart.
//!
//! Tracees get PATH set to the system directories only (never the
//! developer's PATH), and tools are named by absolute path.

#![allow(dead_code)]

#[path = "../../../fixtures/c/fixtures.rs"]
mod fixtures;

use std::time::Duration;

pub use fixtures::fixture;
use spawnscope_format::*;
#[allow(unused_imports)]
pub use spawnscope_testkit::{require_tool, tool, Watchdog, SYSTEM_PATH};
use spawnscope_tracer::{record, ModeRequest, Observer, ObserverError, Outcome, RecordOptions, TargetIo, TraceError};

/// Returns early from a test (after "skipped: needs TOOL") when a tool is
/// missing; fails instead when SPAWNSCOPE_REQUIRE_TOOLS=1 (CI).
#[macro_export]
macro_rules! need {
    ($($tool:expr),+) => {
        $( if !$crate::common::require_tool($tool) { return; } )+
    };
}

/// The time limit of one recording in a test.
pub const LIMIT: Duration = Duration::from_secs(60);

/// (mode, use syscall info): the configurations every exact test runs in.
pub const CONFIGS: &[(ModeRequest, bool)] =
    &[(ModeRequest::Seccomp, true), (ModeRequest::Seccomp, false), (ModeRequest::Syscall, true), (ModeRequest::Syscall, false)];

pub fn opts(mode: ModeRequest, info: bool, argv: &[&str]) -> RecordOptions {
    let mut o = RecordOptions::new(argv.iter().copied()).mode(mode);
    o.syscall_info = info;
    o.stdout = TargetIo::Null;
    o.env.push(("PATH".into(), Some(SYSTEM_PATH.into())));
    o
}

/// Passes records to an inner observer and registers the root with a watchdog.
pub struct Watched<'a, O: Observer> {
    pub inner: O,
    pub watcher: spawnscope_testkit::Watcher,
    pub _dog: std::marker::PhantomData<&'a ()>,
}

impl<O: Observer> Observer for Watched<'_, O> {
    fn started(&mut self, pid: i32) {
        self.watcher.watch(pid);
        self.inner.started(pid);
    }
    fn record(&mut self, r: Record) -> Result<(), ObserverError> {
        self.inner.record(r)
    }
}

/// `record` under a watchdog of [`LIMIT`]: a stuck tracee is killed and the
/// test fails instead of hanging.
pub fn record_watched<O: Observer>(opts: &RecordOptions, observer: O) -> (Result<Outcome, TraceError>, O) {
    let dog = Watchdog::new(format!("recording {:?}", opts.command), LIMIT);
    let mut w = Watched { inner: observer, watcher: dog.watcher(), _dog: std::marker::PhantomData };
    let r = record(opts, &mut w);
    dog.finish();
    (r, w.inner)
}

/// Records into a vector under a watchdog.
pub fn record_vec(opts: &RecordOptions) -> Result<(Outcome, Vec<Record>), TraceError> {
    let (r, v) = record_watched(opts, Vec::new());
    r.map(|o| (o, v))
}

/// Records a fixture with arguments.
pub fn run(mode: ModeRequest, info: bool, name: &str, args: &[&str]) -> Trace {
    let path = fixture(name);
    let mut argv = vec![path.to_str().unwrap()];
    argv.extend_from_slice(args);
    run_cmd(mode, info, &argv)
}

pub fn run_cmd(mode: ModeRequest, info: bool, argv: &[&str]) -> Trace {
    let (outcome, records) = record_vec(&opts(mode, info, argv)).expect("recording failed");
    Trace::check(outcome, records, mode, info)
}

#[derive(Debug)]
pub struct Trace {
    pub outcome: Outcome,
    pub records: Vec<Record>,
    pub label: String,
}

impl Trace {
    /// Structural checks every trace must pass.
    fn check(outcome: Outcome, records: Vec<Record>, mode: ModeRequest, info: bool) -> Trace {
        let label = format!("{mode:?}/info={info}");
        assert!(matches!(records.first(), Some(Record::Header(_))), "{label}: header first");
        assert!(matches!(records.last(), Some(Record::End(_))), "{label}: end last");
        if let Some(Record::End(e)) = records.last() {
            assert_eq!(e.counts, outcome.counts, "{label}");
            assert_eq!(e.exit_code, outcome.exit_code, "{label}");
        }
        if let Some(Record::Header(h)) = records.first() {
            assert_eq!(h.tracer.syscall_info, info, "{label}: syscall info use");
        }
        Trace { outcome, records, label }
    }

    pub fn spawns(&self) -> Vec<&SpawnEvent> {
        self.records.iter().filter_map(|r| if let Record::Spawn(s) = r { Some(s) } else { None }).collect()
    }

    /// Spawns that created processes (not threads).
    pub fn processes(&self) -> Vec<&SpawnEvent> {
        self.spawns().into_iter().filter(|s| !s.thread).collect()
    }

    pub fn execs(&self) -> Vec<&ExecEvent> {
        self.records.iter().filter_map(|r| if let Record::Exec(e) = r { Some(e) } else { None }).collect()
    }

    /// Exec attempts after the root's own exec (the target itself).
    pub fn child_execs(&self) -> Vec<&ExecEvent> {
        self.execs().into_iter().filter(|e| e.pid != self.outcome.root_pid).collect()
    }

    pub fn exits(&self) -> Vec<&ExitEvent> {
        self.records.iter().filter_map(|r| if let Record::Exit(e) = r { Some(e) } else { None }).collect()
    }

    pub fn warnings(&self) -> Vec<&WarningEvent> {
        self.records.iter().filter_map(|r| if let Record::Warning(w) = r { Some(w) } else { None }).collect()
    }

    /// A mode-independent summary: every record without pids and times,
    /// sorted, for comparing two recordings of the same program.
    pub fn canonical(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .records
            .iter()
            .filter_map(|r| match r {
                Record::Spawn(s) => Some(format!(
                    "spawn {:?} flags={:#x} sig={} thread={} event={:?} result={} stack={}",
                    s.syscall,
                    s.flags,
                    s.exit_signal,
                    s.thread,
                    s.ptrace_event,
                    s.result,
                    s.stack != 0
                )),
                Record::Exec(e) => {
                    Some(format!("exec {:?} {} {:?} env={} result={}", e.syscall, e.path, e.argv, e.env_count, e.result))
                }
                Record::Socketpair(s) => Some(format!("socketpair {} {} {} {:?}", s.domain, s.socket_type, s.protocol, s.fds)),
                Record::Pipe(p) => Some(format!("pipe {} {:?}", p.flags, p.fds)),
                Record::Exit(e) => Some(format!("exit {:?} {:?} thread={}", e.code, e.signal, e.thread)),
                _ => None,
            })
            .collect();
        v.sort();
        v
    }
}
