//! The analyzer on traces recorded by `spawnscope record` on the reference
//! machine (x86_64, glibc 2.36, kernel 6.18, seccomp mode), 2026-11-27:
//! fixtures/rust programs, CPython 3.11 subprocess, bash, perl. Each spawn's
//! style, code path and failed exec attempts are checked. The failed-attempt
//! counts come from that machine's PATH (8 directories before /usr/bin).

use spawnscope_analyzer::*;

fn analyze(name: &str) -> Analysis {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/valid").join(format!("recorded-{name}.jsonl"));
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

fn ss002(name: &str) -> Finding {
    let a = analyze(name);
    a.findings.into_iter().find(|f| f.id == "SS002").unwrap_or_else(|| panic!("{name}: no SS002"))
}

// One test per cause of Rust std's fork fallback (glibc 2.36 host).

#[test]
fn fallback_cause_env_clear_is_likely_a_path_change() {
    // env_clear(): the child has no environment at all against its parent's.
    let f = ss002("cmd-env-clear");
    assert_eq!(f.numbers["cause_path_changed"], 1.0);
    assert!(f.message.contains("all: likely PATH set on the Command"), "{}", f.message);
    assert!(f.advice.starts_with("Most likely PATH set on the Command"), "{}", f.advice);
    assert!(f.advice.contains("full path"), "{}", f.advice);
}

#[test]
fn fallback_cause_env_path_is_a_candidate_not_a_verdict() {
    // env("PATH", ..): same variable count, other bytes. The same trace comes
    // from a program that changed its own PATH with set_var and then used
    // pre_exec, so the trace cannot decide.
    let f = ss002("cmd-env-path");
    assert_eq!(f.numbers["cause_not_visible"], 1.0);
    assert_eq!(f.numbers["candidate_path_on_command"], 1.0);
    assert!(
        f.message.contains("the trace cannot tell which of these forced it, most common first: (1) a pre_exec() closure"),
        "{}",
        f.message
    );
    assert!(f.message.contains("(2) PATH set on the Command"), "{}", f.message);
    assert!(f.message.contains("std::env::set_var"), "{}", f.message);
}

#[test]
fn fallback_cause_pre_exec_lists_pre_exec_first_and_rules_out_a_path_change() {
    // Command::new("/bin/true") with pre_exec: a path, so PATH is ruled out.
    let f = ss002("cmd-pre-exec");
    assert_eq!(f.numbers["cause_not_visible"], 1.0);
    assert_eq!(f.numbers["candidate_path_on_command"], 0.0);
    assert!(f.message.contains("(1) a pre_exec() closure"), "{}", f.message);
    assert!(f.message.contains("ruled out:"), "{}", f.message);
    assert!(f.message.contains("the program was given as a path"), "{}", f.message);
    assert!(!f.advice.contains("full path"), "nothing in this trace says a path would help: {}", f.advice);
}

#[test]
fn fallback_cause_uid_gid_is_a_candidate() {
    let f = ss002("cmd-uid");
    assert_eq!(f.numbers["candidate_credentials"], 1.0);
    assert!(f.message.contains("uid(), gid() or groups() (the trace records no user or group ids)"), "{}", f.message);
    assert!(f.advice.contains("start the spawning process as the target user"), "{}", f.advice);
}

#[test]
fn fallback_cause_current_dir_does_not_fork_on_glibc_2_29_and_later() {
    // current_dir() keeps posix_spawn here, and SS002 rules it out.
    check("cmd-cwd", 0, &[], &[POSIX_SPAWN_TRUE]);
    let f = ss002("cmd-pre-exec");
    assert!(f.message.contains("current_dir() (glibc 2.36 has posix_spawn_file_actions_addchdir_np"), "{}", f.message);
}

#[test]
fn fork_from_a_large_parent_is_high_unless_it_is_a_small_part_of_the_run() {
    let a = analyze("rss-fork");
    let f = a.findings.iter().find(|f| f.id == "SS001").unwrap();
    // Three forks cost tens of ms while filling 1 GiB took most of the
    // recording: in proportion, a note.
    assert!(f.numbers["savings_share"] < 0.05, "{:?}", f.numbers);
    assert_eq!(f.severity, Severity::Info);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/valid/recorded-rss-fork.jsonl");
    let t = Thresholds { impact_share: 0.0, ..Thresholds::default() };
    let b = analyze_path(&path, &t).unwrap();
    assert_eq!(b.findings.iter().find(|f| f.id == "SS001").unwrap().severity, Severity::High);
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
        &[
            BASH_TRUE,
            ("clone", "fork", "fork-exec", false, "/usr/bin/true", 8, true),
            ("clone", "fork", "fork-exec", false, "/bin/sh", 0, true),
        ],
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
