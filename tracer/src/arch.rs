//! Per-architecture syscall numbers and the audit arch value checked by the
//! seccomp filter. x86_64 is the main target; aarch64 compiles and has the
//! generic syscall table (no fork, vfork, pipe).

use spawnscope_format::{CloneSyscall, ExecSyscall};

#[cfg(target_arch = "x86_64")]
mod nr {
    pub const AUDIT_ARCH: u32 = 0xc000_003e; // AUDIT_ARCH_X86_64
    pub const CLONE: u64 = 56;
    pub const FORK: Option<u64> = Some(57);
    pub const VFORK: Option<u64> = Some(58);
    pub const EXECVE: u64 = 59;
    pub const EXECVEAT: u64 = 322;
    pub const CLONE3: u64 = 435;
    pub const SOCKETPAIR: u64 = 53;
    pub const PIPE: Option<u64> = Some(22);
    pub const PIPE2: u64 = 293;
}

#[cfg(target_arch = "aarch64")]
mod nr {
    pub const AUDIT_ARCH: u32 = 0xc000_00b7; // AUDIT_ARCH_AARCH64
    pub const CLONE: u64 = 220;
    pub const FORK: Option<u64> = None;
    pub const VFORK: Option<u64> = None;
    pub const EXECVE: u64 = 221;
    pub const EXECVEAT: u64 = 281;
    pub const CLONE3: u64 = 435;
    pub const SOCKETPAIR: u64 = 199;
    pub const PIPE: Option<u64> = None;
    pub const PIPE2: u64 = 59;
}

pub use nr::AUDIT_ARCH;

/// AUDIT_ARCH_I386: a 32-bit x86 process (or an `int 0x80` call) on x86_64.
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// AUDIT_ARCH_ARM: a 32-bit arm process on aarch64.
const AUDIT_ARCH_ARM: u32 = 0x4000_0028;
/// __X32_SYSCALL_BIT: x32 syscalls use the x86_64 arch with this bit in the number.
const X32_SYSCALL_BIT: u64 = 0x4000_0000;

/// The name of a syscall ABI this tracer does not decode (its numbers differ
/// from the native table, so decoding them natively would misname them), or
/// None for the native ABI. `nr` is the syscall number as the stop reports it.
pub fn foreign_abi(arch: u32, nr: u64) -> Option<&'static str> {
    if arch != AUDIT_ARCH {
        return Some(match arch {
            AUDIT_ARCH_I386 => "i386 (32-bit x86)",
            AUDIT_ARCH_ARM => "arm (32-bit)",
            _ => "a foreign architecture",
        });
    }
    // orig_rax is -1 outside syscalls: not x32.
    if cfg!(target_arch = "x86_64") && nr & X32_SYSCALL_BIT != 0 && nr >> 32 == 0 {
        return Some("x32");
    }
    None
}

/// A syscall the tracer records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Traced {
    Clone(CloneSyscall),
    Exec(ExecSyscall),
    Socketpair,
    /// pipe (false) or pipe2 (true).
    Pipe {
        two: bool,
    },
}

/// Classifies a syscall number.
pub fn classify(n: u64) -> Option<Traced> {
    Some(match n {
        _ if n == nr::CLONE => Traced::Clone(CloneSyscall::Clone),
        _ if n == nr::CLONE3 => Traced::Clone(CloneSyscall::Clone3),
        _ if Some(n) == nr::FORK => Traced::Clone(CloneSyscall::Fork),
        _ if Some(n) == nr::VFORK => Traced::Clone(CloneSyscall::Vfork),
        _ if n == nr::EXECVE => Traced::Exec(ExecSyscall::Execve),
        _ if n == nr::EXECVEAT => Traced::Exec(ExecSyscall::Execveat),
        _ if n == nr::SOCKETPAIR => Traced::Socketpair,
        _ if Some(n) == nr::PIPE => Traced::Pipe { two: false },
        _ if n == nr::PIPE2 => Traced::Pipe { two: true },
        _ => return None,
    })
}

/// Every syscall number the seccomp filter traps.
pub fn traced_numbers() -> Vec<u32> {
    let mut v = vec![nr::CLONE, nr::CLONE3, nr::EXECVE, nr::EXECVEAT, nr::SOCKETPAIR, nr::PIPE2];
    v.extend(nr::FORK);
    v.extend(nr::VFORK);
    v.extend(nr::PIPE);
    v.into_iter().map(|n| n as u32).collect()
}

/// Decoded arguments of a clone-family call: (flags without CSIGNAL, exit
/// signal, stack). clone3's come from `struct clone_args` instead.
pub fn clone_args_from_regs(sys: CloneSyscall, args: &[u64; 6]) -> (u64, u32, u64) {
    match sys {
        CloneSyscall::Clone => (args[0] & !0xff, (args[0] & 0xff) as u32, args[1]),
        CloneSyscall::Fork => (0, libc::SIGCHLD as u32, 0),
        CloneSyscall::Vfork => {
            (spawnscope_format::flags::CLONE_VM | spawnscope_format::flags::CLONE_VFORK, libc::SIGCHLD as u32, 0)
        }
        CloneSyscall::Clone3 => (0, 0, 0),
    }
}

/// Value of `-ENOSYS` in the return register at an x86_64 syscall-entry stop.
pub const ENTRY_MARKER: i64 = -(libc::ENOSYS as i64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_trapped_number_is_classified() {
        for n in traced_numbers() {
            assert!(classify(u64::from(n)).is_some(), "{n}");
        }
        assert_eq!(classify(0), None);
    }

    #[test]
    fn foreign_abis_are_named() {
        assert_eq!(foreign_abi(AUDIT_ARCH, 56), None);
        assert_eq!(foreign_abi(AUDIT_ARCH, u64::MAX), None);
        assert_eq!(foreign_abi(AUDIT_ARCH_I386, 11), Some("i386 (32-bit x86)"));
        #[cfg(target_arch = "x86_64")]
        assert_eq!(foreign_abi(AUDIT_ARCH, X32_SYSCALL_BIT | 520), Some("x32"));
    }
}
