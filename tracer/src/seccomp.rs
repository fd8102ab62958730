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

/// Whether this kernel accepts our filter: installs it in a throwaway child.
pub fn probe() -> bool {
    let filter = Filter::new();
    // SAFETY: the child only calls async-signal-safe functions and _exit.
    match unsafe { libc::fork() } {
        -1 => false,
        0 => {
            let code = if filter.install().is_ok() { 0 } else { 1 };
            // SAFETY: _exit is async-signal-safe.
            unsafe { libc::_exit(code) }
        }
        pid => {
            let mut status = 0;
            loop {
                // SAFETY: valid out pointer; waits for our own child only.
                let r = unsafe { libc::waitpid(pid, &mut status, 0x4000_0000 /* __WALL */) };
                if r == pid {
                    break;
                }
                if r == -1 && errno() != libc::EINTR {
                    return false;
                }
            }
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
        }
    }
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
    }
}
