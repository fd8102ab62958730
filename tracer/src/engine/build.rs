//! Building records from syscall arguments (syscall-entry stops) and, in
//! `events` mode, from registers and /proc at event stops.

use nix::errno::Errno;
use spawnscope_format::flags::{CLONE_THREAD, CLONE_VM};
use spawnscope_format::*;

use super::Engine;
use crate::arch::{self, Traced};
use crate::mem::MemReader;
use crate::procfs;
use crate::ptrace::{self, Tid};

impl Engine<'_> {
    /// The spawn record of a clone-family call, from its arguments, while
    /// the calling thread is stopped at the call's entry (events mode: at
    /// its clone event, before the child has run). Calls
    /// [`Engine::on_spawn_entry`].
    pub(super) fn spawn_from_args(
        &mut self,
        tid: Tid,
        pid: i32,
        sys: CloneSyscall,
        nr: u64,
        args: &[u64; 6],
        t_entry: Option<Nanos>,
    ) -> SpawnEvent {
        let (mut flags, mut exit_signal, mut stack) = arch::clone_args_from_regs(sys, args);
        let mut clone_args = None;
        if sys == CloneSyscall::Clone3 {
            let ca = read_clone_args(tid, args[0], args[1]);
            if let Some(ca) = &ca {
                flags = ca.flags & !flags::CSIGNAL;
                exit_signal = ca.exit_signal as u32;
                stack = ca.stack;
            }
            clone_args = ca;
        }
        let parent_mem = if flags & CLONE_VM == 0 { procfs::status(tid).map(|s| s.mem) } else { None };
        let mut spawn = SpawnEvent {
            pid,
            tid,
            child: None,
            syscall: sys,
            flags,
            exit_signal,
            stack,
            clone_args,
            ptrace_event: None,
            thread: flags & CLONE_THREAD != 0,
            result: 0,
            t_entry,
            t_event: 0,
            t_resume: None,
            parent_mem,
            parent_threads: self.threads.get(&pid).copied(),
            stack_id: None,
        };
        self.on_spawn_entry(tid, nr, args, &mut spawn);
        spawn
    }

    pub(super) fn exec_from_args(
        &mut self,
        tid: Tid,
        pid: i32,
        sys: ExecSyscall,
        args: &[u64; 6],
        t: Nanos,
    ) -> Option<ExecEvent> {
        let (path_at, argv_at, envp_at) = match sys {
            ExecSyscall::Execve => (args[0], args[1], args[2]),
            ExecSyscall::Execveat => (args[1], args[2], args[3]),
        };
        let mut mem = MemReader::new(tid);
        let gone = |e: &Errno| *e == Errno::ESRCH;
        let path = match mem.read_cstring(path_at, MAX_STRING) {
            Ok(s) => String::from_utf8_lossy(&s.bytes).into_owned(),
            Err(e) if gone(&e) => return None,
            Err(_) => String::new(),
        };
        let (argv, argv_truncated) = match mem.read_argv(argv_at) {
            Ok(a) => a,
            Err(e) if gone(&e) => return None,
            Err(_) => (Vec::new(), true),
        };
        let (env, env_values) = match mem.read_env(envp_at, self.setup.capture_env) {
            Ok(x) => x,
            Err(e) if gone(&e) => return None,
            Err(_) => (EnvSummary::new(), None),
        };
        let at = sys == ExecSyscall::Execveat;
        Some(ExecEvent {
            pid,
            tid,
            syscall: sys,
            path,
            dirfd: at.then_some(args[0] as i32),
            at_flags: at.then_some(args[4] as u32),
            argv,
            argv_truncated,
            env_count: env.count,
            env_bytes: env.bytes,
            env_hash: self.privacy.env_hash(&env),
            env: env_values,
            result: 0,
            t_entry: Some(t),
            t_exit: 0,
        })
    }

    /// events mode (or an entry not seen): the spawn from the registers at
    /// the clone event stop, which still hold the call's number and arguments.
    pub(super) fn spawn_from_regs(&mut self, tid: Tid, pid: i32) -> Option<SpawnEvent> {
        let regs = ptrace::get_regs(tid).ok()?;
        if arch::foreign_abi(regs.arch, regs.nr).is_some() {
            return None;
        }
        let Some(Traced::Clone(sys)) = arch::classify(regs.nr) else { return None };
        Some(self.spawn_from_args(tid, pid, sys, regs.nr, &regs.args, None))
    }

    /// events mode: what the exec'd process was given, from /proc and its
    /// auxiliary vector (AT_EXECFN points at the path passed to exec).
    pub(super) fn exec_from_proc(&mut self, pid: i32, tid: Tid, t: Nanos) -> Option<ExecEvent> {
        let native = |r: &ptrace::Regs| arch::foreign_abi(r.arch, r.nr).is_none();
        let syscall = match ptrace::get_regs(pid).ok().filter(native).and_then(|r| arch::classify(r.nr)) {
            Some(Traced::Exec(s)) => s,
            _ => ExecSyscall::Execve,
        };
        let path = procfs::auxv_execfn(pid)
            .and_then(|a| MemReader::new(pid).read_cstring(a, MAX_STRING).ok())
            .map(|s| String::from_utf8_lossy(&s.bytes).into_owned())
            .unwrap_or_default();
        let (argv, argv_truncated) = procfs::cmdline(pid).unwrap_or_default();
        let (env, values) = procfs::environ(pid, self.setup.capture_env).unwrap_or_default();
        Some(ExecEvent {
            pid,
            tid,
            syscall,
            path,
            dirfd: None,
            at_flags: None,
            argv,
            argv_truncated,
            env_count: env.count,
            env_bytes: env.bytes,
            env_hash: self.privacy.env_hash(&env),
            env: values,
            result: 0,
            t_entry: None,
            t_exit: t,
        })
    }
}

/// Reads `struct clone_args`: min(size, what we know) bytes.
pub(super) fn read_clone_args(tid: Tid, addr: u64, size: u64) -> Option<CloneArgs> {
    const KNOWN: u64 = 88; // CLONE_ARGS_SIZE_VER2
    let n = size.min(KNOWN) as usize;
    if n < 64 {
        // Smaller than CLONE_ARGS_SIZE_VER0: the kernel rejects it.
        return None;
    }
    let raw = MemReader::new(tid).read_vec(addr, n).ok()?;
    let w = |i: usize| raw.get(i * 8..i * 8 + 8).map(|b| u64::from_ne_bytes(b.try_into().unwrap_or([0; 8])));
    Some(CloneArgs {
        flags: w(0)?,
        pidfd: w(1)?,
        child_tid: w(2)?,
        parent_tid: w(3)?,
        exit_signal: w(4)?,
        stack: w(5)?,
        stack_size: w(6)?,
        tls: w(7)?,
        set_tid: w(8),
        set_tid_size: w(9),
        cgroup: w(10),
        size,
    })
}

/// Reads the `int[2]` a successful pipe/socketpair wrote.
pub(super) fn read_fds(tid: Tid, addr: u64) -> Option<[i32; 2]> {
    let b = MemReader::new(tid).read_bytes::<8>(addr).ok()?;
    Some([i32::from_ne_bytes([b[0], b[1], b[2], b[3]]), i32::from_ne_bytes([b[4], b[5], b[6], b[7]])])
}
