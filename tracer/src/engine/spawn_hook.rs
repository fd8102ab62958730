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
//! Thread creation (CLONE_THREAD in `spawn.flags`) comes through here too;
//! threads are not spawns and get no stack (it would cost thread-heavy
//! programs a walk per thread).

use spawnscope_format::{SpawnEvent, StackCapture};

use super::{Engine, Setup};
use crate::ptrace::Tid;
use crate::stack::{StackStats, Stacks};
use crate::RecordOptions;

/// State kept across calls of [`Engine::on_spawn_entry`] (per recording).
#[derive(Debug, Default)]
pub(crate) struct SpawnHook {
    stacks: Option<Stacks>,
}

impl SpawnHook {
    pub(crate) fn new(_setup: &Setup) -> SpawnHook {
        SpawnHook { stacks: None }
    }

    /// Applies the recording's options (called once, before the first stop).
    pub(crate) fn configure(&mut self, opts: &RecordOptions) {
        self.stacks = stack_setting(opts).map(|s| Stacks::new(s.max_depth as usize));
    }

    pub(crate) fn stats(&self) -> Option<StackStats> {
        self.stacks.as_ref().map(Stacks::stats)
    }
}

/// What the header says about stack capture for these options.
pub(crate) fn stack_setting(opts: &RecordOptions) -> Option<StackCapture> {
    let supported = cfg!(target_arch = "x86_64");
    (opts.stacks && supported).then(|| StackCapture { max_depth: opts.stack_depth.min(u32::MAX as usize) as u32 })
}

impl Engine<'_> {
    /// The thread `tid` is in a ptrace-stop at the entry of the clone-family
    /// syscall `nr` (a native syscall number) with raw arguments `args`;
    /// `spawn` is its record, to be completed at the clone event and exit.
    /// Registers can be read with PTRACE_GETREGS on `tid`; records emitted
    /// here with `self.emit` come before the spawn's own record. `self.hook`
    /// holds the state. Keep it cheap: the tracee waits.
    pub(super) fn on_spawn_entry(&mut self, tid: Tid, _nr: u64, _args: &[u64; 6], spawn: &mut SpawnEvent) {
        if spawn.thread {
            return;
        }
        let Some(stacks) = self.hook.stacks.as_mut() else { return };
        let mut recs = Vec::new();
        spawn.stack_id = Some(stacks.capture(spawn.pid, tid, &mut recs));
        for rec in recs {
            self.emit(rec);
        }
    }

    /// Process `pid` exec'd or ended: its stack unwind state is stale.
    pub(super) fn forget_stacks(&mut self, pid: i32) {
        if let Some(s) = self.hook.stacks.as_mut() {
            s.forget(pid);
        }
    }

    /// At the end of the recording: waits for the symbolizer and writes the
    /// remaining `symbols` records (before the end line).
    pub(super) fn finish_stacks(&mut self) {
        let recs = match self.hook.stacks.as_mut() {
            Some(s) => s.finish(),
            None => return,
        };
        if std::env::var_os("SPAWNSCOPE_STACK_STATS").is_some_and(|v| v == "1") {
            if let Some(st) = self.hook.stats() {
                // For bench/stacks.sh: costs on stderr, never in the trace.
                eprintln!("spawnscope: stacks: {}", st.summary());
            }
        }
        for rec in recs {
            self.emit(rec);
        }
    }
}
