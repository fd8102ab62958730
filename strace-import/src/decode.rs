//! Decoding a complete syscall line (`name(args) = ret <dur>`) into the
//! calls we record.

use spawnscope_format::{flags, CloneArgs, CloneSyscall, EnvSummary, ExecSyscall};

use super::names;
use super::syntax::{
    array_inner, comment_text, find_close, is_comment, key_value, parse_cstring, parse_int, parse_ptr, split_top, struct_inner,
};

/// The syscalls the importer records.
pub(crate) fn is_recorded(name: &str) -> bool {
    matches!(name, "clone" | "clone3" | "fork" | "vfork" | "execve" | "execveat" | "socketpair" | "pipe" | "pipe2" | "exit_group")
}

/// The result as strace printed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ret {
    Value(i128),
    /// `-1 ENOENT (...)`: the positive errno.
    Error(i32),
    /// `?` (no return: exit_group, or the result was lost).
    Unknown,
}

impl Ret {
    /// 0 on success, the errno on failure (`?` counts as success: the call
    /// did not fail in a way strace saw).
    pub(crate) fn errno(self) -> i32 {
        match self {
            Ret::Error(e) => e,
            _ => 0,
        }
    }
}

/// A complete call split into name, arguments, result and duration.
#[derive(Debug)]
pub(crate) struct Complete<'a> {
    pub name: &'a str,
    pub args: Vec<&'a str>,
    pub ret: Ret,
    /// From `-T`.
    pub dur_ns: Option<u64>,
}

/// Splits `name(args) = ret ...`.
pub(crate) fn parse_complete(text: &str) -> Result<Complete<'_>, String> {
    let open = text.find('(').ok_or("no '('")?;
    let name = &text[..open];
    let b = text.as_bytes();
    let close = find_close(b, open + 1).ok_or("unbalanced parentheses or quotes in the arguments")?;
    if b[close - 1] != b')' {
        return Err("arguments do not end with ')'".into());
    }
    let args_text = &text[open + 1..close - 1];
    let args = split_top(args_text).ok_or("unbalanced brackets in the arguments")?;
    let rest = text[close..].trim_start();
    let rest = rest.strip_prefix('=').ok_or("expected \"= result\" after the arguments")?.trim_start();
    let mut toks = rest.split_whitespace();
    let ret_tok = toks.next().ok_or("missing result after '='")?;
    let ret = if ret_tok == "?" {
        Ret::Unknown
    } else {
        // `-y` decorates fds: `3</dev/null>`.
        let num = ret_tok.split('<').next().unwrap_or(ret_tok);
        let v = parse_int(num).ok_or_else(|| format!("bad result {ret_tok:?}"))?;
        match toks.next() {
            Some(e) if v < 0 && e.starts_with('E') => Ret::Error(errno_value(e)?),
            _ => Ret::Value(v),
        }
    };
    let dur_ns = rest.trim_end().strip_suffix('>').and_then(|r| r.rfind('<').map(|p| &r[p + 1..])).and_then(parse_seconds);
    Ok(Complete { name, args, ret, dur_ns })
}

fn errno_value(name: &str) -> Result<i32, String> {
    if let Some(e) = names::errno_number(name) {
        return Ok(e);
    }
    if let Some(n) = name.strip_prefix("ERRNO_").and_then(|n| n.parse().ok()) {
        return Ok(n);
    }
    Err(format!("unknown errno name {name:?}"))
}

/// `0.000315` seconds -> ns.
fn parse_seconds(s: &str) -> Option<u64> {
    let (w, f) = s.split_once('.')?;
    if w.is_empty() || f.is_empty() || f.len() > 9 || !(w.bytes().chain(f.bytes())).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let w: u64 = w.parse().ok()?;
    let f: u64 = f.parse::<u64>().ok()? * 10u64.pow(9 - f.len() as u32);
    w.checked_mul(1_000_000_000)?.checked_add(f)
}

/// A clone-family call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CloneCall {
    pub syscall: CloneSyscall,
    pub flags: u64,
    pub exit_signal: u32,
    pub stack: u64,
    pub clone_args: Option<CloneArgs>,
}

/// What strace showed of the environment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EnvInfo {
    pub count: u64,
    pub bytes: u64,
    /// The digest of the block (keyed when the trace is built); None unless
    /// every string was shown in full.
    pub hash: Option<EnvSummary>,
    pub values: Option<Vec<String>>,
    /// Only a count (`0x7ff... /* 184 vars */`: strace without `-v`).
    pub count_only: bool,
    /// Some string or the array was cut (`-s` too small): bytes is a lower bound.
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExecCall {
    pub syscall: ExecSyscall,
    pub path: String,
    pub dirfd: Option<i32>,
    pub at_flags: Option<u32>,
    pub argv: Vec<String>,
    pub argv_truncated: bool,
    pub env: EnvInfo,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Call {
    Clone(CloneCall),
    Exec(ExecCall),
    Socketpair { domain: i32, socket_type: i32, protocol: i32, fds: Option<[i32; 2]> },
    Pipe { flags: i32, fds: Option<[i32; 2]> },
    ExitGroup(i32),
}

/// Decodes a recorded syscall's arguments.
pub(crate) fn decode(c: &Complete<'_>) -> Result<Call, String> {
    let arg = |i: usize| -> Result<&str, String> {
        c.args.get(i).copied().ok_or_else(|| format!("{}: missing argument {}", c.name, i + 1))
    };
    Ok(match c.name {
        "fork" => Call::Clone(CloneCall { syscall: CloneSyscall::Fork, flags: 0, exit_signal: 17, stack: 0, clone_args: None }),
        "vfork" => Call::Clone(CloneCall {
            syscall: CloneSyscall::Vfork,
            flags: flags::CLONE_VM | flags::CLONE_VFORK,
            exit_signal: 17,
            stack: 0,
            clone_args: None,
        }),
        "clone" => Call::Clone(decode_clone(&c.args)?),
        "clone3" => Call::Clone(decode_clone3(arg(0)?, c.args.get(1).copied())?),
        "execve" => Call::Exec(decode_exec(ExecSyscall::Execve, None, arg(0)?, arg(1)?, arg(2)?, None)?),
        "execveat" => {
            let dirfd = decode_dirfd(arg(0)?)?;
            let at = match c.args.get(4) {
                Some(f) => Some(
                    names::parse_bits(f, names::at_flag)
                        .and_then(|v| u32::try_from(v).ok())
                        .ok_or_else(|| format!("bad execveat flags {f:?}"))?,
                ),
                None => None,
            };
            Call::Exec(decode_exec(ExecSyscall::Execveat, Some(dirfd), arg(1)?, arg(2)?, arg(3)?, at)?)
        }
        "socketpair" => {
            let domain = named_int(arg(0)?, names::address_family)
                .ok_or_else(|| format!("bad socket domain {:?}", arg(0).unwrap_or("")))?;
            let socket_type = names::parse_bits(arg(1)?, names::socket_type_part)
                .and_then(|v| i32::try_from(v).ok())
                .ok_or_else(|| format!("bad socket type {:?}", arg(1).unwrap_or("")))?;
            // An unusual protocol name does not change what we analyse: -1 = unknown.
            let protocol = named_int(arg(2)?, names::protocol).unwrap_or(-1);
            Call::Socketpair { domain, socket_type, protocol, fds: decode_fds(arg(3)?) }
        }
        "pipe" => Call::Pipe { flags: 0, fds: decode_fds(arg(0)?) },
        "pipe2" => {
            let f = names::parse_bits(arg(1)?, names::open_flag)
                .and_then(|v| i32::try_from(v).ok())
                .ok_or_else(|| format!("bad pipe2 flags {:?}", arg(1).unwrap_or("")))?;
            Call::Pipe { flags: f, fds: decode_fds(arg(0)?) }
        }
        "exit_group" => Call::ExitGroup(parse_int(arg(0)?).and_then(|v| i32::try_from(v).ok()).ok_or("bad exit_group code")?),
        other => return Err(format!("{other} is not a recorded syscall")),
    })
}

fn named_int(tok: &str, lookup: impl Fn(&str) -> Option<i32>) -> Option<i32> {
    let t = tok.trim();
    parse_int(t).and_then(|v| i32::try_from(v).ok()).or_else(|| lookup(t))
}

/// `[3, 4]` -> Some([3, 4]); an address (failed call) -> None. `-y` adds `</path>`.
fn decode_fds(tok: &str) -> Option<[i32; 2]> {
    let inner = array_inner(tok)?;
    let parts = split_top(inner)?;
    if parts.len() != 2 {
        return None;
    }
    let fd = |p: &str| parse_int(p.split('<').next()?).and_then(|v| i32::try_from(v).ok());
    Some([fd(parts[0])?, fd(parts[1])?])
}

fn decode_dirfd(tok: &str) -> Result<i32, String> {
    let t = tok.trim();
    if t == "AT_FDCWD" {
        return Ok(-100);
    }
    parse_int(t.split('<').next().unwrap_or(t)).and_then(|v| i32::try_from(v).ok()).ok_or_else(|| format!("bad dirfd {t:?}"))
}

/// Clone flags as strace prints them: `CLONE_VM|CLONE_VFORK|SIGCHLD`, with
/// unknown bits as hex; returns (flags without the exit signal, exit signal).
fn decode_clone_flags(tok: &str) -> Result<(u64, u32), String> {
    let mut t = tok.trim();
    if let Some(p) = t.find("/*") {
        t = t[..p].trim();
    }
    let mut fl: u64 = 0;
    let mut sig: u32 = 0;
    for part in t.split('|') {
        let part = part.trim();
        if let Some(bit) = names::clone_flag(part) {
            fl |= bit;
        } else if let Some(s) = names::signal_number(part) {
            sig = s;
        } else if let Some(v) = parse_int(part).and_then(|v| u64::try_from(v).ok()) {
            sig |= (v & flags::CSIGNAL) as u32;
            fl |= v & !flags::CSIGNAL;
        } else {
            return Err(format!("unknown clone flag {part:?}"));
        }
    }
    Ok((fl, sig))
}

fn decode_clone(args: &[&str]) -> Result<CloneCall, String> {
    let mut fl = None;
    let mut stack = 0;
    for (i, a) in args.iter().enumerate() {
        match key_value(a) {
            Some(("flags", v)) => fl = Some(decode_clone_flags(v)?),
            Some(("child_stack" | "stack", v)) => {
                stack = parse_ptr(v).ok_or_else(|| format!("bad child_stack {v:?}"))?;
            }
            Some(_) => {}
            // `-X raw`: positional (x86_64 order: flags, stack, ...).
            None if i == 0 => fl = Some(decode_clone_flags(a)?),
            None if i == 1 => stack = parse_ptr(a).unwrap_or(0),
            None => {}
        }
    }
    let (flags, exit_signal) = fl.ok_or("clone without flags")?;
    Ok(CloneCall { syscall: CloneSyscall::Clone, flags, exit_signal, stack, clone_args: None })
}

/// `{flags=..., exit_signal=SIGCHLD, stack=0x..., stack_size=0x9000} => {parent_tid=[N]}`.
fn decode_clone3(tok: &str, size: Option<&str>) -> Result<CloneCall, String> {
    let size = size.and_then(parse_int).and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
    let t = tok.trim();
    if !t.starts_with('{') {
        // The struct could not be read (e.g. EFAULT): only the call is known.
        return Ok(CloneCall { syscall: CloneSyscall::Clone3, flags: 0, exit_signal: 0, stack: 0, clone_args: None });
    }
    let end = find_close(t.as_bytes(), 1).ok_or("unclosed clone_args struct")?;
    let inner = struct_inner(&t[..end]).ok_or("bad clone_args struct")?;
    let mut a = CloneArgs { size, ..CloneArgs::default() };
    let mut fl = 0;
    let mut sig = 0;
    for m in split_top(inner).ok_or("bad clone_args struct")? {
        if m == "..." || is_comment(m) {
            continue;
        }
        let (k, v) = key_value(m).ok_or_else(|| format!("bad clone_args member {m:?}"))?;
        let ptr = || parse_ptr(v).ok_or_else(|| format!("bad clone_args.{k} {v:?}"));
        match k {
            "flags" => {
                let (f, s) = decode_clone_flags(v)?;
                fl = f;
                sig |= s;
            }
            "exit_signal" => {
                sig = names::signal_number(v)
                    .or_else(|| parse_int(v).and_then(|n| u32::try_from(n).ok()))
                    .ok_or_else(|| format!("bad exit_signal {v:?}"))?;
            }
            "pidfd" => a.pidfd = ptr()?,
            "child_tid" => a.child_tid = ptr()?,
            "parent_tid" => a.parent_tid = ptr()?,
            "stack" => a.stack = ptr()?,
            "stack_size" => a.stack_size = ptr()?,
            "tls" => a.tls = ptr()?,
            // strace shows the array's contents, not its address.
            "set_tid" => a.set_tid = Some(parse_ptr(v).unwrap_or(0)),
            "set_tid_size" => a.set_tid_size = Some(ptr()?),
            "cgroup" => a.cgroup = Some(ptr()?),
            _ => {}
        }
    }
    a.flags = fl;
    a.exit_signal = u64::from(sig);
    // Fields inside `size` exist even when strace omitted them for being 0.
    if size >= 80 {
        a.set_tid.get_or_insert(0);
        a.set_tid_size.get_or_insert(0);
    }
    if size >= 88 {
        a.cgroup.get_or_insert(0);
    }
    Ok(CloneCall { syscall: CloneSyscall::Clone3, flags: fl, exit_signal: sig, stack: a.stack, clone_args: Some(a) })
}

/// Bounds a string the way the tracer does ([`spawnscope_format::MAX_STRING`]
/// bytes, cut at a character boundary). Returns whether it was cut.
fn bounded(bytes: &[u8]) -> (String, bool) {
    let s = String::from_utf8_lossy(bytes);
    if s.len() <= spawnscope_format::MAX_STRING {
        return (s.into_owned(), false);
    }
    let mut end = spawnscope_format::MAX_STRING;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (s[..end].to_string(), true)
}

fn decode_exec(
    syscall: ExecSyscall,
    dirfd: Option<i32>,
    path_tok: &str,
    argv_tok: &str,
    env_tok: &str,
    at_flags: Option<u32>,
) -> Result<ExecCall, String> {
    let path = match parse_cstring(path_tok) {
        Some(s) => bounded(&s.bytes).0,
        // NULL or an unreadable address: keep what strace showed.
        None if parse_ptr(path_tok).is_some() => path_tok.trim().to_string(),
        None => return Err(format!("bad exec path {path_tok:?}")),
    };
    let (argv, argv_truncated) = decode_argv(argv_tok)?;
    let env = decode_env(env_tok)?;
    Ok(ExecCall { syscall, path, dirfd, at_flags, argv, argv_truncated, env })
}

fn decode_argv(tok: &str) -> Result<(Vec<String>, bool), String> {
    let Some(inner) = array_inner(tok) else {
        if tok.trim() == "NULL" {
            return Ok((Vec::new(), false));
        }
        if parse_ptr(tok).is_some() {
            return Ok((Vec::new(), true));
        }
        return Err(format!("bad argv {:?}", short(tok)));
    };
    let mut argv = Vec::new();
    let mut cut = false;
    for item in split_top(inner).ok_or("bad argv array")? {
        if item == "..." {
            cut = true;
            continue;
        }
        if is_comment(item) {
            continue;
        }
        let s = parse_cstring(item).ok_or_else(|| format!("bad argv string {:?}", short(item)))?;
        if argv.len() == spawnscope_format::MAX_ARGS {
            cut = true;
            continue;
        }
        let (text, c) = bounded(&s.bytes);
        cut |= c || s.truncated;
        argv.push(text);
    }
    Ok((argv, cut))
}

fn decode_env(tok: &str) -> Result<EnvInfo, String> {
    let t = tok.trim();
    let count_from_comment = |c: &str| -> Option<u64> {
        let n = c.split_whitespace().next()?;
        n.parse().ok()
    };
    let Some(inner) = array_inner(t) else {
        if t == "NULL" {
            let s = EnvSummary::new();
            return Ok(EnvInfo {
                count: 0,
                bytes: 0,
                hash: Some(s),
                values: Some(Vec::new()),
                count_only: false,
                truncated: false,
            });
        }
        // strace >= 4.13 without -v: `0x7ffe... /* 184 vars */`.
        if parse_ptr(t.split("/*").next().unwrap_or(t)).is_some() {
            let count = comment_text(t).and_then(count_from_comment);
            return Ok(EnvInfo {
                count: count.unwrap_or(0),
                bytes: 0,
                hash: None,
                values: None,
                count_only: true,
                truncated: count.is_none(),
            });
        }
        return Err(format!("bad environment {:?}", short(t)));
    };
    let items = split_top(inner).ok_or("bad environment array")?;
    // strace < 4.13 without -v: `[/* 184 vars */]`.
    if items.len() == 1 && is_comment(items[0]) {
        let count = comment_text(items[0]).and_then(count_from_comment).unwrap_or(0);
        return Ok(EnvInfo { count, bytes: 0, hash: None, values: None, count_only: true, truncated: false });
    }
    let mut sum = EnvSummary::new();
    let mut values = Vec::with_capacity(items.len());
    let mut truncated = false;
    for item in items {
        if item == "..." {
            truncated = true;
            continue;
        }
        if is_comment(item) {
            continue;
        }
        let s = parse_cstring(item).ok_or_else(|| format!("bad environment string {:?}", short(item)))?;
        truncated |= s.truncated;
        sum.add(&s.bytes);
        values.push(String::from_utf8_lossy(&s.bytes).into_owned());
    }
    Ok(EnvInfo {
        count: sum.count,
        bytes: sum.bytes,
        hash: (!truncated).then_some(sum),
        values: Some(values),
        count_only: false,
        truncated,
    })
}

fn short(s: &str) -> String {
    let s = s.trim();
    if s.len() <= 60 {
        return s.to_string();
    }
    let mut end = 60;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(text: &str) -> Call {
        decode(&parse_complete(text).unwrap()).unwrap()
    }

    #[test]
    fn complete_line_parts() {
        let c = parse_complete(r#"execve("/x", ["x"], []) = -1 ENOENT (No such file or directory) <0.000013>"#).unwrap();
        assert_eq!(c.name, "execve");
        assert_eq!(c.args.len(), 3);
        assert_eq!(c.ret, Ret::Error(2));
        assert_eq!(c.dur_ns, Some(13_000));
        let c = parse_complete("exit_group(0)   = ?").unwrap();
        assert_eq!((c.ret, c.dur_ns), (Ret::Unknown, None));
        let c = parse_complete("set_robust_list(0x7f, 24) = ? <unavailable>").unwrap();
        assert_eq!((c.ret, c.dur_ns), (Ret::Unknown, None));
        assert!(parse_complete("execve(\"/x\", [\"x\"] = 0").is_err());
        assert!(parse_complete("execve(\"/x\") = -1 EWHAT (?)").is_err());
    }

    #[test]
    fn clone_flags_back_to_bits() {
        let Call::Clone(c) = call(
            "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f18c646fa10) = 9267",
        ) else {
            panic!()
        };
        assert_eq!(c.flags, 0x0020_0000 | 0x0100_0000);
        assert_eq!((c.exit_signal, c.stack, c.syscall), (17, 0, CloneSyscall::Clone));
        let Call::Clone(c) = call("clone(child_stack=0x7f0000, flags=CLONE_VM|CLONE_VFORK|0x400000000|SIGCHLD) = 5") else {
            panic!()
        };
        assert_eq!(c.flags, 0x4100 | 0x4_0000_0000);
        assert_eq!(c.stack, 0x7f0000);
        let Call::Clone(c) = call("clone(0x1200011, 0, 0, 0, 0) = 5") else { panic!() };
        assert_eq!((c.flags, c.exit_signal), (0x1200000, 17));
        assert!(parse_complete("clone(flags=CLONE_BOGUS) = 1").map(|c| decode(&c)).unwrap().is_err());
    }

    #[test]
    fn clone3_struct() {
        let Call::Clone(c) = call("clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7fd45dadf000, stack_size=0x9000}, 88) = 9408 <0.010128>") else { panic!() };
        assert_eq!((c.flags, c.exit_signal, c.stack), (0x4100, 17, 0x7fd45dadf000));
        let a = c.clone_args.unwrap();
        assert_eq!((a.stack_size, a.size, a.cgroup, a.set_tid), (0x9000, 88, Some(0), Some(0)));
        let Call::Clone(c) = call("clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7fd45d8f9990, parent_tid=0x7fd45d8f9990, exit_signal=0, stack=0x7fd45d0f9000, stack_size=0x7fff80, tls=0x7fd45d8f96c0} => {parent_tid=[9415]}, 88) = 9415 <0.000081>") else { panic!() };
        assert_ne!(c.flags & flags::CLONE_THREAD, 0);
        assert_eq!(c.exit_signal, 0);
        assert_eq!(c.clone_args.unwrap().tls, 0x7fd45d8f96c0);
        let Call::Clone(c) = call("clone3({flags=0, exit_signal=SIGCHLD}, 64) = 7") else { panic!() };
        let a = c.clone_args.unwrap();
        assert_eq!((a.set_tid, a.cgroup), (None, None));
    }

    #[test]
    fn exec_with_full_env() {
        let Call::Exec(e) = call(r#"execve("/bin/echo", ["echo", "a\nb\33[2J\377"], ["PATH=/bin", "A=b"]) = 0 <0.001644>"#)
        else {
            panic!()
        };
        assert_eq!(e.path, "/bin/echo");
        assert_eq!(e.argv, vec!["echo".to_string(), "a\nb\x1b[2J\u{fffd}".to_string()]);
        assert!(!e.argv_truncated);
        let want = EnvSummary::of([&b"PATH=/bin"[..], &b"A=b"[..]]);
        assert_eq!((e.env.count, e.env.bytes), (2, 14));
        assert_eq!(e.env.hash, Some(want));
    }

    #[test]
    fn exec_env_count_only_and_truncated() {
        let Call::Exec(e) = call(r#"execve("/bin/true", ["true"], 0x7ffe786879a8 /* 184 vars */) = 0"#) else { panic!() };
        assert!(e.env.count_only);
        assert_eq!((e.env.count, e.env.bytes, e.env.hash), (184, 0, None));
        let Call::Exec(e) = call(r#"execve("/bin/true", ["true"], [/* 20 vars */]) = 0"#) else { panic!() };
        assert_eq!((e.env.count, e.env.count_only), (20, true));
        let Call::Exec(e) = call(r#"execve("/bin/x", ["x", "long"...], ["A=verylong"..., ...]) = 0"#) else { panic!() };
        assert!(e.argv_truncated);
        assert!(e.env.truncated);
        assert_eq!(e.env.hash, None);
        assert_eq!(e.env.bytes, 11);
    }

    #[test]
    fn execveat_socketpair_pipe() {
        let Call::Exec(e) = call(r#"execveat(AT_FDCWD, "/bin/true", ["true"], [], AT_EMPTY_PATH) = 0"#) else { panic!() };
        assert_eq!((e.dirfd, e.at_flags, e.syscall), (Some(-100), Some(0x1000), ExecSyscall::Execveat));
        assert_eq!(
            call("socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC, 0, [3, 4]) = 0"),
            Call::Socketpair { domain: 1, socket_type: 5 | 0o2000000, protocol: 0, fds: Some([3, 4]) }
        );
        assert_eq!(call("pipe2([3, 4], O_CLOEXEC) = 0"), Call::Pipe { flags: 0o2000000, fds: Some([3, 4]) });
        assert_eq!(call("pipe2(0x7ffd, 0) = -1 EMFILE (Too many open files)"), Call::Pipe { flags: 0, fds: None });
        assert_eq!(call("pipe([5</x>, 6</y>]) = 0"), Call::Pipe { flags: 0, fds: Some([5, 6]) });
        assert_eq!(call("exit_group(3) = ?"), Call::ExitGroup(3));
    }
}
