//! Hand-written traces for the export and diff tests.
#![allow(dead_code)]

use spawnscope_analyzer::{analyze_reader, Analysis, Thresholds};
use spawnscope_format::*;

/// Builds a trace spawn by spawn; every spawn is made by the root process.
pub struct TraceBuilder {
    header: Header,
    recs: Vec<Record>,
    t: u64,
    next_pid: i32,
    root: i32,
    env_bytes: u64,
}

impl TraceBuilder {
    pub fn new(hostname: &str, glibc: &str, kernel: &str, cpus: u32) -> TraceBuilder {
        let mut header = Header::new(vec!["./app".into()], TracerMode::Seccomp);
        header.host = HostFacts {
            hostname: Some(hostname.into()),
            glibc_version: Some(glibc.into()),
            kernel_release: Some(kernel.into()),
            arch: Some("x86_64".into()),
            cpus: Some(cpus),
            memory_bytes: Some(64 << 30),
            clone3: Some(true),
        };
        let root = 1000;
        let recs = vec![Record::Exec(ExecEvent {
            pid: root,
            tid: root,
            syscall: ExecSyscall::Execve,
            path: "/usr/bin/app".into(),
            dirfd: None,
            at_flags: None,
            argv: vec!["./app".into()],
            argv_truncated: false,
            env_count: 10,
            env_bytes: 500,
            env_hash: "0".repeat(16),
            env: None,
            result: 0,
            t_entry: Some(0),
            t_exit: 100_000,
        })];
        TraceBuilder { header, recs, t: 1_000_000, next_pid: 2000, root, env_bytes: 2_000 }
    }

    pub fn env_bytes(mut self, b: u64) -> Self {
        self.env_bytes = b;
        self
    }

    fn exec(&self, pid: i32, path: &str, result: i32, t_entry: u64, t_exit: u64) -> Record {
        Record::Exec(ExecEvent {
            pid,
            tid: pid,
            syscall: ExecSyscall::Execve,
            path: path.into(),
            dirfd: None,
            at_flags: None,
            argv: vec!["true".into()],
            argv_truncated: false,
            env_count: 20,
            env_bytes: self.env_bytes,
            env_hash: "0".repeat(16),
            env: None,
            result,
            t_entry: Some(t_entry),
            t_exit,
        })
    }

    /// One spawn: clone entry at `t`, fork event after `clone_ns`, `failed`
    /// ENOENT attempts of 10 µs each, then a 50 µs successful exec ending at
    /// `t + latency_ns`; the child exits 1 ms later.
    fn spawn(&mut self, ev: SpawnEvent, latency_ns: u64, clone_ns: u64, failed: usize) {
        let child = self.next_pid;
        self.next_pid += 1;
        let t = self.t;
        let mut ev = ev;
        ev.pid = self.root;
        ev.tid = self.root;
        ev.child = Some(child);
        ev.t_entry = Some(t);
        ev.t_event = t + clone_ns;
        ev.t_resume = Some(t + clone_ns + 1_000);
        let exec_start = t + latency_ns - 50_000;
        let mut at = exec_start - failed as u64 * 10_000;
        for i in 0..failed {
            self.recs.push(self.exec(child, &format!("/missing{i}/true"), 2, at, at + 10_000));
            at += 10_000;
        }
        self.recs.push(Record::Spawn(ev));
        self.recs.push(self.exec(child, "/usr/bin/true", 0, exec_start, t + latency_ns));
        self.recs.push(Record::Exit(ExitEvent {
            pid: child,
            tid: child,
            code: Some(0),
            signal: None,
            core_dumped: false,
            thread: false,
            t: t + latency_ns + 1_000_000,
        }));
        self.t += latency_ns + 2_000_000;
    }

    /// glibc posix_spawn: clone3(CLONE_VM|CLONE_VFORK) on its own stack.
    pub fn posix_spawn(mut self, n: usize, latency_ns: u64, clone_ns: u64, failed: usize) -> Self {
        for _ in 0..n {
            let ev = spawn_event(CloneSyscall::Clone3, flags::CLONE_VM | flags::CLONE_VFORK, 0x7f00_0000, None);
            self.spawn(ev, latency_ns, clone_ns, failed);
        }
        self
    }

    /// Rust std's fallback: socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC), then fork().
    pub fn rust_fallback(mut self, n: usize, latency_ns: u64, clone_ns: u64, rss_kb: u64) -> Self {
        for _ in 0..n {
            self.recs.push(Record::Socketpair(SocketpairEvent {
                pid: self.root,
                tid: self.root,
                domain: flags::AF_UNIX,
                socket_type: flags::SOCK_SEQPACKET | flags::SOCK_CLOEXEC,
                protocol: 0,
                fds: Some([3, 4]),
                result: 0,
                t: self.t - 5_000,
            }));
            let mem = MemInfo { rss_kb, pte_kb: rss_kb / 512 };
            let ev = spawn_event(CloneSyscall::Clone, 0x0120_0000, 0, Some(mem));
            self.spawn(ev, latency_ns, clone_ns, 0);
        }
        self
    }

    pub fn bytes(mut self) -> Vec<u8> {
        self.recs.push(Record::Exit(ExitEvent {
            pid: self.root,
            tid: self.root,
            code: Some(0),
            signal: None,
            core_dumped: false,
            thread: false,
            t: self.t,
        }));
        let mut w = TraceWriter::new(Vec::new());
        w.write_header(&self.header).unwrap();
        for r in &self.recs {
            w.write_record(r).unwrap();
        }
        w.finish(self.t, Some(0)).unwrap()
    }

    pub fn analysis(self) -> Analysis {
        analyze_reader(&self.bytes()[..], &Thresholds::default()).unwrap()
    }
}

fn spawn_event(syscall: CloneSyscall, fl: u64, stack: u64, mem: Option<MemInfo>) -> SpawnEvent {
    let ptrace_event = Some(if fl & flags::CLONE_VFORK != 0 { PtraceEvent::Vfork } else { PtraceEvent::Fork });
    SpawnEvent {
        pid: 0,
        tid: 0,
        child: None,
        syscall,
        flags: fl,
        exit_signal: 17,
        stack,
        clone_args: None,
        ptrace_event,
        thread: false,
        result: 0,
        t_entry: None,
        t_event: 0,
        t_resume: None,
        parent_mem: mem,
        parent_threads: Some(1),
        stack_id: None,
    }
}

/// The analyzer's view of a checked-in trace.
pub fn analyze_file(path: &std::path::Path) -> Analysis {
    spawnscope_analyzer::analyze_path(path, &Thresholds::default()).unwrap()
}
