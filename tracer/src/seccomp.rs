//! The seccomp-bpf filter: SECCOMP_RET_TRACE for the recorded syscalls,
//! SECCOMP_RET_ALLOW for everything else. It checks only the architecture
//! and the syscall number, so the kernel (5.11+) can cache its verdict per
//! syscall: every non-recorded syscall then runs at full speed.
//! See seccomp(2) and Documentation/userspace-api/seccomp_filter.rst.

use crate::arch;

const BPF_LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const BPF_JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const BPF_RET_K: u16 = 0x06; // BPF_RET | BPF_K
const RET_ALLOW: u32 = 0x7fff_0000;
const RET_TRACE: u32 = 0x7ff0_0000;
const OFF_NR: u32 = 0; // offsetof(struct seccomp_data, nr)
const OFF_ARCH: u32 = 4; // offsetof(struct seccomp_data, arch)

/// A compiled filter program (built before fork: the child may not allocate).
#[derive(Debug, Clone)]
pub struct Filter {
    prog: Vec<libc::sock_filter>,
}

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt: 0, jf: 0, k }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

impl Filter {
    /// The filter for the syscalls in [`arch::traced_numbers`].
    pub fn new() -> Filter {
        let nrs = arch::traced_numbers();
        let n = nrs.len();
        let mut prog = Vec::with_capacity(n + 5);
        // Another architecture (e.g. an i386 binary on x86_64): allow all;
        // its syscall numbers differ and it is not recorded.
        prog.push(stmt(BPF_LD_W_ABS, OFF_ARCH));
        prog.push(jump(BPF_JEQ_K, arch::AUDIT_ARCH, 0, (n + 1) as u8));
        prog.push(stmt(BPF_LD_W_ABS, OFF_NR));
        for (i, &nr) in nrs.iter().enumerate() {
            // Match: jump to the TRACE return after the ALLOW.
            prog.push(jump(BPF_JEQ_K, nr, (n - i) as u8, 0));
        }
        prog.push(stmt(BPF_RET_K, RET_ALLOW));
        prog.push(stmt(BPF_RET_K, RET_TRACE));
        Filter { prog }
    }

    /// Installs the filter in the calling process. Async-signal-safe: used
    /// in the forked child before exec. Tries without PR_SET_NO_NEW_PRIVS
    /// first (works with CAP_SYS_ADMIN, keeps setuid programs working), then
    /// with it. Returns the errno on failure.
    pub fn install(&self) -> Result<(), i32> {
        let fprog = libc::sock_fprog { len: self.prog.len() as u16, filter: self.prog.as_ptr() as *mut _ };
        let set = || {
            // SAFETY: fprog points to a valid program for the duration of the call.
            unsafe { libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &fprog as *const _ as usize, 0, 0) }
        };
        if set() == 0 {
            return Ok(());
        }
        // SAFETY: plain prctl with integer arguments.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return Err(errno());
        }
        if set() == 0 {
            Ok(())
        } else {
            Err(errno())
        }
    }
}

impl Default for Filter {
    fn default() -> Self {
        Filter::new()
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Whether this kernel accepts our filter (what `--mode auto` asks).
///
/// Cheap path, no process created: seccomp must be built in
/// (`prctl(PR_GET_SECCOMP)` succeeds) and `seccomp(SECCOMP_GET_ACTION_AVAIL)`
/// must know SECCOMP_RET_TRACE (Linux 4.14+). Only where that call itself is
/// missing or refused (older kernels, a sandbox that filters it) is the
/// filter installed in a throwaway child, once per process: a
/// `CLONE_VM|CLONE_VFORK` child on its own small stack, so even a tracer with
/// a large address space copies nothing.
pub fn probe() -> bool {
    static ANSWER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ANSWER.get_or_init(|| match action_available(RET_TRACE) {
        Some(known) => known,
        None => probe_in_child(),
    })
}

/// seccomp(SECCOMP_GET_ACTION_AVAIL): Some(whether `action` is known), None
/// when the question cannot be asked here (seccomp missing: Some(false)).
fn action_available(action: u32) -> Option<bool> {
    const SECCOMP_GET_ACTION_AVAIL: libc::c_ulong = 2;
    // SAFETY: plain prctl query.
    if unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) } < 0 {
        // EINVAL: the kernel has no seccomp at all.
        return Some(false);
    }
    // SAFETY: the action is read from a valid u32 for the duration of the call.
    let r = unsafe { libc::syscall(libc::SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action as *const u32) };
    match (r, errno()) {
        (0, _) => Some(true),
        // The operation exists and says no.
        (_, libc::EOPNOTSUPP) => Some(false),
        // ENOSYS/EINVAL (before 4.14), EPERM/EACCES (a sandbox): ask the hard way.
        _ => None,
    }
}

/// Installs the filter in a vfork-style child that only calls prctl and
/// exits; the parent is suspended until then.
fn probe_in_child() -> bool {
    extern "C" fn child(arg: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `arg` is the Filter the parent keeps alive while suspended
        // (CLONE_VFORK); install only makes prctl calls.
        let f = unsafe { &*(arg as *const Filter) };
        if f.install().is_ok() {
            0
        } else {
            1
        }
    }
    let filter = Filter::new();
    let mut stack = vec![0u8; 64 * 1024];
    // SAFETY: the stack top is 16-byte aligned inside `stack`, which
    // outlives the child (the parent is suspended until it exits); the
    // child runs `child` only and exits through its return.
    let pid = unsafe {
        let top = stack.as_mut_ptr().add(stack.len()) as usize & !15;
        libc::clone(
            child,
            top as *mut libc::c_void,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            &filter as *const Filter as *mut libc::c_void,
        )
    };
    if pid < 0 {
        return false;
    }
    let mut status = 0;
    loop {
        // SAFETY: valid out pointer; waits for our own child only.
        let r = unsafe {
            libc::waitpid(pid, &mut status, 0x4000_0000 /* __WALL */)
        };
        if r == pid {
            break;
        }
        if r == -1 && errno() != libc::EINTR {
            return false;
        }
    }
    libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_jumps_land_on_returns() {
        let f = Filter::new();
        let n = arch::traced_numbers().len();
        assert_eq!(f.prog.len(), n + 5);
        // The arch mismatch jump lands on the ALLOW return.
        let allow = 3 + n;
        assert_eq!(f.prog[1].jf as usize + 2, allow);
        assert_eq!(f.prog[allow].k, RET_ALLOW);
        assert_eq!(f.prog[allow + 1].k, RET_TRACE);
        for i in 0..n {
            let at = 3 + i;
            assert_eq!(at + 1 + f.prog[at].jt as usize, allow + 1);
        }
    }

    #[test]
    fn probe_succeeds_here() {
        assert!(probe());
        // This kernel (6.18) answers without a child; the child probe agrees.
        assert_eq!(action_available(RET_TRACE), Some(true));
        assert!(probe_in_child());
        assert_eq!(action_available(0x1234_5678), Some(false), "an unknown action");
    }
}
