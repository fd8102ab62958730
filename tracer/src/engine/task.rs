//! The per-task state machine: where each traced thread is between two
//! stops, what a syscall-stop means for it, and how it must be resumed.
//!
//! This is the pure part of the engine (no ptrace calls), so its transitions
//! can be tested on synthetic stop sequences, including kernel behaviours
//! this machine does not have (the seccomp stop order before Linux 4.8).
//!
//! Phases of a task (`mode` is the tracer mode):
//!
//! ```text
//!            first stop            seccomp stop (recorded syscall)
//!   Born ───────────────▶ Running ─────────────────────────────┐
//!     │ syscall mode:        ▲  │ syscall mode: entry stop      │ kernel < 4.8
//!     │ first syscall stop   │  ▼                               ▼
//!     └── is clone's exit ─▶ │ InSyscall(pending) ◀── entry ── SeccompBeforeEntry(pending)
//!                            │  │ exit stop: record finished
//!                            └──┘ VFORK event ─▶ VforkParent ── VFORK_DONE ─▶ Running
//! ```

use spawnscope_format::{ExecEvent, PipeEvent, SocketpairEvent, SpawnEvent, TracerMode};

use crate::guard::Resume;

/// A syscall seen at entry, waiting for its exit (or its event).
#[derive(Debug)]
pub(crate) enum Pending {
    Spawn(Box<SpawnEvent>),
    Exec(Box<ExecEvent>),
    /// The event and the address of the `int[2]` to read at exit.
    Socketpair(SocketpairEvent, u64),
    Pipe(PipeEvent, u64),
}

/// How the kernel orders the seccomp stop and the syscall-entry stop of a
/// syscall the filter traps (strace calls these "seccomp-before-sysentry"
/// and the normal order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOrder {
    /// Linux 4.8 and later: the seccomp stop comes instead of the
    /// syscall-entry stop (only the exit stop follows).
    SeccompReplacesEntry,
    /// Before Linux 4.8: the seccomp stop comes first and, when the tracee
    /// is resumed with PTRACE_SYSCALL, the syscall-entry stop of the same
    /// syscall follows, then its exit stop.
    SeccompBeforeEntry,
}

/// Environment variable that forces the stop order (tests, or a kernel
/// whose backports make its version number lie): `before-entry` or
/// `replaces-entry`.
pub const STOP_ORDER_VAR: &str = "SPAWNSCOPE_SECCOMP_STOP_ORDER";

impl StopOrder {
    /// The order for a kernel release string such as `4.7.10` or `3.10.0-1160.el7.x86_64`.
    pub fn for_release(release: &str) -> StopOrder {
        let mut nums = release.split(|c: char| !c.is_ascii_digit()).map(|n| n.parse::<u32>().unwrap_or(0));
        let (major, minor) = (nums.next().unwrap_or(0), nums.next().unwrap_or(0));
        if (major, minor) < (4, 8) {
            StopOrder::SeccompBeforeEntry
        } else {
            StopOrder::SeccompReplacesEntry
        }
    }

    /// Decided once at start-up: the variable [`STOP_ORDER_VAR`] if set,
    /// else the running kernel's release. Err names a bad variable value.
    pub fn detect() -> Result<StopOrder, String> {
        match std::env::var(STOP_ORDER_VAR) {
            Ok(v) => StopOrder::from_var(&v),
            Err(_) => {
                let release = nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned());
                Ok(release.map(|r| StopOrder::for_release(&r)).unwrap_or(StopOrder::SeccompReplacesEntry))
            }
        }
    }

    /// The value of [`STOP_ORDER_VAR`].
    pub fn from_var(v: &str) -> Result<StopOrder, String> {
        match v {
            "before-entry" => Ok(StopOrder::SeccompBeforeEntry),
            "replaces-entry" => Ok(StopOrder::SeccompReplacesEntry),
            other => Err(format!("{STOP_ORDER_VAR}={other:?}: expected before-entry or replaces-entry")),
        }
    }
}

/// What the stop itself says about its direction, before the task's phase
/// is consulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// PTRACE_GET_SYSCALL_INFO says entry.
    Entry,
    /// PTRACE_GET_SYSCALL_INFO says exit.
    Exit,
    /// Registers only: on x86_64, whether rax held the entry marker
    /// (-ENOSYS, set at every syscall entry; an exit can hold it too, so it
    /// only settles the ambiguous phases); None on other architectures.
    Marker(Option<bool>),
}

/// The meaning of a syscall-stop for a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallStop {
    /// A new syscall begins: decode its arguments.
    Entry,
    /// The syscall-entry stop that follows a seccomp stop on kernels before
    /// 4.8: the syscall was already decoded at the seccomp stop.
    SeccompEntry,
    /// The syscall returns: finish what is pending.
    Exit,
}

/// Where a task is between two stops.
#[derive(Debug, Default)]
pub(crate) enum Phase {
    /// Created by clone (or attached) and not yet seen at a syscall-stop; in
    /// syscall mode its first syscall-stop is normally the clone's exit.
    #[default]
    Born,
    /// Running outside any syscall we wait for.
    Running,
    /// Seccomp stop seen, syscall-entry stop still to come (kernels < 4.8).
    SeccompBeforeEntry(Option<Pending>),
    /// Between a syscall's entry and its exit stop; what to finish at exit
    /// (None: a syscall we do not record, syscall mode).
    InSyscall(Option<Pending>),
    /// A vfork parent between its VFORK event and VFORK_DONE.
    VforkParent(Box<SpawnEvent>),
}

/// One traced thread.
#[derive(Debug, Default)]
pub(crate) struct Task {
    /// Thread group id; None for a new task that stopped before its
    /// parent's clone event told us what it is (until /proc is asked).
    pub pid: Option<i32>,
    /// Its creation is known: traced from the start, or named by its
    /// creator's clone event. A task that first stopped before that event
    /// is not, until the event comes.
    pub claimed: bool,
    pub phase: Phase,
}

impl Task {
    /// A task whose process is known.
    pub fn of(pid: i32) -> Task {
        Task { pid: Some(pid), claimed: true, phase: Phase::Born }
    }

    /// How to resume this task from any stop, in `mode`.
    pub fn resume(&self, mode: TracerMode) -> Resume {
        match mode {
            TracerMode::Syscall => Resume::Syscall,
            TracerMode::Seccomp => match self.phase {
                Phase::SeccompBeforeEntry(_) | Phase::InSyscall(Some(_)) => Resume::Syscall,
                _ => Resume::Cont,
            },
            _ => Resume::Cont,
        }
    }

    /// A seccomp stop decoded into `pending` (None: nothing to record).
    pub fn at_seccomp(&mut self, order: StopOrder, pending: Option<Pending>) {
        self.phase = match (pending, order) {
            (None, _) => Phase::Running,
            (p, StopOrder::SeccompBeforeEntry) => Phase::SeccompBeforeEntry(p),
            (p, StopOrder::SeccompReplacesEntry) => Phase::InSyscall(p),
        };
    }

    /// What a syscall-stop means, from the hint and the phase. Syscall info
    /// wins over the phase, so a wrong stop-order guess corrects itself; so
    /// does the x86_64 entry marker right after a seccomp stop.
    pub fn classify(&self, mode: TracerMode, hint: Hint) -> SyscallStop {
        match (&self.phase, hint) {
            (Phase::SeccompBeforeEntry(_), Hint::Entry | Hint::Marker(Some(true) | None)) => SyscallStop::SeccompEntry,
            (_, Hint::Entry) => SyscallStop::Entry,
            (_, Hint::Exit) => SyscallStop::Exit,
            // Registers only from here on.
            (Phase::SeccompBeforeEntry(_), Hint::Marker(Some(false))) => SyscallStop::Exit,
            // A new child's first syscall-stop is normally the clone's exit.
            (Phase::Born, Hint::Marker(Some(true))) => SyscallStop::Entry,
            (Phase::Born, _) => SyscallStop::Exit,
            (Phase::Running, _) if mode == TracerMode::Syscall => SyscallStop::Entry,
            // Seccomp mode asks for syscall-stops only to see an exit.
            _ => SyscallStop::Exit,
        }
    }

    /// Applies a syscall-stop: `decoded` is the pending record built for an
    /// [`SyscallStop::Entry`]. Returns what an exit finished.
    pub fn at_syscall_stop(&mut self, stop: SyscallStop, decoded: Option<Pending>) -> Option<Pending> {
        match stop {
            SyscallStop::Entry => {
                self.phase = Phase::InSyscall(decoded);
                None
            }
            SyscallStop::SeccompEntry => {
                if let Phase::SeccompBeforeEntry(p) = std::mem::take(&mut self.phase) {
                    self.phase = Phase::InSyscall(p);
                }
                None
            }
            SyscallStop::Exit => match std::mem::replace(&mut self.phase, Phase::Running) {
                Phase::InSyscall(p) | Phase::SeccompBeforeEntry(p) => p,
                Phase::VforkParent(s) => Some(Pending::Spawn(s)),
                Phase::Born | Phase::Running => None,
            },
        }
    }

    /// The phase after an event stop inside a syscall that does not return
    /// to the tracer as an exit we need (exec, VFORK_DONE): syscall mode
    /// still sees the exit stop and must count it.
    pub fn after_event_in_syscall(&mut self, mode: TracerMode) {
        self.phase = if mode == TracerMode::Syscall { Phase::InSyscall(None) } else { Phase::Running };
    }

    /// Takes the pending record, leaving the phase as it was otherwise.
    pub fn take_pending(&mut self) -> Option<Pending> {
        match &mut self.phase {
            Phase::InSyscall(p) | Phase::SeccompBeforeEntry(p) => p.take(),
            Phase::VforkParent(_) => match std::mem::replace(&mut self.phase, Phase::Running) {
                Phase::VforkParent(s) => Some(Pending::Spawn(s)),
                _ => None,
            },
            Phase::Born | Phase::Running => None,
        }
    }

    /// Puts a pending record back (or in place) without changing direction.
    pub fn set_pending(&mut self, p: Pending) {
        match &mut self.phase {
            Phase::InSyscall(slot) | Phase::SeccompBeforeEntry(slot) => *slot = Some(p),
            _ => self.phase = Phase::InSyscall(Some(p)),
        }
    }

    /// Whatever was pending when the task vanished.
    pub fn into_pending(self) -> Option<Pending> {
        match self.phase {
            Phase::InSyscall(p) | Phase::SeccompBeforeEntry(p) => p,
            Phase::VforkParent(s) => Some(Pending::Spawn(s)),
            Phase::Born | Phase::Running => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spawnscope_format::PipeEvent;

    /// A stand-in for a decoded syscall (the payload does not matter here).
    fn pipe(t: u64) -> Pending {
        Pending::Pipe(PipeEvent { pid: 1, tid: 1, flags: 0, fds: None, result: 0, t }, 0)
    }

    /// One stop of a recorded sequence, as the engine sees it.
    #[derive(Debug, Clone, Copy)]
    enum Stop {
        Seccomp,
        Syscall(Hint),
    }

    /// Runs a stop sequence through the state machine the way the engine
    /// does, returning for each stop what it meant and how the task was
    /// resumed, and for each record finished at an exit stop: (index of the
    /// stop that began it, index of the stop that finished it).
    fn replay(mode: TracerMode, order: StopOrder, stops: &[Stop]) -> (Vec<String>, Vec<(u64, usize)>) {
        let mut task = Task::of(1);
        task.phase = Phase::Running;
        let mut steps = Vec::new();
        let mut finished = Vec::new();
        for (i, s) in stops.iter().enumerate() {
            let what = match *s {
                Stop::Seccomp => {
                    task.at_seccomp(order, Some(pipe(i as u64)));
                    "seccomp".to_string()
                }
                Stop::Syscall(hint) => {
                    let kind = task.classify(mode, hint);
                    let decoded = (kind == SyscallStop::Entry).then(|| pipe(i as u64));
                    if let Some(Pending::Pipe(p, _)) = task.at_syscall_stop(kind, decoded) {
                        finished.push((p.t, i));
                    }
                    format!("{kind:?}")
                }
            };
            steps.push(format!("{what}/{:?}", task.resume(mode)));
        }
        (steps, finished)
    }

    const SECCOMP: TracerMode = TracerMode::Seccomp;

    #[test]
    fn kernel_releases_give_the_stop_order() {
        assert_eq!(StopOrder::for_release("3.10.0-1160.el7.x86_64"), StopOrder::SeccompBeforeEntry);
        assert_eq!(StopOrder::for_release("4.7.10"), StopOrder::SeccompBeforeEntry);
        assert_eq!(StopOrder::for_release("4.8.0"), StopOrder::SeccompReplacesEntry);
        assert_eq!(StopOrder::for_release("6.18.0-1-amd64"), StopOrder::SeccompReplacesEntry);
        assert_eq!(StopOrder::for_release("10.1"), StopOrder::SeccompReplacesEntry);
        assert_eq!(StopOrder::from_var("before-entry"), Ok(StopOrder::SeccompBeforeEntry));
        assert_eq!(StopOrder::from_var("replaces-entry"), Ok(StopOrder::SeccompReplacesEntry));
        let e = StopOrder::from_var("old").unwrap_err();
        assert!(e.contains("SPAWNSCOPE_SECCOMP_STOP_ORDER=\"old\""), "{e}");
    }

    #[test]
    fn seccomp_stop_replaces_entry_from_linux_4_8() {
        // Recorded on 6.18 (no syscall info): seccomp stop, then the exit.
        let seq = [Stop::Seccomp, Stop::Syscall(Hint::Marker(None)), Stop::Seccomp, Stop::Syscall(Hint::Exit)];
        let (steps, finished) = replay(SECCOMP, StopOrder::SeccompReplacesEntry, &seq);
        assert_eq!(steps, ["seccomp/Syscall", "Exit/Cont", "seccomp/Syscall", "Exit/Cont"]);
        assert_eq!(finished, [(0, 1), (2, 3)], "each syscall finished once, at its exit");
    }

    #[test]
    fn seccomp_stop_before_entry_before_linux_4_8() {
        // As a 3.10 kernel reports it: seccomp stop, syscall-entry stop of
        // the same syscall, then its exit stop (no syscall info before 5.3).
        let seq = [
            Stop::Seccomp,
            Stop::Syscall(Hint::Marker(None)),
            Stop::Syscall(Hint::Marker(None)),
            Stop::Seccomp,
            Stop::Syscall(Hint::Entry),
            Stop::Syscall(Hint::Exit),
        ];
        let (steps, finished) = replay(SECCOMP, StopOrder::SeccompBeforeEntry, &seq);
        assert_eq!(
            steps,
            ["seccomp/Syscall", "SeccompEntry/Syscall", "Exit/Cont", "seccomp/Syscall", "SeccompEntry/Syscall", "Exit/Cont"]
        );
        assert_eq!(finished, [(0, 2), (3, 5)], "the entry stop is not taken for the exit");
    }

    #[test]
    fn the_old_order_decoded_as_the_new_one_misreads_the_entry_as_the_exit() {
        // What the engine did before the order was decided (issue 11): on a
        // 3.10 kernel the entry stop after the seccomp stop finished the
        // syscall (with the entry's -ENOSYS as its result) and the real exit
        // stop was then taken for an entry.
        let seq = [Stop::Seccomp, Stop::Syscall(Hint::Marker(None)), Stop::Syscall(Hint::Marker(None))];
        let (_, wrong) = replay(SECCOMP, StopOrder::SeccompReplacesEntry, &seq);
        assert_eq!(wrong, [(0, 1)], "finished at the entry stop");
        let (_, right) = replay(SECCOMP, StopOrder::SeccompBeforeEntry, &seq);
        assert_eq!(right, [(0, 2)], "finished at the exit stop");
    }

    #[test]
    fn a_hint_corrects_a_wrong_order_guess() {
        // Forced to the old order on a new kernel: the stop after the
        // seccomp stop is the exit, and syscall info (or the x86_64 marker)
        // says so.
        let seq = [Stop::Seccomp, Stop::Syscall(Hint::Exit)];
        let (steps, finished) = replay(SECCOMP, StopOrder::SeccompBeforeEntry, &seq);
        assert_eq!(steps, ["seccomp/Syscall", "Exit/Cont"]);
        assert_eq!(finished, [(0, 1)]);
        // Registers on x86_64: no entry marker at the stop after the seccomp stop.
        let seq = [Stop::Seccomp, Stop::Syscall(Hint::Marker(Some(false)))];
        let (_, finished) = replay(SECCOMP, StopOrder::SeccompBeforeEntry, &seq);
        assert_eq!(finished, [(0, 1)]);
    }

    #[test]
    fn syscall_mode_toggles_entry_and_exit() {
        let seq = [Stop::Syscall(Hint::Marker(None)), Stop::Syscall(Hint::Marker(None)), Stop::Syscall(Hint::Marker(None))];
        let (steps, finished) = replay(TracerMode::Syscall, StopOrder::SeccompReplacesEntry, &seq);
        assert_eq!(steps, ["Entry/Syscall", "Exit/Syscall", "Entry/Syscall"]);
        assert_eq!(finished, [(0, 1)]);
        // A new child's first syscall-stop is the clone's exit.
        let t = Task::of(2);
        assert_eq!(t.classify(TracerMode::Syscall, Hint::Marker(None)), SyscallStop::Exit);
        assert_eq!(t.classify(TracerMode::Syscall, Hint::Entry), SyscallStop::Entry);
    }

    #[test]
    fn vfork_parent_waits_without_syscall_stops_in_seccomp_mode() {
        let mut t = Task::of(1);
        t.at_seccomp(StopOrder::SeccompReplacesEntry, Some(pipe(0)));
        assert_eq!(t.resume(SECCOMP), Resume::Syscall);
        let Some(Pending::Pipe(..)) = t.take_pending() else { panic!() };
        t.phase = Phase::VforkParent(Box::new(spawn_stub()));
        assert_eq!(t.resume(SECCOMP), Resume::Cont);
        assert!(matches!(t.take_pending(), Some(Pending::Spawn(_))));
        t.after_event_in_syscall(SECCOMP);
        assert_eq!(t.resume(SECCOMP), Resume::Cont);
        t.after_event_in_syscall(TracerMode::Syscall);
        assert_eq!(t.classify(TracerMode::Syscall, Hint::Marker(None)), SyscallStop::Exit, "the vfork's own exit stop");
    }

    fn spawn_stub() -> SpawnEvent {
        serde_json::from_str(
            r#"{"pid":1,"tid":1,"syscall":"vfork","flags":0,"exit_signal":17,"stack":0,"thread":false,"result":0,"t_event":0}"#,
        )
        .expect("a minimal spawn event")
    }
}
