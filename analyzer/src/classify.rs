//! Spawn style and code path from the raw facts of a `spawn` event.
//!
//! The rules follow the kernel (`kernel/fork.c`, `kernel_clone`: which ptrace
//! event a clone reports) and the fingerprints of the libraries that spawn:
//! glibc `__spawni` (`sysdeps/unix/sysv/linux/spawni.c`: CLONE_VM|CLONE_VFORK
//! on its own mmap'd stack, via clone3 on glibc >= 2.34), glibc `fork()`
//! (`arch_fork`: CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD, no stack),
//! Go's `forkExec` (raw clone(CLONE_VM|CLONE_VFORK|SIGCHLD) with a NULL stack),
//! Rust std `Command::spawn` when it cannot use posix_spawn
//! (`library/std/src/sys/process/unix/unix.rs`: socketpair(AF_UNIX,
//! SOCK_SEQPACKET|SOCK_CLOEXEC), then `fork()`).

use spawnscope_format::flags::{AF_UNIX, CLONE_THREAD, CLONE_VFORK, CLONE_VM, SOCK_CLOEXEC, SOCK_SEQPACKET, SOCK_TYPE_MASK};
use spawnscope_format::{CloneSyscall, PtraceEvent, SocketpairEvent, SpawnEvent};

use crate::model::{CodePath, SpawnStyle};

const SIGCHLD: u32 = 17;
const CLONE_PIDFD: u64 = 0x1000;
const CLONE_PARENT_SETTID: u64 = 0x0010_0000;
const CLONE_CHILD_CLEARTID: u64 = 0x0020_0000;
const CLONE_CHILD_SETTID: u64 = 0x0100_0000;
const CLONE_UNTRACED: u64 = 0x0080_0000;

/// Style from the flags alone (the kernel's ptrace event is checked separately).
pub fn style_of(flags: u64) -> SpawnStyle {
    match (flags & CLONE_VM != 0, flags & CLONE_VFORK != 0) {
        (false, _) => SpawnStyle::Fork,
        (true, true) => SpawnStyle::Vfork,
        (true, false) => SpawnStyle::Vm,
    }
}

/// The ptrace event the kernel reports for these flags (`kernel_clone`):
/// VFORK for CLONE_VFORK, else FORK when the exit signal is SIGCHLD, else CLONE.
pub fn expected_event(flags: u64, exit_signal: u32) -> Option<PtraceEvent> {
    if flags & CLONE_UNTRACED != 0 {
        return None;
    }
    Some(if flags & CLONE_VFORK != 0 {
        PtraceEvent::Vfork
    } else if exit_signal != SIGCHLD {
        PtraceEvent::Clone
    } else {
        PtraceEvent::Fork
    })
}

/// Whether the recorded ptrace event contradicts the flags.
pub fn style_mismatch(ev: &SpawnEvent) -> bool {
    match (ev.ptrace_event, expected_event(ev.flags, ev.exit_signal)) {
        (Some(seen), Some(expected)) => seen != expected,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Whether a socketpair is the one Rust std opens right before its fork fallback.
pub fn is_rust_fallback_socketpair(sp: &SocketpairEvent) -> bool {
    sp.result == 0
        && sp.domain == AF_UNIX
        && sp.socket_type & SOCK_TYPE_MASK == SOCK_SEQPACKET
        && sp.socket_type & SOCK_CLOEXEC != 0
        && sp.protocol == 0
}

/// Whether this is a thread rather than a spawn.
pub fn is_thread(ev: &SpawnEvent) -> bool {
    ev.thread || ev.flags & CLONE_THREAD != 0
}

/// What the fork-style part of the code path still depends on: whether the
/// child execs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasePath {
    /// Decided from the spawn event alone.
    Known(CodePath),
    /// A plain fork: `ForkExec` if the child execs, `ForkNoExec` if it never does.
    PlainFork,
}

/// Code path from the spawn event and whether the Rust socketpair preceded it.
pub fn base_path(ev: &SpawnEvent, socketpair: bool) -> BasePath {
    let style = style_of(ev.flags);
    match style {
        SpawnStyle::Vfork => {
            if socketpair {
                return BasePath::Known(CodePath::Unknown);
            }
            BasePath::Known(match ev.syscall {
                CloneSyscall::Vfork => CodePath::VforkSyscall,
                CloneSyscall::Clone | CloneSyscall::Clone3 if ev.stack != 0 => CodePath::GlibcPosixSpawn,
                CloneSyscall::Clone => CodePath::CloneVforkNoStack,
                _ => CodePath::Unknown,
            })
        }
        SpawnStyle::Vm => BasePath::Known(CodePath::Unknown),
        SpawnStyle::Fork => {
            if !plain_fork(ev) {
                BasePath::Known(CodePath::Unknown)
            } else if socketpair {
                BasePath::Known(CodePath::RustStdForkFallback)
            } else {
                BasePath::PlainFork
            }
        }
    }
}

/// fork(2), or a clone/clone3 that does what glibc's and musl's fork() do:
/// no stack, SIGCHLD, and no flags beyond the tid/pidfd bookkeeping ones
/// (a namespace or CLONE_FILES clone is something else: unknown).
fn plain_fork(ev: &SpawnEvent) -> bool {
    const BOOKKEEPING: u64 = CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_PARENT_SETTID | CLONE_PIDFD;
    match ev.syscall {
        CloneSyscall::Fork => true,
        CloneSyscall::Vfork => false,
        CloneSyscall::Clone | CloneSyscall::Clone3 => ev.stack == 0 && ev.exit_signal == SIGCHLD && ev.flags & !BOOKKEEPING == 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(syscall: CloneSyscall, flags: u64, stack: u64) -> SpawnEvent {
        SpawnEvent {
            pid: 1,
            tid: 1,
            child: Some(2),
            syscall,
            flags,
            exit_signal: SIGCHLD,
            stack,
            clone_args: None,
            ptrace_event: None,
            thread: false,
            result: 0,
            t_entry: Some(0),
            t_event: 1,
            t_resume: Some(2),
            parent_mem: None,
            parent_threads: None,
            stack_id: None,
        }
    }

    #[test]
    fn fingerprints() {
        let vmvf = CLONE_VM | CLONE_VFORK;
        let glibc_fork = CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;
        let k = BasePath::Known;
        assert_eq!(base_path(&ev(CloneSyscall::Clone3, vmvf, 0x7f00), false), k(CodePath::GlibcPosixSpawn));
        assert_eq!(base_path(&ev(CloneSyscall::Clone, vmvf, 0x7f00), false), k(CodePath::GlibcPosixSpawn));
        assert_eq!(base_path(&ev(CloneSyscall::Clone, vmvf, 0), false), k(CodePath::CloneVforkNoStack));
        assert_eq!(base_path(&ev(CloneSyscall::Vfork, vmvf, 0), false), k(CodePath::VforkSyscall));
        assert_eq!(base_path(&ev(CloneSyscall::Clone, glibc_fork, 0), false), BasePath::PlainFork);
        assert_eq!(base_path(&ev(CloneSyscall::Fork, 0, 0), false), BasePath::PlainFork);
        assert_eq!(base_path(&ev(CloneSyscall::Clone, glibc_fork, 0), true), k(CodePath::RustStdForkFallback));
        // A vfork-style clone after the socketpair is not the Rust fallback, and
        // not a clean posix_spawn either: unknown.
        assert_eq!(base_path(&ev(CloneSyscall::Clone3, vmvf, 0x7f00), true), k(CodePath::Unknown));
        // Namespaces: not a plain fork.
        assert_eq!(base_path(&ev(CloneSyscall::Clone, 0x2000_0000, 0), false), k(CodePath::Unknown));
        // CLONE_VM without CLONE_VFORK.
        assert_eq!(base_path(&ev(CloneSyscall::Clone, CLONE_VM, 0x7f00), false), k(CodePath::Unknown));
    }

    #[test]
    fn events_and_mismatch() {
        assert_eq!(expected_event(CLONE_VM | CLONE_VFORK, SIGCHLD), Some(PtraceEvent::Vfork));
        assert_eq!(expected_event(0, SIGCHLD), Some(PtraceEvent::Fork));
        assert_eq!(expected_event(CLONE_VM, 0), Some(PtraceEvent::Clone));
        let mut e = ev(CloneSyscall::Clone, 0, 0);
        e.ptrace_event = Some(PtraceEvent::Fork);
        assert!(!style_mismatch(&e));
        e.ptrace_event = Some(PtraceEvent::Vfork);
        assert!(style_mismatch(&e));
        e.ptrace_event = None;
        assert!(!style_mismatch(&e));
    }
}
