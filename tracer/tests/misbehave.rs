//! Tracees that misbehave (issue 7): they kill or stop themselves, block
//! signals, try to use ptrace themselves. Nothing may hang and every trace
//! must end cleanly.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use spawnscope_format::*;
use spawnscope_tracer::{ModeRequest, Observer, ObserverError};

#[test]
fn tracee_sigkills_itself_mid_exec() {
    need!("gcc");
    for &(mode, info) in &[(ModeRequest::Seccomp, true), (ModeRequest::Syscall, false)] {
        let t = run(mode, info, "killed_while_read", &["20000", "6", "kill"]);
        let root = t.outcome.root_pid;
        let killed: Vec<_> = t.exits().into_iter().filter(|e| e.pid != root && !e.thread).collect();
        assert_eq!(killed.len(), 6, "{}", t.label);
        assert!(killed.iter().all(|e| e.signal == Some(9) || e.code == Some(0)), "{}: {killed:?}", t.label);
        assert_eq!(t.outcome.exit_code, Some(0));
    }
}

/// State letter of a process from /proc/PID/stat.
fn state(pid: i32) -> Option<char> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    s.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Once the root has been seen stopped for 200 ms in a row (a group-stop,
/// not a passing ptrace-stop), sends it SIGCONT from another thread.
struct ContinueWhenStopped(Vec<Record>, Arc<AtomicBool>);

impl Observer for ContinueWhenStopped {
    fn started(&mut self, pid: i32) {
        let seen = Arc::clone(&self.1);
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut since: Option<Instant> = None;
            while Instant::now() < deadline {
                match state(pid) {
                    Some('T' | 't') => {
                        let s = *since.get_or_insert_with(Instant::now);
                        if s.elapsed() >= Duration::from_millis(200) {
                            seen.store(true, Ordering::SeqCst);
                            break;
                        }
                    }
                    None => return,
                    _ => since = None,
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            // SAFETY: plain kill(2) of the recorded root (not reaped: the
            // recording waits for it).
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
        let o = opts(mode, info, &["/bin/sh", "-c", "kill -STOP $$; /bin/true; exit 4"]);
        let seen = Arc::new(AtomicBool::new(false));
        let (outcome, obs) = record_watched(&o, ContinueWhenStopped(Vec::new(), Arc::clone(&seen)));
        let outcome = outcome.unwrap();
        // It stayed stopped (group-stop, PTRACE_LISTEN) until the SIGCONT.
        assert!(seen.load(Ordering::SeqCst), "{mode:?}: never seen stopped");
        assert_eq!(outcome.exit_code, Some(4), "{mode:?}");
        assert!(obs.0.iter().any(|r| matches!(r, Record::Exec(e) if e.path == "/bin/true")));
    }
}

#[test]
fn tracee_blocking_all_signals_spawns_normally() {
    let script = "import signal, subprocess\n\
                  signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals))\n\
                  subprocess.run(['/bin/true'])\n";
    need!("python3");
    let python = tool("python3");
    let t = run_cmd(ModeRequest::Seccomp, true, &[python.to_str().unwrap(), "-c", script]);
    assert_eq!(t.outcome.exit_code, Some(0));
    assert!(t.execs().iter().any(|e| e.path == "/bin/true" && e.result == 0));
}

#[test]
fn tracee_using_ptrace_itself_fails_cleanly() {
    // A traced process cannot trace its own child (the child is ours): strace
    // reports an error and exits; the recording must end normally.
    need!("strace");
    let strace = tool("strace");
    let t = run_cmd(ModeRequest::Seccomp, true, &[strace.to_str().unwrap(), "-o", "/dev/null", "/bin/true"]);
    assert_eq!(t.outcome.exit_code, Some(1), "strace: PTRACE_TRACEME: Operation not permitted");
    assert!(!t.processes().is_empty(), "strace's own forks are recorded");
}
