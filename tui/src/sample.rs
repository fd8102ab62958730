//! Synthetic traces for tests, the end-to-end test and the benchmark: a
//! small "build" that spawns in every common way (posix_spawn, fork from a
//! large parent, the Rust std fallback with a PATH search, vfork with an
//! escape sequence in argv, a fork without exec), and a generator of large
//! traces. Times and pids are fixed, so screens are reproducible.

use std::io::Write;

use spawnscope_format::{
    CloneSyscall, End, ExecEvent, ExecSyscall, ExitEvent, Header, HostFacts, MemInfo, Nanos, PtraceEvent, Record,
    SocketpairEvent, SpawnEvent, TraceWriter, TracerMode, WriteError,
};

const VM_VFORK: u64 = 0x4100;
const FORK_FLAGS: u64 = 0x0120_0000; // CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID (glibc fork)
const THREAD_FLAGS: u64 = 0x003d_0f00;

/// The header of the sample traces (`glibc` differs between the two machines).
pub fn header(hostname: &str, glibc: &str) -> Header {
    let mut h = Header::new(vec!["python3".into(), "build.py".into()], TracerMode::Seccomp);
    h.tool_version = "0.1.0".into();
    h.cwd = "/work".into();
    h.start_unix_ns = 1_764_000_000_000_000_000;
    h.host = HostFacts {
        hostname: Some(hostname.into()),
        kernel_release: Some("6.1.0-18-amd64".into()),
        glibc_version: Some(glibc.into()),
        arch: Some("x86_64".into()),
        cpus: Some(2),
        memory_bytes: Some(4 << 30),
        clone3: Some(true),
    };
    h.tracer.syscall_info = true;
    h
}

/// Builds records with increasing times.
struct Gen {
    out: Vec<Record>,
    t: Nanos,
    /// Multiplies every duration (a slower machine).
    scale: u64,
}

impl Gen {
    fn at(&mut self, dt: Nanos) -> Nanos {
        self.t += dt * self.scale;
        self.t
    }

    #[allow(clippy::too_many_arguments)]
    fn spawn(
        &mut self,
        pid: i32,
        child: i32,
        syscall: CloneSyscall,
        flags: u64,
        stack: u64,
        ev: PtraceEvent,
        clone_ns: Nanos,
        blocked_ns: Nanos,
        rss_kb: Option<u64>,
    ) -> (Nanos, Nanos) {
        let t_entry = self.at(2_000);
        let t_event = t_entry + clone_ns * self.scale;
        let t_resume = t_entry + blocked_ns * self.scale;
        let rec = SpawnEvent {
            pid,
            tid: pid,
            child: Some(child),
            syscall,
            flags,
            exit_signal: 17,
            stack,
            clone_args: None,
            ptrace_event: Some(ev),
            thread: false,
            result: 0,
            t_entry: Some(t_entry),
            t_event,
            t_resume: Some(t_resume),
            parent_mem: rss_kb.map(|rss_kb| MemInfo { rss_kb, pte_kb: rss_kb / 512 }),
            parent_threads: Some(1),
            stack_id: None,
        };
        self.out.push(Record::Spawn(rec));
        (t_entry, t_resume)
    }

    fn exec(&mut self, pid: i32, path: &str, argv: &[&str], result: i32, dt: Nanos) {
        let t_entry = self.at(dt);
        let t_exit = self.at(if result == 0 { 40_000 } else { 3_000 });
        self.out.push(Record::Exec(ExecEvent {
            pid,
            tid: pid,
            syscall: ExecSyscall::Execve,
            path: path.into(),
            dirfd: None,
            at_flags: None,
            argv: argv.iter().map(|s| s.to_string()).collect(),
            argv_truncated: false,
            env_count: 184,
            env_bytes: 27_750,
            env_hash: "00c0ffee00c0ffee".into(),
            env: None,
            result,
            t_entry: Some(t_entry),
            t_exit,
        }));
    }

    fn exit(&mut self, pid: i32, code: i32, dt: Nanos) {
        let t = self.at(dt);
        self.out.push(Record::Exit(ExitEvent {
            pid,
            tid: pid,
            code: Some(code),
            signal: None,
            core_dumped: false,
            thread: false,
            t,
        }));
    }
}

/// The sample workload; `scale` multiplies all durations (1 = the laptop).
pub fn records(scale: u64) -> Vec<Record> {
    let mut g = Gen { out: Vec::new(), t: 0, scale };
    g.exec(100, "/usr/bin/python3", &["python3", "build.py"], 0, 50_000);
    // A worker thread.
    let t = g.at(5_000);
    g.out.push(Record::Spawn(SpawnEvent {
        pid: 100,
        tid: 100,
        child: Some(101),
        syscall: CloneSyscall::Clone3,
        flags: THREAD_FLAGS,
        exit_signal: 0,
        stack: 0x7f00_0000_0000,
        clone_args: None,
        ptrace_event: Some(PtraceEvent::Clone),
        thread: true,
        result: 0,
        t_entry: Some(t),
        t_event: t + 9_000,
        t_resume: Some(t + 12_000),
        parent_mem: None,
        parent_threads: Some(1),
        stack_id: None,
    }));
    // posix_spawn of `true`: the vfork child execs before the parent resumes.
    for (i, child) in (110..116).enumerate() {
        let (_, _) = g.spawn(100, child, CloneSyscall::Clone3, VM_VFORK, 0x7f10_0000_0000, PtraceEvent::Vfork, 20_000, 0, None);
        // The spawn line is written when the parent resumes: after the exec.
        let spawn = g.out.pop().expect("spawn");
        g.exec(child, "/usr/bin/true", &["true", &format!("--step={i}")], 0, 30_000 + 7_000 * i as u64);
        let resume = g.at(2_000);
        if let Record::Spawn(mut s) = spawn {
            s.t_resume = Some(resume);
            g.out.push(Record::Spawn(s));
        }
        g.exit(child, 0, 300_000);
    }
    // fork() from a parent with 1 GiB RSS, then exec gcc.
    for (i, child) in (120..123).enumerate() {
        g.spawn(
            100,
            child,
            CloneSyscall::Clone,
            FORK_FLAGS,
            0,
            PtraceEvent::Fork,
            15_000_000 + 1_000_000 * i as u64,
            15_200_000,
            Some(1 << 20),
        );
        g.t += 15_300_000 * scale;
        g.exec(child, "/usr/bin/gcc", &["gcc", "-c", &format!("unit{i}.c")], 0, 60_000);
        g.exit(child, 0, 2_000_000);
    }
    // The Rust std fork+exec fallback: socketpair, fork, PATH search for `cc`.
    for child in 130..132 {
        let t = g.at(3_000);
        g.out.push(Record::Socketpair(SocketpairEvent {
            pid: 100,
            tid: 100,
            domain: 1,
            socket_type: 5 | 0o2000000,
            protocol: 0,
            fds: Some([5, 6]),
            result: 0,
            t,
        }));
        g.spawn(100, child, CloneSyscall::Clone, FORK_FLAGS, 0, PtraceEvent::Fork, 15_000_000, 15_100_000, Some(1 << 20));
        g.t += 15_200_000 * scale;
        g.exec(child, "/usr/local/sbin/cc", &["cc", "--version"], 2, 20_000);
        g.exec(child, "/usr/local/bin/cc", &["cc", "--version"], 2, 2_000);
        g.exec(child, "/usr/bin/cc", &["cc", "--version"], 0, 2_000);
        g.exit(child, 0, 1_000_000);
    }
    // vfork() of a shell whose argv holds a terminal escape sequence.
    g.spawn(100, 140, CloneSyscall::Vfork, VM_VFORK, 0, PtraceEvent::Vfork, 18_000, 0, None);
    let spawn = g.out.pop().expect("spawn");
    g.exec(140, "/bin/sh", &["sh", "-c", "printf '\x1b[2J\x1b]0;pwned\x07'"], 0, 25_000);
    let resume = g.at(1_000);
    if let Record::Spawn(mut s) = spawn {
        s.t_resume = Some(resume);
        g.out.push(Record::Spawn(s));
    }
    // The shell forks a subshell that never execs.
    g.spawn(140, 141, CloneSyscall::Clone, FORK_FLAGS, 0, PtraceEvent::Fork, 90_000, 110_000, Some(2_048));
    g.exit(141, 0, 400_000);
    g.exit(140, 0, 100_000);
    g.exit(100, 0, 500_000);
    let t = g.at(1_000);
    g.out.push(Record::End(End { t, exit_code: Some(0), counts: Default::default() }));
    g.out
}

/// Moves a record of the sample to other pids (all but the root's 100) and later in time.
fn remap(rec: &Record, shift: i32, dt: Nanos) -> Record {
    let p = |pid: &mut i32| {
        if *pid != 100 {
            *pid += shift
        }
    };
    let mut rec = rec.clone();
    match &mut rec {
        Record::Spawn(s) => {
            p(&mut s.pid);
            p(&mut s.tid);
            s.child = s.child.map(|c| c + shift);
            s.t_entry = s.t_entry.map(|t| t + dt);
            s.t_event += dt;
            s.t_resume = s.t_resume.map(|t| t + dt);
        }
        Record::Exec(e) => {
            p(&mut e.pid);
            p(&mut e.tid);
            e.t_entry = e.t_entry.map(|t| t + dt);
            e.t_exit += dt;
        }
        Record::Socketpair(x) => x.t += dt,
        Record::Exit(e) => {
            p(&mut e.pid);
            p(&mut e.tid);
            e.t += dt;
        }
        _ => {}
    }
    rec
}

/// Writes a trace of at least `events` events: the sample's spawns repeated
/// by the same root process with new pids. Returns the number of events.
pub fn write_large(w: impl Write, events: usize) -> Result<usize, WriteError> {
    let base = records(1);
    let is_root = |r: &Record| match r {
        Record::Exec(e) => e.pid == 100,
        Record::Exit(e) => e.pid == 100,
        Record::End(_) => true,
        _ => false,
    };
    let body: Vec<&Record> = base.iter().filter(|r| !is_root(r)).collect();
    let span = body.iter().filter_map(|r| r.time()).max().unwrap_or(0);
    let mut tw = TraceWriter::new(w);
    tw.write_header(&header("bench", "2.36"))?;
    tw.write_record(&base[0])?;
    let mut written = 1;
    let mut round = 0;
    while written < events {
        for rec in &body {
            tw.write_record(&remap(rec, 1_000 + round * 100, span * round as u64))?;
        }
        written += body.len();
        round += 1;
    }
    let t = span * round as u64 + 1_000;
    tw.write_record(&Record::Exit(ExitEvent {
        pid: 100,
        tid: 100,
        code: Some(0),
        signal: None,
        core_dumped: false,
        thread: false,
        t,
    }))?;
    tw.finish(t + 1_000, Some(0))?;
    Ok(written + 1)
}

/// The sample trace as a file (what `tui/tests/data/sample.jsonl` holds).
pub fn write_sample(w: impl Write) -> Result<(), WriteError> {
    let mut tw = TraceWriter::new(w);
    tw.write_header(&header("laptop", "2.36"))?;
    for rec in records(1) {
        match rec {
            // The writer adds the event counts to the end line.
            Record::End(e) => {
                tw.finish(e.t, e.exit_code)?;
                return Ok(());
            }
            rec => tw.write_record(&rec)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The checked-in fixture is the sample; `SPAWNSCOPE_REGENERATE=1` rewrites it.
    #[test]
    fn checked_in_fixture_matches_the_sample() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sample.jsonl");
        let mut fresh = Vec::new();
        super::write_sample(&mut fresh).unwrap();
        if std::env::var_os("SPAWNSCOPE_REGENERATE").is_some() {
            std::fs::write(path, &fresh).unwrap();
        }
        let on_disk = std::fs::read(path).expect("tui/tests/data/sample.jsonl (regenerate with SPAWNSCOPE_REGENERATE=1)");
        assert!(on_disk == fresh, "tui/tests/data/sample.jsonl is stale: rerun with SPAWNSCOPE_REGENERATE=1");
        let (_, recs, warnings) = spawnscope_format::read_all(&on_disk[..]).unwrap();
        assert_eq!(recs.len(), super::records(1).len());
        assert!(warnings.is_empty());
    }
}
