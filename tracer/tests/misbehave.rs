//! Tracees that misbehave (issue 7): they kill or stop themselves, block
//! signals, try to use ptrace themselves. Nothing may hang and every trace
//! must end cleanly.

mod common;

use std::time::{Duration, Instant};

use common::*;
use spawnscope_format::*;
use spawnscope_tracer::{record, ModeRequest, Observer, ObserverError};

#[test]
fn tracee_sigkills_itself_mid_exec() {
    for &(mode, info) in &[(ModeRequest::Seccomp, true), (ModeRequest::Syscall, false)] {
        let t = run(mode, info, "killed_while_read", &["20000", "6", "kill"]);
        let root = t.outcome.root_pid;
        let killed: Vec<_> = t.exits().into_iter().filter(|e| e.pid != root && !e.thread).collect();
        assert_eq!(killed.len(), 6, "{}", t.label);
        assert!(killed.iter().all(|e| e.signal == Some(9) || e.code == Some(0)), "{}: {killed:?}", t.label);
        assert_eq!(t.outcome.exit_code, Some(0));
    }
}

/// Sends SIGCONT to the root after a delay, from another thread.
struct ContinueLater(Vec<Record>);

impl Observer for ContinueLater {
    fn started(&mut self, pid: i32) {
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(400));
            // SAFETY: plain kill(2).
            unsafe { libc::kill(pid, libc::SIGCONT) };
        });
    }
    fn record(&mut self, r: Record) -> Result<(), ObserverError> {
        self.0.push(r);
        Ok(())
    }
}

#[test]
fn tracee_that_stops_itself_is_left_stopped_until_sigcont() {
    for &(mode, info) in CONFIGS {
        let o = opts(mode, info, &["sh", "-c", "kill -STOP $$; /bin/true; exit 4"]);
        let t0 = Instant::now();
        let mut obs = ContinueLater(Vec::new());
        let outcome = record(&o, &mut obs).unwrap();
        // It stayed stopped (group-stop, PTRACE_LISTEN) until the SIGCONT.
        assert!(t0.elapsed() >= Duration::from_millis(350), "{mode:?}: {:?}", t0.elapsed());
        assert_eq!(outcome.exit_code, Some(4), "{mode:?}");
        assert!(obs.0.iter().any(|r| matches!(r, Record::Exec(e) if e.path == "/bin/true")));
    }
}

#[test]
fn tracee_blocking_all_signals_spawns_normally() {
    let script = "import signal, subprocess\n\
                  signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals))\n\
                  subprocess.run(['/bin/true'])\n";
    let t = run_cmd(ModeRequest::Seccomp, true, &["python3", "-c", script]);
    assert_eq!(t.outcome.exit_code, Some(0));
    assert!(t.execs().iter().any(|e| e.path == "/bin/true" && e.result == 0));
}

#[test]
fn tracee_using_ptrace_itself_fails_cleanly() {
    // A traced process cannot trace its own child (the child is ours): strace
    // reports an error and exits; the recording must end normally.
    if std::process::Command::new("strace").arg("-V").output().is_err() {
        return;
    }
    let t = run_cmd(ModeRequest::Seccomp, true, &["strace", "-o", "/dev/null", "/bin/true"]);
    assert_eq!(t.outcome.exit_code, Some(1), "strace: PTRACE_TRACEME: Operation not permitted");
    assert!(!t.processes().is_empty(), "strace's own forks are recorded");
}
