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
//!
//! Each task's phase and its transitions live in [`task`]; the stops are
//! handled in [`stops`]; records are built in [`build`]; leaving the
//! tracees (detach, or ending filtered ones) is in [`detach`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use nix::errno::Errno;
use spawnscope_format::flags::{CLONE_THREAD, CLONE_VFORK, CLONE_VM};
use spawnscope_format::*;

use crate::guard::{Resume, Stopped};
use crate::launch::{self, Child};
use crate::ptrace::{self, Tid, WaitEvent};
use crate::{ModeRequest, Observer, Outcome, RecordOptions, SpawnCounts, TraceError};

pub(crate) mod attach;
mod build;
mod detach;
mod spawn_hook;
mod stops;
pub(crate) mod task;

use spawn_hook::SpawnHook;
use task::{StopOrder, Task};

/// What a recording is set up with (decided before the first stop).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Setup {
    pub mode: TracerMode,
    pub order: StopOrder,
    /// Use PTRACE_GET_SYSCALL_INFO if the kernel has it (probed at the first stop).
    pub use_info: bool,
    pub capture_env: bool,
    /// The tracees carry our seccomp filter: without a tracer their trapped
    /// syscalls fail with ENOSYS, so they are never detached (see `detach`).
    pub filtered: bool,
    pub root: Tid,
}

pub(crate) struct Engine<'a> {
    setup: Setup,
    /// Redaction and env-hash key, applied to every record delivered.
    privacy: Privacy,
    start: Instant,
    /// Written before the first record (once syscall info is probed).
    header: Option<Header>,
    /// PTRACE_GET_SYSCALL_INFO still to be probed at the next stop.
    info_unprobed: bool,
    tasks: HashMap<Tid, Task>,
    /// Live traced threads per process.
    threads: HashMap<i32, u32>,
    /// Tasks reaped before their parent's clone event said what they were:
    /// their exits wait here for that event.
    unclaimed_exits: HashMap<Tid, ExitEvent>,
    /// Children whose spawn record is not written yet (it waits for the
    /// parent's syscall exit or VFORK_DONE).
    unreported: HashSet<Tid>,
    /// Exits of such children (and of tasks claimed after their exit),
    /// written right after the spawn record that created them, so a reader
    /// always sees a task's creation before its end.
    claimed_exits: HashMap<Tid, ExitEvent>,
    /// Processes already reported as using a syscall ABI we do not decode.
    foreign: HashSet<i32>,
    observer: &'a mut dyn Observer,
    observer_error: Option<String>,
    counts: BTreeMap<String, u64>,
    spawns: SpawnCounts,
    exec_attempts: u64,
    exec_failed: u64,
    stops: u64,
    early_child_stops: u64,
    root_exit: Option<i32>,
    /// Requests from other threads or signal handlers.
    control: Option<crate::Control>,
    hook: SpawnHook,
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

/// The seccomp stop order, decided once per recording.
fn stop_order(opts: &RecordOptions) -> Result<StopOrder, TraceError> {
    match opts.seccomp_stop_order {
        Some(o) => Ok(o),
        None => StopOrder::detect().map_err(|message| TraceError::Setting { message }),
    }
}

fn header(opts: &RecordOptions, mode: TracerMode) -> Header {
    let cmd = opts.command.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let mut h = Header::new(cmd, mode);
    h.tool_version = env!("CARGO_PKG_VERSION").to_string();
    h.host = crate::host::host_facts();
    h.tracer.capture_env = opts.capture_env;
    h.tracer.attached_pid = opts.attach_pid;
    let (c, b) = crate::host::own_env_size();
    h.tracer.env_count = c;
    h.tracer.env_bytes = b;
    h.tracer.stacks = spawn_hook::stack_setting(opts);
    h
}

pub(crate) fn run(opts: &RecordOptions, observer: &mut dyn Observer) -> Result<Outcome, TraceError> {
    if let Some(pid) = opts.attach_pid {
        return attach::run(opts, pid, observer);
    }
    if opts.command.is_empty() {
        return Err(TraceError::NoCommand);
    }
    let mode = resolve_mode(opts.mode);
    let order = stop_order(opts)?;
    let privacy = opts.privacy()?;
    let prepared = launch::prepare(opts, mode == TracerMode::Seccomp)?;
    let mut child = launch::fork(&prepared)?;
    let pid = child.pid;
    // Stop it once (it is blocked reading the sync pipe): in syscall mode
    // that starts syscall stepping; the first stop probes syscall info.
    let seized = ptrace::seize(pid, options(mode)).and_then(|()| ptrace::interrupt(pid));
    if let Err(errno) = seized {
        child.abandon();
        reap(pid);
        return Err(match errno {
            Errno::EPERM | Errno::EACCES => TraceError::PtraceDenied { pid, errno: crate::Errno::of(errno) },
            errno => TraceError::Sys { what: "PTRACE_SEIZE", errno: crate::Errno::of(errno) },
        });
    }
    let setup = Setup {
        mode,
        order,
        use_info: opts.syscall_info,
        capture_env: opts.capture_env,
        filtered: mode == TracerMode::Seccomp,
        root: pid,
    };
    let mut engine = Engine::new(setup, header(opts, mode), observer);
    engine.privacy = privacy;
    engine.adopt(pid, pid);
    engine.observer.started(pid);
    child.release();
    let detached = engine.run_loop(opts)?;
    let outcome = engine.finish(detached);
    check_launch(&prepared, &child, outcome)
}

/// Turns a failure the child reported before exec into an error.
fn check_launch(p: &launch::Prepared, child: &Child, outcome: Outcome) -> Result<Outcome, TraceError> {
    match child.failure() {
        None => Ok(outcome),
        Some((launch::STAGE_SECCOMP, e)) => Err(TraceError::SeccompRefused { errno: crate::Errno(e) }),
        Some((_, e)) => Err(TraceError::Exec { program: p.program.clone(), errno: crate::Errno(e) }),
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

impl<'a> Engine<'a> {
    pub(crate) fn new(setup: Setup, header: Header, observer: &'a mut dyn Observer) -> Self {
        let hook = SpawnHook::new(&setup);
        Engine {
            setup,
            privacy: Privacy::new(EnvKey::random(), Redactor::new()),
            start: Instant::now(),
            header: Some(header),
            info_unprobed: setup.use_info,
            tasks: HashMap::new(),
            threads: HashMap::new(),
            unclaimed_exits: HashMap::new(),
            unreported: HashSet::new(),
            claimed_exits: HashMap::new(),
            foreign: HashSet::new(),
            observer,
            observer_error: None,
            counts: BTreeMap::new(),
            spawns: SpawnCounts::default(),
            exec_attempts: 0,
            exec_failed: 0,
            stops: 0,
            early_child_stops: 0,
            root_exit: None,
            control: None,
            hook,
        }
    }

    fn mode(&self) -> TracerMode {
        self.setup.mode
    }

    fn now(&self) -> Nanos {
        self.start.elapsed().as_nanos() as Nanos
    }

    /// Starts following a task of process `pid` that we seized ourselves.
    pub(crate) fn adopt(&mut self, tid: Tid, pid: i32) {
        self.tasks.insert(tid, Task::of(pid));
        *self.threads.entry(pid).or_default() += 1;
    }

    /// Writes the header if it is still due (before any other record).
    fn emit_header(&mut self) {
        if let Some(mut h) = self.header.take() {
            if self.info_unprobed {
                // No stop yet to probe on (the tracee exited at once): not used.
                self.info_unprobed = false;
                self.setup.use_info = false;
            }
            h.tracer.syscall_info = self.setup.use_info;
            self.deliver(Record::Header(h));
            if self.setup.mode == TracerMode::Seccomp && self.setup.order == StopOrder::SeccompBeforeEntry {
                let msg = "seccomp stops come before syscall-entry stops here (Linux < 4.8, or \
                           SPAWNSCOPE_SECCOMP_STOP_ORDER=before-entry): decoded in that order";
                self.warn(None, msg.to_string());
            }
        }
    }

    /// Passes a record on, counting it. A spawn's child that was reaped
    /// before the spawn's event follows it at once.
    pub(crate) fn emit(&mut self, rec: Record) {
        self.emit_header();
        if !matches!(rec, Record::Header(_) | Record::End(_)) {
            *self.counts.entry(rec.kind().to_string()).or_default() += 1;
        }
        let early_exit = match &rec {
            Record::Spawn(s) => s.child.and_then(|c| {
                self.unreported.remove(&c);
                self.claimed_exits.remove(&c)
            }),
            _ => None,
        };
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
        self.deliver(rec);
        if let Some(e) = early_exit {
            self.emit(Record::Exit(e));
        }
    }

    fn deliver(&mut self, mut rec: Record) {
        self.privacy.apply(&mut rec);
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
    pub(crate) fn finish(mut self, left: detach::Left) -> Outcome {
        self.flush_early_exits();
        self.emit_header();
        self.finish_stacks();
        let t = self.now();
        let end = End { t, exit_code: self.root_exit, counts: self.counts.clone() };
        self.emit(Record::End(end));
        Outcome {
            exit_code: self.root_exit,
            root_pid: self.setup.root,
            mode: self.setup.mode,
            syscall_info: self.setup.use_info,
            counts: self.counts,
            spawns: self.spawns,
            exec_attempts: self.exec_attempts,
            exec_failed: self.exec_failed,
            stops: self.stops,
            early_child_stops: self.early_child_stops,
            duration_ns: t,
            observer_error: self.observer_error,
            detached: left.detached,
            ended: left.ended,
            stacks: self.hook.stats(),
        }
    }

    /// Exits still held at the end: of tasks whose creation was never
    /// reported (their parent vanished at that moment).
    fn flush_early_exits(&mut self) {
        self.unreported.clear();
        let mut held: Vec<ExitEvent> = self.claimed_exits.drain().map(|(_, e)| e).collect();
        let unclaimed: Vec<ExitEvent> = self.unclaimed_exits.drain().map(|(_, e)| e).collect();
        for e in &unclaimed {
            let msg = format!("task {} ended before its creation was reported; its process is not known", e.tid);
            self.warn(None, msg);
        }
        held.extend(unclaimed);
        held.sort_by_key(|e| e.t);
        for e in held {
            self.emit(Record::Exit(e));
        }
    }

    /// The wait loop: until no traced task is left, or the caller asks to
    /// stop (see [`detach`] for what happens to the tracees then).
    pub(crate) fn run_loop(&mut self, opts: &RecordOptions) -> Result<detach::Left, TraceError> {
        self.control = opts.control.clone();
        self.hook.configure(opts);
        loop {
            if let Some(c) = opts.control.as_ref() {
                if let Some(left) = self.control_requests(c) {
                    return Ok(left);
                }
            }
            match ptrace::wait(-1, false) {
                Ok(Some(ev)) => self.handle(ev),
                Ok(None) | Err(Errno::EINTR) => continue,
                Err(Errno::ECHILD) => return Ok(detach::Left::default()),
                Err(errno) => return Err(TraceError::Sys { what: "waitpid", errno: crate::Errno::of(errno) }),
            }
        }
    }

    /// Acts on requests from a [`crate::Control`]; Some when the recording ends.
    fn control_requests(&mut self, c: &crate::Control) -> Option<detach::Left> {
        if let Some(sig) = c.take_forward() {
            if self.root_exit.is_none() && self.tasks.contains_key(&self.setup.root) {
                // SAFETY: kill with a plain pid and signal number; the root
                // is traced by us and not yet reaped, so its pid is its own.
                unsafe { libc::kill(self.setup.root, sig) };
            } else {
                // The root is gone (its pid may already be someone
                // else's): a forwarded signal now means "stop recording".
                return Some(self.leave(format!("signal {sig} after the target exited")));
            }
        }
        if c.detach_requested() {
            return Some(self.leave("detach requested".to_string()));
        }
        if c.interrupted() && self.root_exit.is_some() {
            return Some(self.leave("interrupted after the target exited".to_string()));
        }
        None
    }

    pub(crate) fn handle(&mut self, ev: WaitEvent) {
        match ev {
            WaitEvent::Exited { tid, code } => self.on_exit(tid, Some(code), None, false),
            WaitEvent::Signaled { tid, sig, core } => self.on_exit(tid, None, Some(sig.raw()), core),
            WaitEvent::Stopped { tid, stop } => {
                self.stops += 1;
                if !self.tasks.contains_key(&tid) {
                    // A new task whose first stop beat its parent's clone
                    // event: its process is not known yet.
                    self.early_child_stops += 1;
                    self.tasks.insert(tid, Task::default());
                }
                if self.info_unprobed {
                    // Any ptrace-stop will do: EIO means the kernel lacks it (< 5.3).
                    self.info_unprobed = false;
                    self.setup.use_info = ptrace::get_syscall_info(tid).is_ok();
                }
                let fallback = self.default_resume();
                self.on_stop(Stopped::new(tid, stop, fallback));
            }
        }
    }

    /// How the mode resumes a task with nothing pending.
    fn default_resume(&self) -> Resume {
        match self.setup.mode {
            TracerMode::Syscall => Resume::Syscall,
            _ => Resume::Cont,
        }
    }

    /// Resumes a tracee the way its phase needs, passing on the signal of a
    /// signal-delivery-stop.
    pub(crate) fn resume(&mut self, stop: Stopped) {
        let how = match self.tasks.get(&stop.tid()) {
            Some(t) => t.resume(self.setup.mode),
            None => self.default_resume(),
        };
        let sig = stop.signal();
        let _ = stop.resume(how, sig);
    }

    fn task(&mut self, tid: Tid) -> &mut Task {
        self.tasks.entry(tid).or_default()
    }

    /// The process id of a task, looked up in /proc if the parent's clone
    /// event has not been seen yet.
    fn pid_of(&mut self, tid: Tid) -> i32 {
        if let Some(p) = self.tasks.get(&tid).and_then(|t| t.pid) {
            return p;
        }
        let p = crate::procfs::status(tid).and_then(|s| s.tgid).unwrap_or(tid);
        self.task(tid).pid = Some(p);
        p
    }

    /// A task ended (reaped by waitpid).
    fn on_exit(&mut self, tid: Tid, code: Option<i32>, signal: Option<i32>, core_dumped: bool) {
        let now = self.now();
        let task = self.tasks.remove(&tid);
        if let Some(t) = task.as_ref().filter(|t| !t.claimed) {
            // Its first stop beat its creator's clone event and it is gone
            // before that event: hold the exit until the event says whether
            // it was a thread and of which process (issue 11). It was never
            // counted as alive.
            let (pid, thread) = (t.pid.unwrap_or(tid), t.pid.is_some_and(|p| p != tid));
            if !thread {
                self.forget_stacks(pid);
            }
            if let Some(t) = task {
                self.flush_pending(tid, t);
            }
            let exit = ExitEvent { pid, tid, code, signal, core_dumped, thread, t: now };
            self.unclaimed_exits.insert(tid, exit);
            return;
        }
        let pid = task.as_ref().and_then(|t| t.pid).unwrap_or(tid);
        if tid == pid {
            self.forget_stacks(pid);
        }
        if let Some(task) = task {
            self.flush_pending(tid, task);
        }
        if let Some(n) = self.threads.get_mut(&pid) {
            *n = n.saturating_sub(1);
            if *n == 0 || tid == pid {
                self.threads.remove(&pid);
            }
        }
        if tid == self.setup.root {
            self.root_exit = code.or(signal.map(|s| 128 + s));
            if let Some(c) = &self.control {
                // A Ctrl-C that ended the target is consumed by it; one that
                // comes after this exit is seen (it ends the recording).
                c.clear_interrupt();
            }
        }
        let exit = ExitEvent { pid, tid, code, signal, core_dumped, thread: tid != pid, t: now };
        if self.unreported.contains(&tid) {
            // Its spawn record comes at the parent's syscall exit: after it.
            self.claimed_exits.insert(tid, exit);
            return;
        }
        self.emit(Record::Exit(exit));
    }
}
