//! Where in the code (issue 10): stack records in a trace become each
//! spawn's origin, call sites, and stack-aware code paths.

use spawnscope_analyzer::origin::{call_sites, describe_sites, matches_at, Runtime};
use spawnscope_analyzer::*;

const HEADER: &str = r#"{"kind":"header","format":"spawnscope-trace","format_version":"1.1","tool_version":"0.1.0","command":["myapp"],"cwd":"/w","start_unix_ns":0,"host":{"hostname":"h","kernel_release":"6.1","glibc_version":"2.36","arch":"x86_64","cpus":2,"memory_bytes":1,"clone3":true},"tracer":{"mode":"seccomp","syscall_info":true,"capture_env":false,"env_count":1,"env_bytes":10,"stacks":{"max_depth":64}}}"#;

/// A vfork-style clone3 (posix_spawn) or a glibc fork() by `pid`, making `child`, with a stack.
fn spawn(pid: i32, child: i32, t: u64, vfork: bool, stack: Option<u32>) -> String {
    let (syscall, flags, sp) = if vfork { ("clone3", 0x4100, 140_000_000) } else { ("clone", 0x0120_0000, 0) };
    let stack = stack.map(|s| format!(r#","stack_id":{s}"#)).unwrap_or_default();
    format!(
        r#"{{"kind":"spawn","pid":{pid},"tid":{pid},"child":{child},"syscall":"{syscall}","flags":{flags},"exit_signal":17,"stack":{sp},"ptrace_event":"{}","thread":false,"result":0,"t_entry":{t},"t_event":{},"t_resume":{}{stack}}}"#,
        if vfork { "vfork" } else { "fork" },
        t + 1000,
        t + 2000
    )
}

fn exec(pid: i32, t: u64) -> String {
    format!(
        r#"{{"kind":"exec","pid":{pid},"tid":{pid},"syscall":"execve","path":"/bin/true","argv":["true"],"env_count":1,"env_bytes":10,"env_hash":"0","result":0,"t_entry":{t},"t_exit":{}}}"#,
        t + 500
    )
}

fn analyze(lines: &[String]) -> Analysis {
    let text = lines.join("\n") + "\n";
    analyze_reader(text.as_bytes(), &Thresholds::default()).unwrap()
}

fn trace() -> Vec<String> {
    let mut l = vec![HEADER.to_string()];
    for m in [
        r#"{"kind":"module","id":1,"path":"/usr/lib/x86_64-linux-gnu/libc.so.6"}"#,
        r#"{"kind":"module","id":2,"path":"/app/myapp"}"#,
        r#"{"kind":"module","id":3,"path":"/lib/ld-musl-x86_64.so.1","unwind":"none"}"#,
        r#"{"kind":"module","id":4,"path":"/usr/bin/node"}"#,
        // Rust std posix_spawn from myapp::jobs::run.
        r#"{"kind":"stack","id":1,"frames":[[1,10],[1,20],[2,30],[2,40],[2,50]],"end":"complete"}"#,
        // Rust std fork fallback (pre_exec) from myapp::sandbox::spawn_restricted.
        r#"{"kind":"stack","id":2,"frames":[[1,11],[2,31],[2,41],[2,51]],"end":"complete"}"#,
        // musl posix_spawn: the walk ends in musl (no unwind tables).
        r#"{"kind":"stack","id":3,"frames":[[3,12],[3,22]],"end":"no-unwind-info","note":"no unwind tables in /lib/ld-musl-x86_64.so.1"}"#,
        // node: libuv's fork.
        r#"{"kind":"stack","id":4,"frames":[[1,11],[4,60],[4,70]],"end":"unmapped"}"#,
    ] {
        l.push(m.to_string());
    }
    let mut t = 1_000_000;
    // Two spawns through the same stack, one through each of the others, one without a stack.
    for (i, (vfork, stack)) in
        [(true, Some(1)), (true, Some(1)), (false, Some(2)), (true, Some(3)), (false, Some(4)), (false, None)]
            .into_iter()
            .enumerate()
    {
        let child = 101 + i as i32;
        l.push(exec(child, t + 5_000));
        l.push(spawn(100, child, t, vfork, stack));
        t += 100_000;
    }
    for s in [
        r#"{"kind":"symbols","module":1,"offset":10,"frames":[{"function":"clone3"}]}"#,
        r#"{"kind":"symbols","module":1,"offset":20,"frames":[{"function":"__posix_spawnp"}]}"#,
        r#"{"kind":"symbols","module":1,"offset":11,"frames":[{"function":"_Fork","inlined":true},{"function":"__libc_fork"}]}"#,
        r#"{"kind":"symbols","module":2,"offset":30,"frames":[{"function":"std::sys::process::unix::common::Command::posix_spawn","inlined":true},{"function":"std::process::Command::status"}]}"#,
        r#"{"kind":"symbols","module":2,"offset":40,"frames":[{"function":"myapp::jobs::run","file":"src/jobs.rs","line":42}]}"#,
        r#"{"kind":"symbols","module":2,"offset":50,"frames":[{"function":"myapp::main","file":"src/main.rs","line":3}]}"#,
        r#"{"kind":"symbols","module":2,"offset":31,"frames":[{"function":"std::sys::process::unix::common::Command::do_fork","inlined":true},{"function":"std::process::Command::spawn"}]}"#,
        r#"{"kind":"symbols","module":2,"offset":41,"frames":[{"function":"myapp::sandbox::spawn_restricted","file":"src/sandbox.rs","line":9}]}"#,
        r#"{"kind":"symbols","module":2,"offset":51,"frames":[{"function":"myapp::jobs::run","file":"src/jobs.rs","line":50}]}"#,
        r#"{"kind":"symbols","module":3,"offset":22,"frames":[{"function":"posix_spawn"}]}"#,
        r#"{"kind":"symbols","module":4,"offset":60,"frames":[{"function":"uv_spawn"}]}"#,
        r#"{"kind":"symbols","module":4,"offset":70,"frames":[{"function":"node::ProcessWrap::Spawn"}]}"#,
    ] {
        l.push(s.to_string());
    }
    l.push(r#"{"kind":"end","t":9000000,"exit_code":0}"#.to_string());
    l
}

#[test]
fn origins_resolve_after_late_symbols() {
    let a = analyze(&trace());
    assert_eq!(a.spawns.len(), 6);
    let o = |i: usize| a.origins.of(&a.spawns[i]);
    assert_eq!(a.spawns[0].origin, a.spawns[1].origin, "one origin per distinct stack");
    assert_eq!(a.origins.list.len(), 4);
    let o0 = o(0).unwrap();
    assert_eq!(
        (o0.api.as_str(), o0.runtime, o0.library.as_str()),
        ("std::process::Command::status", Runtime::Rust, "/usr/lib/x86_64-linux-gnu/libc.so.6")
    );
    assert_eq!(o0.call_site.as_ref().unwrap().label(), "myapp::jobs::run (src/jobs.rs:42)");
    assert_eq!(o(2).unwrap().call_site.as_ref().unwrap().function, "myapp::sandbox::spawn_restricted");
    assert_eq!(
        o(3).unwrap().call_site_note.as_deref(),
        Some("the stack ends inside ld-musl-x86_64.so.1: no unwind tables in /lib/ld-musl-x86_64.so.1")
    );
    assert_eq!(o(4).unwrap().runtime, Runtime::Node);
    assert!(o(5).is_none());
    assert_eq!(a.origins.spawns_without, 1);
    assert!(a.origins.missing.as_deref().unwrap().contains("1 spawns have no call stack"));
}

#[test]
fn code_paths_from_the_stack() {
    let a = analyze(&trace());
    let paths: Vec<_> = a.spawns.iter().map(|s| s.code_path).collect();
    assert_eq!(
        paths,
        [
            CodePath::GlibcPosixSpawn,
            CodePath::GlibcPosixSpawn,
            // No socketpair in the trace, but the stack shows std's do_fork.
            CodePath::RustStdForkFallback,
            // The fingerprint alone says glibc; the stack says musl.
            CodePath::MuslPosixSpawn,
            CodePath::LibuvFork,
            CodePath::ForkExec,
        ]
    );
    assert_eq!(a.summary.code_paths["musl-posix-spawn"], 1);
}

#[test]
fn call_site_table_and_scoping() {
    let a = analyze(&trace());
    let sites = call_sites(&a);
    let rows: Vec<(&str, u64)> = sites.iter().map(|s| (s.label.as_str(), s.count)).collect();
    assert_eq!(
        rows,
        [
            ("myapp::jobs::run (src/jobs.rs:42)", 2),
            ("(JavaScript code)", 1),
            ("(no stack)", 1),
            ("(stack ends in ld-musl-x86_64.so.1)", 1),
            ("myapp::sandbox::spawn_restricted (src/sandbox.rs:9)", 1),
        ]
    );
    let jobs = &sites[0];
    assert_eq!((jobs.apis.as_slice(), jobs.spawns.as_slice()), (&["std::process::Command::status".to_string()][..], &[0, 1][..]));
    assert_eq!(jobs.styles["vfork"], 2);
    assert_eq!(jobs.latency.count, 2);
    assert_eq!(jobs.total_latency_ns, jobs.latency.p50 * 2);
    assert_eq!(
        describe_sites(&a, &[0, 1, 2], 1).unwrap(),
        "2 at myapp::jobs::run (src/jobs.rs:42) via std::process::Command::status; 1 more call site"
    );
    // --at: the call site or any caller further out; never runtime frames.
    let at = |i: usize, p: &str| matches_at(a.origins.of(&a.spawns[i]), p);
    assert!(at(0, "myapp::jobs"));
    assert!(at(2, "myapp::jobs"), "spawn_restricted is called from myapp::jobs::run");
    assert!(at(2, "sandbox.rs:9"));
    assert!(!at(0, "std::process"));
    assert!(!at(3, "posix_spawn"));
    assert!(!at(5, "myapp"));
}

#[test]
fn no_stacks_says_why() {
    let mut lines = vec![HEADER.replace(r#","stacks":{"max_depth":64}"#, "")];
    lines.push(exec(101, 5_000));
    lines.push(spawn(100, 101, 1_000, true, None));
    let a = analyze(&lines);
    assert!(a.origins.list.is_empty());
    assert!(call_sites(&a).is_empty());
    assert!(a.origins.missing.as_deref().unwrap().contains("--stacks off"));
    let events = lines[0].replace(r#""mode":"seccomp""#, r#""mode":"events""#);
    lines[0] = events;
    let a = analyze(&lines);
    assert!(a.origins.missing.as_deref().unwrap().contains("events mode"));
    assert_eq!(a.spawns[0].origin, None);
}

#[test]
fn traces_compare_per_call_site() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/stacks");
    let a = analyze_path(dir.join("mixed.jsonl"), &Thresholds::default()).unwrap();
    let b = analyze_path(dir.join("fallback.jsonl"), &Thresholds::default()).unwrap();
    let d = spawnscope_analyzer::origin::compare_sites(&a, &b);
    let jobs = d.iter().find(|x| x.label == "myapp::jobs::run (src/jobs.rs:42)").unwrap();
    assert!(jobs.changed());
    assert_eq!(
        jobs.describe(),
        "myapp::jobs::run (src/jobs.rs:42): 3 glibc posix_spawn on A, 3 Rust std fork+exec fallback on B"
    );
    let sandbox = d.iter().find(|x| x.label.starts_with("myapp::sandbox::spawn_restricted")).unwrap();
    assert!(!sandbox.changed(), "same count, path and style on both: {sandbox:?}");
    let musl = d.iter().find(|x| x.label.contains("ld-musl")).unwrap();
    assert_eq!(musl.describe(), "(stack ends in ld-musl-x86_64.so.1): 1 musl posix_spawn on A, none on B");
}

#[test]
fn advice_speaks_the_runtime_of_the_stack() {
    // Fork-style spawns from a 600 MiB node process, through libuv's fork.
    let mut l = vec![HEADER.to_string()];
    l.push(r#"{"kind":"module","id":1,"path":"/usr/lib/x86_64-linux-gnu/libc.so.6"}"#.to_string());
    l.push(r#"{"kind":"module","id":4,"path":"/usr/bin/node"}"#.to_string());
    l.push(r#"{"kind":"stack","id":4,"frames":[[1,11],[4,60],[4,70]],"end":"unmapped"}"#.to_string());
    let mut t = 1_000_000;
    for child in 101..104 {
        l.push(exec(child, t + 5_000));
        let s = spawn(100, child, t, false, Some(4))
            .replace(r#""stack_id""#, r#""parent_mem":{"rss_kb":614400,"pte_kb":1200},"stack_id""#);
        l.push(s);
        t += 100_000;
    }
    l.push(r#"{"kind":"symbols","module":1,"offset":11,"frames":[{"function":"__libc_fork"}]}"#.to_string());
    l.push(r#"{"kind":"symbols","module":4,"offset":60,"frames":[{"function":"uv_spawn"}]}"#.to_string());
    l.push(r#"{"kind":"end","t":9000000,"exit_code":0}"#.to_string());
    let a = analyze(&l);
    let f = a.findings.iter().find(|f| f.id == "SS001").expect("fork from a large parent");
    assert!(f.advice.contains("child_process"), "{}", f.advice);
    assert_eq!(a.spawns[0].code_path, CodePath::LibuvFork);
    // The Rust trace's SS001 says nothing of node.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/stacks");
    let rust = analyze_path(dir.join("mixed.jsonl"), &Thresholds::default()).unwrap();
    let f = rust.findings.iter().find(|f| f.id == "SS001").unwrap();
    assert!(!f.advice.contains("child_process") && f.advice.contains("Rust"), "{}", f.advice);
}
