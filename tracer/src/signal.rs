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

    /// `SIGUSR1`, `SIGRTMIN+3`, or the number for an unknown value.
    pub fn name(self) -> String {
        let fixed = match self.0 {
            libc::SIGHUP => "SIGHUP",
            libc::SIGINT => "SIGINT",
            libc::SIGQUIT => "SIGQUIT",
            libc::SIGILL => "SIGILL",
            libc::SIGTRAP => "SIGTRAP",
            libc::SIGABRT => "SIGABRT",
            libc::SIGBUS => "SIGBUS",
            libc::SIGFPE => "SIGFPE",
            libc::SIGKILL => "SIGKILL",
            libc::SIGUSR1 => "SIGUSR1",
            libc::SIGSEGV => "SIGSEGV",
            libc::SIGUSR2 => "SIGUSR2",
            libc::SIGPIPE => "SIGPIPE",
            libc::SIGALRM => "SIGALRM",
            libc::SIGTERM => "SIGTERM",
            libc::SIGCHLD => "SIGCHLD",
            libc::SIGCONT => "SIGCONT",
            libc::SIGSTOP => "SIGSTOP",
            libc::SIGTSTP => "SIGTSTP",
            libc::SIGTTIN => "SIGTTIN",
            libc::SIGTTOU => "SIGTTOU",
            libc::SIGURG => "SIGURG",
            libc::SIGXCPU => "SIGXCPU",
            libc::SIGXFSZ => "SIGXFSZ",
            libc::SIGVTALRM => "SIGVTALRM",
            libc::SIGPROF => "SIGPROF",
            libc::SIGWINCH => "SIGWINCH",
            libc::SIGIO => "SIGIO",
            libc::SIGPWR => "SIGPWR",
            libc::SIGSYS => "SIGSYS",
            _ => "",
        };
        if !fixed.is_empty() {
            fixed.to_string()
        } else if self.is_realtime() {
            format!("SIGRTMIN+{}", self.0 - libc::SIGRTMIN())
        } else {
            format!("signal {}", self.0)
        }
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
        let rt = Sig::new(libc::SIGRTMIN() + 3);
        assert!(rt.is_realtime());
        assert_eq!(rt.name(), "SIGRTMIN+3");
        assert_eq!(Sig::new(libc::SIGUSR1).name(), "SIGUSR1");
        assert!(Sig::SIGSTOP.is_stopping());
        assert!(!Sig::SIGCONT.is_stopping());
    }
}
