//! The reader's fast path for the event lines that make up nearly all of a
//! trace (`spawn`, `exec`, `exit`, `socketpair`, `pipe`), in the exact shape
//! the writer gives them.
//!
//! Why by hand: serde_json spends most of a line's time reading, checking and
//! matching its ~15 keys (one `from_utf8` per key); it needs ~0.6 s CPU for a
//! 1M-event trace against 0.2 s for its syntax-only pass, and sonic-rs and
//! simd-json (portable builds) were no faster on these short lines (issue 15,
//! BENCHMARKS.md "Reader speed, third session").
//!
//! The rule that keeps this safe: [`parse`] answers `Some` only for a line it
//! understands completely, and then with exactly the record serde_json gives;
//! for anything else (whitespace between tokens, escapes in strings, unknown or
//! repeated keys, numbers out of range or not plain integers, another key
//! order for `kind`, a missing required field, ...) it answers `None` and the
//! reader asks serde_json, which decides, with its own error messages. Tests
//! (`format/tests/fast_path.rs`) check that rule against serde_json on every
//! fixture trace, on generated traces and on randomly damaged lines.

use crate::event::{
    CloneArgs, CloneSyscall, ExecEvent, ExecSyscall, ExitEvent, MemInfo, PipeEvent, PtraceEvent, Record, SocketpairEvent,
    SpawnEvent,
};

/// The record of a line, or `None`: "ask serde_json".
pub(crate) fn parse(line: &[u8]) -> Option<Record> {
    let mut p = Parser { b: line, i: 0 };
    p.lit(b"{\"kind\":")?;
    let kind = p.name()?;
    p.byte(b',')?;
    // Each reads its members and checks that the line ends there, then
    // builds its record in place (a record is a few hundred bytes).
    Some(match kind {
        b"exec" => Record::Exec(exec(&mut p)?),
        b"spawn" => Record::Spawn(spawn(&mut p)?),
        b"exit" => Record::Exit(exit(&mut p)?),
        b"socketpair" => Record::Socketpair(socketpair(&mut p)?),
        b"pipe" => Record::Pipe(pipe(&mut p)?),
        _ => return None,
    })
}

/// Reads an object's members, one arm per key, in the writer's order:
/// `members!(p.event, { "key" => read the value, ... })` (`event`: the
/// object is a whole line; `members`: a nested one).
macro_rules! members {
    ($p:ident.$method:ident, { $($key:literal => $read:expr,)* }) => {{
        const ORDER: &[(&str, &[u8])] = &[$(($key, concat!("\"", $key, "\":").as_bytes())),*];
        $p.$method(ORDER, |$p, i| {
            let mut n = 0usize;
            $(
                if i == n {
                    return $read;
                }
                n += 1;
            )*
            let _ = n;
            None
        })
    }};
}

/// A cursor over one line; every method answers `None` for anything outside
/// the strict subset described in the module docs.
struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn byte(&mut self, want: u8) -> Option<()> {
        (self.bump()? == want).then_some(())
    }

    fn lit(&mut self, want: &[u8]) -> Option<()> {
        let end = self.i.checked_add(want.len())?;
        (self.b.get(self.i..end)? == want).then(|| self.i = end)
    }

    /// The bytes of a string without escapes or control characters (both
    /// legal JSON, both left to serde_json).
    fn raw_str(&mut self) -> Option<&'a [u8]> {
        self.byte(b'"')?;
        let start = self.i;
        loop {
            match self.bump()? {
                b'"' => break,
                b'\\' | 0..=0x1f => return None,
                _ => {}
            }
        }
        Some(&self.b[start..self.i - 1])
    }

    /// A string as text: serde_json rejects invalid UTF-8 in strings (and
    /// non-ASCII bytes outside them fail the parser's checks for `"`, `,`,
    /// digits, ...), so only strings need a UTF-8 check.
    fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.raw_str()?).ok()
    }

    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }

    /// A string that must be one of a few ASCII names (an enum's variants).
    fn name(&mut self) -> Option<&'a [u8]> {
        self.raw_str()
    }

    /// `"key":`.
    fn key(&mut self) -> Option<&'a str> {
        let k = self.str()?;
        self.byte(b':')?;
        Some(k)
    }

    /// After a member or an element: `true` when another follows (`,`),
    /// `false` at `close`.
    fn more(&mut self, close: u8) -> Option<bool> {
        match self.bump()? {
            b',' => Some(true),
            c if c == close => Some(false),
            _ => None,
        }
    }

    /// Digits of a JSON integer: `0` or no leading zero; `None` on overflow
    /// (serde_json then reads a float, which no integer field accepts).
    fn digits(&mut self) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            self.i += 1;
        }
        let n = self.i - start;
        // A fraction or exponent after the digits fails the caller's check of
        // the next byte (`,`, `}` or `]`).
        (n == 1 || (n > 1 && self.b[start] != b'0')).then_some(v)
    }

    fn u64(&mut self) -> Option<u64> {
        self.digits()
    }

    fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.digits()?).ok()
    }

    fn i32(&mut self) -> Option<i32> {
        if self.peek()? == b'-' {
            self.i += 1;
            // serde_json reads `-0` as the float -0.0: left to it.
            let v = self.digits().filter(|&v| v != 0)?;
            i32::try_from(-i64::try_from(v).ok()?).ok()
        } else {
            i32::try_from(self.digits()?).ok()
        }
    }

    fn bool(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.lit(b"true").map(|_| true),
            b'f' => self.lit(b"false").map(|_| false),
            _ => None,
        }
    }

    /// `null` or a value.
    fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.peek()? == b'n' {
            self.lit(b"null").map(|_| None)
        } else {
            f(self).map(Some)
        }
    }

    fn strings(&mut self) -> Option<Vec<String>> {
        self.byte(b'[')?;
        let mut v = Vec::new();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(v);
        }
        loop {
            v.push(self.string()?);
            if !self.more(b']')? {
                return Some(v);
            }
        }
    }

    fn fds(&mut self) -> Option<[i32; 2]> {
        self.byte(b'[')?;
        let a = self.i32()?;
        self.byte(b',')?;
        let b = self.i32()?;
        self.byte(b']')?;
        Some([a, b])
    }

    /// `"key":` if the next key is `key` (`quoted`: `"key":`, as [`members!`]
    /// spells it).
    fn expect_key(&mut self, quoted: &[u8]) -> bool {
        let end = self.i + quoted.len();
        let hit = self.b.get(self.i..end).is_some_and(|next| same_short(next, quoted));
        if hit {
            self.i = end;
        }
        hit
    }

    /// The members of an object whose `{` (and, for events, `"kind":"…",`)
    /// was read, by [`members!`]: `member` reads the value of the key
    /// `order[i]`. `order` is the writer's order, tried first: a guess that
    /// saves reading the key when right and costs a compare when not.
    fn members(&mut self, order: &[(&str, &[u8])], mut member: impl FnMut(&mut Self, usize) -> Option<()>) -> Option<()> {
        let mut next = 0;
        loop {
            let i = match order.get(next) {
                Some((_, quoted)) if self.expect_key(quoted) => next,
                _ => {
                    let k = self.key()?;
                    // An unknown key: serde would skip it; left to serde_json.
                    order.iter().position(|&(o, _)| o == k)?
                }
            };
            member(self, i)?;
            next = i + 1;
            if !self.more(b'}')? {
                return Some(());
            }
        }
    }

    /// The members of an event, which must end the line.
    fn event(&mut self, order: &[(&str, &[u8])], member: impl FnMut(&mut Self, usize) -> Option<()>) -> Option<()> {
        self.members(order, member)?;
        (self.i == self.b.len()).then_some(())
    }
}

/// `a == b` for two slices of the same length, at least 4 bytes (every
/// quoted key is): two or three overlapping word compares for up to 24
/// bytes (the longest quoted key is 17) instead of a call to memcmp.
fn same_short(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() || !(4..=24).contains(&n) {
        return a == b;
    }
    let word = |s: &[u8], at: usize| -> u64 {
        if n >= 8 {
            u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or_default())
        } else {
            u64::from(u32::from_le_bytes(s[at..at + 4].try_into().unwrap_or_default()))
        }
    };
    let last = if n >= 8 { n - 8 } else { n - 4 };
    word(a, 0) == word(b, 0) && word(a, last) == word(b, last) && (n <= 16 || word(a, 8) == word(b, 8))
}

/// Sets a field once: a repeated key is serde's "duplicate field" error.
fn set<T>(slot: &mut Option<T>, v: Option<T>) -> Option<()> {
    match slot {
        Some(_) => None,
        None => {
            *slot = Some(v?);
            Some(())
        }
    }
}

fn clone_syscall(p: &mut Parser<'_>) -> Option<CloneSyscall> {
    Some(match p.name()? {
        b"clone" => CloneSyscall::Clone,
        b"clone3" => CloneSyscall::Clone3,
        b"fork" => CloneSyscall::Fork,
        b"vfork" => CloneSyscall::Vfork,
        _ => return None,
    })
}

fn ptrace_event(p: &mut Parser<'_>) -> Option<PtraceEvent> {
    Some(match p.name()? {
        b"fork" => PtraceEvent::Fork,
        b"vfork" => PtraceEvent::Vfork,
        b"clone" => PtraceEvent::Clone,
        _ => None?,
    })
}

fn exec_syscall(p: &mut Parser<'_>) -> Option<ExecSyscall> {
    Some(match p.name()? {
        b"execve" => ExecSyscall::Execve,
        b"execveat" => ExecSyscall::Execveat,
        _ => None?,
    })
}

/// serde reads a missing `Option` field as `None` and a missing
/// `#[serde(default)]` field as its default; any other missing field is an
/// error, left to serde_json.
fn spawn(p: &mut Parser<'_>) -> Option<SpawnEvent> {
    let (mut pid, mut tid, mut child, mut syscall, mut flags, mut exit_signal) = (None, None, None, None, None, None);
    let (mut stack, mut clone_args, mut ptrace_event_, mut thread, mut result) = (None, None, None, None, None);
    let (mut t_entry, mut t_event, mut t_resume, mut parent_mem, mut parent_threads, mut stack_id) =
        (None, None, None, None, None, None);
    members!(p.event, {
        "pid" => set(&mut pid, p.i32()),
        "tid" => set(&mut tid, p.i32()),
        "child" => set(&mut child, p.opt(Parser::i32)),
        "syscall" => set(&mut syscall, clone_syscall(p)),
        "flags" => set(&mut flags, p.u64()),
        "exit_signal" => set(&mut exit_signal, p.u32()),
        "stack" => set(&mut stack, p.u64()),
        "clone_args" => set(&mut clone_args, p.opt(clone_args_)),
        "ptrace_event" => set(&mut ptrace_event_, p.opt(ptrace_event)),
        "thread" => set(&mut thread, p.bool()),
        "result" => set(&mut result, p.i32()),
        "t_entry" => set(&mut t_entry, p.opt(Parser::u64)),
        "t_event" => set(&mut t_event, p.u64()),
        "t_resume" => set(&mut t_resume, p.opt(Parser::u64)),
        "parent_mem" => set(&mut parent_mem, p.opt(mem_info)),
        "parent_threads" => set(&mut parent_threads, p.opt(Parser::u32)),
        "stack_id" => set(&mut stack_id, p.opt(Parser::u32)),
    })?;
    Some(SpawnEvent {
        pid: pid?,
        tid: tid?,
        child: child.flatten(),
        syscall: syscall?,
        flags: flags?,
        exit_signal: exit_signal?,
        stack: stack.unwrap_or_default(),
        clone_args: clone_args.flatten(),
        ptrace_event: ptrace_event_.flatten(),
        thread: thread?,
        result: result.unwrap_or_default(),
        t_entry: t_entry.flatten(),
        t_event: t_event?,
        t_resume: t_resume.flatten(),
        parent_mem: parent_mem.flatten(),
        parent_threads: parent_threads.flatten(),
        stack_id: stack_id.flatten(),
    })
}

fn clone_args_(p: &mut Parser<'_>) -> Option<CloneArgs> {
    p.byte(b'{')?;
    let (mut flags, mut pidfd, mut child_tid, mut parent_tid, mut exit_signal) = (None, None, None, None, None);
    let (mut stack, mut stack_size, mut tls, mut set_tid, mut set_tid_size, mut cgroup, mut size) =
        (None, None, None, None, None, None, None);
    members!(p.members, {
        "flags" => set(&mut flags, p.u64()),
        "pidfd" => set(&mut pidfd, p.u64()),
        "child_tid" => set(&mut child_tid, p.u64()),
        "parent_tid" => set(&mut parent_tid, p.u64()),
        "exit_signal" => set(&mut exit_signal, p.u64()),
        "stack" => set(&mut stack, p.u64()),
        "stack_size" => set(&mut stack_size, p.u64()),
        "tls" => set(&mut tls, p.u64()),
        "set_tid" => set(&mut set_tid, p.opt(Parser::u64)),
        "set_tid_size" => set(&mut set_tid_size, p.opt(Parser::u64)),
        "cgroup" => set(&mut cgroup, p.opt(Parser::u64)),
        "size" => set(&mut size, p.u64()),
    })?;
    Some(CloneArgs {
        flags: flags?,
        pidfd: pidfd?,
        child_tid: child_tid?,
        parent_tid: parent_tid?,
        exit_signal: exit_signal?,
        stack: stack?,
        stack_size: stack_size?,
        tls: tls?,
        set_tid: set_tid.flatten(),
        set_tid_size: set_tid_size.flatten(),
        cgroup: cgroup.flatten(),
        size: size?,
    })
}

fn mem_info(p: &mut Parser<'_>) -> Option<MemInfo> {
    p.byte(b'{')?;
    let (mut rss_kb, mut pte_kb) = (None, None);
    members!(p.members, {
        "rss_kb" => set(&mut rss_kb, p.u64()),
        "pte_kb" => set(&mut pte_kb, p.u64()),
    })?;
    Some(MemInfo { rss_kb: rss_kb?, pte_kb: pte_kb? })
}

fn exec(p: &mut Parser<'_>) -> Option<ExecEvent> {
    let (mut pid, mut tid, mut syscall, mut path, mut dirfd, mut at_flags, mut argv) = (None, None, None, None, None, None, None);
    let (mut argv_truncated, mut env_count, mut env_bytes, mut env_hash, mut env) = (None, None, None, None, None);
    let (mut result, mut t_entry, mut t_exit) = (None, None, None);
    members!(p.event, {
        "pid" => set(&mut pid, p.i32()),
        "tid" => set(&mut tid, p.i32()),
        "syscall" => set(&mut syscall, exec_syscall(p)),
        "path" => set(&mut path, p.string()),
        "dirfd" => set(&mut dirfd, p.opt(Parser::i32)),
        "at_flags" => set(&mut at_flags, p.opt(Parser::u32)),
        "argv" => set(&mut argv, p.strings()),
        "argv_truncated" => set(&mut argv_truncated, p.bool()),
        "env_count" => set(&mut env_count, p.u64()),
        "env_bytes" => set(&mut env_bytes, p.u64()),
        "env_hash" => set(&mut env_hash, p.string()),
        "env" => set(&mut env, p.opt(Parser::strings)),
        "result" => set(&mut result, p.i32()),
        "t_entry" => set(&mut t_entry, p.opt(Parser::u64)),
        "t_exit" => set(&mut t_exit, p.u64()),
    })?;
    Some(ExecEvent {
        pid: pid?,
        tid: tid?,
        syscall: syscall?,
        path: path?,
        dirfd: dirfd.flatten(),
        at_flags: at_flags.flatten(),
        argv: argv?,
        argv_truncated: argv_truncated.unwrap_or_default(),
        env_count: env_count?,
        env_bytes: env_bytes?,
        env_hash: env_hash?,
        env: env.flatten(),
        result: result?,
        t_entry: t_entry.flatten(),
        t_exit: t_exit?,
    })
}

fn exit(p: &mut Parser<'_>) -> Option<ExitEvent> {
    let (mut pid, mut tid, mut code, mut signal, mut core_dumped, mut thread, mut t) = (None, None, None, None, None, None, None);
    members!(p.event, {
        "pid" => set(&mut pid, p.i32()),
        "tid" => set(&mut tid, p.i32()),
        "code" => set(&mut code, p.opt(Parser::i32)),
        "signal" => set(&mut signal, p.opt(Parser::i32)),
        "core_dumped" => set(&mut core_dumped, p.bool()),
        "thread" => set(&mut thread, p.bool()),
        "t" => set(&mut t, p.u64()),
    })?;
    Some(ExitEvent {
        pid: pid?,
        tid: tid?,
        code: code.flatten(),
        signal: signal.flatten(),
        core_dumped: core_dumped.unwrap_or_default(),
        thread: thread.unwrap_or_default(),
        t: t?,
    })
}

fn socketpair(p: &mut Parser<'_>) -> Option<SocketpairEvent> {
    let (mut pid, mut tid, mut domain, mut socket_type, mut protocol, mut fds, mut result, mut t) =
        (None, None, None, None, None, None, None, None);
    members!(p.event, {
        "pid" => set(&mut pid, p.i32()),
        "tid" => set(&mut tid, p.i32()),
        "domain" => set(&mut domain, p.i32()),
        "socket_type" => set(&mut socket_type, p.i32()),
        "protocol" => set(&mut protocol, p.i32()),
        "fds" => set(&mut fds, p.opt(Parser::fds)),
        "result" => set(&mut result, p.i32()),
        "t" => set(&mut t, p.u64()),
    })?;
    Some(SocketpairEvent {
        pid: pid?,
        tid: tid?,
        domain: domain?,
        socket_type: socket_type?,
        protocol: protocol?,
        fds: fds.flatten(),
        result: result?,
        t: t?,
    })
}

fn pipe(p: &mut Parser<'_>) -> Option<PipeEvent> {
    let (mut pid, mut tid, mut flags, mut fds, mut result, mut t) = (None, None, None, None, None, None);
    members!(p.event, {
        "pid" => set(&mut pid, p.i32()),
        "tid" => set(&mut tid, p.i32()),
        "flags" => set(&mut flags, p.i32()),
        "fds" => set(&mut fds, p.opt(Parser::fds)),
        "result" => set(&mut result, p.i32()),
        "t" => set(&mut t, p.u64()),
    })?;
    Some(PipeEvent { pid: pid?, tid: tid?, flags: flags?, fds: fds.flatten(), result: result?, t: t? })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path must actually serve the writer's lines (else it only
    /// costs time): every hot kind, with every optional part present or not.
    #[test]
    fn takes_the_writers_lines() {
        let lines = [
            r#"{"kind":"exec","pid":1004,"tid":1004,"syscall":"execve","path":"/usr/bin/python3","argv":["python3","-c","x"],"argv_truncated":false,"env_count":40,"env_bytes":3000,"env_hash":"0123456789abcdef","result":0,"t_entry":2550047,"t_exit":2788384}"#,
            r#"{"kind":"exec","pid":2,"tid":3,"syscall":"execveat","path":"/x é","dirfd":-100,"at_flags":4096,"argv":[],"argv_truncated":true,"env_count":1,"env_bytes":4,"env_hash":"00","env":["A=1"],"result":-2,"t_entry":null,"t_exit":3}"#,
            r#"{"kind":"spawn","pid":1000,"tid":1002,"child":1004,"syscall":"clone","flags":18874368,"exit_signal":17,"stack":0,"ptrace_event":"fork","thread":false,"result":0,"t_entry":1530606,"t_event":1961118,"t_resume":2011118,"parent_mem":{"rss_kb":80000,"pte_kb":400},"parent_threads":4}"#,
            r#"{"kind":"spawn","pid":1,"tid":1,"child":null,"syscall":"clone3","flags":16640,"exit_signal":17,"stack":1,"clone_args":{"flags":16640,"pidfd":0,"child_tid":0,"parent_tid":0,"exit_signal":17,"stack":1,"stack_size":2,"tls":0,"set_tid":null,"set_tid_size":null,"cgroup":null,"size":88},"ptrace_event":null,"thread":false,"result":11,"t_entry":null,"t_event":2,"t_resume":null,"stack_id":3}"#,
            r#"{"kind":"exit","pid":1,"tid":1,"code":null,"signal":9,"core_dumped":true,"thread":false,"t":5}"#,
            r#"{"kind":"socketpair","pid":1,"tid":1,"domain":1,"socket_type":524293,"protocol":0,"fds":[7,8],"result":0,"t":0}"#,
            r#"{"kind":"pipe","pid":1,"tid":1,"flags":0,"fds":null,"result":24,"t":9}"#,
            // Another order, fields left out: keys read and looked up.
            r#"{"kind":"exit","t":5,"code":null,"tid":1,"pid":1}"#,
            r#"{"kind":"spawn","thread":true,"t_event":2,"tid":1,"pid":1,"syscall":"fork","flags":0,"exit_signal":17}"#,
        ];
        for line in lines {
            let fast = parse(line.as_bytes()).unwrap_or_else(|| panic!("fast path stepped aside: {line}"));
            assert_eq!(fast, serde_json::from_str::<Record>(line).unwrap(), "{line}");
        }
    }

    #[test]
    fn same_short_compares_every_byte() {
        for n in 0..=30usize {
            let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i % 26).collect();
            assert!(same_short(&a, &a.clone()), "{n}");
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 0x20;
                assert!(!same_short(&a, &b), "{n} {i}");
            }
            assert!(!same_short(&a, &[a.as_slice(), b"x"].concat()));
        }
    }

    #[test]
    fn steps_aside_for_what_it_does_not_know() {
        for line in [
            r#"{"kind":"exit","pid":1,"tid":1,"code":0,"signal":null,"t":5,"new_field":1}"#,
            r#"{"kind":"exit","pid":1,"tid":1,"code":0,"signal":null,"t":5,"t":5}"#,
            r#"{"kind":"exit", "pid":1,"tid":1,"t":5}"#,
            r#"{"kind":"exit","pid":-0,"tid":1,"t":5}"#,
            r#"{"kind":"exit","pid":1,"tid":1}"#,
            r#"{"kind":"exec","pid":2,"tid":2,"syscall":"execve","path":"a\"b","argv":[],"env_count":0,"env_bytes":0,"env_hash":"0","result":0,"t_exit":3}"#,
            r#"{"kind":"end","t":5,"exit_code":0}"#,
            r#"{"pid":1,"kind":"exit","tid":1,"t":5}"#,
        ] {
            assert_eq!(parse(line.as_bytes()), None, "{line}");
        }
    }
}
