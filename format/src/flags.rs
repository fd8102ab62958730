//! Decoding tables for raw numbers stored in traces: clone flags, socket
//! types (errno and signal names: [`crate::names`]). Portable (no libc):
//! the values are Linux's ABI, the same on every architecture we trace.

/// Clone flag bits, from `include/uapi/linux/sched.h`.
pub const CLONE_FLAGS: &[(u64, &str)] = &[
    (0x0000_0100, "CLONE_VM"),
    (0x0000_0200, "CLONE_FS"),
    (0x0000_0400, "CLONE_FILES"),
    (0x0000_0800, "CLONE_SIGHAND"),
    (0x0000_1000, "CLONE_PIDFD"),
    (0x0000_2000, "CLONE_PTRACE"),
    (0x0000_4000, "CLONE_VFORK"),
    (0x0000_8000, "CLONE_PARENT"),
    (0x0001_0000, "CLONE_THREAD"),
    (0x0002_0000, "CLONE_NEWNS"),
    (0x0004_0000, "CLONE_SYSVSEM"),
    (0x0008_0000, "CLONE_SETTLS"),
    (0x0010_0000, "CLONE_PARENT_SETTID"),
    (0x0020_0000, "CLONE_CHILD_CLEARTID"),
    (0x0040_0000, "CLONE_DETACHED"),
    (0x0080_0000, "CLONE_UNTRACED"),
    (0x0100_0000, "CLONE_CHILD_SETTID"),
    (0x0200_0000, "CLONE_NEWCGROUP"),
    (0x0400_0000, "CLONE_NEWUTS"),
    (0x0800_0000, "CLONE_NEWIPC"),
    (0x1000_0000, "CLONE_NEWUSER"),
    (0x2000_0000, "CLONE_NEWPID"),
    (0x4000_0000, "CLONE_NEWNET"),
    (0x8000_0000, "CLONE_IO"),
    (0x1_0000_0000, "CLONE_CLEAR_SIGHAND"),
    (0x2_0000_0000, "CLONE_INTO_CGROUP"),
    (0x4_0000_0000, "CLONE_NEWTIME"),
];

pub const CLONE_VM: u64 = 0x100;
pub const CLONE_VFORK: u64 = 0x4000;
pub const CLONE_THREAD: u64 = 0x10000;
/// Low byte of clone(2)'s flags: the exit signal.
pub const CSIGNAL: u64 = 0xff;

/// Names of the set flags, unknown bits as one `0x...` remainder (never dropped).
///
/// ```
/// assert_eq!(spawnscope_format::flags::clone_flag_names(0x4100),
///            vec!["CLONE_VM".to_string(), "CLONE_VFORK".to_string()]);
/// assert_eq!(spawnscope_format::flags::clone_flag_names(0x100 | (1 << 40)),
///            vec!["CLONE_VM".to_string(), "0x10000000000".to_string()]);
/// ```
pub fn clone_flag_names(flags: u64) -> Vec<String> {
    let mut rest = flags;
    let mut out = Vec::new();
    for &(bit, name) in CLONE_FLAGS {
        if flags & bit != 0 {
            out.push(name.to_string());
            rest &= !bit;
        }
    }
    if rest != 0 {
        out.push(format!("{rest:#x}"));
    }
    out
}

/// errno names live in [`crate::names`] (one table for all of spawnscope).
pub use crate::names::{errno_from_name, errno_name};

pub const AF_UNIX: i32 = 1;
pub const SOCK_STREAM: i32 = 1;
pub const SOCK_DGRAM: i32 = 2;
pub const SOCK_SEQPACKET: i32 = 5;
pub const SOCK_CLOEXEC: i32 = 0o2000000;
pub const SOCK_NONBLOCK: i32 = 0o4000;
/// Mask of the socket type without SOCK_CLOEXEC / SOCK_NONBLOCK.
pub const SOCK_TYPE_MASK: i32 = 0xf;

/// `SOCK_SEQPACKET|SOCK_CLOEXEC` style rendering of a raw socket type.
pub fn socket_type_name(raw: i32) -> String {
    let base = match raw & SOCK_TYPE_MASK {
        SOCK_STREAM => "SOCK_STREAM".to_string(),
        SOCK_DGRAM => "SOCK_DGRAM".to_string(),
        SOCK_SEQPACKET => "SOCK_SEQPACKET".to_string(),
        3 => "SOCK_RAW".to_string(),
        other => other.to_string(),
    };
    let mut s = base;
    if raw & SOCK_CLOEXEC != 0 {
        s.push_str("|SOCK_CLOEXEC");
    }
    if raw & SOCK_NONBLOCK != 0 {
        s.push_str("|SOCK_NONBLOCK");
    }
    s
}
