//! Detaching from every tracee (attach mode's Ctrl-C, a detach request,
//! daemons left behind after the target exited).

use std::collections::HashSet;

use nix::errno::Errno;

use super::Engine;
use crate::guard::Stopped;
use crate::ptrace::{self, StopKind, Tid, WaitEvent};

impl Engine<'_> {
    /// Detaches from every task (attach mode, or a detach request).
    ///
    /// Every task is interrupted, then each is detached at whatever stop it
    /// reports next (in any order: a vfork parent cannot stop before its
    /// child has exec'd, so waiting for one task at a time could deadlock).
    /// Children created meanwhile are auto-attached and detached too. A
    /// signal the tracee was about to receive is delivered at detach.
    pub(crate) fn detach_all(&mut self) -> u64 {
        let mut remaining: HashSet<Tid> = self.tasks.keys().copied().collect();
        remaining.retain(|&tid| ptrace::interrupt(tid).is_ok());
        let mut done: HashSet<Tid> = HashSet::new();
        let mut n = 0;
        while !remaining.is_empty() {
            match ptrace::wait(-1, true) {
                Ok(Some(WaitEvent::Stopped { tid, stop })) => {
                    let sig = match stop {
                        StopKind::Signal(s) => Some(s),
                        StopKind::Event { event: ptrace::EVENT_FORK | ptrace::EVENT_VFORK | ptrace::EVENT_CLONE, .. } => {
                            // The child is traced too; its first stop may
                            // already have come (and been detached).
                            if let Ok(child) = ptrace::get_event_msg(tid) {
                                if !done.contains(&(child as Tid)) {
                                    remaining.insert(child as Tid);
                                }
                            }
                            None
                        }
                        _ => None,
                    };
                    // Detached in group-stop, a task stays stopped, as untraced.
                    let _ = Stopped::new(tid, stop).detach(sig);
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
                    std::thread::sleep(std::time::Duration::from_millis(1));
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
    let Ok(text) = std::fs::read_to_string(format!("/proc/{tid}/status")) else { return false };
    let me = nix::unistd::gettid().as_raw();
    text.lines()
        .find_map(|l| l.strip_prefix("TracerPid:"))
        .and_then(|v| v.trim().parse::<i32>().ok())
        .is_some_and(|p| p == me)
}

