//! Bounded-memory analysis (`Retention::Aggregate`) against the full one:
//! on every checked-in trace and on a generated build-driver trace, the
//! summary, the groups, the failures, the longest processes and the
//! findings (ids, severities, messages, numbers, evidence) are the same.
//! Latency percentiles stay exact here because every distribution is below
//! its exact-sample cap (asserted); past it they are within 3.2% (see
//! `sample.rs`'s tests).

use std::collections::BTreeMap;
use std::path::Path;

use spawnscope_analyzer::*;
use spawnscope_format::*;

/// Everything a report shows from an analysis, comparable.
fn view(a: &Analysis) -> String {
    let groups: Vec<Vec<Group>> = GroupBy::ALL
        .iter()
        .map(|&by| {
            group_by(a, by)
                .into_iter()
                .map(|mut g| {
                    g.spawns.clear();
                    g
                })
                .collect()
        })
        .collect();
    let longest: Vec<(i32, Nanos, Nanos, Option<ProcessExit>, String)> = longest_processes(a, 10)
        .into_iter()
        .map(|i| &a.processes[i])
        .map(|p| (p.pid, p.t_start, p.duration_ns(a.summary.duration_ns), p.exit, p.name.clone()))
        .collect();
    let sites: Vec<origin::CallSite> = origin::call_sites(a)
        .into_iter()
        .map(|mut s| {
            s.spawns.clear();
            s
        })
        .collect();
    let finding_sites: Vec<_> =
        a.findings.iter().map(|f| (origin::finding_sites(a, f), origin::describe_finding_sites(a, f, 3))).collect();
    format!(
        "summary {:#?}\ngroups {groups:#?}\nfailed {:#?}\nlongest {longest:#?}\ntimes {:#?}\nfindings {:#?}\nwarnings {:#?}\norigins {:#?}\ncall sites {sites:#?}\nfinding sites {finding_sites:#?}",
        a.summary,
        failed_children(a),
        spawn_times(a),
        a.findings,
        a.warnings,
        a.origins,
    )
}

fn same(name: &str, full: &Analysis, bounded: &Analysis) {
    let (f, b) = (view(full), view(bounded));
    if f != b {
        let diff: Vec<String> = f
            .lines()
            .zip(b.lines())
            .enumerate()
            .filter(|(_, (x, y))| x != y)
            .take(10)
            .map(|(i, (x, y))| format!("line {i}:\n  full:    {x}\n  bounded: {y}"))
            .collect();
        panic!("{name}: bounded analysis differs from the full one:\n{}", diff.join("\n"));
    }
}

#[test]
fn every_fixture_trace_gives_the_same_report_in_bounded_memory() {
    let t = Thresholds::default();
    let mut with_stacks = 0;
    for path in spawnscope_testkit::fixture_traces() {
        let full = analyze_path(&path, &t).unwrap();
        let bounded = analyze_path_with(&path, &t, Retention::Aggregate).unwrap();
        assert!(full.aggregate.is_none());
        // Traces with call stacks too: their stack records are read first.
        let ag = bounded.aggregate.as_ref().unwrap_or_else(|| panic!("{}: not bounded", path.display()));
        assert!(ag.exact, "{}", path.display());
        assert!(bounded.spawns.is_empty());
        if !full.origins.list.is_empty() {
            with_stacks += 1;
            assert!(!origin::call_sites(&bounded).is_empty(), "{}", path.display());
        }
        same(&path.display().to_string(), &full, &bounded);
        // What a report of many traces keeps of each is the same too.
        assert_eq!(many::Merged::of(&full), many::Merged::of(&bounded), "{}", path.display());
    }
    assert!(with_stacks >= 2, "{with_stacks}");
}

#[test]
fn thresholds_and_disabled_rules_apply_in_bounded_memory_too() {
    let mut t = Thresholds { env_vars: 10, serial_spawns: 2, path_search_failed: 1, ..Thresholds::default() };
    t.disable.push("SS009".into());
    for path in spawnscope_testkit::fixture_traces() {
        let full = analyze_path(&path, &t).unwrap();
        let bounded = analyze_path_with(&path, &t, Retention::Aggregate).unwrap();
        same(&path.display().to_string(), &full, &bounded);
        assert!(bounded.findings.iter().all(|f| f.id != "SS009"));
    }
}

/// A build driver's trace, as JSON lines: 4 threads keep up to 8 jobs in
/// flight (posix_spawn with the exec line first, fork + a PATH search, the
/// Rust fallback after a socketpair, `sh -c` vforking a compiler that
/// spawns `as`, fork workers that never exec, programs that are not found,
/// failures), pids reused, a daemon still running at the end.
fn build_driver_trace(jobs: u64, seed: u64) -> String {
    struct G {
        out: String,
        t: u64,
        rng: u64,
        next_pid: i32,
    }
    impl G {
        fn r(&mut self, n: u64) -> u64 {
            self.rng = self.rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.rng >> 33) % n
        }
        fn pid(&mut self) -> i32 {
            // Wraps often, so pids are reused.
            self.next_pid = if self.next_pid >= 1400 { 1010 } else { self.next_pid + 1 };
            self.next_pid
        }
        fn line(&mut self, s: String) {
            self.out.push_str(&s);
            self.out.push('\n');
        }
        fn exec(&mut self, pid: i32, path: &str, argv0: &str, result: i32, big: bool) {
            let t0 = self.t;
            self.t += 50_000 + self.r(400_000);
            let (n, b, h) = if big { (184, 27_750, "9f3c0a77e1d2b645") } else { (30, 2_140, "000000000003a85e") };
            self.line(format!(
                r#"{{"kind":"exec","pid":{pid},"tid":{pid},"syscall":"execve","path":"{path}","argv":["{argv0}","-c","f.c"],"env_count":{n},"env_bytes":{b},"env_hash":"{h}","result":{result},"t_entry":{t0},"t_exit":{}}}"#,
                self.t
            ));
        }
        #[allow(clippy::too_many_arguments)]
        fn spawn(
            &mut self,
            pid: i32,
            tid: i32,
            child: i32,
            syscall: &str,
            flags: u64,
            stack: u64,
            ev: &str,
            t0: u64,
            thread: bool,
        ) {
            let clone = if ev == "fork" { 250_000 + self.r(600_000) } else { 30_000 + self.r(60_000) };
            let resume = if ev == "fork" { t0 + clone + 50_000 } else { self.t.max(t0 + clone) + 20_000 };
            let mem = if ev == "fork" && self.r(4) == 0 { r#","parent_mem":{"rss_kb":400000,"pte_kb":2000}"# } else { "" };
            let sig = if thread { 0 } else { 17 };
            self.line(format!(
                r#"{{"kind":"spawn","pid":{pid},"tid":{tid},"child":{child},"syscall":"{syscall}","flags":{flags},"exit_signal":{sig},"stack":{stack},"ptrace_event":"{ev}","thread":{thread},"result":0,"t_entry":{t0},"t_event":{},"t_resume":{resume}{mem}}}"#,
                t0 + clone
            ));
        }
        fn exit(&mut self, pid: i32, tid: i32, code: i32, thread: bool) {
            self.t += 5_000;
            self.line(format!(
                r#"{{"kind":"exit","pid":{pid},"tid":{tid},"code":{code},"signal":null,"thread":{thread},"t":{}}}"#,
                self.t
            ));
        }
    }
    const VM_VFORK: u64 = 0x4100;
    const THREAD: u64 = 0x3d0f00;
    let mut g = G { out: String::new(), t: 1_000_000, rng: seed, next_pid: 1010 };
    g.line(r#"{"kind":"header","format":"spawnscope-trace","format_version":"1.0","tool_version":"0.1.0","command":["./driver"],"cwd":"/b","start_unix_ns":1764230400000000000,"host":{"hostname":"node","kernel_release":"6.1.0","glibc_version":"2.36","arch":"x86_64","cpus":8,"memory_bytes":17179869184,"clone3":true},"tracer":{"mode":"seccomp","syscall_info":true,"capture_env":false,"env_count":30,"env_bytes":2140}}"#.to_string());
    let root = 1000;
    g.exec(root, "/b/driver", "./driver", 0, false);
    for tid in 1001..=1003 {
        let t0 = g.t;
        g.t += 40_000;
        g.spawn(root, root, tid, "clone3", THREAD, 1, "clone", t0, true);
    }
    // A daemon that outlives the trace.
    let d = 1004;
    let t0 = g.t;
    g.spawn(root, root, d, "fork", 0, 0, "fork", t0, false);
    let mut in_flight: std::collections::VecDeque<Vec<(i32, i32)>> = Default::default();
    for job in 0..jobs {
        g.t += 20_000 + g.r(200_000);
        if in_flight.len() >= 8 {
            for (pid, code) in in_flight.pop_front().unwrap_or_default() {
                g.exit(pid, pid, code, false);
            }
        }
        let tid = 1000 + g.r(4) as i32;
        let c = g.pid();
        let big = g.r(20) == 0;
        let code = if g.r(30) == 0 { 1 } else { 0 };
        let t0 = g.t;
        let mut exits = Vec::new();
        match g.r(100) {
            0..=54 => {
                g.t += 70_000;
                let prog = ["cc", "rustc", "ld"][g.r(3) as usize];
                g.exec(c, &format!("/usr/bin/{prog}"), prog, 0, big);
                g.spawn(root, tid, c, "clone3", VM_VFORK, 1, "vfork", t0, false);
                if prog == "cc" && g.r(2) == 0 {
                    let a = g.pid();
                    let t1 = g.t;
                    g.t += 60_000;
                    g.exec(a, "/usr/bin/as", "as", 0, false);
                    g.spawn(c, c, a, "clone3", VM_VFORK, 1, "vfork", t1, false);
                    exits.push((a, 0));
                }
            }
            55..=69 => {
                g.spawn(root, tid, c, "fork", 0, 0, "fork", t0, false);
                for dir in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin"] {
                    g.exec(c, &format!("{dir}/make"), "make", 2, big);
                }
                g.exec(c, "/usr/bin/make", "make", 0, big);
            }
            70..=79 => {
                g.line(format!(
                    r#"{{"kind":"socketpair","pid":{root},"tid":{tid},"domain":1,"socket_type":524293,"protocol":0,"fds":[7,8],"result":0,"t":{t0}}}"#
                ));
                g.t += 10_000;
                let t1 = g.t;
                g.spawn(root, tid, c, "clone", 0x0120_0000, 0, "fork", t1, false);
                g.exec(c, "/usr/bin/git", "git", 0, big);
            }
            80..=89 => {
                g.t += 30_000;
                g.exec(c, "/bin/sh", "sh", 0, big);
                g.spawn(root, tid, c, "clone3", VM_VFORK, 1, "vfork", t0, false);
                let k = g.pid();
                let t1 = g.t;
                g.t += 30_000;
                g.spawn(c, c, k, "vfork", VM_VFORK, 0, "vfork", t1, false);
                g.exec(k, "/usr/bin/cc", "cc", 0, big);
                exits.push((k, code));
            }
            90..=95 => {
                // A worker that never execs.
                g.spawn(root, tid, c, "fork", 0, 0, "fork", t0, false);
            }
            _ => {
                g.spawn(root, tid, c, "fork", 0, 0, "fork", t0, false);
                g.exec(c, "/usr/bin/nosuch", "nosuch", 2, false);
                exits.push((c, 127));
                in_flight.push_back(exits);
                continue;
            }
        }
        exits.push((c, if job % 7 == 0 { code } else { 0 }));
        in_flight.push_back(exits);
    }
    for exits in in_flight {
        for (pid, code) in exits {
            g.exit(pid, pid, code, false);
        }
    }
    let t = g.t + 1_000;
    g.line(format!(r#"{{"kind":"end","t":{t},"exit_code":0}}"#));
    g.out
}

#[test]
fn a_generated_build_trace_gives_the_same_report_in_bounded_memory() {
    let t = Thresholds { serial_spawns: 50, serial_share: 0.3, serial_busy: 0.01, ..Thresholds::default() };
    for (jobs, seed) in [(300, 1), (2500, 7)] {
        let text = build_driver_trace(jobs, seed);
        let full = analyze_reader(std::io::Cursor::new(text.as_bytes()), &t).unwrap();
        let bounded = analyze_reader_with(std::io::Cursor::new(text.as_bytes()), &t, Retention::Aggregate).unwrap();
        assert!(full.summary.spawns > jobs, "{}", full.summary.spawns);
        assert!(bounded.aggregate.as_ref().is_some_and(|ag| ag.exact));
        // The trace shows what it should, so the comparison covers it.
        let ids: Vec<&str> = full.findings.iter().map(|f| f.id).collect();
        for id in ["SS001", "SS002", "SS003", "SS004", "SS009"] {
            assert!(ids.contains(&id), "{id} in {ids:?}");
        }
        assert!(full.summary.failed_processes > 0 && full.summary.max_in_flight > 1);
        assert!(full.processes.iter().any(|p| p.exit.is_none()));
        same(&format!("generated {jobs} jobs"), &full, &bounded);
        assert_eq!(many::Merged::of(&full), many::Merged::of(&bounded));
        // Kept: only the longest processes.
        assert!(bounded.processes.len() <= 50 && full.processes.len() as u64 > jobs);
    }
}

#[test]
fn evidence_is_capped_in_bounded_memory_and_the_counts_stay_exact() {
    let t = Thresholds::default();
    let text = build_driver_trace(6000, 3);
    let full = analyze_reader(std::io::Cursor::new(text.as_bytes()), &t).unwrap();
    let bounded = analyze_reader_with(std::io::Cursor::new(text.as_bytes()), &t, Retention::Aggregate).unwrap();
    assert_eq!(full.summary.spawns, bounded.summary.spawns);
    assert_eq!(full.summary.code_paths, bounded.summary.code_paths);
    let f = full.findings.iter().find(|f| f.id == "SS003").unwrap();
    let b = bounded.findings.iter().find(|f| f.id == "SS003").unwrap();
    assert!(f.evidence.len() > 1000);
    assert_eq!(b.evidence, f.evidence[..1000]);
    assert_eq!((&b.message, &b.numbers), (&f.message, &f.numbers));
}

#[test]
fn a_long_trace_keeps_only_what_is_alive() {
    // Shells that exec, spawn, and exit after their spawn was final must be
    // let go too (they once stayed until the end).
    let t = Thresholds::default();
    let text = build_driver_trace(4000, 11);
    let mut an = None;
    let mut reader = TraceReader::new(std::io::Cursor::new(text.as_bytes())).unwrap();
    let mut most = 0;
    while let Some((line, rec)) = reader.next_record().unwrap() {
        let a = an.get_or_insert_with(|| Analyzer::with_retention(reader_header(&text), t.clone(), Retention::Aggregate));
        a.push_owned(line, rec);
        most = most.max(a.live_counts().0 + a.live_counts().1);
    }
    let a = an.unwrap().finish();
    assert!(a.summary.processes > 4000);
    // 8 jobs in flight, a shell and its compiler each, the driver, its
    // threads' last spawns, a daemon: a few dozen at most.
    assert!(most < 100, "{most} spawns and processes held at once");
}

fn reader_header(text: &str) -> Header {
    TraceReader::new(std::io::Cursor::new(text.as_bytes())).unwrap().header().clone()
}

#[test]
fn streamed_spawns_and_processes_are_the_full_analysis_ones_in_order() {
    let t = Thresholds::default();
    let text = build_driver_trace(3000, 5);
    let full = analyze_reader(std::io::Cursor::new(text.as_bytes()), &t).unwrap();
    let streamed = analyze_reader_with(std::io::Cursor::new(text.as_bytes()), &t, Retention::Stream).unwrap();
    let ag = streamed.aggregate.as_ref().expect("bounded");
    let spawns: Vec<Spawn> = ag.spawns().expect("spilled").map(|s| s.unwrap()).collect();
    assert_eq!(spawns.len(), full.spawns.len());
    assert!(full.spawns.iter().any(|s| s.in_flight > 0));
    for (a, b) in full.spawns.iter().zip(&spawns) {
        assert_eq!(a, b);
    }
    let procs: Vec<Process> = ag.processes().expect("spilled").map(|p| p.unwrap()).collect();
    assert_eq!(procs, full.processes);
    // Read again from the start: the same.
    assert_eq!(ag.spawns().unwrap().count(), spawns.len());
    // The temporary file is already gone from the directory.
    let prefix = format!("spawnscope-spill-{}-", std::process::id());
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    same("streamed", &full, &streamed);
}

/// `text` with call stacks, as a default recording has them: the stack
/// records of the `mixed` fixture after the header, every process spawn
/// naming one of its stacks in turn (one in 50 a stack the trace lacks) and
/// the `symbols` lines at the end, where the tracer writes them.
fn with_stacks(text: &str) -> String {
    let mixed =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/stacks/mixed.jsonl")).unwrap();
    let kind = |l: &str, k: &str| l.starts_with(&format!(r#"{{"kind":"{k}""#));
    let records: Vec<&str> = mixed.lines().filter(|l| kind(l, "module") || kind(l, "stack")).collect();
    let symbols: Vec<&str> = mixed.lines().filter(|l| kind(l, "symbols")).collect();
    let ids: Vec<u64> = mixed
        .lines()
        .filter(|l| kind(l, "stack"))
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_u64().unwrap())
        .collect();
    assert!(ids.len() >= 3 && !symbols.is_empty());
    let (mut out, mut n) = (String::new(), 0usize);
    for line in text.lines() {
        if kind(line, "header") {
            let h = line
                .replace(r#""format_version":"1.0""#, r#""format_version":"1.1""#)
                .replace(r#""env_bytes":2140}"#, r#""env_bytes":2140,"stacks":{"max_depth":64}}"#);
            assert!(h.contains("stacks"));
            out.push_str(&h);
            out.push('\n');
            records.iter().for_each(|r| out.push_str(&format!("{r}\n")));
            continue;
        }
        if kind(line, "end") {
            symbols.iter().for_each(|r| out.push_str(&format!("{r}\n")));
        }
        if kind(line, "spawn") && line.contains(r#""thread":false"#) {
            n += 1;
            let id = if n % 50 == 0 { 999 } else { ids[n % ids.len()] };
            out.push_str(&format!("{},\"stack_id\":{id}}}\n", line.strip_suffix('}').unwrap()));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn a_trace_with_call_stacks_gives_the_same_report_in_bounded_memory() {
    let t = Thresholds::default();
    let dir = std::env::temp_dir().join(format!("spawnscope-bounded-stacks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (jobs, seed) in [(300, 2), (6000, 3)] {
        let path = dir.join(format!("driver-{jobs}.jsonl"));
        std::fs::write(&path, with_stacks(&build_driver_trace(jobs, seed))).unwrap();
        let full = analyze_path(&path, &t).unwrap();
        assert!(full.origins.list.len() >= 3 && full.origins.spawns_without > 0, "{:?}", full.origins.missing);
        // The stacks change what the fingerprint alone says (Rust's do_fork, musl).
        assert!(full.summary.code_paths["rust-std-fork-fallback"] > 0 && full.summary.code_paths["musl-posix-spawn"] > 0);
        for retention in [Retention::Aggregate, Retention::Stream] {
            let bounded = analyze_path_with(&path, &t, retention).unwrap();
            let name = format!("{jobs} jobs with stacks, {retention:?}");
            assert!(bounded.aggregate.is_some() && bounded.spawns.is_empty(), "{name}: not bounded");
            if jobs < 1000 {
                same(&name, &full, &bounded);
                assert_eq!(many::Merged::of(&full), many::Merged::of(&bounded), "{name}");
            } else {
                // Past the exact-sample caps: everything but percentiles is
                // exact, call sites of a finding's spawns included, though
                // it keeps only the first 1,000 of them.
                assert_eq!(full.summary.code_paths, bounded.summary.code_paths, "{name}");
                assert_eq!(full.origins, bounded.origins, "{name}");
                for (f, b) in full.findings.iter().zip(&bounded.findings) {
                    assert_eq!((f.id, &f.message, &f.evidence_sites), (b.id, &b.message, &b.evidence_sites), "{name}");
                    assert_eq!(origin::finding_sites(&full, f), origin::finding_sites(&bounded, b), "{name}");
                }
                assert!(full.findings.iter().any(|f| f.evidence.len() > 1000));
                let strip = |a: &Analysis| -> Vec<(String, u64, Nanos, BTreeMap<String, u64>)> {
                    origin::call_sites(a).into_iter().map(|s| (s.label, s.count, s.total_latency_ns, s.code_paths)).collect()
                };
                assert_eq!(strip(&full), strip(&bounded), "{name}");
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_fork_that_never_execs_is_named_after_what_its_parent_ran_then() {
    // bash forks a subshell (which forks again), then execs python3: the
    // subshell ran bash, in both analyses (the full one once took the
    // parent's last program, the bounded one whatever it ran when folding).
    let text = [
        r#"{"kind":"header","format":"spawnscope-trace","format_version":"1.0","tool_version":"0","command":["sh"],"cwd":"/","start_unix_ns":0,"host":{},"tracer":{"mode":"seccomp","syscall_info":true}}"#,
        r#"{"kind":"exec","pid":100,"tid":100,"syscall":"execve","path":"/usr/bin/bash","argv":["bash"],"env_count":1,"env_bytes":10,"env_hash":"01","result":0,"t_entry":10,"t_exit":20}"#,
        r#"{"kind":"spawn","pid":100,"tid":100,"child":101,"syscall":"clone","flags":18874368,"exit_signal":17,"stack":0,"ptrace_event":"fork","thread":false,"result":0,"t_entry":100,"t_event":200,"t_resume":300}"#,
        r#"{"kind":"spawn","pid":101,"tid":101,"child":102,"syscall":"clone","flags":18874368,"exit_signal":17,"stack":0,"ptrace_event":"fork","thread":false,"result":0,"t_entry":400,"t_event":500,"t_resume":600}"#,
        r#"{"kind":"exit","pid":102,"tid":102,"code":0,"signal":null,"t":700}"#,
        r#"{"kind":"exit","pid":101,"tid":101,"code":0,"signal":null,"t":800}"#,
        r#"{"kind":"exec","pid":100,"tid":100,"syscall":"execve","path":"/usr/bin/python3","argv":["python3"],"env_count":1,"env_bytes":10,"env_hash":"01","result":0,"t_entry":900,"t_exit":1000}"#,
        r#"{"kind":"exit","pid":100,"tid":100,"code":0,"signal":null,"t":1100}"#,
        r#"{"kind":"end","t":1200,"exit_code":0}"#,
    ]
    .join("\n");
    let t = Thresholds::default();
    let full = analyze_reader(std::io::Cursor::new(text.as_bytes()), &t).unwrap();
    let bounded = analyze_reader_with(std::io::Cursor::new(text.as_bytes()), &t, Retention::Aggregate).unwrap();
    let names: Vec<&str> = full.processes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["/usr/bin/python3", "/usr/bin/bash", "/usr/bin/bash"]);
    let parents = |a: &Analysis| group_by(a, GroupBy::Parent).into_iter().map(|g| g.key).collect::<Vec<_>>();
    assert_eq!(parents(&full), ["bash[101]", "python3[100]"]);
    assert_eq!(parents(&bounded), parents(&full));
    same("subshell", &full, &bounded);
}

#[cfg(target_os = "linux")]
#[test]
fn a_trace_with_stacks_through_a_pipe_is_analysed_whole_not_half() {
    // `report <(zstdcat t.jsonl.zst)`: the path is a pipe, which a first pass
    // for the stack records would drain. It is read once, kept whole.
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/stacks/mixed.jsonl");
    let dir = std::env::temp_dir().join(format!("spawnscope-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("trace.jsonl");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let writer = {
        let (file, fifo) = (file.clone(), fifo.clone());
        std::thread::spawn(move || std::fs::write(&fifo, std::fs::read(&file).unwrap()).unwrap())
    };
    let t = Thresholds::default();
    let piped = analyze_path_with(&fifo, &t, Retention::Aggregate).unwrap();
    writer.join().unwrap();
    let full = analyze_path(&file, &t).unwrap();
    assert!(piped.aggregate.is_none(), "kept whole");
    assert_eq!(piped.summary, full.summary);
    assert_eq!(origin::call_sites(&piped), origin::call_sites(&full));
    std::fs::remove_dir_all(&dir).unwrap();
}
