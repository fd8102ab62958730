//! Builds `Analysis` values by hand, so rule evaluation is tested without
//! the analyzer: each helper sets the fields a rule reads, consistently
//! (a spawn's child process holds the same exec attempts as the spawn).

#![allow(dead_code)]

use std::collections::BTreeMap;

use spawnscope_analyzer::*;
use spawnscope_format::{CloneSyscall, Header, MemInfo, TracerMode};

pub struct Build {
    pub a: Analysis,
}

pub const ROOT_PID: i32 = 100;

fn attempt(path: &str, argv: &[&str], result: i32, env_bytes: u64) -> ExecAttempt {
    ExecAttempt {
        tid: 0,
        path: path.into(),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        env_count: env_bytes / 20,
        env_bytes,
        result,
        t_entry: Some(0),
        t_exit: 0,
        env_hash: None,
    }
}

/// An analysis of `make` (pid 100) that spawned nothing yet.
pub fn trace() -> Build {
    let mut header = Header::new(vec!["make".into(), "-j2".into()], TracerMode::Seccomp);
    header.cwd = "/src".into();
    let root = Process {
        index: 0,
        pid: ROOT_PID,
        parent: None,
        spawn: None,
        children: vec![],
        // spawnscope's own start of the command: a PATH search that must not count.
        execs: vec![attempt("/usr/local/bin/make", &["make", "-j2"], 2, 900), attempt("/usr/bin/make", &["make", "-j2"], 0, 900)],
        name: "/usr/bin/make".into(),
        threads_created: 0,
        exit: None,
        t_start: 0,
        threads_exited: 0,
    };
    let mut styles = BTreeMap::new();
    for s in SpawnStyle::ALL {
        styles.insert(s.as_str().to_string(), 0);
    }
    Build {
        a: Analysis {
            header,
            complete: true,
            warnings: vec![],
            processes: vec![root],
            spawns: vec![],
            summary: Summary { styles, exit_code: Some(0), ..Summary::default() },
            findings: vec![],
            thresholds: Thresholds::default(),
            revision: 0,
            origins: Default::default(),
            aggregate: None,
        },
    }
}

impl Build {
    /// A spawn from the root of `path` with `argv`, exec'd successfully.
    pub fn spawn(mut self, style: SpawnStyle, code_path: CodePath, path: &str, argv: &[&str]) -> Build {
        self.add_spawn(style, code_path, path, argv);
        self
    }

    pub fn add_spawn(&mut self, style: SpawnStyle, code_path: CodePath, path: &str, argv: &[&str]) -> usize {
        let index = self.a.spawns.len();
        let pid = 1000 + index as i32;
        let proc_index = self.a.processes.len();
        let ok = attempt(path, argv, 0, 1000);
        self.a.spawns.push(Spawn {
            index,
            parent_pid: ROOT_PID,
            parent_tid: ROOT_PID,
            child_pid: pid,
            child: Some(proc_index),
            parent: Some(0),
            syscall: if style == SpawnStyle::Fork { CloneSyscall::Clone } else { CloneSyscall::Clone3 },
            flags: 0,
            exit_signal: 17,
            stack: 0,
            style,
            ptrace_event: None,
            style_mismatch: false,
            code_path,
            socketpair: code_path == CodePath::RustStdForkFallback,
            exec: Some(SpawnExec {
                path: path.into(),
                chain: vec![],
                argv: ok.argv.clone(),
                success: true,
                failed_attempts: vec![],
                failed_ns: 0,
                env_count: ok.env_count,
                env_bytes: ok.env_bytes,
            }),
            latency_ns: Some(100_000),
            parent_blocked_ns: None,
            clone_ns: None,
            parent_mem: (style == SpawnStyle::Fork).then_some(MemInfo { rss_kb: 2 * 1024 * 1024, pte_kb: 0 }),
            parent_threads: Some(1),
            in_flight: 0,
            t_start: 1000 * index as u64,
            t_done: Some(1000 * index as u64 + 100_000),
            line: 2 + index as u64,
            from_event: false,
            origin: None,
        });
        self.a.processes.push(Process {
            index: proc_index,
            pid,
            parent: Some(0),
            spawn: Some(index),
            children: vec![],
            execs: vec![ok],
            name: path.into(),
            threads_created: 0,
            exit: None,
            t_start: 0,
            threads_exited: 0,
        });
        self.a.processes[0].children.push(proc_index);
        self.a.summary.spawns += 1;
        *self.a.summary.styles.entry(style.as_str().into()).or_default() += 1;
        *self.a.summary.code_paths.entry(code_path.as_str().into()).or_default() += 1;
        index
    }

    /// `n` vfork-style posix_spawn spawns of `path`.
    pub fn spawns(mut self, n: usize, path: &str) -> Build {
        let name = path.rsplit('/').next().unwrap();
        for _ in 0..n {
            self.add_spawn(SpawnStyle::Vfork, CodePath::GlibcPosixSpawn, path, &[name]);
        }
        self
    }

    /// Failed attempts (ENOENT) before the last spawn's successful exec.
    pub fn path_search(mut self, misses: &[&str]) -> Build {
        let s = self.a.spawns.last_mut().expect("a spawn first");
        let exec = s.exec.as_mut().unwrap();
        let failed: Vec<ExecAttempt> = misses
            .iter()
            .map(|m| attempt(m, &exec.argv.iter().map(String::as_str).collect::<Vec<_>>(), 2, exec.env_bytes))
            .collect();
        exec.failed_attempts = failed.clone();
        let p = &mut self.a.processes[s.child.unwrap()];
        let ok = p.execs.pop().unwrap();
        p.execs = failed;
        p.execs.push(ok);
        self.a.summary.failed_exec_attempts += misses.len() as u64;
        self
    }

    /// The last spawn's environment size.
    pub fn env_bytes(mut self, bytes: u64) -> Build {
        let s = self.a.spawns.last_mut().expect("a spawn first");
        let exec = s.exec.as_mut().unwrap();
        exec.env_bytes = bytes;
        exec.env_count = bytes / 20;
        for e in &mut self.a.processes[s.child.unwrap()].execs {
            e.env_bytes = bytes;
            e.env_count = bytes / 20;
        }
        self
    }

    /// The last spawn's latency.
    pub fn latency(mut self, ns: u64) -> Build {
        self.a.spawns.last_mut().expect("a spawn first").latency_ns = Some(ns);
        self
    }

    /// Latency of every spawn so far.
    pub fn all_latencies(mut self, ns: u64) -> Build {
        for s in &mut self.a.spawns {
            s.latency_ns = Some(ns);
        }
        self
    }

    pub fn finding(mut self, id: &'static str, name: &'static str, evidence: Vec<usize>) -> Build {
        self.a.findings.push(Finding {
            id,
            name,
            severity: Severity::Warning,
            message: format!("{name} happened"),
            advice: "do the other thing".into(),
            numbers: BTreeMap::new(),
            evidence,
            evidence_sites: Vec::new(),
            savings_ns: None,
        });
        self
    }

    pub fn exit_code(mut self, code: i32) -> Build {
        self.a.summary.exit_code = Some(code);
        self
    }

    pub fn incomplete(mut self) -> Build {
        self.a.complete = false;
        self.a.summary.exit_code = None;
        self.a
            .warnings
            .push("trace is incomplete (no end line after line 7): the recording was cut short; analysing what is there".into());
        self
    }

    pub fn mode(mut self, mode: TracerMode) -> Build {
        self.a.header.tracer.mode = mode;
        self
    }

    pub fn done(self) -> Analysis {
        self.a
    }
}
