//! `record -p PID`: attach to a running process and all its threads.
//!
//! A seccomp filter can only be installed by a process itself, so an
//! attached process is traced in `events` mode (the default: no cost on
//! syscalls that do not spawn; no failed exec attempts, no socketpair/pipe)
//! or, on request, `syscall` mode (everything, at two stops per syscall of
//! every thread). No PTRACE_O_EXITKILL: if the tracer dies, the process
//! must go on untouched.

use std::collections::HashSet;

use nix::errno::Errno;
use spawnscope_format::{Record, TracerMode};

use super::{header, probe_syscall_info, wait_event_stop, Engine, Task};
use crate::ptrace::{self, Tid};
use crate::{procfs, ModeRequest, Observer, Outcome, RecordOptions, TraceError};

fn attach_options(mode: TracerMode) -> u32 {
    ptrace::O_TRACEFORK
        | ptrace::O_TRACEVFORK
        | ptrace::O_TRACECLONE
        | ptrace::O_TRACEEXEC
        | ptrace::O_TRACEVFORKDONE
        | if mode == TracerMode::Syscall { ptrace::O_TRACESYSGOOD } else { 0 }
}

/// TracerPid of a task, from /proc.
fn tracer_of(tid: Tid) -> Option<i32> {
    let text = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    text.lines().find_map(|l| l.strip_prefix("TracerPid:")).and_then(|v| v.trim().parse().ok())
}

pub(crate) fn run(opts: &RecordOptions, pid: i32, observer: &mut dyn Observer) -> Result<Outcome, TraceError> {
    let mode = match opts.mode {
        ModeRequest::Auto | ModeRequest::Events => TracerMode::Events,
        ModeRequest::Syscall => TracerMode::Syscall,
        ModeRequest::Seccomp => return Err(TraceError::SeccompAttach { pid }),
    };
    if procfs::status(pid).and_then(|s| s.tgid) != Some(pid) {
        return Err(TraceError::NoSuchProcess { pid });
    }
    // Seize every thread; repeat until no new thread appears (threads made
    // by an already seized thread are attached by the kernel).
    let mut seized: HashSet<Tid> = HashSet::new();
    loop {
        let tids = procfs::tasks(pid).map_err(|_| TraceError::NoSuchProcess { pid })?;
        let new: Vec<Tid> = tids.into_iter().filter(|t| !seized.contains(t)).collect();
        if new.is_empty() {
            break;
        }
        for tid in new {
            match ptrace::seize(tid, attach_options(mode)) {
                Ok(()) => {
                    seized.insert(tid);
                }
                Err(Errno::ESRCH) => {}
                Err(errno @ (Errno::EPERM | Errno::EACCES)) if seized.is_empty() => {
                    return Err(match tracer_of(tid) {
                        Some(tracer) if tracer != 0 => TraceError::AlreadyTraced { pid, tracer },
                        _ => TraceError::PtraceDenied { pid, errno },
                    });
                }
                Err(errno) => return Err(TraceError::Sys { what: "PTRACE_SEIZE", errno }),
            }
        }
    }
    // Probe syscall info on one stopped thread; in syscall mode every thread
    // must be stopped once to start syscall stepping.
    let mut use_info = false;
    let mut engine_tasks = Vec::new();
    for &tid in &seized {
        let need_stop = mode == TracerMode::Syscall || (!use_info && tid == pid && opts.syscall_info);
        if need_stop && ptrace::interrupt(tid).is_ok() {
            if let Ok(stop) = wait_event_stop(tid) {
                if tid == pid {
                    use_info = opts.syscall_info && probe_syscall_info(tid);
                }
                engine_tasks.push(stop);
            }
        }
    }
    let mut engine = Engine::new(mode, use_info, opts.capture_env, observer, pid);
    let mut h = header(opts, mode, use_info);
    h.command = Vec::new();
    engine.emit(Record::Header(h));
    for &tid in &seized {
        engine.tasks.insert(tid, Task { pid: Some(pid), fresh: true, ..Task::default() });
    }
    engine.threads.insert(pid, seized.len() as u32);
    let what = match mode {
        TracerMode::Syscall => "syscall mode: every syscall of every thread stops twice",
        _ => "events mode: fork/exec/exit only, no failed exec attempts, no socketpair/pipe",
    };
    engine.warn(Some(pid), format!("attached to a running process ({what})"));
    engine.observer.started(pid);
    for stop in engine_tasks {
        engine.resume(stop, None);
    }
    let detached = engine.run_loop(opts)?;
    let exit_known = engine.root_exit.is_some();
    if detached > 0 || !exit_known {
        let n = detached;
        engine.warn(Some(pid), format!("detached from {n} task(s); they keep running"));
    }
    Ok(engine.finish(detached))
}
