//! What a live view pays per refresh: feeds N posix_spawn-style spawns
//! (default 50,000) and times `Analyzer::current()` (in place) and
//! `Analyzer::snapshot()` (owned copy) and `Analyzer::snapshot_into()` (owned,
//! incremental) after a small batch of new records.
//!
//! `cargo run --release -p spawnscope-analyzer --example snapshot-cost [N]`

use std::time::Instant;

/// CPU seconds (user + sys) of this process so far.
fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let f: Vec<&str> = s.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

use spawnscope_analyzer::{Analyzer, Thresholds};
use spawnscope_format::*;

fn records(i: i32, t: u64) -> [Record; 3] {
    let child = 10_000 + i;
    [
        Record::Exec(ExecEvent {
            pid: child,
            tid: child,
            syscall: ExecSyscall::Execve,
            path: "/usr/bin/cc".into(),
            dirfd: None,
            at_flags: None,
            argv: vec!["cc".into(), "-c".into(), format!("f{i}.c")],
            argv_truncated: false,
            env_count: 40,
            env_bytes: 3000,
            env_hash: "0123456789abcdef".into(),
            env: None,
            result: 0,
            t_entry: Some(t + 70_000),
            t_exit: t + 200_000,
        }),
        Record::Spawn(SpawnEvent {
            pid: 1,
            tid: 1 + i % 4,
            child: Some(child),
            syscall: CloneSyscall::Clone3,
            flags: 0x4100,
            exit_signal: 17,
            stack: 1 << 40,
            clone_args: None,
            ptrace_event: Some(PtraceEvent::Vfork),
            thread: false,
            result: 0,
            t_entry: Some(t),
            t_event: t + 55_000,
            t_resume: Some(t + 220_000),
            parent_mem: None,
            parent_threads: Some(4),
            stack_id: None,
        }),
        Record::Exit(ExitEvent {
            pid: child,
            tid: child,
            code: Some(0),
            signal: None,
            core_dumped: false,
            thread: false,
            t: t + 900_000,
        }),
    ]
}

fn main() {
    let n: i32 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(50_000);
    let mut an = Analyzer::new(Header::new(vec!["driver".into()], TracerMode::Seccomp), Thresholds::default());
    let t0 = Instant::now();
    let mut line = 2;
    for i in 0..n {
        for r in records(i, i as u64 * 300_000) {
            an.push_owned(line, r);
            line += 1;
        }
    }
    println!("fed {n} spawns ({} records) in {:.1} ms", line - 2, t0.elapsed().as_secs_f64() * 1e3);
    // 20 refreshes per method, each after 3 new records; CPU time (user+sys
    // from /proc/self/stat) so that a busy machine does not inflate it.
    let refresh = |an: &mut Analyzer, k: i32, line: &mut u64| {
        for r in records(n + k, (n + k) as u64 * 300_000) {
            an.push_owned(*line, r);
            *line += 1;
        }
    };
    let mut k = 0;
    let c = cpu();
    for _ in 0..20 {
        refresh(&mut an, k, &mut line);
        k += 1;
        std::hint::black_box(an.current().spawns.len());
    }
    let cur = (cpu() - c) / 20.0;
    let c = cpu();
    for _ in 0..20 {
        refresh(&mut an, k, &mut line);
        k += 1;
        std::hint::black_box(an.snapshot().spawns.len());
    }
    let snap = (cpu() - c) / 20.0;
    let mut mirror = an.snapshot();
    let c = cpu();
    for _ in 0..20 {
        refresh(&mut an, k, &mut line);
        k += 1;
        an.snapshot_into(&mut mirror);
        std::hint::black_box(mirror.spawns.len());
    }
    let into = (cpu() - c) / 20.0;
    println!(
        "per refresh (CPU time): current() {:.1} ms, snapshot() {:.1} ms, snapshot_into() {:.1} ms",
        cur * 1e3,
        snap * 1e3,
        into * 1e3
    );
}
