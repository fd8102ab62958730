//! Stop guards: a [`Stopped`] value stands for one tracee in a ptrace-stop.
//! Its resume methods consume it, so a stop can be resumed only once; a guard
//! dropped without being resumed (an early return, a `?`) resumes the tracee
//! with PTRACE_CONT so that no tracee is ever left stopped by mistake.

use nix::errno::Errno;

use crate::ptrace::{self, StopKind, Tid};
use crate::signal::Sig;

/// A tracee in a ptrace-stop, to be resumed exactly once.
#[derive(Debug)]
#[must_use = "a stopped tracee must be resumed"]
pub struct Stopped {
    tid: Tid,
    kind: StopKind,
    armed: bool,
}

/// Outcome of a resume: ESRCH (the tracee vanished, e.g. SIGKILLed while
/// stopped) is not an error for the caller: its exit is reported by waitpid.
pub type Resumed = Result<(), Errno>;

fn ignore_gone(r: Result<(), Errno>) -> Resumed {
    match r {
        Err(Errno::ESRCH) => Ok(()),
        other => other,
    }
}

impl Stopped {
    pub(crate) fn new(tid: Tid, kind: StopKind) -> Stopped {
        Stopped { tid, kind, armed: true }
    }

    pub fn tid(&self) -> Tid {
        self.tid
    }

    pub fn kind(&self) -> StopKind {
        self.kind
    }

    fn disarm(mut self) -> Tid {
        self.armed = false;
        self.tid
    }

    /// PTRACE_CONT: run until the next event, seccomp stop or signal.
    pub fn cont(self, sig: Option<Sig>) -> Resumed {
        ignore_gone(ptrace::cont(self.disarm(), sig))
    }

    /// PTRACE_SYSCALL: run until the next syscall entry or exit stop.
    pub fn syscall(self, sig: Option<Sig>) -> Resumed {
        ignore_gone(ptrace::syscall(self.disarm(), sig))
    }

    /// PTRACE_LISTEN: stay in group-stop, report SIGCONT. Only valid in a
    /// group-stop (PTRACE_EVENT_STOP with a stopping signal).
    pub fn listen(self) -> Resumed {
        ignore_gone(ptrace::listen(self.disarm()))
    }

    /// PTRACE_DETACH: stop tracing this thread, delivering `sig` if given.
    pub fn detach(self, sig: Option<Sig>) -> Resumed {
        ignore_gone(ptrace::detach(self.disarm(), sig))
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        if self.armed {
            let _ = ptrace::cont(self.tid, None);
        }
    }
}
