//! Symbolic names strace prints, back to the numbers the trace stores
//! (Linux generic ABI: x86_64, aarch64, riscv64 and most others agree).

use spawnscope_format::flags;

/// Signal number for a name like `SIGCHLD`, `SIGRTMIN`, `SIGRT_3` or `SIGRTMIN+3`.
pub(crate) fn signal_number(name: &str) -> Option<u32> {
    spawnscope_format::names::signal_from_name(name).and_then(|s| u32::try_from(s).ok())
}

/// Errno value for a name (Linux's whole generic table, so that an unusual
/// error is never misread).
pub(crate) fn errno_number(name: &str) -> Option<i32> {
    spawnscope_format::names::errno_from_name(name)
}

/// Clone flag bit for a `CLONE_*` name.
pub(crate) fn clone_flag(name: &str) -> Option<u64> {
    flags::CLONE_FLAGS.iter().find(|(_, n)| *n == name).map(|&(b, _)| b)
}

/// Address family number for `AF_UNIX` etc.
pub(crate) fn address_family(name: &str) -> Option<i32> {
    Some(match name {
        "AF_UNSPEC" => 0,
        "AF_UNIX" | "AF_LOCAL" | "AF_FILE" => 1,
        "AF_INET" => 2,
        "AF_INET6" => 10,
        "AF_NETLINK" => 16,
        "AF_PACKET" => 17,
        "AF_TIPC" => 30,
        "AF_BLUETOOTH" => 31,
        "AF_ALG" => 38,
        "AF_VSOCK" => 40,
        _ => return None,
    })
}

/// Socket type bits for one `|`-separated part (`SOCK_SEQPACKET`, `SOCK_CLOEXEC`).
pub(crate) fn socket_type_part(name: &str) -> Option<i32> {
    Some(match name {
        "SOCK_STREAM" => flags::SOCK_STREAM,
        "SOCK_DGRAM" => flags::SOCK_DGRAM,
        "SOCK_RAW" => 3,
        "SOCK_RDM" => 4,
        "SOCK_SEQPACKET" => flags::SOCK_SEQPACKET,
        "SOCK_DCCP" => 6,
        "SOCK_PACKET" => 10,
        "SOCK_CLOEXEC" => flags::SOCK_CLOEXEC,
        "SOCK_NONBLOCK" => flags::SOCK_NONBLOCK,
        _ => return None,
    })
}

/// Protocol number for the names strace prints in socketpair's third argument.
pub(crate) fn protocol(name: &str) -> Option<i32> {
    Some(match name {
        "IPPROTO_IP" => 0,
        "IPPROTO_ICMP" => 1,
        "IPPROTO_TCP" => 6,
        "IPPROTO_UDP" => 17,
        "IPPROTO_IPV6" => 41,
        "IPPROTO_SCTP" => 132,
        _ => return None,
    })
}

/// pipe2 / open flag bits.
pub(crate) fn open_flag(name: &str) -> Option<i32> {
    Some(match name {
        "O_CLOEXEC" => 0o2_000_000,
        "O_NONBLOCK" | "O_NDELAY" => 0o4000,
        "O_DIRECT" => 0o40_000,
        "O_NOTIFICATION_PIPE" => 0o40_000_000,
        _ => return None,
    })
}

/// execveat flag bits.
pub(crate) fn at_flag(name: &str) -> Option<u32> {
    Some(match name {
        "AT_SYMLINK_NOFOLLOW" => 0x100,
        "AT_EMPTY_PATH" => 0x1000,
        _ => return None,
    })
}

/// Parses `A|B|0x10` with a per-name lookup; numbers are taken as raw bits.
pub(crate) fn parse_bits<T>(tok: &str, lookup: impl Fn(&str) -> Option<T>) -> Option<i128>
where
    T: Into<i128>,
{
    let mut t = tok.trim();
    if let Some(p) = t.find("/*") {
        t = t[..p].trim();
    }
    if t.is_empty() {
        return None;
    }
    let mut v: i128 = 0;
    for part in t.split('|') {
        let part = part.trim();
        if let Some(n) = super::syntax::parse_int(part) {
            v |= n;
        } else {
            v |= lookup(part)?.into();
        }
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_linux_numbers() {
        assert_eq!(signal_number("SIGCHLD"), Some(17));
        assert_eq!(signal_number("SIGKILL"), Some(9));
        assert_eq!(signal_number("SIGRT_1"), Some(33));
        assert_eq!(signal_number("SIGRTMIN+2"), Some(34));
        assert_eq!(signal_number("SIGNOPE"), None);
        assert_eq!(errno_number("ENOENT"), Some(2));
        assert_eq!(errno_number("EACCES"), Some(13));
        assert_eq!(errno_number("ENOTDIR"), Some(20));
        assert_eq!(errno_number("EOPNOTSUPP"), Some(95));
        assert_eq!(errno_number("EWHAT"), None);
        assert_eq!(clone_flag("CLONE_VFORK"), Some(0x4000));
        assert_eq!(parse_bits("SOCK_SEQPACKET|SOCK_CLOEXEC", socket_type_part), Some(5 | 0o2000000));
        assert_eq!(parse_bits("O_CLOEXEC|0x8", open_flag), Some(0o2000000 | 8));
        assert_eq!(parse_bits("O_BOGUS", open_flag), None);
    }
}
