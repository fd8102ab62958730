//! `record -p PID`: attaching to a running (multi-threaded) process,
//! recording its future children, and detaching on request so that it runs
//! on untouched.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use spawnscope_format::*;
use spawnscope_tracer::{Control, ModeRequest, Observer, ObserverError, RecordOptions};

/// Collects records and requests a detach once `want` exec records arrived.
struct DetachAfter {
    records: Vec<Record>,
    want: usize,
    control: Control,
    started: Option<i32>,
}

impl Observer for DetachAfter {
    fn started(&mut self, pid: i32) {
        self.started = Some(pid);
    }
    fn record(&mut self, r: Record) -> Result<(), ObserverError> {
        self.records.push(r);
        if self.records.iter().filter(|r| matches!(r, Record::Exec(_))).count() >= self.want {
            self.control.request_detach();
        }
        Ok(())
    }
}

fn tracer_pid(pid: u32) -> (char, i32) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |k: &str| s.lines().find(|l| l.starts_with(k)).unwrap()[k.len()..].trim().to_string();
    (field("State:").chars().next().unwrap(), field("TracerPid:").parse().unwrap())
}

fn attach(pid: u32, mode: ModeRequest, info: bool, want: usize) -> (spawnscope_tracer::Outcome, Vec<Record>) {
    let control = Control::new();
    let mut o = RecordOptions::attach(pid as i32).mode(mode);
    o.syscall_info = info;
    o.control = Some(control.clone());
    let obs = DetachAfter { records: Vec::new(), want, control, started: None };
    // Watchdog: a hang becomes a failure (the target is killed, which ends
    // the recording) instead of a stuck test run.
    let (outcome, obs) = record_watched(&o, obs);
    let outcome = outcome.expect("attach");
    assert_eq!(obs.started, Some(pid as i32));
    (outcome, obs.records)
}

/// A target the test started: killed and reaped however the test ends.
struct Target(std::process::Child);

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (bounded) until the detached task is no longer in a ptrace-stop.
fn settled(pid: u32) -> (char, i32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (state, tracer) = tracer_pid(pid);
        if state != 't' || Instant::now() >= deadline {
            return (state, tracer);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A process that waits for a line on a FIFO, then runs `then` (sh syntax).
fn waiting_shell(dir: &std::path::Path, then: &str) -> (Target, std::path::PathBuf) {
    let fifo = dir.join("go");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let script = format!("read x < {}; {then}", fifo.display());
    let child = Command::new("/bin/sh").args(["-c", &script]).env("PATH", SYSTEM_PATH).spawn().unwrap();
    (Target(child), fifo)
}

#[test]
fn attach_to_multithreaded_spawner_follows_every_thread_and_detaches() {
    // 4 threads spawning /bin/true in a loop: every thread must be attached
    // (spawns come from all of them) and the process must run on afterwards.
    need!("gcc");
    let mut target =
        Target(Command::new(fixture("threads_spawner")).args(["4", "1000000"]).stdout(Stdio::null()).spawn().unwrap());
    for &(mode, info) in &[(ModeRequest::Auto, true), (ModeRequest::Syscall, true), (ModeRequest::Syscall, false)] {
        let (outcome, recs) = attach(target.0.id(), mode, info, 40);
        let expected = if mode == ModeRequest::Syscall { TracerMode::Syscall } else { TracerMode::Events };
        assert_eq!(outcome.mode, expected);
        assert_eq!(outcome.exit_code, None, "detached, not exited");
        assert!(outcome.detached >= 4, "{mode:?}: detached {} tasks", outcome.detached);
        let Some(Record::Header(h)) = recs.first() else { panic!() };
        assert_eq!(h.tracer.attached_pid, Some(target.0.id() as i32));
        // The command line read from /proc/PID/cmdline at attach.
        assert_eq!(h.command, [fixture("threads_spawner").display().to_string(), "4".into(), "1000000".into()]);
        let tids: std::collections::HashSet<i32> =
            recs.iter().filter_map(|r| if let Record::Spawn(s) = r { (!s.thread).then_some(s.tid) } else { None }).collect();
        assert!(tids.len() >= 2, "{mode:?}: spawns from several threads: {tids:?}");
        assert!(recs.iter().any(|r| matches!(r, Record::Warning(w) if w.message.contains("detached"))));
        let (state, tracer) = settled(target.0.id());
        assert_eq!(tracer, 0, "{mode:?}");
        assert_ne!(state, 't', "{mode:?}: left stopped");
        assert!(target.0.try_wait().unwrap().is_none(), "{mode:?}: still running");
    }
}

#[test]
fn attach_in_syscall_mode_sees_failed_exec_attempts() {
    need!("gcc");
    let script = format!("while :; do {}; sleep 0.01; done", fixture("posix_spawnp_path").display());
    let target = Target(Command::new("/bin/sh").args(["-c", &script]).env("PATH", SYSTEM_PATH).spawn().unwrap());
    let (outcome, recs) = attach(target.0.id(), ModeRequest::Syscall, true, 12);
    assert!(outcome.exec_failed >= 3, "PATH search visible in syscall mode: {}", outcome.exec_failed);
    assert!(recs.iter().any(|r| matches!(r, Record::Exec(e) if e.path == "/nonexistent/a/true" && e.result == 2)));
    let (_, tracer) = tracer_pid(target.0.id());
    assert_eq!(tracer, 0);
}

#[test]
fn attach_to_a_missing_process_is_an_error() {
    let o = RecordOptions::attach(i32::MAX - 7);
    let err = record_vec(&o).unwrap_err();
    assert!(matches!(err, spawnscope_tracer::TraceError::NoSuchProcess { .. }), "{err}");
    let o = RecordOptions::attach(1).mode(ModeRequest::Seccomp);
    let err = record_vec(&o).unwrap_err();
    assert!(matches!(err, spawnscope_tracer::TraceError::SeccompAttach { pid: 1 }), "{err}");
}

/// Releases a [`waiting_shell`] once the recording has attached.
struct ReleaseWhenStarted(Vec<Record>, std::path::PathBuf);

impl Observer for ReleaseWhenStarted {
    fn started(&mut self, _pid: i32) {
        let fifo = self.1.clone();
        // Opening a FIFO for writing blocks until the reader opens it.
        std::thread::spawn(move || std::fs::write(fifo, "go\n"));
    }
    fn record(&mut self, r: Record) -> Result<(), ObserverError> {
        self.0.push(r);
        Ok(())
    }
}

#[test]
fn attached_process_exit_ends_the_recording_with_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let (target, fifo) = waiting_shell(dir.path(), "/bin/true; exit 5");
    let o = RecordOptions::attach(target.0.id() as i32);
    let (outcome, obs) = record_watched(&o, ReleaseWhenStarted(Vec::new(), fifo));
    assert_eq!(outcome.unwrap().exit_code, Some(5));
    assert!(obs.0.iter().any(|r| matches!(r, Record::Exec(e) if e.path == "/bin/true")));
    drop(target);
}

/// Collects records and sends the root pid once started.
struct TellStart(Vec<Record>, Option<std::sync::mpsc::Sender<i32>>);

impl Observer for TellStart {
    fn started(&mut self, pid: i32) {
        if let Some(tx) = self.1.take() {
            let _ = tx.send(pid);
        }
    }
    fn record(&mut self, r: Record) -> Result<(), ObserverError> {
        self.0.push(r);
        Ok(())
    }
}

#[test]
fn requests_from_another_thread_reach_an_idle_recording() {
    // The target sleeps (no stops at all): a detach or a forwarded signal
    // from another thread must still be acted on promptly. A detach in
    // seccomp mode ends the target (it carries the filter); in events mode
    // it detaches and the target runs on.
    for (mode, detach) in [(ModeRequest::Seccomp, true), (ModeRequest::Events, true), (ModeRequest::Seccomp, false)] {
        let control = Control::new();
        let sleep = tool("sleep");
        let mut o = opts(mode, true, &[sleep.to_str().unwrap(), "30"]);
        o.control = Some(control.clone());
        let c2 = control.clone();
        let (tx, rx) = std::sync::mpsc::channel::<i32>();
        let t = std::thread::spawn(move || {
            // Act once the target is asleep in its own code (the recording
            // is then idle in waitpid), not after a guessed delay.
            let pid = rx.recv().unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
                let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                if exe.ends_with("sleep") && state.rsplit_once(')').is_some_and(|(_, r)| r.trim_start().starts_with('S')) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            if detach {
                c2.request_detach();
            } else {
                c2.forward_signal(libc::SIGTERM);
            }
        });
        let t0 = Instant::now();
        let (outcome, recs) = record_watched(&o, TellStart(Vec::new(), Some(tx)));
        let (outcome, recs) = (outcome.unwrap(), recs.0);
        t.join().unwrap();
        assert!(t0.elapsed() < Duration::from_secs(5), "acted on promptly: {:?}", t0.elapsed());
        let warned = |w: &str| recs.iter().any(|r| matches!(r, Record::Warning(x) if x.message.contains(w)));
        match (mode, detach) {
            (ModeRequest::Events, _) => {
                assert_eq!((outcome.exit_code, outcome.detached, outcome.ended), (None, 1, 0));
                assert!(warned("keep running"));
                // SAFETY: kill and reap the detached sleep (our child).
                unsafe {
                    assert_eq!(libc::kill(outcome.root_pid, 0), 0, "still running after the detach");
                    libc::kill(outcome.root_pid, libc::SIGKILL);
                    libc::waitpid(outcome.root_pid, std::ptr::null_mut(), 0);
                }
            }
            (_, true) => {
                assert_eq!((outcome.exit_code, outcome.detached, outcome.ended), (Some(128 + libc::SIGTERM), 0, 1));
                assert!(warned("seccomp filter"), "the user is told why it was ended");
            }
            (_, false) => assert_eq!(outcome.exit_code, Some(128 + libc::SIGTERM)),
        }
    }
}

/// Requests a detach a little after the recording started.
struct DetachSoon(Control);

impl Observer for DetachSoon {
    fn started(&mut self, _pid: i32) {
        let c = self.0.clone();
        // How long to stay attached, not an ordering: any value works.
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            c.request_detach();
        });
    }
    fn record(&mut self, _r: Record) -> Result<(), ObserverError> {
        Ok(())
    }
}

#[test]
fn attach_and_detach_never_drop_a_signal() {
    // The target raises SIGUSR1 at itself without pause and exits 1 if one
    // is lost. Its first stop after the attach is usually a
    // signal-delivery-stop, not the PTRACE_EVENT_STOP of the interrupt: it
    // must be resumed with its signal; so must the stop it is detached in.
    need!("gcc");
    let mut target = Target(Command::new(fixture("raise_loop")).spawn().unwrap());
    for round in 0..20 {
        let mode = if round % 2 == 0 { ModeRequest::Events } else { ModeRequest::Syscall };
        let control = Control::new();
        let mut o = RecordOptions::attach(target.0.id() as i32).mode(mode);
        o.control = Some(control.clone());
        let (outcome, _) = record_watched(&o, DetachSoon(control));
        let outcome = outcome.expect("attach");
        assert_eq!(outcome.exit_code, None, "round {round} ({mode:?}): the target exited: a signal was lost");
        assert!(outcome.detached >= 1, "round {round}");
        let (_, tracer) = settled(target.0.id());
        assert_eq!(tracer, 0, "round {round}");
        assert!(target.0.try_wait().unwrap().is_none(), "round {round} ({mode:?}): a signal was lost");
    }
}
