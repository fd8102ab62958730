//! The one home for Linux's symbolic names of errno values and signals,
//! used by every part of spawnscope (strace import, analyzer, report, TUI,
//! check). Portable (no libc): the numbers are Linux's generic ABI, which
//! x86_64, aarch64, riscv64 and most others share.
//!
//! ```
//! use spawnscope_format::names::{errno_label, errno_name, signal_from_name, signal_name};
//! assert_eq!(errno_name(2), Some("ENOENT"));
//! assert_eq!(errno_label(99_999), "errno 99999");
//! assert_eq!(signal_name(9).as_deref(), Some("SIGKILL"));
//! assert_eq!(signal_from_name("SIGRTMIN+3"), Some(35));
//! ```

/// errno values and names: Linux's whole generic table
/// (`include/uapi/asm-generic/errno-base.h`, `errno.h`), then the
/// kernel-internal codes strace shows for interrupted calls. The first
/// entry of a number is its name; later ones are aliases that are read but
/// never printed.
const ERRNO: &[(i32, &str)] = &[
    (1, "EPERM"),
    (2, "ENOENT"),
    (3, "ESRCH"),
    (4, "EINTR"),
    (5, "EIO"),
    (6, "ENXIO"),
    (7, "E2BIG"),
    (8, "ENOEXEC"),
    (9, "EBADF"),
    (10, "ECHILD"),
    (11, "EAGAIN"),
    (12, "ENOMEM"),
    (13, "EACCES"),
    (14, "EFAULT"),
    (15, "ENOTBLK"),
    (16, "EBUSY"),
    (17, "EEXIST"),
    (18, "EXDEV"),
    (19, "ENODEV"),
    (20, "ENOTDIR"),
    (21, "EISDIR"),
    (22, "EINVAL"),
    (23, "ENFILE"),
    (24, "EMFILE"),
    (25, "ENOTTY"),
    (26, "ETXTBSY"),
    (27, "EFBIG"),
    (28, "ENOSPC"),
    (29, "ESPIPE"),
    (30, "EROFS"),
    (31, "EMLINK"),
    (32, "EPIPE"),
    (33, "EDOM"),
    (34, "ERANGE"),
    (35, "EDEADLK"),
    (36, "ENAMETOOLONG"),
    (37, "ENOLCK"),
    (38, "ENOSYS"),
    (39, "ENOTEMPTY"),
    (40, "ELOOP"),
    (42, "ENOMSG"),
    (43, "EIDRM"),
    (44, "ECHRNG"),
    (45, "EL2NSYNC"),
    (46, "EL3HLT"),
    (47, "EL3RST"),
    (48, "ELNRNG"),
    (49, "EUNATCH"),
    (50, "ENOCSI"),
    (51, "EL2HLT"),
    (52, "EBADE"),
    (53, "EBADR"),
    (54, "EXFULL"),
    (55, "ENOANO"),
    (56, "EBADRQC"),
    (57, "EBADSLT"),
    (59, "EBFONT"),
    (60, "ENOSTR"),
    (61, "ENODATA"),
    (62, "ETIME"),
    (63, "ENOSR"),
    (64, "ENONET"),
    (65, "ENOPKG"),
    (66, "EREMOTE"),
    (67, "ENOLINK"),
    (68, "EADV"),
    (69, "ESRMNT"),
    (70, "ECOMM"),
    (71, "EPROTO"),
    (72, "EMULTIHOP"),
    (73, "EDOTDOT"),
    (74, "EBADMSG"),
    (75, "EOVERFLOW"),
    (76, "ENOTUNIQ"),
    (77, "EBADFD"),
    (78, "EREMCHG"),
    (79, "ELIBACC"),
    (80, "ELIBBAD"),
    (81, "ELIBSCN"),
    (82, "ELIBMAX"),
    (83, "ELIBEXEC"),
    (84, "EILSEQ"),
    (85, "ERESTART"),
    (86, "ESTRPIPE"),
    (87, "EUSERS"),
    (88, "ENOTSOCK"),
    (89, "EDESTADDRREQ"),
    (90, "EMSGSIZE"),
    (91, "EPROTOTYPE"),
    (92, "ENOPROTOOPT"),
    (93, "EPROTONOSUPPORT"),
    (94, "ESOCKTNOSUPPORT"),
    (95, "EOPNOTSUPP"),
    (96, "EPFNOSUPPORT"),
    (97, "EAFNOSUPPORT"),
    (98, "EADDRINUSE"),
    (99, "EADDRNOTAVAIL"),
    (100, "ENETDOWN"),
    (101, "ENETUNREACH"),
    (102, "ENETRESET"),
    (103, "ECONNABORTED"),
    (104, "ECONNRESET"),
    (105, "ENOBUFS"),
    (106, "EISCONN"),
    (107, "ENOTCONN"),
    (108, "ESHUTDOWN"),
    (109, "ETOOMANYREFS"),
    (110, "ETIMEDOUT"),
    (111, "ECONNREFUSED"),
    (112, "EHOSTDOWN"),
    (113, "EHOSTUNREACH"),
    (114, "EALREADY"),
    (115, "EINPROGRESS"),
    (116, "ESTALE"),
    (117, "EUCLEAN"),
    (118, "ENOTNAM"),
    (119, "ENAVAIL"),
    (120, "EISNAM"),
    (121, "EREMOTEIO"),
    (122, "EDQUOT"),
    (123, "ENOMEDIUM"),
    (124, "EMEDIUMTYPE"),
    (125, "ECANCELED"),
    (126, "ENOKEY"),
    (127, "EKEYEXPIRED"),
    (128, "EKEYREVOKED"),
    (129, "EKEYREJECTED"),
    (130, "EOWNERDEAD"),
    (131, "ENOTRECOVERABLE"),
    (132, "ERFKILL"),
    (133, "EHWPOISON"),
    (512, "ERESTARTSYS"),
    (513, "ERESTARTNOINTR"),
    (514, "ERESTARTNOHAND"),
    (515, "ENOIOCTLCMD"),
    (516, "ERESTART_RESTARTBLOCK"),
    // Aliases.
    (11, "EWOULDBLOCK"),
    (35, "EDEADLOCK"),
    (95, "ENOTSUP"),
];

/// Signal numbers and names (`include/uapi/asm-generic/signal.h`); aliases
/// after the first name of a number.
const SIGNALS: &[(i32, &str)] = &[
    (1, "SIGHUP"),
    (2, "SIGINT"),
    (3, "SIGQUIT"),
    (4, "SIGILL"),
    (5, "SIGTRAP"),
    (6, "SIGABRT"),
    (7, "SIGBUS"),
    (8, "SIGFPE"),
    (9, "SIGKILL"),
    (10, "SIGUSR1"),
    (11, "SIGSEGV"),
    (12, "SIGUSR2"),
    (13, "SIGPIPE"),
    (14, "SIGALRM"),
    (15, "SIGTERM"),
    (16, "SIGSTKFLT"),
    (17, "SIGCHLD"),
    (18, "SIGCONT"),
    (19, "SIGSTOP"),
    (20, "SIGTSTP"),
    (21, "SIGTTIN"),
    (22, "SIGTTOU"),
    (23, "SIGURG"),
    (24, "SIGXCPU"),
    (25, "SIGXFSZ"),
    (26, "SIGVTALRM"),
    (27, "SIGPROF"),
    (28, "SIGWINCH"),
    (29, "SIGIO"),
    (30, "SIGPWR"),
    (31, "SIGSYS"),
    // Aliases.
    (6, "SIGIOT"),
    (17, "SIGCLD"),
    (29, "SIGPOLL"),
];

/// The kernel's first and last realtime signal (glibc reserves the first
/// two or three for itself, so a program's SIGRTMIN is higher).
pub const SIGRTMIN: i32 = 32;
pub const SIGRTMAX: i32 = 64;

/// The symbolic name of an errno value (`ENOENT`), if it has one.
pub fn errno_name(errno: i32) -> Option<&'static str> {
    ERRNO.iter().find(|&&(e, _)| e == errno).map(|&(_, name)| name)
}

/// The errno value of a name (`ENOENT`, or an alias like `EWOULDBLOCK`).
pub fn errno_from_name(name: &str) -> Option<i32> {
    ERRNO.iter().find(|&&(_, n)| n == name).map(|&(e, _)| e)
}

/// An errno value for people: its name, or `errno N` when it has none.
pub fn errno_label(errno: i32) -> String {
    errno_name(errno).map_or_else(|| format!("errno {errno}"), str::to_string)
}

/// The name of a signal: `SIGKILL`, `SIGRTMIN+3` for realtime signals.
pub fn signal_name(signo: i32) -> Option<String> {
    if let Some(&(_, name)) = SIGNALS.iter().find(|&&(s, _)| s == signo) {
        return Some(name.to_string());
    }
    match signo {
        SIGRTMIN => Some("SIGRTMIN".to_string()),
        SIGRTMAX => Some("SIGRTMAX".to_string()),
        s if s > SIGRTMIN && s < SIGRTMAX => Some(format!("SIGRTMIN+{}", s - SIGRTMIN)),
        _ => None,
    }
}

/// A signal for people: its name, or `signal N` when it has none.
pub fn signal_label(signo: i32) -> String {
    signal_name(signo).unwrap_or_else(|| format!("signal {signo}"))
}

/// The number of a signal name: `SIGCHLD`, an alias (`SIGCLD`), `SIGRTMIN`,
/// `SIGRTMAX`, `SIGRTMIN+3` or strace's `SIGRT_3`.
pub fn signal_from_name(name: &str) -> Option<i32> {
    if let Some(&(s, _)) = SIGNALS.iter().find(|&&(_, n)| n == name) {
        return Some(s);
    }
    match name {
        "SIGRTMIN" => return Some(SIGRTMIN),
        "SIGRTMAX" => return Some(SIGRTMAX),
        _ => {}
    }
    let n: i32 = name.strip_prefix("SIGRT_").or_else(|| name.strip_prefix("SIGRTMIN+"))?.parse().ok()?;
    (0..=SIGRTMAX - SIGRTMIN).contains(&n).then_some(SIGRTMIN + n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names_both_ways() {
        assert_eq!(errno_name(2), Some("ENOENT"));
        assert_eq!(errno_name(13), Some("EACCES"));
        assert_eq!(errno_name(11), Some("EAGAIN"));
        assert_eq!(errno_name(95), Some("EOPNOTSUPP"));
        assert_eq!(errno_name(41), None);
        assert_eq!(errno_name(0), None);
        assert_eq!(errno_from_name("EWOULDBLOCK"), Some(11));
        assert_eq!(errno_from_name("ERESTARTSYS"), Some(512));
        assert_eq!(errno_from_name("ENOPE"), None);
        assert_eq!(errno_label(2), "ENOENT");
        assert_eq!(errno_label(999), "errno 999");
        // Every primary name reads back as its number.
        for &(e, name) in ERRNO {
            if errno_name(e) == Some(name) {
                assert_eq!(errno_from_name(name), Some(e), "{name}");
            }
        }
    }

    #[test]
    fn signal_names_both_ways() {
        assert_eq!(signal_name(9).as_deref(), Some("SIGKILL"));
        assert_eq!(signal_name(6).as_deref(), Some("SIGABRT"));
        assert_eq!(signal_name(32).as_deref(), Some("SIGRTMIN"));
        assert_eq!(signal_name(35).as_deref(), Some("SIGRTMIN+3"));
        assert_eq!(signal_name(64).as_deref(), Some("SIGRTMAX"));
        assert_eq!(signal_name(0), None);
        assert_eq!(signal_name(65), None);
        assert_eq!(signal_label(99), "signal 99");
        assert_eq!(signal_from_name("SIGCLD"), Some(17));
        assert_eq!(signal_from_name("SIGRT_3"), Some(35));
        assert_eq!(signal_from_name("SIGRTMIN+3"), Some(35));
        assert_eq!(signal_from_name("SIGRTMIN+33"), None);
        assert_eq!(signal_from_name("SIGNOPE"), None);
        for s in 1..=64 {
            assert_eq!(signal_from_name(&signal_name(s).unwrap()), Some(s));
        }
    }
}
