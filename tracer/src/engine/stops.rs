//! One handler per kind of ptrace-stop. Every known trap has exactly one
//! place: group-stop ([`Engine::on_event`], `Event::Stop`), the seccomp stop
//! order ([`Engine::on_syscall_stop`] with [`task`](super::task)), a new
//! task's first stop before its parent's clone event ([`Engine::claim_child`]
//! and `Engine::on_exit`), exec from a non-leader thread
//! ([`Engine::on_exec_event`]), signals that are not ours ([`Engine::on_stop`]).

use spawnscope_format::*;

use super::build::read_fds;
use super::task::{Hint, Pending, Phase, SyscallStop, Task};
use super::{is_restart, Engine};
use crate::arch::{self, Traced};
use crate::guard::Stopped;
use crate::ptrace::{self, Event, StopKind, SyscallInfo, SyscallOp, Tid};
use crate::signal::Sig;

/// What a syscall-stop holds: the direction hint, and the number and
/// arguments (entry) or the return value (exit) as far as they were read.
struct SyscallRegs {
    hint: Hint,
    nr: u64,
    args: [u64; 6],
    ret: i64,
    arch: u32,
}

impl Engine<'_> {
    pub(super) fn on_stop(&mut self, stop: Stopped) {
        match stop.kind() {
            StopKind::Event { event, sig } => self.on_event(stop, event, sig),
            StopKind::Syscall => {
                self.on_syscall_stop(stop.tid());
                self.resume(stop);
            }
            // Not ours: every signal goes to the tracee unchanged (resume
            // passes on the stop's signal, realtime ones included).
            StopKind::Signal(_) => self.resume(stop),
            // A newer kernel's event: nothing to record, nothing to inject.
            StopKind::UnknownEvent { .. } => self.resume(stop),
        }
    }

    fn on_event(&mut self, stop: Stopped, event: Event, sig: Sig) {
        let tid = stop.tid();
        match event {
            Event::Stop if sig.is_stopping() => {
                // Group-stop: stay stopped, but let us see SIGCONT.
                let _ = stop.listen();
                return;
            }
            // A new task's first stop, an interrupt, or the end of a listen.
            Event::Stop => {}
            Event::Seccomp => self.on_seccomp(tid),
            Event::Fork | Event::Vfork | Event::Clone => self.on_clone_event(tid, event),
            Event::VforkDone => self.on_vfork_done(tid),
            Event::Exec => self.on_exec_event(tid),
            // Not requested (no PTRACE_O_TRACEEXIT).
            Event::Exit => {}
        }
        self.resume(stop);
    }

    /// Whether `(arch, nr)` is a syscall ABI we do not decode; reported once
    /// per process.
    fn foreign(&mut self, tid: Tid, arch: u32, nr: u64) -> bool {
        let Some(abi) = arch::foreign_abi(arch, nr) else { return false };
        let pid = self.pid_of(tid);
        if self.foreign.insert(pid) {
            let msg = format!(
                "process {pid} uses the {abi} syscall ABI, which spawnscope does not decode: \
                 its spawns and exec attempts are not recorded"
            );
            self.warn(Some(pid), msg);
        }
        true
    }

    /// A seccomp stop: a recorded syscall begins.
    fn on_seccomp(&mut self, tid: Tid) {
        let entry = if self.setup.use_info {
            match ptrace::get_syscall_info(tid) {
                Ok(SyscallInfo { op: SyscallOp::Seccomp { nr, args } | SyscallOp::Entry { nr, args }, arch }) => {
                    Some((nr, args, arch))
                }
                _ => None,
            }
        } else {
            ptrace::get_regs(tid).ok().map(|r| (r.nr, r.args, r.arch))
        };
        let pending = match entry {
            Some((nr, args, arch)) if !self.foreign(tid, arch, nr) => self.decode_entry(tid, nr, &args),
            _ => None,
        };
        let order = self.setup.order;
        self.task(tid).at_seccomp(order, pending);
    }

    /// Reads what a syscall-stop holds.
    fn syscall_regs(&mut self, tid: Tid) -> Option<SyscallRegs> {
        if self.setup.use_info {
            let info = ptrace::get_syscall_info(tid).ok()?;
            return match info.op {
                SyscallOp::Entry { nr, args } => Some(SyscallRegs { hint: Hint::Entry, nr, args, ret: 0, arch: info.arch }),
                SyscallOp::Exit { rval, .. } => {
                    Some(SyscallRegs { hint: Hint::Exit, nr: 0, args: [0; 6], ret: rval, arch: info.arch })
                }
                SyscallOp::Seccomp { .. } | SyscallOp::None => None,
            };
        }
        let r = ptrace::get_regs(tid).ok()?;
        // On x86_64 the entry code sets rax to -ENOSYS before the entry stop.
        let marker = cfg!(target_arch = "x86_64").then_some(r.ret == arch::ENTRY_MARKER);
        Some(SyscallRegs { hint: Hint::Marker(marker), nr: r.nr, args: r.args, ret: r.ret, arch: r.arch })
    }

    /// A syscall-stop: an entry, the entry after a seccomp stop (kernels
    /// before 4.8), or an exit; the task's phase decides what the stop
    /// itself cannot say.
    pub(super) fn on_syscall_stop(&mut self, tid: Tid) {
        let Some(regs) = self.syscall_regs(tid) else { return };
        let mode = self.mode();
        let kind = self.task(tid).classify(mode, regs.hint);
        let decoded = match kind {
            SyscallStop::Entry if !self.foreign(tid, regs.arch, regs.nr) => self.decode_entry(tid, regs.nr, &regs.args),
            _ => None,
        };
        let finished = self.task(tid).at_syscall_stop(kind, decoded);
        if kind == SyscallStop::Exit {
            if let Some(p) = finished {
                self.finish_syscall(tid, p, regs.ret);
            }
        }
    }

    /// A recorded syscall starts: what it was called with.
    fn decode_entry(&mut self, tid: Tid, nr: u64, args: &[u64; 6]) -> Option<Pending> {
        let traced = arch::classify(nr)?;
        let t = self.now();
        let pid = self.pid_of(tid);
        Some(match traced {
            Traced::Clone(sys) => Pending::Spawn(Box::new(self.spawn_from_args(tid, pid, sys, nr, args, Some(t)))),
            Traced::Exec(sys) => match self.exec_from_args(tid, pid, sys, args, t) {
                Some(e) => Pending::Exec(Box::new(e)),
                None => {
                    let msg = format!("task {tid} ended while its exec arguments were being read; attempt not recorded");
                    self.warn(Some(pid), msg);
                    return None;
                }
            },
            Traced::Socketpair => Pending::Socketpair(
                SocketpairEvent {
                    pid,
                    tid,
                    domain: args[0] as i32,
                    socket_type: args[1] as i32,
                    protocol: args[2] as i32,
                    fds: None,
                    result: 0,
                    t,
                },
                args[3],
            ),
            Traced::Pipe { two } => Pending::Pipe(
                PipeEvent { pid, tid, flags: if two { args[1] as i32 } else { 0 }, fds: None, result: 0, t },
                args[0],
            ),
        })
    }

    /// A fork/vfork/clone event: the child exists.
    fn on_clone_event(&mut self, tid: Tid, event: Event) {
        let t = self.now();
        let Ok(child) = ptrace::get_event_msg(tid) else { return };
        let child = child as Tid;
        let pid = self.pid_of(tid);
        let spawn = match self.task(tid).take_pending() {
            Some(Pending::Spawn(s)) => Some(*s),
            other => {
                // events mode (or an entry we did not see): the registers
                // still hold the arguments at the event stop.
                if let Some(o) = other {
                    self.task(tid).set_pending(o);
                }
                self.spawn_from_regs(tid, pid)
            }
        };
        let Some(mut spawn) = spawn else {
            // Not decodable (a foreign ABI): still follow the child.
            let child_pid = crate::procfs::status(child).and_then(|s| s.tgid).unwrap_or(child);
            self.claim_child(child, child_pid, child_pid != child);
            return;
        };
        spawn.child = Some(child);
        spawn.t_event = t;
        spawn.ptrace_event = Some(match event {
            Event::Fork => PtraceEvent::Fork,
            Event::Vfork => PtraceEvent::Vfork,
            _ => PtraceEvent::Clone,
        });
        let child_pid = if spawn.thread { pid } else { child };
        self.claim_child(child, child_pid, spawn.thread);
        if event == Event::Vfork {
            // The parent runs again at VFORK_DONE.
            self.task(tid).phase = Phase::VforkParent(Box::new(spawn));
        } else if self.mode() == TracerMode::Events {
            self.emit(Record::Spawn(spawn));
        } else {
            // Finished at the syscall's exit stop.
            self.task(tid).set_pending(Pending::Spawn(Box::new(spawn)));
        }
    }

    /// The parent's clone event names a new task: its process, and whether
    /// it is a thread. A task that already ended (its first stop and its exit
    /// both beat this event) is not alive: it is neither counted nor
    /// re-inserted; its held exit is attributed and written after the spawn.
    /// This and `Engine::on_exit` are the one place of that trap.
    fn claim_child(&mut self, child: Tid, child_pid: i32, thread: bool) {
        if let Some(mut exit) = self.unclaimed_exits.remove(&child) {
            exit.pid = child_pid;
            exit.thread = thread;
            self.claimed_exits.insert(child, exit);
            return;
        }
        let task = self.tasks.entry(child).or_default();
        task.pid = Some(child_pid);
        task.claimed = true;
        *self.threads.entry(child_pid).or_default() += 1;
        self.unreported.insert(child);
    }

    /// PTRACE_EVENT_VFORK_DONE: the vfork parent runs again.
    fn on_vfork_done(&mut self, tid: Tid) {
        let mode = self.mode();
        let task = self.task(tid);
        let pending = match std::mem::take(&mut task.phase) {
            Phase::VforkParent(s) => Some(s),
            other => {
                task.phase = other;
                None
            }
        };
        if let Some(mut s) = pending {
            self.task(tid).after_event_in_syscall(mode);
            s.t_resume = Some(self.now());
            self.emit(Record::Spawn(*s));
        }
    }

    /// A successful exec: PTRACE_EVENT_EXEC, reported under the process id
    /// even when a non-leader thread called exec (its old tid is the event
    /// message; that thread takes over the leader's id).
    fn on_exec_event(&mut self, tid: Tid) {
        let t = self.now();
        self.forget_stacks(tid);
        let former = ptrace::get_event_msg(tid).map(|m| m as i32).unwrap_or(tid);
        if former != tid {
            // The old leader's exit is never reported and the former tid
            // vanishes: move the exec'ing thread's state to the leader's id.
            if let Some(ft) = self.tasks.remove(&former) {
                if let Some(old) = self.tasks.insert(tid, ft) {
                    self.flush_pending(tid, old);
                }
            }
            if let Some(n) = self.threads.get_mut(&tid) {
                *n = n.saturating_sub(1);
            }
        }
        let mode = self.mode();
        let task = self.task(tid);
        task.pid = Some(tid);
        let pending = task.take_pending();
        task.after_event_in_syscall(mode);
        let ev = match pending {
            Some(Pending::Exec(mut e)) => {
                e.pid = tid;
                e.tid = former;
                e.result = 0;
                e.t_exit = t;
                Some(*e)
            }
            other => {
                if let Some(o) = other {
                    self.flush_pending(tid, Task { pid: Some(tid), claimed: true, phase: Phase::InSyscall(Some(o)) });
                }
                self.exec_from_proc(tid, former, t)
            }
        };
        if let Some(e) = ev {
            self.emit(Record::Exec(e));
        }
    }

    /// A syscall-exit stop: finish the pending record.
    fn finish_syscall(&mut self, tid: Tid, pending: Pending, ret: i64) {
        if is_restart(ret) {
            // It stops at entry (or seccomp) again and is decoded then.
            return;
        }
        let t = self.now();
        let err = if (-4095..0).contains(&ret) { (-ret) as i32 } else { 0 };
        match pending {
            Pending::Spawn(mut s) => {
                s.t_resume = Some(t);
                if err != 0 {
                    s.result = err;
                    s.child = None;
                } else if s.child.is_none() {
                    s.child = Some(ret as i32);
                }
                self.emit(Record::Spawn(*s));
            }
            Pending::Exec(mut e) => {
                e.result = err;
                e.t_exit = t;
                self.emit(Record::Exec(*e));
            }
            Pending::Socketpair(mut s, at) => {
                s.result = err;
                if err == 0 {
                    s.fds = read_fds(tid, at);
                }
                self.emit(Record::Socketpair(s));
            }
            Pending::Pipe(mut p, at) => {
                p.result = err;
                if err == 0 {
                    p.fds = read_fds(tid, at);
                }
                self.emit(Record::Pipe(p));
            }
        }
    }

    /// A task vanished with a syscall in flight (killed, or replaced by a
    /// non-leader exec): a spawn whose child exists is still a spawn (the
    /// parent never ran again: no t_resume); an unfinished exec attempt is
    /// reported as a warning.
    pub(super) fn flush_pending(&mut self, tid: Tid, task: Task) {
        let pid = task.pid;
        match task.into_pending() {
            Some(Pending::Spawn(s)) if s.child.is_some() => self.emit(Record::Spawn(*s)),
            Some(Pending::Exec(e)) => {
                let msg = format!("task {tid} ended during exec of {:?}; result unknown", e.path);
                self.warn(pid, msg);
            }
            _ => {}
        }
    }
}
