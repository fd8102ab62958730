//! Exec chains (`env prog`, `sh -c "exec prog"`, jspawnhelper) belong to the
//! spawn that started them; proportions; selections. Built from records fed
//! to the analyzer, in the orders the tracer writes them.

use spawnscope_analyzer::*;
use spawnscope_format::*;

fn header() -> Header {
    let mut h = Header::new(vec!["make".into()], TracerMode::Seccomp);
    h.host.glibc_version = Some("2.36".into());
    h
}

/// A spawn line as the tracer writes it (parsed, so optional fields added
/// by newer format versions keep their defaults).
fn spawn(pid: i32, child: i32, t: Nanos, vfork: bool) -> Record {
    let (syscall, flags, stack, event) =
        if vfork { ("clone3", 0x4100, 0x7f00_0000u64, "vfork") } else { ("clone", 0x0120_0000, 0, "fork") };
    serde_json::from_value(serde_json::json!({
        "kind": "spawn", "pid": pid, "tid": pid, "child": child, "syscall": syscall, "flags": flags,
        "exit_signal": 17, "stack": stack, "ptrace_event": event, "thread": false, "result": 0,
        "t_entry": t, "t_event": t + 10_000, "t_resume": t + 50_000, "parent_threads": 1
    }))
    .unwrap()
}

fn exec(pid: i32, path: &str, argv: &[&str], result: i32, t: Nanos) -> Record {
    Record::Exec(ExecEvent {
        pid,
        tid: pid,
        syscall: ExecSyscall::Execve,
        path: path.into(),
        dirfd: None,
        at_flags: None,
        argv: argv.iter().map(|s| s.to_string()).collect(),
        argv_truncated: false,
        env_count: 20,
        env_bytes: 1000,
        env_hash: "00000000000000aa".into(),
        env: None,
        result,
        t_entry: Some(t),
        t_exit: t + 20_000,
    })
}

fn exit(pid: i32, code: i32, t: Nanos) -> Record {
    Record::Exit(ExitEvent { pid, tid: pid, code: Some(code), signal: None, core_dumped: false, thread: false, t })
}

fn end(t: Nanos) -> Record {
    Record::End(End { t, exit_code: Some(0), counts: Default::default() })
}

fn analyze(recs: &[Record], t: Thresholds) -> Analysis {
    let mut an = Analyzer::new(header(), t);
    for (i, r) in recs.iter().enumerate() {
        an.push(i as u64 + 2, r);
    }
    an.finish()
}

/// `env echo hi`, as a vfork-style spawn: the child's exec lines come
/// before the spawn line (the parent resumes at the first exec).
fn env_echo(parent: i32, child: i32, t: Nanos) -> Vec<Record> {
    vec![
        exec(child, "/usr/bin/env", &["env", "echo", "hi"], 0, t + 100_000),
        spawn(parent, child, t, true),
        exec(child, "/usr/local/sbin/echo", &["echo", "hi"], 2, t + 200_000),
        exec(child, "/usr/local/bin/echo", &["echo", "hi"], 2, t + 300_000),
        exec(child, "/usr/bin/echo", &["echo", "hi"], 0, t + 400_000),
        exit(child, 0, t + 500_000),
    ]
}

#[test]
fn an_exec_chain_belongs_to_the_spawn_that_started_it() {
    let mut recs = env_echo(1, 2, 1_000_000);
    recs.push(end(2_000_000));
    let a = analyze(&recs, Thresholds::default());
    assert_eq!(a.spawns.len(), 1);
    let s = &a.spawns[0];
    let e = s.exec.as_ref().unwrap();
    assert_eq!(e.path, "/usr/bin/echo");
    assert_eq!(e.chain, vec!["/usr/bin/env"]);
    assert_eq!(e.argv, vec!["echo", "hi"]);
    assert!(e.success);
    assert_eq!(e.failed_attempts.len(), 2);
    assert_eq!(e.failed_ns, 2 * 20_000);
    // Latency to the last exec of the chain, not the first.
    assert_eq!(s.latency_ns, Some(400_000 + 20_000));
    assert_eq!(s.executable(), "echo");
    // The executables table attributes the failed attempts to echo.
    let g = group_by(&a, GroupBy::Executable);
    assert_eq!((g[0].key.as_str(), g[0].failed_attempts), ("/usr/bin/echo", 2));
    assert_eq!(a.processes.iter().find(|p| p.pid == 2).unwrap().name, "/usr/bin/echo");
}

#[test]
fn failed_attempts_after_the_first_exec_raise_ss003() {
    // 20 `env echo` spawns: 40 failed attempts, all after env's exec.
    let mut recs = Vec::new();
    for i in 0..20 {
        recs.extend(env_echo(1, 10 + i, 1_000_000 * (i as u64 + 1)));
    }
    recs.push(end(30_000_000));
    let a = analyze(&recs, Thresholds::default());
    let f = a.findings.iter().find(|f| f.id == "SS003").expect("SS003");
    assert_eq!(f.numbers["failed_attempts"], 40.0);
    assert_eq!(f.evidence.len(), 20);
    assert!(f.message.contains("echo (20 spawns, 2 failed each, tried /usr/local/sbin, /usr/local/bin)"), "{}", f.message);
    assert_eq!(f.savings_ns, Some(40 * 20_000));
    assert_eq!(a.summary.path_search_spawns, 20);
}

#[test]
fn the_chain_ends_when_the_child_spawns() {
    // sh runs a command (a spawn of its own), then execs: that exec is the
    // shell's business, not part of starting it.
    let recs = vec![
        spawn(1, 2, 1_000, false),
        exec(2, "/bin/sh", &["sh", "-c", "true; exec env"], 0, 100_000),
        spawn(2, 3, 200_000, false),
        exec(3, "/bin/true", &["true"], 0, 300_000),
        exit(3, 0, 400_000),
        exec(2, "/usr/bin/env", &["env"], 0, 500_000),
        exit(2, 0, 600_000),
        end(700_000),
    ];
    let a = analyze(&recs, Thresholds::default());
    let e = a.spawns[0].exec.as_ref().unwrap();
    assert_eq!(e.path, "/bin/sh");
    assert!(e.chain.is_empty());
    assert_eq!(a.spawns[0].latency_ns, Some(100_000 + 20_000 - 1_000));
    // The process still knows its last program.
    assert_eq!(a.processes.iter().find(|p| p.pid == 2).unwrap().name, "/usr/bin/env");
}

#[test]
fn sh_c_exec_is_a_chain_in_either_line_order() {
    // The spawn line first (fork-style) or last (vfork-style): same result.
    let body = |child| {
        vec![
            exec(child, "/bin/sh", &["sh", "-c", "exec prog"], 0, 100_000),
            exec(child, "/usr/local/bin/prog", &["prog"], 2, 200_000),
            exec(child, "/usr/bin/prog", &["prog"], 0, 300_000),
        ]
    };
    let mut first = vec![spawn(1, 2, 1_000, false)];
    first.extend(body(2));
    let mut last = body(2);
    last.push(spawn(1, 2, 1_000, true));
    for recs in [first, last] {
        let a = analyze(&recs, Thresholds::default());
        let e = a.spawns[0].exec.as_ref().unwrap();
        assert_eq!(
            (e.path.as_str(), e.chain.clone(), e.failed_attempts.len()),
            ("/usr/bin/prog", vec!["/bin/sh".to_string()], 1)
        );
    }
}

#[test]
fn proportion_and_severity_follow_impact() {
    // 20 env-echo spawns, 0.8 ms of failed attempts in a 30 ms recording
    // (2.7%): a note. In a 10 ms recording (8%): worth more.
    let mut recs = Vec::new();
    for i in 0..20 {
        recs.extend(env_echo(1, 10 + i, 400_000 * (i as u64 + 1)));
    }
    let t = Thresholds { path_search_ms: 0.1, ..Thresholds::default() };
    let mut long = recs.clone();
    long.push(end(30_000_000));
    let a = analyze(&long, t.clone());
    assert_eq!(a.summary.recording_ns, 30_000_000);
    // Each spawn blocks its parent 50 µs (clone entry to resume), no overlap.
    assert_eq!(a.summary.spawn_blocked_ns, 20 * 50_000);
    assert_eq!(a.summary.spawn_blocked_total_ns, 20 * 50_000);
    assert_eq!(a.findings.iter().find(|f| f.id == "SS003").unwrap().severity, Severity::Info);
    let mut short = recs;
    short.push(end(10_000_000));
    let a = analyze(&short, t);
    assert_eq!(a.findings.iter().find(|f| f.id == "SS003").unwrap().severity, Severity::Warning);
}

#[test]
fn durations_and_failed_processes() {
    let mut recs = env_echo(1, 2, 1_000_000);
    recs.push(spawn(1, 3, 2_000_000, false));
    recs.push(exec(3, "/bin/false", &["false"], 0, 2_100_000));
    recs.push(exit(3, 1, 5_000_000));
    recs.push(exit(1, 0, 6_000_000));
    recs.push(end(6_000_000));
    let a = analyze(&recs, Thresholds::default());
    assert_eq!(a.summary.failed_processes, 1);
    let p = a.processes.iter().find(|p| p.pid == 3).unwrap();
    assert_eq!(p.duration_ns(a.summary.recording_ns), 3_000_000);
    assert!(p.exit.unwrap().failed());
}

#[test]
fn selections() {
    // pid 1 spawns 2 (env echo) and 3 (sh); 3 spawns 4 (cc) at 5 ms.
    let mut recs = env_echo(1, 2, 1_000_000);
    recs.extend([
        spawn(1, 3, 3_000_000, false),
        exec(3, "/bin/sh", &["sh"], 0, 3_100_000),
        spawn(3, 4, 5_000_000, false),
        exec(4, "/usr/bin/cc", &["cc"], 0, 5_100_000),
        exit(4, 0, 5_500_000),
        exit(3, 0, 6_000_000),
        end(10_000_000),
    ]);
    let a = analyze(&recs, Thresholds::default());
    assert_eq!(a.spawns.len(), 3);
    let pick = |sel: Selection| -> Vec<String> {
        sel.validate().unwrap();
        let b = sel.apply(&a);
        assert_eq!(b.summary.spawns as usize, b.spawns.len());
        for (i, s) in b.spawns.iter().enumerate() {
            assert_eq!(s.index, i);
            let c = &b.processes[s.child.unwrap()];
            assert_eq!(c.spawn, Some(i), "indices renumbered consistently");
        }
        b.spawns.iter().map(|s| s.executable().to_string()).collect()
    };
    assert_eq!(pick(Selection { exe: Some("echo".into()), ..Selection::default() }), ["echo"]);
    // A chain's earlier program matches too.
    assert_eq!(pick(Selection { exe: Some("/usr/bin/env".into()), ..Selection::default() }), ["echo"]);
    assert_eq!(pick(Selection { pid: Some(3), ..Selection::default() }), ["sh", "cc"]);
    assert_eq!(pick(Selection { pid: Some(1), ..Selection::default() }), ["echo", "sh"]);
    assert_eq!(pick(Selection { pid: Some(1), subtree: true, ..Selection::default() }), ["echo", "sh", "cc"]);
    assert_eq!(pick(Selection { since_ns: Some(2_000_000), ..Selection::default() }), ["sh", "cc"]);
    assert_eq!(pick(Selection { until_ns: Some(2_000_000), ..Selection::default() }), ["echo"]);
    let b = Selection { since_ns: Some(2_000_000), until_ns: Some(6_000_000), ..Selection::default() }.apply(&a);
    assert_eq!(b.summary.recording_ns, 4_000_000);
    // The summary is computed again over the selection: echo's failed
    // attempts are outside the window.
    assert_eq!(a.summary.failed_exec_attempts, 2);
    assert_eq!(b.summary.failed_exec_attempts, 0);
    assert_eq!(b.summary.spawns, 2);
    assert_eq!(Selection { subtree: true, ..Selection::default() }.validate(), Err(SelectionError::SubtreeWithoutPid));
    assert!(Selection { since_ns: Some(5), until_ns: Some(5), ..Selection::default() }.validate().is_err());
    assert_eq!(Selection::parse_seconds("1.5"), Ok(1_500_000_000));
    assert!(Selection::parse_seconds("-1").is_err());
    assert!(Selection::parse_seconds("soon").is_err());
}
