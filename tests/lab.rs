//! End-to-end tests of `spawnscope lab`: real spawns, JSON output, the
//! syscalls each method makes (checked with strace), and bad input.

use assert_cmd::Command;
use serde_json::Value;

fn lab() -> Command {
    let mut c = Command::cargo_bin("spawnscope").unwrap();
    c.arg("lab");
    c
}

/// Runs `spawnscope lab ARGS --json` and returns the parsed output.
fn lab_json(args: &[&str]) -> Value {
    let out = lab().args(args).arg("--json").output().unwrap();
    assert!(out.status.success(), "lab {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("lab {args:?}: bad JSON {e}"))
}

/// Runs lab with ARGS, expects exit 2 and one line on stderr containing `want`.
fn bad_input(args: &[&str], want: &str) {
    let out = lab().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "lab {args:?}: {err}");
    assert!(out.stdout.is_empty(), "lab {args:?} printed to stdout");
    assert!(err.contains(want), "lab {args:?}: {err:?} lacks {want:?}");
}

fn strace_available() -> bool {
    std::process::Command::new("strace").arg("-V").output().is_ok_and(|o| o.status.success())
}

#[test]
fn every_method_spawns_the_requested_count() {
    for m in ["posix-spawn", "fork", "vfork", "rust-std"] {
        let v = lab_json(&["--method", m, "--count", "7"]);
        assert_eq!(v["method"], m);
        assert_eq!(v["count"], 7);
        let s = &v["spawn_call_ns"];
        let (min, med, max) = (s["min"].as_u64().unwrap(), s["median"].as_u64().unwrap(), s["max"].as_u64().unwrap());
        assert!(0 < min && min <= med && med <= max, "{m}: {s}");
        assert!(v["total_ns"].as_u64().unwrap() >= max, "{m}");
        assert_eq!(v["failed_attempts_per_spawn"], 0);
        assert!(v["resolved_path"].as_str().unwrap().ends_with("/true"));
        assert_eq!(v["traced_by"], Value::Null);
    }
}

#[test]
fn text_output_says_what_it_measured() {
    let out = lab().args(["--method", "fork", "--count", "3"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("spawnscope lab: 3 spawns of /"), "{text}");
    assert!(text.contains("by fork (fork + execve), 1 thread"), "{text}");
    assert!(text.contains("spawn call  mean "), "{text}");
    assert!(text.contains("median"), "{text}");
    assert!(text.contains("untraced: these times measure this machine"), "{text}");
}

#[test]
fn ballast_is_resident_before_spawning() {
    let v = lab_json(&["--method", "fork", "--count", "2", "--rss", "64M"]);
    assert_eq!(v["rss_bytes"], 64u64 << 20);
    assert!(v["vm_rss_bytes"].as_u64().unwrap() >= 64 << 20, "{v}");
    // 64 MiB of 4 KiB pages need 128 KiB of last-level page tables.
    assert!(v["vm_pte_bytes"].as_u64().unwrap() >= 128 << 10, "{v}");
}

#[test]
fn synthetic_environment_reaches_the_children() {
    let base = lab_json(&["--count", "2"]);
    let big = lab_json(&["--count", "2", "--env-vars", "184"]);
    let diff = big["env_vars"].as_u64().unwrap() - base["env_vars"].as_u64().unwrap();
    assert_eq!(diff, 184);
    let bytes = big["env_bytes"].as_u64().unwrap() - base["env_bytes"].as_u64().unwrap();
    assert_eq!(bytes, 184 * (20 + 140 + 2));
}

#[test]
fn env_file_replaces_the_environment_and_its_path_is_searched() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("env.txt");
    std::fs::write(&file, "PATH=/nonexistent/a:/nonexistent/b:/usr/bin:/bin\nA=1\n\nB=two=2\n").unwrap();
    let f = file.to_str().unwrap();
    for m in ["posix-spawn", "fork", "vfork", "rust-std"] {
        let v = lab_json(&["--method", m, "--count", "3", "--env-file", f, "--path-search"]);
        assert_eq!(v["env_vars"], 3, "{m}");
        assert_eq!(v["program"], "true");
        assert_eq!(v["failed_attempts_per_spawn"], 2, "{m}");
        assert_eq!(v["resolved_path"], "/usr/bin/true");
    }
}

#[test]
fn cluster_environment_from_the_reference_data() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/env/cluster-envs.txt");
    assert!(p.exists(), "missing reference data");
    let v = lab_json(&["--count", "3", "--env-file", p.to_str().unwrap(), "--path-search"]);
    assert_eq!(v["env_vars"], 184);
    assert_eq!(v["env_bytes"], 27_750);
    // The job's PATH lists 16 module and site directories before /usr/bin.
    let text = std::fs::read_to_string(&p).unwrap();
    let path = text.lines().find_map(|l| l.strip_prefix("PATH=")).unwrap();
    let first = path.split(':').position(|d| std::path::Path::new(&format!("{d}/true")).is_file()).unwrap();
    assert_eq!(v["failed_attempts_per_spawn"], first as u64);
}

#[test]
fn path_prepend_adds_failed_attempts() {
    let plain = lab_json(&["--count", "2", "--path-search"]);
    let more = lab_json(&["--count", "2", "--path-search", "--path-prepend", "5"]);
    let a = plain["failed_attempts_per_spawn"].as_u64().unwrap();
    assert_eq!(more["failed_attempts_per_spawn"].as_u64().unwrap(), a + 5);
}

#[test]
fn threads_split_the_count() {
    let v = lab_json(&["--method", "fork", "--count", "9", "--threads", "3"]);
    assert_eq!(v["threads"], 3);
    assert_eq!(v["count"], 9);
}

#[test]
fn every_demo_scenario_runs_from_its_arguments() {
    let out = lab().args(["--list-scenarios", "--json"]).output().unwrap();
    assert!(out.status.success());
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = list.as_array().unwrap();
    assert!(list.len() >= 6);
    for s in list {
        let id = s["id"].as_str().unwrap();
        let args: Vec<&str> = s["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
        // The argv the demo would pass, and the --scenario shortcut, agree.
        let by_args = lab_json(&args);
        let by_id = lab_json(&["--scenario", id]);
        assert_eq!(by_args["args"], by_id["args"], "{id}");
        assert_eq!(by_id["scenario"], id);
        assert_eq!(by_args["method"].as_str(), args.get(1).copied(), "{id}");
    }
}

#[test]
fn fork_from_a_large_parent_is_slower_than_posix_spawn() {
    // The study's headline, with a margin wide enough for a busy 2-core box:
    // copying the page tables of 512 MiB takes milliseconds, posix_spawn does
    // not copy them.
    let fork = lab_json(&["--scenario", "fork-large-parent"]);
    let spawn = lab_json(&["--scenario", "posix-spawn-large-parent"]);
    let f = fork["spawn_call_ns"]["median"].as_u64().unwrap();
    let p = spawn["spawn_call_ns"]["median"].as_u64().unwrap();
    assert!(f > 2 * p, "fork median {f} ns vs posix_spawn {p} ns");
}

#[test]
fn each_method_makes_the_syscalls_it_claims() {
    if !strace_available() {
        eprintln!("skipped: strace not installed");
        return;
    }
    let bin = assert_cmd::cargo::cargo_bin("spawnscope");
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str, &str); 5] = [
        (&["--method", "posix-spawn"], "clone3({flags=CLONE_VM|CLONE_VFORK,", "socketpair("),
        (&["--method", "fork"], "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD", "CLONE_VM"),
        (&["--method", "vfork"], "vfork(", "CLONE_VM"),
        (&["--method", "rust-std"], "clone3({flags=CLONE_VM|CLONE_VFORK,", "socketpair("),
        (&["--method", "rust-std", "--pre-exec"], "socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC", "CLONE_VM|CLONE_VFORK"),
    ];
    for (i, (args, want, not_want)) in cases.iter().enumerate() {
        let log = dir.path().join(format!("{i}.log"));
        let st = std::process::Command::new("strace")
            .args(["-f", "-qq", "-o", log.to_str().unwrap(), "-e", "trace=clone,clone3,vfork,fork,execve,socketpair,pipe2"])
            .arg(&bin)
            .args(["lab", "--count", "2"])
            .args(*args)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "{args:?}");
        let text = std::fs::read_to_string(&log).unwrap();
        // Drop the threads the runtime may start; look at the spawns.
        let spawns: Vec<&str> = text.lines().filter(|l| !l.contains("CLONE_THREAD")).collect();
        let joined = spawns.join("\n");
        assert_eq!(joined.matches(want).count(), 2, "{args:?}: want 2 x {want:?} in\n{joined}");
        assert!(!joined.contains(not_want), "{args:?}: unexpected {not_want:?} in\n{joined}");
        // One exec of `true` (its absolute path, wherever PATH finds it) per spawn.
        let execs = spawns.iter().filter(|l| l.contains("execve(\"/") && l.contains("/true\", [")).count();
        assert_eq!(execs, 2, "{args:?}: {joined}");
    }
}

#[test]
fn a_traced_run_says_so() {
    if !strace_available() {
        eprintln!("skipped: strace not installed");
        return;
    }
    let bin = assert_cmd::cargo::cargo_bin("spawnscope");
    let out = std::process::Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "-e", "trace=execve"])
        .arg(&bin)
        .args(["lab", "--count", "2", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["traced_by"].as_u64().is_some_and(|p| p > 0), "{v}");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    bad_input(&["--count", "0"], "--count must be between 1 and");
    bad_input(&["--rss", "lots"], "not a size: \"lots\"");
    bad_input(&["--rss", "900T"], "is more than 90% of the available memory");
    bad_input(&["--method", "fork", "--pre-exec"], "--pre-exec needs --method rust-std");
    bad_input(&["--path-prepend", "3"], "--path-prepend needs --path-search");
    bad_input(&["--env-per-command", "--method", "rust-std"], "--env-per-command needs --env-file or --env-vars");
    bad_input(&["--env-file", "/nonexistent/spawnscope/env.txt"], "cannot read /nonexistent/spawnscope/env.txt");
    bad_input(&["--scenario", "nope"], "unknown scenario \"nope\"; known: baseline");
    bad_input(&["--threads", "5", "--count", "2"], "--threads must not exceed --count");
    bad_input(&["--method", "clone"], "invalid value 'clone'");
    bad_input(&["--scenario", "baseline", "--count", "5"], "cannot be used with");
    for args in [&["--count", "0"][..], &["--rss", "lots"][..], &["--scenario", "nope"][..]] {
        let out = lab().args(args).output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
        assert!(err.starts_with("spawnscope: error: "), "{err:?}");
    }
}

#[test]
fn env_file_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("env.txt");
    std::fs::write(&file, "A=1\nnot a variable\n").unwrap();
    bad_input(&["--env-file", file.to_str().unwrap()], "env.txt:2: expected KEY=VALUE");
}

/// Records `spawnscope lab ARGS` with `spawnscope record` and returns the
/// trace's event lines, or None when the recorder does not work here.
fn record_lab(args: &[&str]) -> Option<Vec<Value>> {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    let bin = assert_cmd::cargo::cargo_bin("spawnscope");
    let out = std::process::Command::new(&bin)
        .arg("record")
        .arg("-o")
        .arg(&trace)
        .args(["--mode", "seccomp", "--"])
        .arg(&bin)
        .arg("lab")
        .args(args)
        .output()
        .unwrap();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not implemented") || err.contains("ptrace") || err.contains("seccomp"), "record failed: {err}");
        eprintln!("skipped: spawnscope record does not work here: {err}");
        return None;
    }
    let text = std::fs::read_to_string(&trace).unwrap();
    Some(text.lines().map(|l| serde_json::from_str(l).unwrap()).collect())
}

fn of_kind<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["kind"] == kind).collect()
}

/// Spawns (not threads) of the lab process, which is the first exec'd pid.
fn lab_spawns(events: &[Value]) -> Vec<&Value> {
    of_kind(events, "spawn").into_iter().filter(|s| s["thread"] == false).collect()
}

const CLONE_VM: u64 = 0x100;
const CLONE_VFORK: u64 = 0x4000;

#[test]
fn each_method_looks_as_documented_in_a_trace() {
    // posix-spawn: clone3(CLONE_VM|CLONE_VFORK), kernel event vfork.
    let Some(ev) = record_lab(&["--method", "posix-spawn", "--count", "4"]) else {
        return;
    };
    let s = lab_spawns(&ev);
    assert_eq!(s.len(), 4);
    for sp in &s {
        assert_eq!(sp["syscall"], "clone3", "{sp}");
        assert_eq!(sp["flags"].as_u64().unwrap() & (CLONE_VM | CLONE_VFORK), CLONE_VM | CLONE_VFORK);
        assert_eq!(sp["ptrace_event"], "vfork");
    }
    assert!(of_kind(&ev, "socketpair").is_empty());

    // fork: clone without CLONE_VM, the parent's memory recorded.
    let ev = record_lab(&["--method", "fork", "--count", "3", "--rss", "32M"]).unwrap();
    let s = lab_spawns(&ev);
    assert_eq!(s.len(), 3);
    for sp in &s {
        assert_eq!(sp["syscall"], "clone", "{sp}");
        assert_eq!(sp["flags"].as_u64().unwrap() & CLONE_VM, 0);
        assert_eq!(sp["ptrace_event"], "fork");
        assert!(sp["parent_mem"]["rss_kb"].as_u64().unwrap() >= 32 * 1024, "{sp}");
    }

    // vfork: the vfork syscall itself.
    let ev = record_lab(&["--method", "vfork", "--count", "3"]).unwrap();
    let s = lab_spawns(&ev);
    assert_eq!(s.len(), 3);
    assert!(s.iter().all(|sp| sp["syscall"] == "vfork" && sp["ptrace_event"] == "vfork"), "{s:?}");

    // rust-std with pre_exec: a SEQPACKET socketpair before each fork-style clone.
    let ev = record_lab(&["--method", "rust-std", "--pre-exec", "--count", "3"]).unwrap();
    let s = lab_spawns(&ev);
    assert_eq!(s.len(), 3);
    assert!(s.iter().all(|sp| sp["syscall"] == "clone" && sp["ptrace_event"] == "fork"), "{s:?}");
    let pairs = of_kind(&ev, "socketpair");
    assert_eq!(pairs.len(), 3);
    assert!(pairs.iter().all(|p| p["domain"] == 1 && p["socket_type"].as_u64().unwrap() & 0xf == 5));

    // PATH search: 3 missing dirs in front of PATH = 3 more ENOENT per spawn.
    let ev = record_lab(&["--count", "2", "--path-search", "--path-prepend", "3"]).unwrap();
    let failed = of_kind(&ev, "exec")
        .into_iter()
        .filter(|e| e["path"].as_str().unwrap().starts_with("/nonexistent/spawnscope-lab/"))
        .filter(|e| e["result"] == 2)
        .count();
    assert_eq!(failed, 2 * 3);
}
