//! Arbitrary event sequences never panic the analyzer, and its results stay
//! self-consistent whatever order the events come in.

use proptest::prelude::*;
use spawnscope_analyzer::*;
use spawnscope_format::*;

fn pid() -> impl Strategy<Value = i32> {
    // Few pids, so that reuse, adoption and odd orders happen often.
    prop_oneof![1..6i32, Just(0), Just(-1), Just(i32::MAX)]
}

fn time() -> impl Strategy<Value = u64> {
    prop_oneof![0..2_000u64, Just(u64::MAX), Just(0)]
}

fn flags() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0x0120_0000u64),
        Just(0x4100),
        Just(0x100),
        Just(0x3d0f00),
        Just(0x0001_0000),
        Just(0x0080_0000),
        any::<u64>(),
    ]
}

fn spawn() -> impl Strategy<Value = Record> {
    (
        (pid(), pid(), proptest::option::of(pid()), 0..4u8, flags(), 0..40u32, prop_oneof![Just(0u64), any::<u64>()]),
        (
            proptest::option::of(0..3u8),
            any::<bool>(),
            prop_oneof![Just(0), 1..15i32],
            proptest::option::of(time()),
            time(),
            proptest::option::of(time()),
        ),
        (proptest::option::of((any::<u64>(), any::<u64>())), proptest::option::of(0..8u32)),
    )
        .prop_map(|((pid, tid, child, sc, flags, sig, stack), (ev, thread, result, te, tv, tr), (mem, threads))| {
            Record::Spawn(SpawnEvent {
                pid,
                tid,
                child,
                syscall: [CloneSyscall::Clone, CloneSyscall::Clone3, CloneSyscall::Fork, CloneSyscall::Vfork][sc as usize],
                flags,
                exit_signal: sig,
                stack,
                clone_args: None,
                ptrace_event: ev.map(|e| [PtraceEvent::Fork, PtraceEvent::Vfork, PtraceEvent::Clone][e as usize]),
                thread,
                result,
                t_entry: te,
                t_event: tv,
                t_resume: tr,
                parent_mem: mem.map(|(r, p)| MemInfo { rss_kb: r, pte_kb: p }),
                parent_threads: threads,
                stack_id: None,
            })
        })
}

fn exec() -> impl Strategy<Value = Record> {
    (
        pid(),
        pid(),
        prop_oneof![Just("/bin/true".to_string()), Just(String::new()), "[a-z/]{0,12}", Just("\u{1b}[2J/x".to_string())],
        proptest::collection::vec("[a-z]{0,4}", 0..3),
        any::<u64>(),
        any::<u64>(),
        prop_oneof![Just(0), Just(2), Just(13), any::<i32>()],
        proptest::option::of(time()),
        time(),
    )
        .prop_map(|(pid, tid, path, argv, ec, eb, result, te, tx)| {
            Record::Exec(ExecEvent {
                pid,
                tid,
                syscall: ExecSyscall::Execve,
                path,
                dirfd: None,
                at_flags: None,
                argv,
                argv_truncated: false,
                env_count: ec % 1000,
                env_bytes: eb,
                env_hash: String::new(),
                env: None,
                result,
                t_entry: te,
                t_exit: tx,
            })
        })
}

fn other() -> impl Strategy<Value = Record> {
    prop_oneof![
        (pid(), pid(), 0..3i32, prop_oneof![Just(5 | 0o2000000), Just(1), any::<i32>()], prop_oneof![Just(0), Just(24)], time())
            .prop_map(|(pid, tid, domain, socket_type, result, t)| Record::Socketpair(SocketpairEvent {
                pid,
                tid,
                domain,
                socket_type,
                protocol: 0,
                fds: None,
                result,
                t,
            })),
        (pid(), pid(), time()).prop_map(|(pid, tid, t)| Record::Pipe(PipeEvent { pid, tid, flags: 0, fds: None, result: 0, t })),
        (pid(), pid(), any::<bool>(), proptest::option::of(any::<i32>()), time()).prop_map(|(pid, tid, thread, code, t)| {
            Record::Exit(ExitEvent { pid, tid, code, signal: None, core_dumped: false, thread, t })
        }),
        (proptest::option::of(pid()), time()).prop_map(|(pid, t)| Record::Warning(WarningEvent {
            pid,
            message: "lost \u{7}".into(),
            t
        })),
        time().prop_map(|t| Record::End(End { t, exit_code: Some(0), counts: Default::default() })),
        Just(Record::Unknown),
    ]
}

fn record() -> impl Strategy<Value = Record> {
    prop_oneof![3 => spawn(), 3 => exec(), 2 => other()]
}

fn header(mode: u8, glibc: Option<&str>) -> Header {
    let mut h = Header::new(vec!["x".into()], [TracerMode::Seccomp, TracerMode::Events, TracerMode::Syscall][mode as usize % 3]);
    h.host.glibc_version = glibc.map(str::to_string);
    h.host.clone3 = Some(mode.is_multiple_of(2));
    h
}

fn check(a: &Analysis) {
    assert_eq!(a.summary.spawns as usize, a.spawns.len());
    assert_eq!(a.summary.processes as usize, a.processes.len());
    assert_eq!(a.summary.styles.values().sum::<u64>(), a.summary.spawns);
    assert_eq!(a.summary.code_paths.values().sum::<u64>(), a.summary.spawns);
    for (i, s) in a.spawns.iter().enumerate() {
        assert_eq!(s.index, i);
        if let Some(c) = s.child {
            assert_eq!(a.processes[c].spawn, Some(i));
            assert_eq!(a.processes[c].parent, s.parent);
        }
    }
    for (i, p) in a.processes.iter().enumerate() {
        assert_eq!(p.index, i);
        for &c in &p.children {
            assert_eq!(a.processes[c].parent, Some(i));
        }
        // The parent chain ends (no cycles).
        let mut cur = p.parent;
        let mut steps = 0;
        while let Some(x) = cur {
            steps += 1;
            assert!(steps <= a.processes.len(), "cycle through process {i}");
            cur = a.processes[x].parent;
        }
    }
    for f in &a.findings {
        assert!(RULES.iter().any(|r| r.id == f.id && r.name == f.name));
        for &e in &f.evidence {
            assert!(e < a.spawns.len());
        }
    }
    for by in GroupBy::ALL {
        let g = group_by(a, by);
        assert_eq!(g.iter().map(|g| g.count).sum::<u64>(), a.summary.spawns);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_events_never_panic(
        recs in proptest::collection::vec(record(), 0..60),
        mode in 0..3u8,
        glibc in proptest::option::of(prop_oneof![Just("2.17"), Just("2.28"), Just("2.36"), Just("x")]),
        snap_every in 1..10usize,
    ) {
        let mut an = Analyzer::new(header(mode, glibc), Thresholds { serial_spawns: 3, path_search_failed: 1, ..Thresholds::default() });
        let mut mirror: Option<Analysis> = None;
        for (i, r) in recs.iter().enumerate() {
            an.push(i as u64 + 2, r);
            if i % snap_every == 0 {
                let snap = an.snapshot();
                check(&snap);
                let m = mirror.get_or_insert_with(|| snap.clone());
                an.snapshot_into(m);
                prop_assert_eq!(&snap, &*m);
                check(an.current());
            }
        }
        let a = an.finish();
        check(&a);
        // Serialising the model works too (the TUI and exports use it).
        serde_json::to_string(&a).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Bounded memory on arbitrary (odd, out-of-order, pid-reusing) events:
    /// no panic, and what is exact stays exact: the counts of the summary
    /// and of every group, and the spawns and processes a JSON report lists.
    #[test]
    fn bounded_analysis_never_panics_and_keeps_the_counts(
        recs in proptest::collection::vec(record(), 0..60),
        mode in 0..3u8,
        glibc in proptest::option::of(prop_oneof![Just("2.17"), Just("2.36")]),
    ) {
        let t = Thresholds { serial_spawns: 3, path_search_failed: 1, ..Thresholds::default() };
        let run = |retention| {
            let mut an = Analyzer::with_retention(header(mode, glibc), t.clone(), retention);
            for (i, r) in recs.iter().enumerate() {
                an.push(i as u64 + 2, r);
            }
            an.finish()
        };
        let full = run(Retention::Full);
        let bounded = run(Retention::Aggregate);
        let s = (&full.summary, &bounded.summary);
        prop_assert_eq!((s.0.spawns, s.0.threads, s.0.processes, &s.0.styles), (s.1.spawns, s.1.threads, s.1.processes, &s.1.styles));
        prop_assert_eq!((s.0.exec_attempts, s.0.failed_clones, s.0.latency.count), (s.1.exec_attempts, s.1.failed_clones, s.1.latency.count));
        // Not by executable: with times out of order (an exec timed before
        // a spawn its process already made) the bounded analysis ends an exec
        // chain at the child's first spawn line, the full one by time.
        let count = |a: &Analysis| group_by(a, GroupBy::Style).iter().map(|g| (g.key.clone(), g.count)).collect::<Vec<_>>();
        prop_assert_eq!(count(&full), count(&bounded));
        for by in GroupBy::ALL {
            prop_assert_eq!(group_by(&bounded, by).iter().map(|g| g.count).sum::<u64>(), bounded.summary.spawns);
        }
        for f in &bounded.findings {
            prop_assert!(RULES.iter().any(|r| r.id == f.id && r.name == f.name));
            prop_assert!(f.evidence.iter().all(|&e| e < bounded.summary.spawns as usize));
        }
        let streamed = run(Retention::Stream);
        let ag = streamed.aggregate.as_ref().expect("bounded");
        let spawns: Vec<Spawn> = ag.spawns().expect("spilled").map(|s| s.unwrap()).collect();
        prop_assert_eq!(spawns.len(), full.spawns.len());
        for (i, s) in spawns.iter().enumerate() {
            prop_assert_eq!(s.index, i);
        }
        prop_assert_eq!(ag.processes().expect("spilled").count(), full.processes.len());
    }
}
