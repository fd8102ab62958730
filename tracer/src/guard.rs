//! Stop guards: a [`Stopped`] value stands for one tracee in a ptrace-stop.
//! Its resume methods consume it, so a stop can be resumed only once.
//!
//! A guard dropped without being resumed is a bug in the engine (an early
//! return, a `?`). It never resumes silently with a bare PTRACE_CONT, which
//! would drop the signal the tracee was about to get and take it out of
//! syscall stepping: it resumes the way the engine said this stop must be
//! resumed ([`Resume`], given at creation) with the stop's own signal, says
//! so on stderr, and fails debug builds (tests) with a panic.

use nix::errno::Errno;

use crate::ptrace::{self, StopKind, Tid};
use crate::signal::Sig;

/// How a stopped tracee goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// PTRACE_CONT: run until the next event, seccomp stop or signal.
    Cont,
    /// PTRACE_SYSCALL: run until the next syscall entry or exit stop.
    Syscall,
}

/// A tracee in a ptrace-stop, to be resumed exactly once.
#[derive(Debug)]
#[must_use = "a stopped tracee must be resumed"]
pub struct Stopped {
    tid: Tid,
    kind: StopKind,
    /// How to resume if the guard is dropped by mistake.
    fallback: Resume,
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
    /// A guard for `tid` in the stop `kind`; `fallback` is how the mode in
    /// use resumes a tracee that has nothing pending (used only on drop).
    pub(crate) fn new(tid: Tid, kind: StopKind, fallback: Resume) -> Stopped {
        Stopped { tid, kind, fallback, armed: true }
    }

    pub fn tid(&self) -> Tid {
        self.tid
    }

    pub fn kind(&self) -> StopKind {
        self.kind
    }

    /// The signal this stop holds for the tracee (a signal-delivery-stop),
    /// which a resume must pass on.
    pub fn signal(&self) -> Option<Sig> {
        match self.kind {
            StopKind::Signal(s) => Some(s),
            _ => None,
        }
    }

    fn disarm(mut self) -> Tid {
        self.armed = false;
        self.tid
    }

    /// Resumes as `how` says, injecting `sig` if given.
    pub fn resume(self, how: Resume, sig: Option<Sig>) -> Resumed {
        match how {
            Resume::Cont => self.cont(sig),
            Resume::Syscall => self.syscall(sig),
        }
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
        if !self.armed {
            return;
        }
        let sig = self.signal();
        let _ = match self.fallback {
            Resume::Cont => ptrace::cont(self.tid, sig),
            Resume::Syscall => ptrace::syscall(self.tid, sig),
        };
        if !std::thread::panicking() {
            eprintln!(
                "spawnscope: internal error: stop {:?} of task {} was not resumed explicitly; resumed with {:?}",
                self.kind, self.tid, self.fallback
            );
            debug_assert!(false, "stop {:?} of task {} dropped without a resume", self.kind, self.tid);
        }
    }
}
