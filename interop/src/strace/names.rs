//! Symbolic names strace prints, back to the numbers the trace stores
//! (Linux generic ABI: x86_64, aarch64, riscv64 and most others agree).

use spawnscope_format::flags;

/// Signal number for a name like `SIGCHLD`, `SIGRTMIN`, `SIGRT_3` or `SIGRTMIN+3`.
pub(crate) fn signal_number(name: &str) -> Option<u32> {
    const SIGNALS: &[(&str, u32)] = &[
        ("SIGHUP", 1),
        ("SIGINT", 2),
        ("SIGQUIT", 3),
        ("SIGILL", 4),
        ("SIGTRAP", 5),
        ("SIGABRT", 6),
        ("SIGIOT", 6),
        ("SIGBUS", 7),
        ("SIGFPE", 8),
        ("SIGKILL", 9),
        ("SIGUSR1", 10),
        ("SIGSEGV", 11),
        ("SIGUSR2", 12),
        ("SIGPIPE", 13),
        ("SIGALRM", 14),
        ("SIGTERM", 15),
        ("SIGSTKFLT", 16),
        ("SIGCHLD", 17),
        ("SIGCLD", 17),
        ("SIGCONT", 18),
        ("SIGSTOP", 19),
        ("SIGTSTP", 20),
        ("SIGTTIN", 21),
        ("SIGTTOU", 22),
        ("SIGURG", 23),
        ("SIGXCPU", 24),
        ("SIGXFSZ", 25),
        ("SIGVTALRM", 26),
        ("SIGPROF", 27),
        ("SIGWINCH", 28),
        ("SIGIO", 29),
        ("SIGPOLL", 29),
        ("SIGPWR", 30),
        ("SIGSYS", 31),
        ("SIGRTMIN", 32),
        ("SIGRTMAX", 64),
    ];
    if let Some(&(_, n)) = SIGNALS.iter().find(|(s, _)| *s == name) {
        return Some(n);
    }
    if let Some(n) = name
        .strip_prefix("SIGRT_")
        .or_else(|| name.strip_prefix("SIGRTMIN+"))
    {
        let n: u32 = n.parse().ok()?;
        return (n <= 32).then_some(32 + n);
    }
    None
}

/// Errno value for a name. Covers Linux's whole generic table (1..=133), so
/// that an unusual error is never misread.
pub(crate) fn errno_number(name: &str) -> Option<i32> {
    if let Some(e) = flags::errno_from_name(name) {
        return Some(e);
    }
    const MORE: &[(&str, i32)] = &[
        ("ESRCH", 3),
        ("ENXIO", 6),
        ("ECHILD", 10),
        ("EWOULDBLOCK", 11),
        ("ENOTBLK", 15),
        ("EBUSY", 16),
        ("EEXIST", 17),
        ("EXDEV", 18),
        ("ENODEV", 19),
        ("ENOTTY", 25),
        ("EFBIG", 27),
        ("ENOSPC", 28),
        ("ESPIPE", 29),
        ("EROFS", 30),
        ("EMLINK", 31),
        ("EPIPE", 32),
        ("EDOM", 33),
        ("ERANGE", 34),
        ("EDEADLK", 35),
        ("ENOLCK", 37),
        ("ENOTEMPTY", 39),
        ("ENOMSG", 42),
        ("EIDRM", 43),
        ("ENOSTR", 60),
        ("ENODATA", 61),
        ("ETIME", 62),
        ("ENOSR", 63),
        ("ENOLINK", 67),
        ("EPROTO", 71),
        ("EBADMSG", 74),
        ("EOVERFLOW", 75),
        ("ELIBACC", 79),
        ("ELIBBAD", 80),
        ("ELIBSCN", 81),
        ("ELIBMAX", 82),
        ("ELIBEXEC", 83),
        ("EILSEQ", 84),
        ("ERESTART", 85),
        ("EUSERS", 87),
        ("ENOTSOCK", 88),
        ("EDESTADDRREQ", 89),
        ("EMSGSIZE", 90),
        ("EPROTOTYPE", 91),
        ("ENOPROTOOPT", 92),
        ("EPROTONOSUPPORT", 93),
        ("ESOCKTNOSUPPORT", 94),
        ("EOPNOTSUPP", 95),
        ("ENOTSUP", 95),
        ("EPFNOSUPPORT", 96),
        ("EAFNOSUPPORT", 97),
        ("EADDRINUSE", 98),
        ("EADDRNOTAVAIL", 99),
        ("ENETDOWN", 100),
        ("ENETUNREACH", 101),
        ("ENETRESET", 102),
        ("ECONNABORTED", 103),
        ("ECONNRESET", 104),
        ("ENOBUFS", 105),
        ("EISCONN", 106),
        ("ENOTCONN", 107),
        ("ESHUTDOWN", 108),
        ("ETOOMANYREFS", 109),
        ("ETIMEDOUT", 110),
        ("ECONNREFUSED", 111),
        ("EHOSTDOWN", 112),
        ("EHOSTUNREACH", 113),
        ("EALREADY", 114),
        ("EINPROGRESS", 115),
        ("ESTALE", 116),
        ("EUCLEAN", 117),
        ("EDQUOT", 122),
        ("ENOMEDIUM", 123),
        ("EMEDIUMTYPE", 124),
        ("ECANCELED", 125),
        ("ENOKEY", 126),
        ("EKEYEXPIRED", 127),
        ("EKEYREVOKED", 128),
        ("EKEYREJECTED", 129),
        ("EOWNERDEAD", 130),
        ("ENOTRECOVERABLE", 131),
        ("ERFKILL", 132),
        ("EHWPOISON", 133),
        // Kernel-internal codes strace shows for interrupted calls.
        ("ERESTARTSYS", 512),
        ("ERESTARTNOINTR", 513),
        ("ERESTARTNOHAND", 514),
        ("ENOIOCTLCMD", 515),
        ("ERESTART_RESTARTBLOCK", 516),
    ];
    MORE.iter().find(|(s, _)| *s == name).map(|&(_, e)| e)
}

/// Clone flag bit for a `CLONE_*` name.
pub(crate) fn clone_flag(name: &str) -> Option<u64> {
    flags::CLONE_FLAGS
        .iter()
        .find(|(_, n)| *n == name)
        .map(|&(b, _)| b)
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
        assert_eq!(
            parse_bits("SOCK_SEQPACKET|SOCK_CLOEXEC", socket_type_part),
            Some(5 | 0o2000000)
        );
        assert_eq!(parse_bits("O_CLOEXEC|0x8", open_flag), Some(0o2000000 | 8));
        assert_eq!(parse_bits("O_BOGUS", open_flag), None);
    }
}
