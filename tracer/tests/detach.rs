//! Issue 11: the tracer must never leave a process that cannot spawn.
//!
//! A daemon (setsid, stdio closed) outlives the recorded command; the
//! recording is then stopped (a detach request, or Ctrl-C after the command
//! exited) and the daemon spawns *after* that point. With the seccomp filter
//! it must be ended and the user told; without it (events, syscall mode) it
//! must run on and spawn normally. The daemon waits on a FIFO that the test
//! writes only after the recording returned: ordering without sleeps.

mod common;

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use spawnscope_format::*;
use spawnscope_tracer::{Control, ModeRequest, Observer, ObserverError};

/// How the test stops the recording once the command itself has exited.
#[derive(Debug, Clone, Copy)]
enum Stop {
    Detach,
    /// What the CLI's SIGINT handler does after the target exited.
    Interrupt,
    /// What the CLI's SIGTERM handler does: forward it. The target is
    /// reaped by then, so its pid is never signalled: the recording stops.
    Forward,
}

/// Stops the recording as soon as the root's exit is recorded.
struct StopAtRootExit {
    records: Vec<Record>,
    control: Control,
    how: Stop,
    root: i32,
}

impl Observer for StopAtRootExit {
    fn started(&mut self, pid: i32) {
        self.root = pid;
    }
    fn record(&mut self, r: Record) -> Result<(), ObserverError> {
        if matches!(&r, Record::Exit(e) if e.pid == self.root && !e.thread) {
            match self.how {
                Stop::Detach => self.control.request_detach(),
                Stop::Interrupt => self.control.interrupt(),
                Stop::Forward => self.control.forward_signal(libc::SIGTERM),
            }
        }
        self.records.push(r);
        Ok(())
    }
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// Opens the FIFO for writing once the daemon reads it, and releases it.
fn release(fifo: &Path, deadline: Instant) -> bool {
    let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
    while Instant::now() < deadline {
        // SAFETY: valid C string; a non-blocking open fails (ENXIO) until a reader exists.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_WRONLY | libc::O_NONBLOCK) };
        if fd >= 0 {
            // SAFETY: writing one byte from a static buffer to our fd.
            unsafe {
                libc::write(fd, b"\n".as_ptr().cast(), 1);
                libc::close(fd);
            }
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

/// Kills a left-over daemon if the test fails before it ends by itself.
struct Reap(i32);

impl Drop for Reap {
    fn drop(&mut self) {
        if std::thread::panicking() && self.0 > 1 && !gone(self.0) {
            // SAFETY: kill(2) of the test's own daemon (its pid is held by
            // its parent or init until it is reaped).
            unsafe { libc::kill(self.0, libc::SIGKILL) };
        }
    }
}

/// Whether a process is gone (or a zombie nobody reaped yet).
fn gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next()) == Some('Z'),
    }
}

fn daemon_case(mode: ModeRequest, how: Stop) {
    need!("setsid");
    let dir = tempfile::tempdir().unwrap();
    let (fifo, out, script) = (dir.path().join("go"), dir.path().join("out"), dir.path().join("daemon.sh"));
    mkfifo(&fifo);
    std::fs::write(&script, "read x < \"$1\"\nif /bin/true; then echo spawned > \"$2\"; else echo \"failed $?\" > \"$2\"; fi\n")
        .unwrap();
    let cmd = format!(
        "{} /bin/sh {} {} {} </dev/null >/dev/null 2>&1 &",
        tool("setsid").display(),
        script.display(),
        fifo.display(),
        out.display()
    );
    let control = Control::new();
    let mut o = opts(mode, true, &["/bin/sh", "-c", &cmd]);
    o.control = Some(control.clone());
    let obs = StopAtRootExit { records: Vec::new(), control, how, root: 0 };
    let (outcome, obs) = record_watched(&o, obs);
    let outcome = outcome.expect("recording");
    let label = format!("{mode:?}/{how:?}");
    assert_eq!(outcome.exit_code, Some(0), "{label}: the command's own exit");
    // The background job: setsid execs the daemon in the same process.
    let daemon = obs
        .records
        .iter()
        .find_map(|r| match r {
            Record::Spawn(s) if s.pid == outcome.root_pid && !s.thread => s.child,
            _ => None,
        })
        .expect("the command's spawn of the daemon is recorded");
    let _reap = Reap(daemon);
    let warning = |w: &str| obs.records.iter().any(|r| matches!(r, Record::Warning(x) if x.message.contains(w)));
    let deadline = Instant::now() + Duration::from_secs(20);
    if outcome.mode == TracerMode::Seccomp {
        // Ended, and the user told why: it could not have spawned.
        assert_eq!((outcome.detached, outcome.ended), (0, 1), "{label}");
        assert!(warning("seccomp filter"), "{label}: a warning says why it was ended");
        assert!(gone(daemon), "{label}: the daemon was ended");
        assert!(!release(&fifo, Instant::now() + Duration::from_millis(200)), "{label}: nobody reads the FIFO");
        assert!(!out.exists(), "{label}: it never ran on");
    } else {
        assert!(outcome.detached >= 1 && outcome.ended == 0, "{label}: {outcome:?}");
        assert!(warning("keep running"), "{label}");
        assert!(release(&fifo, deadline), "{label}: the daemon runs on after the detach");
        while !out.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut text = String::new();
        while Instant::now() < deadline {
            text = std::fs::read_to_string(&out).unwrap_or_default();
            if text.ends_with('\n') {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(text, "spawned\n", "{label}: the daemon spawns normally after the detach");
    }
}

#[test]
fn daemon_after_detach_request_in_seccomp_mode_is_ended_and_the_user_told() {
    daemon_case(ModeRequest::Seccomp, Stop::Detach);
}

#[test]
fn daemon_after_ctrl_c_in_seccomp_mode_is_ended_and_the_user_told() {
    daemon_case(ModeRequest::Seccomp, Stop::Interrupt);
}

#[test]
fn daemon_after_detach_request_in_events_mode_spawns_normally() {
    daemon_case(ModeRequest::Events, Stop::Detach);
}

#[test]
fn daemon_after_ctrl_c_in_syscall_mode_spawns_normally() {
    daemon_case(ModeRequest::Syscall, Stop::Interrupt);
}

#[test]
fn signal_forwarded_after_the_target_exited_ends_the_recording_not_a_reused_pid() {
    daemon_case(ModeRequest::Seccomp, Stop::Forward);
    daemon_case(ModeRequest::Events, Stop::Forward);
}
