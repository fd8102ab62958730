//! The analyzer on traces recorded by `spawnscope record` on the reference
//! machine (x86_64, glibc 2.36, kernel 6.18, seccomp mode), 2026-11-27:
//! fixtures/rust programs, CPython 3.11 subprocess, bash, perl. Each spawn's
//! style, code path and failed exec attempts are checked. The failed-attempt
//! counts come from that machine's PATH (8 directories before /usr/bin).

use spawnscope_analyzer::*;

fn analyze(name: &str) -> Analysis {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/traces/valid")
        .join(format!("recorded-{name}.jsonl"));
    analyze_path(&path, &Thresholds::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// (syscall, style, code path, socketpair, exec path, failed attempts, exec succeeded)
type Expect = (&'static str, &'static str, &'static str, bool, &'static str, usize, bool);

fn check(name: &str, threads: u64, findings: &[&str], expect: &[Expect]) {
    let a = analyze(name);
    assert!(a.complete, "{name}");
    assert!(a.warnings.is_empty(), "{name}: {:?}", a.warnings);
    assert_eq!(a.summary.threads, threads, "{name}: threads");
    let got: Vec<Expect> = a
        .spawns
        .iter()
        .map(|s| {
            let e = s.exec.as_ref().expect("every recorded child execs");
            (
                s.syscall.as_str(),
                s.style.as_str(),
                s.code_path.as_str(),
                s.socketpair,
                // Leak: fine in a test, keeps the tuple type simple.
                &*Box::leak(e.path.clone().into_boxed_str()),
                e.failed_attempts.len(),
                e.success,
            )
        })
        .collect();
    assert_eq!(got, expect, "{name}");
    for s in &a.spawns {
        assert!(!s.style_mismatch, "{name}: spawn {}", s.index);
        assert!(s.latency_ns.is_some() && s.clone_ns.is_some() && s.parent_blocked_ns.is_some(), "{name}");
    }
    let ids: Vec<&str> = a.findings.iter().map(|f| f.id).collect();
    assert_eq!(ids, findings, "{name}");
}

const POSIX_SPAWN_TRUE: Expect = ("clone3", "vfork", "glibc-posix-spawn", false, "/bin/true", 0, true);
const FALLBACK_TRUE: Expect = ("clone", "fork", "rust-std-fork-fallback", true, "/bin/true", 0, true);
const BASH_TRUE: Expect = ("clone", "fork", "fork-exec", false, "/bin/true", 0, true);

#[test]
fn rust_command_posix_spawn() {
    check("cmd-abs", 0, &[], &[POSIX_SPAWN_TRUE]);
    // current_dir() keeps posix_spawn on glibc >= 2.29.
    check("cmd-cwd", 0, &[], &[POSIX_SPAWN_TRUE]);
    // A bare name: posix_spawnp walks the caller's PATH in the vfork child.
    check("cmd-plain", 0, &["SS003"], &[("clone3", "vfork", "glibc-posix-spawn", false, "/usr/bin/true", 8, true)]);
    check("cmd-path-search", 0, &[], &[("clone3", "vfork", "glibc-posix-spawn", false, "/usr/bin/true", 2, true)]);
    check(
        "cmd-missing",
        0,
        &["SS003", "SS009"],
        &[("clone3", "vfork", "glibc-posix-spawn", false, "/bin/spawnscope-no-such-program", 11, false)],
    );
    check("rss-posix", 0, &[], &[POSIX_SPAWN_TRUE; 3]);
}

#[test]
fn rust_command_fork_fallback() {
    check("cmd-env-clear", 0, &["SS002"], &[FALLBACK_TRUE]);
    check("cmd-env-path", 0, &["SS002"], &[("clone", "fork", "rust-std-fork-fallback", true, "/usr/bin/true", 2, true)]);
    check("cmd-pre-exec", 0, &["SS002"], &[FALLBACK_TRUE]);
    check("cmd-uid", 0, &["SS002"], &[FALLBACK_TRUE]);
    // 1 GiB of ballast and an empty pre_exec: the fork copies its page tables.
    check("rss-fork", 0, &["SS001", "SS002"], &[FALLBACK_TRUE; 3]);
}

#[test]
fn fallback_causes_on_real_traces() {
    let cause = |name: &str, key: &str| {
        let a = analyze(name);
        let f = a.findings.iter().find(|f| f.id == "SS002").unwrap();
        f.numbers[key]
    };
    // env_clear() with "true": the child has no environment at all.
    assert_eq!(cause("cmd-env-clear", "cause_path_changed"), 1.0);
    // env("PATH", ..): same variable count, different size.
    assert_eq!(cause("cmd-env-path", "cause_path_changed"), 1.0);
    // pre_exec and uid/gid leave nothing before exec: honestly unknown.
    assert_eq!(cause("cmd-pre-exec", "cause_not_visible"), 1.0);
    assert_eq!(cause("cmd-uid", "cause_not_visible"), 1.0);
    let a = analyze("rss-fork");
    let f = a.findings.iter().find(|f| f.id == "SS001").unwrap();
    assert_eq!(f.severity, Severity::High);
    assert!(f.numbers["parent_rss_mib_max"] >= 1024.0, "{:?}", f.numbers);
    // Measured: a fork from 1 GiB takes tens of ms here (posix_spawn: < 0.1 ms).
    assert!(f.numbers["clone_ms_total"] > 3.0 * 5.0, "{:?}", f.numbers);
    let p = analyze("rss-posix");
    assert!(p.spawns.iter().all(|s| s.clone_ns.unwrap() < 5_000_000), "posix_spawn clone stays cheap from 1 GiB");
}

#[test]
fn python_subprocess() {
    // CPython 3.11: vfork() by default; PATH walk for a bare name.
    check(
        "python-default",
        0,
        &["SS003"],
        &[
            ("vfork", "vfork", "vfork-syscall", false, "/usr/bin/true", 8, true),
            ("vfork", "vfork", "vfork-syscall", false, "/bin/echo", 0, true),
        ],
    );
    // preexec_fn forces fork.
    check("python-preexec", 0, &[], &[BASH_TRUE]);
}

#[test]
fn shells_and_perl_fork() {
    check("bash-loop", 0, &[], &[BASH_TRUE; 3]);
    // perl system(): fork + execvp; a string with a redirection goes through sh.
    check(
        "perl-system",
        0,
        &["SS003"],
        &[BASH_TRUE, ("clone", "fork", "fork-exec", false, "/usr/bin/true", 8, true), ("clone", "fork", "fork-exec", false, "/bin/sh", 0, true)],
    );
}

#[test]
fn threads() {
    let a = analyze("thread-spawn");
    check("thread-spawn", 1, &[], &[POSIX_SPAWN_TRUE]);
    let s = &a.spawns[0];
    assert_ne!(s.parent_tid, s.parent_pid, "spawned from a thread that is not the main one");
    assert_eq!(s.parent_threads, Some(2));
    // exec from a non-leader thread: no spawn, the process takes the new program.
    let a = analyze("thread-exec");
    assert_eq!(a.summary.spawns, 0);
    assert_eq!(a.summary.threads, 1);
    assert_eq!(a.processes.len(), 1);
    assert_eq!(a.processes[0].name, "/bin/true");
    assert!(a.processes[0].execs[1].tid != a.processes[0].pid);
}
