//! Leaving the tracees before they have all exited: a detach request
//! ([`crate::Control::request_detach`], `run`'s quit, Ctrl-C of an attached
//! recording), or Ctrl-C after the target itself exited (daemons left behind).
//!
//! What happens to them depends on whether they carry our seccomp filter:
//! - **No filter** (attached with `-p`, or launched in `syscall` or `events`
//!   mode): every task is detached and runs on untouched.
//! - **Filter** (launched in `seccomp` mode): a process that keeps the filter
//!   without a tracer gets ENOSYS from every trapped syscall (clone, vfork,
//!   execve, pipe, socketpair: a daemon prints "Cannot fork"), and a filter
//!   cannot be removed. Such processes are never detached: they are ended,
//!   SIGTERM first (we keep tracing them meanwhile, so they can still spawn
//!   while they shut down), SIGKILL after [`GRACE`], and the user is told on
//!   stderr and in a trace warning. A recording whose left-over processes
//!   must run on is made in `events` mode (no filter). If the tracer itself
//!   dies, PTRACE_O_EXITKILL ends them the same way.

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use spawnscope_units::counted;

use super::Engine;
use crate::guard::Stopped;
use crate::ptrace::{self, Event, StopKind, Tid, WaitEvent};

/// How long filtered left-over processes get between SIGTERM and SIGKILL.
pub const GRACE: Duration = Duration::from_secs(2);

/// What became of the tasks still traced when the recording stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Left {
    /// Tasks detached, running on.
    pub detached: u64,
    /// Processes ended because they carried the seccomp filter.
    pub ended: u64,
}

impl Engine<'_> {
    /// Stops following every tracee, detaching or ending them (see above).
    pub(crate) fn leave(&mut self, reason: String) -> Left {
        if self.setup.filtered {
            return self.end_filtered(reason);
        }
        let n = self.detach_all();
        if n > 0 {
            self.warn(None, format!("{reason}: detached from {}; they keep running", counted(n, "task", "tasks")));
        }
        Left { detached: n, ended: 0 }
    }

    /// Process ids of the traced tasks (traced and not reaped, so no pid
    /// here can belong to anyone else).
    fn traced_pids(&self) -> BTreeSet<i32> {
        self.tasks.iter().map(|(&tid, t)| t.pid.unwrap_or(tid)).collect()
    }

    fn signal_all(&self, pids: &BTreeSet<i32>, sigs: &[libc::c_int]) {
        for &pid in pids {
            for &sig in sigs {
                // SAFETY: kill(2) with a pid we trace (see traced_pids).
                unsafe { libc::kill(pid, sig) };
            }
        }
    }

    /// Ends the filtered tracees: SIGTERM (and SIGCONT, so a stopped one
    /// acts on it), tracing on for [`GRACE`], then SIGKILL.
    fn end_filtered(&mut self, reason: String) -> Left {
        let pids = self.traced_pids();
        if pids.is_empty() {
            return Left::default();
        }
        let n = pids.len() as u64;
        let list: Vec<String> = pids.iter().take(8).map(|p| p.to_string()).collect();
        let more = if pids.len() > 8 { ", ..." } else { "" };
        let msg = format!(
            "{reason}: ending {} still running (pid {}{more}) with SIGTERM, SIGKILL after {} s: \
             they carry the recording's seccomp filter, under which every spawn and exec fails (ENOSYS) once \
             no tracer is attached; record with --mode events to leave such processes running",
            counted(n, "process", "processes"),
            list.join(", "),
            GRACE.as_secs()
        );
        eprintln!("spawnscope: {msg}");
        self.warn(None, msg);
        self.signal_all(&pids, &[libc::SIGTERM, libc::SIGCONT]);
        let deadline = Instant::now() + GRACE;
        let mut killed = false;
        loop {
            match ptrace::wait(-1, true) {
                Ok(Some(ev)) => self.handle(ev),
                Ok(None) => {
                    if !killed && Instant::now() >= deadline {
                        let now = self.traced_pids();
                        self.signal_all(&now, &[libc::SIGKILL]);
                        killed = true;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(Errno::EINTR) => {}
                Err(_) => break,
            }
        }
        Left { detached: 0, ended: n }
    }

    /// Detaches from every task (no filter).
    ///
    /// Every task is interrupted, then each is detached at whatever stop it
    /// reports next (in any order: a vfork parent cannot stop before its
    /// child has exec'd, so waiting for one task at a time could deadlock).
    /// Children created meanwhile are auto-attached and detached too. A
    /// signal the tracee was about to receive is delivered at detach.
    fn detach_all(&mut self) -> u64 {
        let mut remaining: HashSet<Tid> = self.tasks.keys().copied().collect();
        remaining.retain(|&tid| ptrace::interrupt(tid).is_ok());
        let mut done: HashSet<Tid> = HashSet::new();
        let mut n = 0;
        while !remaining.is_empty() {
            match ptrace::wait(-1, true) {
                Ok(Some(WaitEvent::Stopped { tid, stop })) => {
                    if let StopKind::Event { event: Event::Fork | Event::Vfork | Event::Clone, .. } = stop {
                        // The child is traced too; its first stop may
                        // already have come (and been detached).
                        if let Ok(child) = ptrace::get_event_msg(tid) {
                            if !done.contains(&(child as Tid)) {
                                remaining.insert(child as Tid);
                            }
                        }
                    }
                    // Detached in group-stop, a task stays stopped, as
                    // untraced. The stop's own signal goes with it.
                    let stop = Stopped::new(tid, stop, self.default_resume());
                    let sig = stop.signal();
                    let _ = stop.detach(sig);
                    remaining.remove(&tid);
                    done.insert(tid);
                    n += 1;
                }
                Ok(Some(WaitEvent::Exited { tid, .. } | WaitEvent::Signaled { tid, .. })) => {
                    remaining.remove(&tid);
                    done.insert(tid);
                }
                Ok(None) | Err(Errno::EINTR) => {
                    // Nothing ready: forget tasks that are no longer ours
                    // (gone, or detached under another id), then poll again.
                    // A vfork parent waiting for its child stays ours.
                    remaining.retain(|&tid| traced_by_us(tid));
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => break,
            }
        }
        self.tasks.clear();
        n
    }
}

/// Whether `tid` is traced by the calling thread (TracerPid in
/// /proc/TID/status is the tracer's thread id).
fn traced_by_us(tid: Tid) -> bool {
    let me = nix::unistd::gettid().as_raw();
    crate::procfs::tracer_of(tid) == Some(me)
}
