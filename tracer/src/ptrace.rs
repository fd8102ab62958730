//! Thin wrappers over ptrace(2) and waitpid(2): one function per request,
//! each returning `Result<_, Errno>`. No policy lives here; the stop guards in
//! [`crate::guard`] and the engine decide what to call when.
//!
//! All `unsafe` for ptrace is in this file. ESRCH from any request means the
//! tracee is gone (killed, or not in a ptrace-stop); callers handle it.

use nix::errno::Errno;

use crate::signal::Sig;

/// A thread id (equal to the process id for a thread-group leader).
pub type Tid = i32;

// Requests (include/uapi/linux/ptrace.h); libc lacks some on older versions.
const PTRACE_PEEKDATA: libc::c_uint = 2;
const PTRACE_CONT: libc::c_uint = 7;
const PTRACE_DETACH: libc::c_uint = 17;
const PTRACE_SYSCALL: libc::c_uint = 24;
const PTRACE_GETEVENTMSG: libc::c_uint = 0x4201;
#[cfg(target_arch = "aarch64")]
const PTRACE_GETREGSET: libc::c_uint = 0x4204;
const PTRACE_SEIZE: libc::c_uint = 0x4206;
const PTRACE_INTERRUPT: libc::c_uint = 0x4207;
const PTRACE_LISTEN: libc::c_uint = 0x4208;
const PTRACE_GET_SYSCALL_INFO: libc::c_uint = 0x420e;

// Options.
pub const O_TRACESYSGOOD: u32 = 0x01;
pub const O_TRACEFORK: u32 = 0x02;
pub const O_TRACEVFORK: u32 = 0x04;
pub const O_TRACECLONE: u32 = 0x08;
pub const O_TRACEEXEC: u32 = 0x10;
pub const O_TRACEVFORKDONE: u32 = 0x20;
pub const O_TRACESECCOMP: u32 = 0x80;
pub const O_EXITKILL: u32 = 0x10_0000;

/// A ptrace event (`status >> 16` of a ptrace-stop; include/uapi/linux/ptrace.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// PTRACE_EVENT_FORK: the task called fork (or clone with SIGCHLD and no CLONE_VM/VFORK).
    Fork,
    /// PTRACE_EVENT_VFORK: CLONE_VFORK; the parent is blocked until VFORK_DONE.
    Vfork,
    /// PTRACE_EVENT_CLONE: any other clone (threads, CLONE_VM without VFORK).
    Clone,
    /// PTRACE_EVENT_EXEC: a successful exec (the message is the former tid).
    Exec,
    /// PTRACE_EVENT_VFORK_DONE: a vfork child exec'd or exited.
    VforkDone,
    /// PTRACE_EVENT_EXIT: never requested (no PTRACE_O_TRACEEXIT), decoded for completeness.
    Exit,
    /// PTRACE_EVENT_SECCOMP: the filter returned SECCOMP_RET_TRACE.
    Seccomp,
    /// PTRACE_EVENT_STOP: a seized task's first stop, a PTRACE_INTERRUPT, or a group-stop.
    Stop,
}

impl Event {
    /// Decodes `status >> 16`; None for a value this code does not know.
    pub fn from_raw(raw: u32) -> Option<Event> {
        Some(match raw {
            1 => Event::Fork,
            2 => Event::Vfork,
            3 => Event::Clone,
            4 => Event::Exec,
            5 => Event::VforkDone,
            6 => Event::Exit,
            7 => Event::Seccomp,
            128 => Event::Stop,
            _ => return None,
        })
    }
}

/// `__WALL`: wait for threads and clone children too.
const WALL: libc::c_int = 0x4000_0000;
/// `__WNOTHREAD`: only tracees and children of the calling thread, so two
/// recordings on two threads of one process never steal each other's stops.
const WNOTHREAD: libc::c_int = 0x2000_0000;

fn request(req: libc::c_uint, tid: Tid, addr: usize, data: usize) -> Result<libc::c_long, Errno> {
    // SAFETY: every request used through this helper takes integer or
    // null addr/data, or a pointer the caller keeps valid for the call.
    let r = unsafe { libc::ptrace(req, tid, addr as *mut libc::c_void, data as *mut libc::c_void) };
    if r == -1 {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

/// PTRACE_SEIZE: attach without stopping the task, with `options`.
pub fn seize(tid: Tid, options: u32) -> Result<(), Errno> {
    request(PTRACE_SEIZE, tid, 0, options as usize).map(drop)
}

/// PTRACE_INTERRUPT: make a seized task report a PTRACE_EVENT_STOP.
pub fn interrupt(tid: Tid) -> Result<(), Errno> {
    request(PTRACE_INTERRUPT, tid, 0, 0).map(drop)
}

/// PTRACE_LISTEN: leave a task in group-stop but get notified of SIGCONT.
pub fn listen(tid: Tid) -> Result<(), Errno> {
    request(PTRACE_LISTEN, tid, 0, 0).map(drop)
}

fn sig_data(sig: Option<Sig>) -> usize {
    sig.map_or(0, |s| s.raw() as usize)
}

/// PTRACE_CONT, injecting `sig` if given.
pub fn cont(tid: Tid, sig: Option<Sig>) -> Result<(), Errno> {
    request(PTRACE_CONT, tid, 0, sig_data(sig)).map(drop)
}

/// PTRACE_SYSCALL: resume until the next syscall entry or exit.
pub fn syscall(tid: Tid, sig: Option<Sig>) -> Result<(), Errno> {
    request(PTRACE_SYSCALL, tid, 0, sig_data(sig)).map(drop)
}

/// PTRACE_DETACH, injecting `sig` if given.
pub fn detach(tid: Tid, sig: Option<Sig>) -> Result<(), Errno> {
    request(PTRACE_DETACH, tid, 0, sig_data(sig)).map(drop)
}

/// PTRACE_GETEVENTMSG: the new task id at fork/vfork/clone events, the former
/// thread id at an exec event.
pub fn get_event_msg(tid: Tid) -> Result<u64, Errno> {
    let mut msg: libc::c_ulong = 0;
    request(PTRACE_GETEVENTMSG, tid, 0, &mut msg as *mut libc::c_ulong as usize)?;
    Ok(msg as u64)
}

/// PTRACE_PEEKDATA: one word of tracee memory.
pub fn peek_data(tid: Tid, addr: u64) -> Result<u64, Errno> {
    // PEEKDATA returns the word itself, so -1 is ambiguous: check errno.
    Errno::clear();
    // SAFETY: PEEKDATA reads the tracee, not our memory; data is unused.
    let r = unsafe { libc::ptrace(PTRACE_PEEKDATA, tid, addr as *mut libc::c_void, std::ptr::null_mut::<libc::c_void>()) };
    if r == -1 && Errno::last_raw() != 0 {
        return Err(Errno::last());
    }
    Ok(r as u64)
}

/// What PTRACE_GET_SYSCALL_INFO says about a stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallOp {
    /// Not a syscall stop (e.g. a fork event stop).
    None,
    Entry {
        nr: u64,
        args: [u64; 6],
    },
    Exit {
        rval: i64,
        is_error: bool,
    },
    Seccomp {
        nr: u64,
        args: [u64; 6],
    },
}

/// PTRACE_GET_SYSCALL_INFO's answer: the stop and the syscall ABI in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyscallInfo {
    pub op: SyscallOp,
    /// The `AUDIT_ARCH_*` value of the syscall (i386 on x86_64 is
    /// AUDIT_ARCH_I386; x32 is AUDIT_ARCH_X86_64 with bit 30 set in `nr`).
    pub arch: u32,
}

/// `struct ptrace_syscall_info` with a union area large enough for every op.
#[repr(C)]
#[derive(Default)]
struct RawSyscallInfo {
    op: u8,
    pad: [u8; 3],
    arch: u32,
    instruction_pointer: u64,
    stack_pointer: u64,
    data: [u64; 8],
}

/// PTRACE_GET_SYSCALL_INFO (Linux 5.3+). EIO means the kernel lacks it.
pub fn get_syscall_info(tid: Tid) -> Result<SyscallInfo, Errno> {
    let mut raw = RawSyscallInfo::default();
    let size = std::mem::size_of::<RawSyscallInfo>();
    request(PTRACE_GET_SYSCALL_INFO, tid, size, &mut raw as *mut RawSyscallInfo as usize)?;
    let d = raw.data;
    let args = [d[1], d[2], d[3], d[4], d[5], d[6]];
    let op = match raw.op {
        1 => SyscallOp::Entry { nr: d[0], args },
        2 => SyscallOp::Exit { rval: d[0] as i64, is_error: d[1] & 0xff != 0 },
        3 => SyscallOp::Seccomp { nr: d[0], args },
        _ => SyscallOp::None,
    };
    Ok(SyscallInfo { op, arch: raw.arch })
}

/// Syscall registers read with GETREGS (x86_64) or GETREGSET (aarch64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Regs {
    /// Syscall number (orig_rax / x8).
    pub nr: u64,
    pub args: [u64; 6],
    /// Return value register (rax / x0): -ENOSYS at an x86_64 syscall entry.
    pub ret: i64,
    /// The syscall ABI, as an `AUDIT_ARCH_*` value: on x86_64 a 32-bit code
    /// segment (cs 0x23) means i386.
    pub arch: u32,
}

/// PTRACE_GETREGS: the syscall registers of a stopped tracee.
#[cfg(target_arch = "x86_64")]
pub fn get_regs(tid: Tid) -> Result<Regs, Errno> {
    // SAFETY: user_regs_struct is plain integers; zeroed is valid.
    let mut r: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    request(libc::PTRACE_GETREGS, tid, 0, &mut r as *mut libc::user_regs_struct as usize)?;
    // The i386 ABI (int 0x80 from a 32-bit code segment) uses other numbers.
    let arch = if r.cs == 0x23 { crate::arch::AUDIT_ARCH_I386 } else { crate::arch::AUDIT_ARCH };
    Ok(Regs { nr: r.orig_rax, args: [r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9], ret: r.rax as i64, arch })
}

/// PTRACE_GETREGSET(NT_PRSTATUS): the syscall registers of a stopped tracee.
#[cfg(target_arch = "aarch64")]
pub fn get_regs(tid: Tid) -> Result<Regs, Errno> {
    // SAFETY: user_regs_struct is plain integers; zeroed is valid.
    let mut r: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    let mut iov = libc::iovec {
        iov_base: &mut r as *mut libc::user_regs_struct as *mut libc::c_void,
        iov_len: std::mem::size_of::<libc::user_regs_struct>(),
    };
    request(PTRACE_GETREGSET, tid, 1 /* NT_PRSTATUS */, &mut iov as *mut libc::iovec as usize)?;
    let x = r.regs;
    Ok(Regs { nr: x[8], args: [x[0], x[1], x[2], x[3], x[4], x[5]], ret: x[0] as i64, arch: crate::arch::AUDIT_ARCH })
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub fn get_regs(_tid: Tid) -> Result<Regs, Errno> {
    Err(Errno::ENOSYS)
}

/// process_vm_readv(2) of `len` bytes at `addr`, one remote iovec per page so
/// a read running into unmapped memory returns the bytes before it.
pub fn vm_read(tid: Tid, addr: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    const PAGE: u64 = 4096;
    let mut remote = [libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; 16];
    let mut n = 0;
    let mut a = addr;
    let end = addr.saturating_add(buf.len() as u64);
    while a < end && n < remote.len() {
        let next = ((a / PAGE) + 1) * PAGE;
        let len = next.min(end) - a;
        remote[n] = libc::iovec { iov_base: a as *mut libc::c_void, iov_len: len as usize };
        n += 1;
        a += len;
    }
    let total = (a - addr) as usize;
    let local = libc::iovec { iov_base: buf.as_mut_ptr() as *mut libc::c_void, iov_len: total };
    // SAFETY: the local iovec covers `buf` (total <= buf.len()); remote
    // addresses are checked by the kernel.
    let r = unsafe { libc::process_vm_readv(tid, &local, 1, remote.as_ptr(), n as libc::c_ulong, 0) };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(r as usize)
    }
}

/// What waitpid reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitEvent {
    Exited { tid: Tid, code: i32 },
    Signaled { tid: Tid, sig: Sig, core: bool },
    Stopped { tid: Tid, stop: StopKind },
}

/// The kind of a ptrace-stop, decoded from the wait status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopKind {
    /// Syscall entry or exit stop (SIGTRAP|0x80 with TRACESYSGOOD).
    Syscall,
    /// PTRACE_EVENT_* stop; `sig` matters for PTRACE_EVENT_STOP (group-stop
    /// when it is a stopping signal).
    Event { event: Event, sig: Sig },
    /// A ptrace event number this code does not know (a newer kernel):
    /// resumed without a signal, never mistaken for a known one.
    UnknownEvent { raw: u32 },
    /// Signal-delivery-stop: the tracee is about to receive `sig`.
    Signal(Sig),
}

/// Decodes a raw wait status.
pub fn decode_status(tid: Tid, status: i32) -> WaitEvent {
    if libc::WIFEXITED(status) {
        WaitEvent::Exited { tid, code: libc::WEXITSTATUS(status) }
    } else if libc::WIFSIGNALED(status) {
        WaitEvent::Signaled { tid, sig: Sig::new(libc::WTERMSIG(status)), core: libc::WCOREDUMP(status) }
    } else {
        let sig = (status >> 8) & 0xff;
        let event = ((status >> 16) & 0xffff) as u32;
        let stop = if event != 0 {
            match Event::from_raw(event) {
                Some(event) => StopKind::Event { event, sig: Sig::new(sig) },
                None => StopKind::UnknownEvent { raw: event },
            }
        } else if sig == libc::SIGTRAP | 0x80 {
            StopKind::Syscall
        } else {
            StopKind::Signal(Sig::new(sig))
        };
        WaitEvent::Stopped { tid, stop }
    }
}

/// waitpid(pid, __WALL|__WNOTHREAD [|WNOHANG]). `Ok(None)` with `nohang` when
/// nothing is ready. EINTR is returned to the caller (a signal to the tracer).
pub fn wait(pid: Tid, nohang: bool) -> Result<Option<WaitEvent>, Errno> {
    let mut status = 0;
    let flags = WALL | WNOTHREAD | if nohang { libc::WNOHANG } else { 0 };
    // SAFETY: status is a valid out pointer.
    let r = unsafe { libc::waitpid(pid, &mut status, flags) };
    match r {
        -1 => Err(Errno::last()),
        0 => Ok(None),
        tid => Ok(Some(decode_status(tid, status))),
    }
}
