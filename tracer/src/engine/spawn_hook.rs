//! The hook at the syscall-entry stop of every clone, clone3, fork and
//! vfork: the one place where work that needs the *calling thread stopped
//! before the call* is done, such as capturing its call stack (issue 10,
//! `crate::stack`). At the call's exit it is too late: a vfork-style child
//! has already run on the parent's stack.
//!
//! Called from [`Engine::spawn_from_args`](super::Engine), i.e.:
//! - seccomp mode: at the seccomp stop (once, also on kernels before 4.8
//!   where a syscall-entry stop follows it);
//! - syscall mode: at the syscall-entry stop;
//! - events mode (no entry stop): at the fork/vfork/clone event stop, where
//!   the child exists but has not run yet.
//!
//! Thread creation (CLONE_THREAD in `spawn.flags`) comes through here too.

use spawnscope_format::SpawnEvent;

use super::{Engine, Setup};
use crate::ptrace::Tid;

/// State kept across calls of [`Engine::on_spawn_entry`] (per recording).
#[derive(Debug, Default)]
pub(crate) struct SpawnHook {}

impl SpawnHook {
    pub(crate) fn new(_setup: &Setup) -> SpawnHook {
        SpawnHook {}
    }
}

impl Engine<'_> {
    /// The thread `tid` is in a ptrace-stop at the entry of the clone-family
    /// syscall `nr` (a native syscall number) with raw arguments `args`;
    /// `spawn` is its record, to be completed at the clone event and exit.
    /// Registers can be read with PTRACE_GETREGS on `tid`; records emitted
    /// here with `self.emit` come before the spawn's own record. `self.hook`
    /// holds the state. Keep it cheap: the tracee waits.
    pub(super) fn on_spawn_entry(&mut self, tid: Tid, nr: u64, args: &[u64; 6], spawn: &mut SpawnEvent) {
        let _ = (&self.hook, tid, nr, args, spawn);
    }
}
