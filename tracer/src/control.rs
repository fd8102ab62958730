//! [`Control`]: requests to a running recording from other threads or
//! from signal handlers.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;

/// A handle for requests to a running recording from another thread or a
/// signal handler (all methods are async-signal-safe atomic stores). The
/// recording thread acts on a request after its next stop or when its wait
/// is interrupted by a signal (EINTR).
///
/// # Process-wide effects
///
/// - **SIGURG**: to interrupt the recording thread's `waitpid` when a
///   request comes from another thread, [`crate::record`] given a `Control`
///   installs a no-op SIGURG handler (without SA_RESTART) the first time,
///   *if SIGURG still has its default disposition* (whose action is to
///   ignore it, so a stray one stays harmless), and the request is sent as
///   SIGURG to that thread with `tgkill`. A program that has its own SIGURG
///   handler keeps it; requests then wait for the recording's next stop.
/// - [`Control::install_signal_handlers`] takes over SIGINT, SIGQUIT,
///   SIGTERM and SIGHUP for the whole process, for one `Control` only: a
///   second, different `Control` panics there instead of being ignored.
/// - One recording at a time per `Control`: [`crate::record`] fails with
///   [`crate::TraceError::ControlInUse`] if the handle is already bound to a
///   running recording.
///
/// # Detach and the seccomp filter
///
/// [`Control::request_detach`] detaches from tracees without the seccomp
/// filter (attached recordings, `syscall` and `events` modes): they run on.
/// Tracees of a `seccomp` recording carry the filter, under which every
/// spawn and exec fails with ENOSYS once no tracer is attached; they are
/// ended instead (SIGTERM, then SIGKILL after 2 s), and the trace and stderr
/// say so (see `Outcome::ended`).
#[derive(Debug, Clone, Default)]
pub struct Control {
    inner: Arc<ControlInner>,
}

#[derive(Debug, Default)]
struct ControlInner {
    forward: AtomicI32,
    detach: AtomicBool,
    interrupted: AtomicBool,
    /// Thread id of the recording thread while `record` runs, else 0.
    tracer_tid: AtomicI32,
}

/// Signal used to interrupt the recording thread's waitpid (EINTR) when a
/// request comes from another thread (see "Process-wide effects" above).
const WAKE_SIGNAL: libc::c_int = libc::SIGURG;

extern "C" fn on_wake(_sig: libc::c_int) {}

/// Installs the no-op wake handler once, unless the program has its own.
fn install_wake_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: querying, then installing a valid handler with an empty mask.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(WAKE_SIGNAL, std::ptr::null(), &mut old) != 0 || old.sa_sigaction != libc::SIG_DFL {
                return;
            }
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_wake as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(WAKE_SIGNAL, &sa, std::ptr::null_mut());
        }
    });
}

impl Control {
    pub fn new() -> Control {
        Control::default()
    }

    /// Send `sig` to the root process (e.g. a SIGTERM the tracer received,
    /// or SIGKILL from a UI's "kill" key).
    pub fn forward_signal(&self, sig: i32) {
        self.inner.forward.store(sig, Ordering::SeqCst);
        self.wake();
    }

    /// Detach from every tracee, leaving them running, and finish.
    pub fn request_detach(&self) {
        self.inner.detach.store(true, Ordering::SeqCst);
        self.wake();
    }

    /// Interrupts the recording thread's wait so it sees a request now,
    /// even when no tracee is doing anything. Async-signal-safe.
    fn wake(&self) {
        let tid = self.inner.tracer_tid.load(Ordering::SeqCst);
        if tid != 0 {
            // SAFETY: tgkill to a thread of our own process.
            unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, WAKE_SIGNAL) };
        }
    }

    /// Called by the recording thread when it starts: false if this handle
    /// already belongs to a running recording.
    pub(crate) fn bind(&self) -> bool {
        install_wake_handler();
        let tid = nix::unistd::gettid().as_raw();
        self.inner.tracer_tid.compare_exchange(0, tid, Ordering::SeqCst, Ordering::SeqCst).is_ok()
    }

    /// Called by the recording thread when it ends.
    pub(crate) fn unbind(&self) {
        self.inner.tracer_tid.store(0, Ordering::SeqCst);
    }

    /// For command-line tools: catch SIGINT, SIGQUIT, SIGTERM and SIGHUP
    /// (unless they are ignored: a target started from `nohup` must inherit
    /// that) and turn them into requests on this handle. With `attached`,
    /// any of them requests a detach; otherwise SIGTERM and SIGHUP are
    /// forwarded to the target, while SIGINT and SIGQUIT, which the terminal
    /// already delivered to the target's process group, only mark the
    /// recording as interrupted (see [`Control::interrupt`]).
    /// Handlers are installed without SA_RESTART, so the recording thread's
    /// waitpid is interrupted and sees the request.
    ///
    /// # Panics
    ///
    /// If the handlers were already installed for a different `Control`
    /// (they are process-wide: the second would silently never be told).
    /// Calling it again on the same handle (or a clone) is fine.
    pub fn install_signal_handlers(&self, attached: bool) {
        let (first, _) = SIGNAL_CONTROL.get_or_init(|| (self.clone(), attached));
        assert!(
            Arc::ptr_eq(&first.inner, &self.inner),
            "spawnscope_tracer::Control::install_signal_handlers: the process-wide handlers already \
             belong to another Control; use that one (or a clone of it)"
        );
        for sig in [libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: querying and setting a disposition with valid sigactions.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, std::ptr::null(), &mut old) != 0 || old.sa_sigaction == libc::SIG_IGN {
                    continue;
                }
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
    }

    /// The user interrupted (Ctrl-C) after the target itself had exited:
    /// the recording stops following whatever it left running (a daemon):
    /// detached if it runs without the seccomp filter, else ended (see
    /// "Detach and the seccomp filter" above) instead of being waited for.
    /// (An interrupt while the target still runs is the target's business:
    /// it got the same Ctrl-C.)
    pub fn interrupt(&self) {
        self.inner.interrupted.store(true, Ordering::SeqCst);
    }

    pub(crate) fn interrupted(&self) -> bool {
        self.inner.interrupted.load(Ordering::SeqCst)
    }

    pub(crate) fn clear_interrupt(&self) {
        self.inner.interrupted.store(false, Ordering::SeqCst);
    }

    pub(crate) fn take_forward(&self) -> Option<i32> {
        match self.inner.forward.swap(0, Ordering::SeqCst) {
            0 => None,
            s => Some(s),
        }
    }

    pub(crate) fn detach_requested(&self) -> bool {
        self.inner.detach.load(Ordering::SeqCst)
    }
}

static SIGNAL_CONTROL: std::sync::OnceLock<(Control, bool)> = std::sync::OnceLock::new();

extern "C" fn on_signal(sig: libc::c_int) {
    // Only atomic loads and stores: async-signal-safe.
    if let Some((c, attached)) = SIGNAL_CONTROL.get() {
        if *attached {
            c.request_detach();
        } else if sig != libc::SIGINT && sig != libc::SIGQUIT {
            c.forward_signal(sig);
        } else {
            c.interrupt();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_control_for_the_signal_handlers_fails_loudly() {
        let a = Control::new();
        a.install_signal_handlers(false);
        a.clone().install_signal_handlers(false);
        let b = Control::new();
        let r = std::panic::catch_unwind(|| b.install_signal_handlers(false));
        assert!(r.is_err(), "a second Control must not be ignored");
    }

    #[test]
    fn one_recording_per_control() {
        let c = Control::new();
        assert!(c.bind());
        assert!(!c.clone().bind(), "already bound");
        c.unbind();
        assert!(c.bind());
        c.unbind();
    }
}
