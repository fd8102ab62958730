//! Real programs (python3 `subprocess`, a bash loop) recorded by the tracer
//! and by `strace -f` on the same command: the number of spawns (processes,
//! not threads) and of exec attempts (failed ones included) must match.
//! Both run with the same absolute program path and the system PATH.

mod common;

use std::time::Duration;

use common::*;
use spawnscope_tracer::ModeRequest;

/// (process spawns, exec attempts, failed exec attempts) as strace sees them.
fn strace_counts(argv: &[&str]) -> (u64, u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("strace.log");
    let mut cmd = std::process::Command::new(tool("strace"));
    cmd.args(["-f", "-qq", "-e", "trace=clone,clone3,fork,vfork,execve,execveat", "-o"])
        .arg(&log)
        .arg("--")
        .args(argv)
        .env("PATH", SYSTEM_PATH);
    let out = spawnscope_testkit::output_with_timeout(&mut cmd, Duration::from_secs(60));
    assert!(out.status.code().is_some());
    let text = std::fs::read_to_string(&log).unwrap();
    let (mut spawns, mut execs, mut failed) = (0, 0, 0);
    let mut unfinished_exec: std::collections::HashSet<String> = Default::default();
    for line in text.lines() {
        let (pid, rest) = line.split_once(' ').unwrap_or(("", line));
        let rest = rest.trim_start();
        let is_clone = ["clone(", "clone3(", "fork(", "vfork("].iter().any(|p| rest.starts_with(p));
        if is_clone && !rest.contains("CLONE_THREAD") {
            spawns += 1;
        }
        if rest.starts_with("execve(") || rest.starts_with("execveat(") {
            execs += 1;
            if rest.ends_with("<unfinished ...>") {
                unfinished_exec.insert(pid.to_string());
            } else if rest.contains(" = -1 ") {
                failed += 1;
            }
        }
        if rest.starts_with("<... execve") && unfinished_exec.remove(pid) && rest.contains(" = -1 ") {
            failed += 1;
        }
    }
    (spawns, execs, failed)
}

/// `argv[0]` is a tool name, run by its absolute path.
fn compare(argv: &[&str], mode: ModeRequest, info: bool) {
    let prog = tool(argv[0]);
    let mut argv: Vec<&str> = argv.to_vec();
    argv[0] = prog.to_str().unwrap();
    let expected = strace_counts(&argv);
    let t = run_cmd(mode, info, &argv);
    let o = &t.outcome;
    let got = (o.spawns.total(), o.exec_attempts, o.exec_failed);
    assert_eq!(got, expected, "{}: (spawns, exec attempts, failed) spawnscope vs strace for {argv:?}", t.label);
    assert!(expected.0 > 0 && expected.1 > 1, "the workload spawns");
}

#[test]
fn python3_subprocess_matches_strace() {
    need!("strace", "python3");
    let script = "import subprocess\n\
                  for _ in range(5): subprocess.run(['true'])\n\
                  subprocess.run('true', shell=True)\n\
                  subprocess.run(['sh', '-c', 'ls / > /dev/null'])\n\
                  try: subprocess.run(['no-such-program-xyz'])\n\
                  except FileNotFoundError: pass\n";
    compare(&["python3", "-c", script], ModeRequest::Seccomp, true);
}

#[test]
fn bash_loop_matches_strace() {
    need!("strace", "bash");
    let script = "for i in 1 2 3 4 5; do /bin/true; true; (exit 0); x=$(echo hi); done; \
                  no-such-command-xyz 2>/dev/null; ls / >/dev/null | cat; exit 0";
    for &(mode, info) in &[(ModeRequest::Seccomp, true), (ModeRequest::Syscall, false)] {
        compare(&["bash", "-c", script], mode, info);
    }
}
