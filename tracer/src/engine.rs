//! The stop loop: waits for ptrace-stops of every traced task, turns them
//! into records and resumes each tracee exactly once.
//!
//! Stops per spawn in seccomp mode (the hot path, a posix_spawn):
//! parent: seccomp stop at clone3 entry (args, t_entry), VFORK event
//! (child pid, t_event), VFORK_DONE (t_resume); child: its first
//! PTRACE_EVENT_STOP, seccomp stop at execve entry (path, argv, env), EXEC
//! event (success, t_exit). A failed exec attempt costs a seccomp stop and a
//! syscall-exit stop. Fork-style clones replace VFORK_DONE by the syscall-exit
//! stop of the clone.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use nix::errno::Errno;
use spawnscope_format::flags::{CLONE_THREAD, CLONE_VFORK, CLONE_VM};
use spawnscope_format::*;

use crate::arch::{self, Traced};
use crate::guard::Stopped;
use crate::launch::{self, Child};
use build::read_fds;
use crate::ptrace::{self, StopKind, SyscallInfo, Tid, WaitEvent};
use crate::signal::Sig;
use crate::{procfs, ModeRequest, Observer, Outcome, RecordOptions, SpawnCounts, TraceError};

/// A syscall seen at entry, waiting for its exit (or its event).
#[derive(Debug)]
enum Pending {
    Spawn(Box<SpawnEvent>),
    Exec(Box<ExecEvent>),
    Socketpair(SocketpairEvent, u64),
    Pipe(PipeEvent, u64),
}

#[derive(Debug, Default)]
struct Task {
    /// Thread group id; None for a new task that stopped before its
    /// parent's fork event told us what it is.
    pid: Option<i32>,
    /// Syscall mode: between a syscall-entry and its exit stop.
    in_syscall: bool,
    /// Created by clone and not yet seen at a syscall stop (its first
    /// syscall stop in syscall mode is the clone's exit).
    fresh: bool,
    /// Seccomp mode: resumed with PTRACE_SYSCALL to see the exit stop.
    awaiting_exit: bool,
    pending: Option<Pending>,
}

pub(crate) struct Engine<'a> {
    mode: TracerMode,
    use_info: bool,
    capture_env: bool,
    start: Instant,
    tasks: HashMap<Tid, Task>,
    /// Live traced threads per process.
    threads: HashMap<i32, u32>,
    observer: &'a mut dyn Observer,
    observer_error: Option<String>,
    counts: BTreeMap<String, u64>,
    spawns: SpawnCounts,
    exec_attempts: u64,
    exec_failed: u64,
    stops: u64,
    early_child_stops: u64,
    root: Tid,
    root_exit: Option<i32>,
}

fn is_restart(ret: i64) -> bool {
    // ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK:
    // the syscall will be restarted and stop at entry again.
    matches!(-ret, 512..=514 | 516)
}

fn options(mode: TracerMode) -> u32 {
    let base = ptrace::O_TRACEFORK
        | ptrace::O_TRACEVFORK
        | ptrace::O_TRACECLONE
        | ptrace::O_TRACEEXEC
        | ptrace::O_TRACEVFORKDONE
        | ptrace::O_EXITKILL
        | ptrace::O_TRACESYSGOOD;
    match mode {
        TracerMode::Seccomp => base | ptrace::O_TRACESECCOMP,
        _ => base,
    }
}

/// Resolves the requested mode for launching a command.
fn resolve_mode(req: ModeRequest) -> TracerMode {
    match req {
        ModeRequest::Seccomp => TracerMode::Seccomp,
        ModeRequest::Syscall => TracerMode::Syscall,
        ModeRequest::Events => TracerMode::Events,
        ModeRequest::Auto => {
            if crate::seccomp::probe() {
                TracerMode::Seccomp
            } else {
                eprintln!("spawnscope: seccomp filter refused by the kernel; recording in syscall mode (slower)");
                TracerMode::Syscall
            }
        }
    }
}

fn header(opts: &RecordOptions, mode: TracerMode, use_info: bool) -> Header {
    let cmd = opts.command.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let mut h = Header::new(cmd, mode);
    h.tool_version = env!("CARGO_PKG_VERSION").to_string();
    h.host = crate::host::host_facts();
    h.tracer.syscall_info = use_info;
    h.tracer.capture_env = opts.capture_env;
    h.tracer.attached_pid = opts.attach_pid;
    let (c, b) = crate::host::own_env_size();
    h.tracer.env_count = c;
    h.tracer.env_bytes = b;
    h
}

/// Waits for the first stop of `tid` (after PTRACE_INTERRUPT).
fn wait_event_stop(tid: Tid) -> Result<Stopped, TraceError> {
    loop {
        match ptrace::wait(tid, false) {
            Ok(Some(WaitEvent::Stopped { tid, stop })) => return Ok(Stopped::new(tid, stop)),
            Ok(Some(_)) => return Err(TraceError::NoSuchProcess { pid: tid }),
            Ok(None) | Err(Errno::EINTR) => continue,
            Err(errno) => return Err(TraceError::Sys { what: "waitpid", errno }),
        }
    }
}

/// Whether PTRACE_GET_SYSCALL_INFO works on this kernel (probed on a stopped tracee).
fn probe_syscall_info(tid: Tid) -> bool {
    ptrace::get_syscall_info(tid).is_ok()
}

pub(crate) fn run(opts: &RecordOptions, observer: &mut dyn Observer) -> Result<Outcome, TraceError> {
    if let Some(pid) = opts.attach_pid {
        return crate::engine::attach::run(opts, pid, observer);
    }
    if opts.command.is_empty() {
        return Err(TraceError::NoCommand);
    }
    let mode = resolve_mode(opts.mode);
    let prepared = launch::prepare(opts, mode == TracerMode::Seccomp)?;
    let mut child = launch::fork(&prepared)?;
    let pid = child.pid;
    if let Err(errno) = ptrace::seize(pid, options(mode)) {
        child.abandon();
        reap(pid);
        return Err(match errno {
            Errno::EPERM | Errno::EACCES => TraceError::PtraceDenied { pid, errno },
            errno => TraceError::Sys { what: "PTRACE_SEIZE", errno },
        });
    }
    // Stop it once (it is blocked reading the sync pipe) to probe
    // syscall-info support and, in syscall mode, to start syscall stepping.
    let first = match ptrace::interrupt(pid).map_err(|errno| TraceError::Sys { what: "PTRACE_INTERRUPT", errno }) {
        Ok(()) => wait_event_stop(pid),
        Err(e) => Err(e),
    };
    let first = match first {
        Ok(s) => s,
        Err(e) => {
            child.abandon();
            reap(pid);
            return Err(e);
        }
    };
    let use_info = opts.syscall_info && probe_syscall_info(pid);
    let mut engine = Engine::new(mode, use_info, opts.capture_env, observer, pid);
    engine.emit(Record::Header(header(opts, mode, use_info)));
    engine.tasks.insert(pid, Task { pid: Some(pid), ..Task::default() });
    engine.threads.insert(pid, 1);
    engine.observer.started(pid);
    engine.resume(first, None);
    child.release();
    let detached = engine.run_loop(opts)?;
    let outcome = engine.finish(detached);
    check_launch(&prepared, &child, outcome)
}

/// Turns a failure the child reported before exec into an error.
fn check_launch(p: &launch::Prepared, child: &Child, outcome: Outcome) -> Result<Outcome, TraceError> {
    match child.failure() {
        None => Ok(outcome),
        Some((launch::STAGE_SECCOMP, e)) => Err(TraceError::SeccompRefused { errno: Errno::from_raw(e) }),
        Some((_, e)) => Err(TraceError::Exec { program: p.program.clone(), errno: Errno::from_raw(e) }),
    }
}

/// Kills and reaps a child we could not trace.
fn reap(pid: Tid) {
    // SAFETY: plain syscalls on our own child.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        let mut st = 0;
        libc::waitpid(pid, &mut st, 0x4000_0000);
    }
}

pub(crate) mod attach;
mod build;
mod detach;

impl<'a> Engine<'a> {
    pub(crate) fn new(
        mode: TracerMode,
        use_info: bool,
        capture_env: bool,
        observer: &'a mut dyn Observer,
        root: Tid,
    ) -> Self {
        Engine {
            mode,
            use_info,
            capture_env,
            start: Instant::now(),
            tasks: HashMap::new(),
            threads: HashMap::new(),
            observer,
            observer_error: None,
            counts: BTreeMap::new(),
            spawns: SpawnCounts::default(),
            exec_attempts: 0,
            exec_failed: 0,
            stops: 0,
            early_child_stops: 0,
            root,
            root_exit: None,
        }
    }

    fn now(&self) -> Nanos {
        self.start.elapsed().as_nanos() as Nanos
    }

    /// Passes a record on, counting it.
    pub(crate) fn emit(&mut self, rec: Record) {
        if !matches!(rec, Record::Header(_) | Record::End(_)) {
            *self.counts.entry(rec.kind().to_string()).or_default() += 1;
        }
        match &rec {
            Record::Spawn(s) if s.child.is_none() => self.spawns.failed += 1,
            Record::Spawn(s) if s.flags & CLONE_THREAD != 0 => self.spawns.threads += 1,
            Record::Spawn(s) if s.flags & CLONE_VM == 0 => self.spawns.fork += 1,
            Record::Spawn(s) if s.flags & CLONE_VFORK != 0 => self.spawns.vfork += 1,
            Record::Spawn(_) => self.spawns.vm += 1,
            Record::Exec(e) => {
                self.exec_attempts += 1;
                if e.result != 0 {
                    self.exec_failed += 1;
                }
            }
            _ => {}
        }
        if self.observer_error.is_none() {
            if let Err(e) = self.observer.record(rec) {
                self.observer_error = Some(e.to_string());
            }
        }
    }

    fn warn(&mut self, pid: Option<i32>, message: String) {
        let t = self.now();
        self.emit(Record::Warning(WarningEvent { pid, message, t }));
    }

    /// Writes the end line and builds the outcome.
    pub(crate) fn finish(mut self, detached: u64) -> Outcome {
        let t = self.now();
        let end = End { t, exit_code: self.root_exit, counts: self.counts.clone() };
        self.emit(Record::End(end));
        Outcome {
            exit_code: self.root_exit,
            root_pid: self.root,
            mode: self.mode,
            syscall_info: self.use_info,
            counts: self.counts,
            spawns: self.spawns,
            exec_attempts: self.exec_attempts,
            exec_failed: self.exec_failed,
            stops: self.stops,
            early_child_stops: self.early_child_stops,
            duration_ns: t,
            observer_error: self.observer_error,
            detached,
        }
    }

    /// The wait loop: until no traced task is left.
    /// Returns how many tasks were detached on request.
    pub(crate) fn run_loop(&mut self, opts: &RecordOptions) -> Result<u64, TraceError> {
        let mut root_gone = false;
        loop {
            if let Some(c) = &opts.control {
                if !root_gone && self.root_exit.is_some() {
                    // A Ctrl-C that ended the target is consumed by it.
                    root_gone = true;
                    c.clear_interrupt();
                }
                if let Some(sig) = c.take_forward() {
                    // SAFETY: kill with a plain pid and signal number.
                    unsafe { libc::kill(self.root, sig) };
                }
                let leftovers = c.interrupted() && self.root_exit.is_some();
                if c.detach_requested() || leftovers {
                    let n = self.detach_all();
                    if leftovers && n > 0 {
                        self.warn(None, format!("interrupted after the target exited: detached from {n} task(s) still running"));
                    }
                    return Ok(n);
                }
            }
            match ptrace::wait(-1, false) {
                Ok(Some(ev)) => self.handle(ev),
                Ok(None) | Err(Errno::EINTR) => continue,
                Err(Errno::ECHILD) => return Ok(0),
                Err(errno) => return Err(TraceError::Sys { what: "waitpid", errno }),
            }
        }
    }

    pub(crate) fn handle(&mut self, ev: WaitEvent) {
        match ev {
            WaitEvent::Exited { tid, code } => self.on_exit(tid, Some(code), None, false),
            WaitEvent::Signaled { tid, sig, core } => self.on_exit(tid, None, Some(sig.raw()), core),
            WaitEvent::Stopped { tid, stop } => {
                self.stops += 1;
                if !self.tasks.contains_key(&tid) {
                    // A new task whose first stop beat its parent's fork event.
                    self.early_child_stops += 1;
                    self.tasks.insert(tid, Task { fresh: true, ..Task::default() });
                }
                self.on_stop(Stopped::new(tid, stop));
            }
        }
    }

    fn task(&mut self, tid: Tid) -> &mut Task {
        self.tasks.entry(tid).or_default()
    }

    /// The process id of a task, looked up in /proc if the parent's fork
    /// event has not been seen yet.
    fn pid_of(&mut self, tid: Tid) -> i32 {
        if let Some(p) = self.tasks.get(&tid).and_then(|t| t.pid) {
            return p;
        }
        let p = procfs::status(tid).and_then(|s| s.tgid).unwrap_or(tid);
        self.task(tid).pid = Some(p);
        p
    }

    /// Resumes a tracee the way the mode (and its pending syscall) needs.
    pub(crate) fn resume(&mut self, stop: Stopped, sig: Option<Sig>) {
        let awaiting = self.tasks.get(&stop.tid()).is_some_and(|t| t.awaiting_exit);
        let _ = match self.mode {
            TracerMode::Syscall => stop.syscall(sig),
            TracerMode::Seccomp if awaiting => stop.syscall(sig),
            _ => stop.cont(sig),
        };
    }

    fn on_stop(&mut self, stop: Stopped) {
        let tid = stop.tid();
        match stop.kind() {
            StopKind::Event { event: ptrace::EVENT_STOP, sig } => {
                if sig.is_stopping() {
                    // Group-stop: stay stopped, but let us see SIGCONT.
                    let _ = stop.listen();
                } else {
                    // A new task's first stop, or the end of a listen.
                    self.resume(stop, None);
                }
            }
            StopKind::Event { event: ptrace::EVENT_SECCOMP, .. } => {
                let args = match self.entry_args(tid) {
                    Some(a) => a,
                    None => return self.resume(stop, None),
                };
                self.on_entry(tid, args.0, &args.1);
                self.resume(stop, None);
            }
            StopKind::Event { event: e @ (ptrace::EVENT_FORK | ptrace::EVENT_VFORK | ptrace::EVENT_CLONE), .. } => {
                self.on_clone_event(tid, e);
                self.resume(stop, None);
            }
            StopKind::Event { event: ptrace::EVENT_VFORK_DONE, .. } => {
                if let Some(Pending::Spawn(mut s)) = self.task(tid).pending.take() {
                    s.t_resume = Some(self.now());
                    self.emit(Record::Spawn(*s));
                }
                self.resume(stop, None);
            }
            StopKind::Event { event: ptrace::EVENT_EXEC, .. } => {
                self.on_exec_event(tid);
                self.resume(stop, None);
            }
            StopKind::Event { .. } => self.resume(stop, None),
            StopKind::Syscall => {
                self.on_syscall_stop(tid);
                self.resume(stop, None);
            }
            // Not ours: every signal goes to the tracee unchanged.
            StopKind::Signal(sig) => self.resume(stop, Some(sig)),
        }
    }

    /// Syscall number and arguments at an entry (seccomp) stop.
    fn entry_args(&mut self, tid: Tid) -> Option<(u64, [u64; 6])> {
        if self.use_info {
            match ptrace::get_syscall_info(tid) {
                Ok(SyscallInfo::Seccomp { nr, args } | SyscallInfo::Entry { nr, args }) => return Some((nr, args)),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        ptrace::get_regs(tid).ok().map(|r| (r.nr, r.args))
    }

    /// A syscall-stop: entry or exit. In seccomp mode every syscall-stop is
    /// an exit (we only ask for one after a seccomp entry stop).
    fn on_syscall_stop(&mut self, tid: Tid) {
        let fresh = std::mem::take(&mut self.task(tid).fresh);
        if self.use_info {
            match ptrace::get_syscall_info(tid) {
                Ok(SyscallInfo::Entry { nr, args }) => {
                    self.task(tid).in_syscall = true;
                    self.on_entry(tid, nr, &args);
                }
                Ok(SyscallInfo::Exit { rval, .. }) => {
                    self.task(tid).in_syscall = false;
                    self.on_exit_stop(tid, rval);
                }
                _ => {}
            }
            return;
        }
        let Ok(regs) = ptrace::get_regs(tid) else { return };
        // Without syscall info: toggle per task; a fresh task's first stop
        // is the clone's exit unless the return register holds the x86_64
        // entry marker -ENOSYS.
        let entry = match self.mode {
            TracerMode::Seccomp => false,
            _ if fresh && cfg!(target_arch = "x86_64") => regs.ret == arch::ENTRY_MARKER,
            _ => !self.task(tid).in_syscall,
        };
        self.task(tid).in_syscall = entry;
        if entry {
            self.on_entry(tid, regs.nr, &regs.args);
        } else {
            self.on_exit_stop(tid, regs.ret);
        }
    }

    /// A recorded syscall starts: remember what it was called with.
    fn on_entry(&mut self, tid: Tid, nr: u64, args: &[u64; 6]) {
        let Some(traced) = arch::classify(nr) else { return };
        let t = self.now();
        let pid = self.pid_of(tid);
        let pending = match traced {
            Traced::Clone(sys) => match self.spawn_from_args(tid, pid, sys, args, Some(t)) {
                Some(s) => Pending::Spawn(Box::new(s)),
                None => return,
            },
            Traced::Exec(sys) => match self.exec_from_args(tid, pid, sys, args, t) {
                Some(e) => Pending::Exec(Box::new(e)),
                None => {
                    let msg = format!("task {tid} ended while its exec arguments were being read; attempt not recorded");
                    self.warn(Some(pid), msg);
                    return;
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
        };
        let task = self.task(tid);
        task.pending = Some(pending);
        task.awaiting_exit = true;
    }

    /// A fork/vfork/clone event: the child exists.
    fn on_clone_event(&mut self, tid: Tid, event: u32) {
        let t = self.now();
        let Ok(child) = ptrace::get_event_msg(tid) else { return };
        let child = child as i32;
        let pid = self.pid_of(tid);
        let mut spawn = match self.task(tid).pending.take() {
            Some(Pending::Spawn(s)) => *s,
            other => {
                // events mode (or an entry we did not see): the registers
                // still hold the arguments at the event stop.
                self.task(tid).pending = other;
                let Some(s) = self.spawn_from_regs(tid, pid) else { return };
                s
            }
        };
        spawn.child = Some(child);
        spawn.t_event = t;
        spawn.ptrace_event = Some(match event {
            ptrace::EVENT_FORK => PtraceEvent::Fork,
            ptrace::EVENT_VFORK => PtraceEvent::Vfork,
            _ => PtraceEvent::Clone,
        });
        let child_pid = if spawn.thread { pid } else { child };
        let ct = self.tasks.entry(child).or_insert_with(|| Task { fresh: true, ..Task::default() });
        ct.pid = Some(child_pid);
        *self.threads.entry(child_pid).or_default() += 1;
        if event == ptrace::EVENT_VFORK {
            // The parent runs again at VFORK_DONE; no exit stop needed.
            let task = self.task(tid);
            task.pending = Some(Pending::Spawn(Box::new(spawn)));
            task.awaiting_exit = false;
        } else if self.mode == TracerMode::Events {
            self.emit(Record::Spawn(spawn));
        } else {
            let task = self.task(tid);
            task.pending = Some(Pending::Spawn(Box::new(spawn)));
            task.awaiting_exit = true;
        }
    }

    /// A successful exec: PTRACE_EVENT_EXEC, reported under the process id
    /// even when a non-leader thread called exec (its old tid is the event
    /// message; that thread takes over the leader's id).
    fn on_exec_event(&mut self, tid: Tid) {
        let t = self.now();
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
        let task = self.task(tid);
        task.pid = Some(tid);
        task.awaiting_exit = false;
        let ev = match task.pending.take() {
            Some(Pending::Exec(mut e)) => {
                e.pid = tid;
                e.tid = former;
                e.result = 0;
                e.t_exit = t;
                Some(*e)
            }
            other => {
                task.pending = other;
                self.exec_from_proc(tid, former, t)
            }
        };
        if let Some(e) = ev {
            self.emit(Record::Exec(e));
        }
    }

    /// A syscall-exit stop: finish the pending record.
    fn on_exit_stop(&mut self, tid: Tid, ret: i64) {
        let t = self.now();
        let task = self.task(tid);
        task.awaiting_exit = false;
        let Some(pending) = task.pending.take() else { return };
        if is_restart(ret) {
            return;
        }
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
                e.result = if err != 0 { err } else { 0 };
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
    fn flush_pending(&mut self, tid: Tid, task: Task) {
        match task.pending {
            Some(Pending::Spawn(s)) if s.child.is_some() => self.emit(Record::Spawn(*s)),
            Some(Pending::Exec(e)) => {
                let msg = format!("task {tid} ended during exec of {:?}; result unknown", e.path);
                self.warn(task.pid, msg);
            }
            _ => {}
        }
    }

    /// A task ended (reaped by waitpid).
    fn on_exit(&mut self, tid: Tid, code: Option<i32>, signal: Option<i32>, core_dumped: bool) {
        let t = self.now();
        let task = self.tasks.remove(&tid).unwrap_or_default();
        let pid = task.pid.unwrap_or(tid);
        self.flush_pending(tid, task);
        if let Some(n) = self.threads.get_mut(&pid) {
            *n = n.saturating_sub(1);
            if *n == 0 || tid == pid {
                self.threads.remove(&pid);
            }
        }
        if tid == self.root {
            self.root_exit = code.or(signal.map(|s| 128 + s));
        }
        self.emit(Record::Exit(ExitEvent { pid, tid, code, signal, core_dumped, thread: tid != pid, t }));
    }
}
