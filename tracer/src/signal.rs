//! A signal number that can also be a realtime signal (nix's `Signal` enum
//! cannot represent SIGRTMIN..SIGRTMAX, and every signal the tracee gets must
//! be re-injected unchanged).

use std::fmt;

/// A signal number, 1..=64 on Linux.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sig(i32);

impl Sig {
    pub const SIGINT: Sig = Sig(libc::SIGINT);
    pub const SIGKILL: Sig = Sig(libc::SIGKILL);
    pub const SIGSTOP: Sig = Sig(libc::SIGSTOP);
    pub const SIGTRAP: Sig = Sig(libc::SIGTRAP);
    pub const SIGCONT: Sig = Sig(libc::SIGCONT);
    pub const SIGTERM: Sig = Sig(libc::SIGTERM);

    /// Wraps a raw signal number (not validated: the kernel is the judge).
    pub const fn new(raw: i32) -> Sig {
        Sig(raw)
    }

    pub const fn raw(self) -> i32 {
        self.0
    }

    /// SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU: signals that start a group-stop.
    pub fn is_stopping(self) -> bool {
        matches!(self.0, libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU)
    }

    /// Whether this is a realtime signal (SIGRTMIN..=SIGRTMAX).
    pub fn is_realtime(self) -> bool {
        self.0 >= libc::SIGRTMIN() && self.0 <= libc::SIGRTMAX()
    }

    /// `SIGUSR1`, `SIGRTMIN+3` (kernel numbering, as in traces and strace),
    /// or `signal N`: the one signal table in `spawnscope_format::names`.
    pub fn name(self) -> String {
        spawnscope_format::names::signal_label(self.0)
    }
}

impl fmt::Debug for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl fmt::Display for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realtime_signals_have_names() {
        let rt = Sig::new(spawnscope_format::names::SIGRTMIN + 3);
        assert!(Sig::new(libc::SIGRTMIN()).is_realtime());
        assert_eq!(rt.name(), "SIGRTMIN+3");
        assert_eq!(Sig::new(99).name(), "signal 99");
        assert_eq!(Sig::new(libc::SIGUSR1).name(), "SIGUSR1");
        assert!(Sig::SIGSTOP.is_stopping());
        assert!(!Sig::SIGCONT.is_stopping());
    }
}
