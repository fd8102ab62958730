//! `record -p PID`: attach to a running process and all its threads.
//!
//! A seccomp filter can only be installed by a process itself, so an
//! attached process is traced in `events` mode (the default: no cost on
//! syscalls that do not spawn; no failed exec attempts, no socketpair/pipe)
//! or, on request, `syscall` mode (everything, at two stops per syscall of
//! every thread). No PTRACE_O_EXITKILL: if the tracer dies, the process
//! must go on untouched; with no filter, a detach leaves it as it was.
//!
//! Start-up: every thread is seized (no stop), then interrupted (the leader
//! always, to probe syscall info; every thread in syscall mode, to start
//! syscall stepping). Whatever stop a thread reports first (the
//! PTRACE_EVENT_STOP of the interrupt, or a signal or fork event that was
//! already on its way) goes through the engine like any other stop: a
//! signal is passed on, a fork is recorded, nothing is resumed blindly.

use std::collections::HashSet;

use nix::errno::Errno;
use spawnscope_format::TracerMode;

use super::{header, stop_order, Engine, Setup};
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

/// Seizes every thread of `pid`; repeats until no new thread appears
/// (threads made by an already seized thread are attached by the kernel).
fn seize_all(pid: i32, mode: TracerMode) -> Result<Vec<Tid>, TraceError> {
    let mut seized: Vec<Tid> = Vec::new();
    let mut known: HashSet<Tid> = HashSet::new();
    loop {
        let tids = procfs::tasks(pid).map_err(|_| TraceError::NoSuchProcess { pid })?;
        let new: Vec<Tid> = tids.into_iter().filter(|t| known.insert(*t)).collect();
        if new.is_empty() {
            return Ok(seized);
        }
        for tid in new {
            match ptrace::seize(tid, attach_options(mode)) {
                Ok(()) => seized.push(tid),
                Err(Errno::ESRCH) => {}
                Err(errno @ (Errno::EPERM | Errno::EACCES)) if seized.is_empty() => {
                    return Err(match procfs::tracer_of(tid) {
                        Some(tracer) if tracer != 0 => TraceError::AlreadyTraced { pid, tracer },
                        _ => TraceError::PtraceDenied { pid, errno: crate::Errno::of(errno) },
                    });
                }
                Err(errno) => return Err(TraceError::Sys { what: "PTRACE_SEIZE", errno: crate::Errno::of(errno) }),
            }
        }
    }
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
    let order = stop_order(opts)?;
    let privacy = opts.privacy()?;
    let seized = seize_all(pid, mode)?;
    let setup = Setup { mode, order, use_info: opts.syscall_info, capture_env: opts.capture_env, filtered: false, root: pid };
    let mut h = header(opts, mode);
    // The process's command line, as it reads now (redacted like any command).
    h.command = procfs::cmdline(pid).map(|(argv, _)| argv).unwrap_or_default();
    let mut engine = Engine::new(setup, h, observer);
    engine.privacy = privacy;
    for &tid in &seized {
        engine.adopt(tid, pid);
        if tid == pid || mode == TracerMode::Syscall {
            // ESRCH: it exited meanwhile; waitpid reports that.
            let _ = ptrace::interrupt(tid);
        }
    }
    // The header waits for the first stop, which probes syscall info.
    while engine.info_unprobed {
        match ptrace::wait(-1, false) {
            Ok(Some(ev)) => engine.handle(ev),
            Ok(None) | Err(Errno::EINTR) => {}
            Err(Errno::ECHILD) => break,
            Err(errno) => return Err(TraceError::Sys { what: "waitpid", errno: crate::Errno::of(errno) }),
        }
    }
    let what = match mode {
        TracerMode::Syscall => "syscall mode: every syscall of every thread stops twice",
        _ => "events mode: fork/exec/exit only, no failed exec attempts, no socketpair/pipe",
    };
    engine.warn(Some(pid), format!("attached to a running process ({what})"));
    engine.observer.started(pid);
    let left = engine.run_loop(opts)?;
    Ok(engine.finish(left))
}
