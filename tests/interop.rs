//! End-to-end tests of `spawnscope import strace`, `export` and `diff`: the
//! checked-in strace logs of fixtures/strace, the analyzer's fixture traces,
//! and one program recorded both by strace and by `spawnscope record`.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use spawnscope_analyzer::{analyze_path, Analysis, Thresholds};
use spawnscope_format::{read_all, FileReader, Record, TracerMode};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn strace_log(name: &str) -> PathBuf {
    root().join("fixtures/strace").join(name)
}

fn valid_trace(name: &str) -> PathBuf {
    root().join("fixtures/traces/valid").join(name)
}

fn spawnscope() -> Command {
    Command::cargo_bin("spawnscope").unwrap()
}

fn run(args: &[&str]) -> Output {
    spawnscope().args(args).output().unwrap()
}

fn ok(args: &[&str]) -> Output {
    let out = run(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Expects exit 2, nothing on stdout and exactly one line on stderr containing `want`.
fn fails(args: &[&str], want: &str) {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
    assert!(err.starts_with("spawnscope: error: "), "{err:?}");
    assert!(err.contains(want), "{args:?}: {err:?} lacks {want:?}");
}

fn analyze(p: &Path) -> Analysis {
    analyze_path(p, &Thresholds::default()).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn import_writes_a_trace_that_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.jsonl");
    let o = ok(&[
        "import",
        "strace",
        s(&strace_log("spawn_all.log")),
        "-o",
        s(&out),
        "--glibc",
        "2.17",
        "--kernel",
        "3.10.0",
        "--cpus",
        "128",
        "--memory",
        "256G",
        "--hostname",
        "node042",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("hint:"), "{err}");
    assert!(err.contains("8 spawns, 1 thread, 9 exec attempts (2 failed)"), "{err}");
    let (h, recs, warnings) = read_all(std::fs::File::open(&out).unwrap()).unwrap();
    assert!(warnings.is_empty());
    assert_eq!(h.tracer.mode, TracerMode::Imported);
    assert_eq!(h.source.as_deref(), Some("strace"));
    assert_eq!(h.host.glibc_version.as_deref(), Some("2.17"));
    assert_eq!(h.host.kernel_release.as_deref(), Some("3.10.0"));
    assert_eq!((h.host.cpus, h.host.memory_bytes), (Some(128), Some(256 << 30)));
    assert_eq!(h.host.hostname.as_deref(), Some("node042"));
    assert_eq!(recs.iter().filter(|r| r.kind() == "spawn").count(), 9);
    let a = analyze(&out);
    assert_eq!((a.summary.spawns, a.summary.threads, a.summary.failed_exec_attempts), (8, 1, 2));
    // Readable by the zstd path too.
    let zst = dir.path().join("t.jsonl.zst");
    ok(&["import", "strace", s(&strace_log("spawn_all.log")), "-o", s(&zst), "--quiet"]);
    assert_eq!(FileReader::open(&zst).unwrap().count(), recs.len());
}

#[test]
fn import_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stdin.jsonl");
    let log = std::fs::read(strace_log("python_subprocess.log")).unwrap();
    let o = spawnscope().args(["import", "strace", "-", "-o", s(&out)]).write_stdin(log).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(analyze(&out).summary.spawns, 1);
    let o = spawnscope().args(["import", "strace", "-", "-o", s(&out)]).write_stdin("junk\n").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("<stdin>: line 1: "));
}

#[test]
fn import_ff_prefix_and_notes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ff.jsonl");
    let o = ok(&["import", "strace", s(&strace_log("spawn_all-ff/trace")), "-o", s(&out)]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("from 10 files: 8 spawns"));
    let o = ok(&["import", "strace", s(&strace_log("spawn_all-plain.log")), "-o", s(&out)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("spawnscope: note: the log has no timestamps"), "{err}");
    assert!(err.contains("rerun strace with -v"), "{err}");
    assert!(err.contains("spawnscope: hint: strace does not record the host's glibc version"), "{err}");
}

#[test]
fn import_bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.jsonl");
    let o = s(&out);
    fails(&["import", "strace", "/nonexistent/log", "-o", o], "/nonexistent/log: no such file");
    fails(&["import", "strace", s(dir.path()), "-o", o], "is a directory");
    let garbage = dir.path().join("garbage.log");
    std::fs::write(&garbage, "10 1700000000.1 fork() = 11\nnot strace at all\n").unwrap();
    fails(&["import", "strace", s(&garbage), "-o", o], "garbage.log: line 2: expected a syscall");
    let bin = dir.path().join("bin.log");
    std::fs::write(&bin, b"\x7fELF\x02\x01\x01\x00\x00\x00").unwrap();
    fails(&["import", "strace", s(&bin), "-o", o], "line 1: binary data");
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, "").unwrap();
    fails(&["import", "strace", s(&empty), "-o", o], "no strace output");
    // A spawnscope trace is not an strace log.
    fails(&["import", "strace", s(&valid_trace("threads.jsonl")), "-o", o], "line 1:");
    fails(&["import", "strace", s(&strace_log("spawn_all.log")), "-o", o, "--glibc", "new"], "--glibc \"new\"");
    fails(&["import", "strace", s(&strace_log("spawn_all.log")), "-o", o, "--memory", "lots"], "--memory");
    fails(&["import", "strace", s(&strace_log("spawn_all.log")), "-o", "/nonexistent/dir/t.jsonl"], "/nonexistent/dir/t.jsonl");
    assert!(!out.exists());
}

#[test]
fn export_chrome_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let trace = valid_trace("rust-fork-fallback.jsonl");
    let json_path = dir.path().join("t.json");
    ok(&["export", s(&trace), "-o", s(&json_path)]);
    let doc: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let events = doc["traceEvents"].as_array().unwrap();
    let a = analyze(&trace);
    assert_eq!(
        events
            .iter()
            .filter(|e| e["cat"] == "spawn" && e["ph"] == "X" && e["name"].as_str().unwrap().starts_with("spawn ("))
            .count(),
        a.spawns.len()
    );
    for e in events {
        for k in ["ph", "ts", "pid", "tid", "name"] {
            assert!(!e[k].is_null(), "{k} missing in {e}");
        }
    }
    let out = ok(&["export", s(&trace), "--format", "csv"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header, spawnscope_report::export::csv::COLUMNS);
    assert_eq!(lines.count(), a.spawns.len());
    assert!(text.contains(",rust-std-fork-fallback,true,"), "{text}");
}

#[test]
fn export_bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    fails(&["export", "/nonexistent/t.jsonl"], "/nonexistent/t.jsonl");
    fails(&["export", s(dir.path())], "is a directory");
    fails(&["export", s(&root().join("fixtures/traces/invalid/garbage.bin"))], "not a spawnscope trace");
    fails(&["export", s(&root().join("fixtures/traces/invalid/future-version.jsonl"))], "newer");
    // An strace log given where a trace is expected.
    fails(&["export", s(&strace_log("spawn_all.log"))], "not a spawnscope trace");
    let out = run(&["export", s(&valid_trace("threads.jsonl")), "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn diff_formats() {
    let (a, b) = (valid_trace("rust-posix-spawn.jsonl"), valid_trace("old-glibc.jsonl"));
    let out = ok(&["diff", s(&a), s(&b)]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Verdict\n  B is 3.4x slower per spawn"), "{text}");
    assert!(text.contains("through the Rust std fork+exec fallback (its glibc 2.17 < 2.24)"), "{text}");
    let md = String::from_utf8(ok(&["diff", s(&a), s(&b), "--format", "markdown"]).stdout).unwrap();
    assert!(md.starts_with("## spawnscope diff"), "{md}");
    assert!(md.contains("| glibc | 2.36 | 2.17 | **differs** |"), "{md}");
    let json: Value = serde_json::from_slice(&ok(&["diff", s(&a), s(&b), "--format", "json"]).stdout).unwrap();
    assert_eq!(json["factors"][0]["id"], "clone");
    assert!(json["verdict"].as_str().unwrap().starts_with("B is 3.4x slower"));
}

#[test]
fn diff_escapes_what_it_prints() {
    let out = ok(&["diff", s(&valid_trace("escapes.jsonl")), s(&valid_trace("threads.jsonl"))]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\x1b'), "{text:?}");
    assert!(text.contains("./evil\\x1b[2J"), "{text}");
}

#[test]
fn diff_bad_input_is_one_line_and_exit_2() {
    let good = valid_trace("threads.jsonl");
    fails(&["diff", s(&good), "/nonexistent/b.jsonl"], "/nonexistent/b.jsonl");
    fails(&["diff", s(&root().join("fixtures/traces/invalid/garbage.bin")), s(&good)], "not a spawnscope trace");
}

#[test]
fn strace_import_then_report_export_and_diff() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("rust.jsonl");
    ok(&["import", "strace", s(&strace_log("rust_spawns.log")), "-o", s(&t), "--glibc", "2.36"]);
    ok(&["export", s(&t), "--format", "csv"]);
    let out = ok(&["diff", s(&valid_trace("rust-posix-spawn.jsonl")), s(&t)]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("imported from strace"), "{text}");
    assert!(
        text.contains("B was recorded with strace") || text.contains("A was recorded in seccomp mode and B imported from strace"),
        "{text}"
    );
}

/// Per spawn, in order: (style, code path, failed attempts, exec path, argv).
type Shape = Vec<(String, String, usize, String, Vec<String>)>;

fn shape(a: &Analysis) -> Shape {
    a.spawns
        .iter()
        .map(|s| {
            let e = s.exec.as_ref();
            (
                s.style.as_str().to_string(),
                s.code_path.as_str().to_string(),
                e.map_or(0, |e| e.failed_attempts.len()),
                e.map_or(String::new(), |e| e.path.clone()),
                e.map_or(Vec::new(), |e| e.argv.clone()),
            )
        })
        .collect()
}

/// The env-hash key of both traces of `record_both` (tests only).
const ENV_KEY: &str = "00112233445566778899aabbccddeeff";

/// Environment (count, bytes, hash) of every successful exec, in order.
fn envs(p: &Path) -> Vec<(u64, u64, String)> {
    let (_, recs, _) = read_all(std::fs::File::open(p).unwrap()).unwrap();
    recs.iter()
        .filter_map(|r| match r {
            Record::Exec(e) if e.result == 0 => Some((e.env_count, e.env_bytes, e.env_hash.clone())),
            _ => None,
        })
        .collect()
}

/// Records `argv` with strace (the command docs/interop.md gives) and with
/// `spawnscope record`, imports the strace log, and returns both trace paths.
fn record_both(dir: &Path, tag: &str, argv: &[&str]) -> (PathBuf, PathBuf) {
    let env = [("PATH", "/nonexistent:/usr/bin:/bin"), ("LANG", "C")];
    let log = dir.join(format!("{tag}.strace"));
    let st = std::process::Command::new("strace")
        .args(["-f", "-ttt", "-T", "-v", "-s", "4096", "-e"])
        .arg("trace=clone,clone3,fork,vfork,execve,execveat,socketpair,pipe,pipe2,exit_group")
        .args(["-o", s(&log), "--"])
        .args(argv)
        .env_clear()
        .envs(env)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("strace is needed for this test");
    assert!(st.success(), "strace {argv:?}");
    let imported = dir.join(format!("{tag}-imported.jsonl"));
    // Both traces hash environments under the same fixed key (issue 16),
    // so their hashes compare.
    let st = spawnscope()
        .args(["import", "strace", s(&log), "-o", s(&imported), "--quiet"])
        .env("SPAWNSCOPE_ENV_KEY", ENV_KEY)
        .output()
        .unwrap();
    assert!(st.status.success(), "import {argv:?}: {}", String::from_utf8_lossy(&st.stderr));
    let recorded = dir.join(format!("{tag}-recorded.jsonl"));
    let out = spawnscope()
        .args(["record", "-o", s(&recorded), "--"])
        .args(argv)
        .env_clear()
        .envs(env)
        .env("SPAWNSCOPE_ENV_KEY", ENV_KEY)
        .output()
        .unwrap();
    assert!(out.status.success(), "record {argv:?}: {}", String::from_utf8_lossy(&out.stderr));
    (imported, recorded)
}

/// Both traces of one program agree on every spawn (syscall, style, code
/// path, failed attempts, exec path and argv), threads, failed attempts,
/// exit code and the environment summary of every successful exec.
fn assert_agree(imported: &Path, recorded: &Path, spawns: usize) {
    let (ai, ar) = (analyze(imported), analyze(recorded));
    assert_eq!(shape(&ai), shape(&ar));
    assert_eq!(shape(&ai).len(), spawns);
    let syscalls = |a: &Analysis| a.spawns.iter().map(|s| s.syscall).collect::<Vec<_>>();
    assert_eq!(syscalls(&ai), syscalls(&ar));
    assert_eq!(ai.summary.threads, ar.summary.threads);
    assert_eq!(ai.summary.failed_exec_attempts, ar.summary.failed_exec_attempts);
    assert_eq!(ai.summary.exit_code, ar.summary.exit_code);
    // The same (count, bytes, FNV hash) from strace's -v text and from the
    // tracee's memory.
    assert_eq!(envs(imported), envs(recorded));
}

/// The acceptance test: one program recorded by strace and by
/// spawnscope gives the same spawns, styles, code paths, failed attempts and
/// environments. A C program spawning in every way glibc offers.
#[test]
fn strace_import_agrees_with_spawnscope_record() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("spawn_all");
    let cc = std::process::Command::new("gcc")
        .args(["-O1", "-pthread", "-o", s(&bin), s(&strace_log("src/spawn_all.c"))])
        .status()
        .expect("gcc is needed for this test");
    assert!(cc.success());
    let (i, r) = record_both(dir.path(), "c", &[s(&bin)]);
    assert_agree(&i, &r, 8);
}

/// The same for CPython's subprocess (vfork), a shell (fork, fork without
/// exec) and Rust std (posix_spawn and the fork+exec fallback).
#[test]
fn strace_import_agrees_with_spawnscope_record_on_python_bash_rust() {
    let dir = tempfile::tempdir().unwrap();
    let (i, r) = record_both(dir.path(), "py", &["/usr/bin/python3", "-c", "import subprocess; subprocess.run(['true'])"]);
    assert_agree(&i, &r, 1);
    let (i, r) = record_both(dir.path(), "sh", &["/bin/bash", "-c", "/bin/true; echo x | cat >/dev/null; (exit 3); true"]);
    assert_agree(&i, &r, 4);
    let bin = dir.path().join("rust_spawns");
    let rc = std::process::Command::new("rustc")
        .args(["-O", "-o", s(&bin), s(&strace_log("src/rust_spawns.rs"))])
        .status()
        .expect("rustc is needed for this test");
    assert!(rc.success());
    let (i, r) = record_both(dir.path(), "rs", &[s(&bin)]);
    assert_agree(&i, &r, 4);
    let paths: Vec<String> = shape(&analyze(&i)).into_iter().map(|x| x.1).collect();
    assert_eq!(paths, ["glibc-posix-spawn", "rust-std-fork-fallback", "glibc-posix-spawn", "rust-std-fork-fallback"]);
}

/// scripts/check-glibc-symbols.sh on the binary under test: a normal build on
/// a current distribution needs newer symbols than 2.17, and none newer than 99.0.
#[test]
fn glibc_symbol_checker_reads_a_binary() {
    let script = root().join("scripts/check-glibc-symbols.sh");
    let bin = assert_cmd::cargo::cargo_bin("spawnscope");
    let run = |args: &[&str]| std::process::Command::new("bash").arg(&script).args(args).output().unwrap();
    let out = run(&[s(&bin), "99.0"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(": ok: newest glibc symbol version needed is 2."), "{text}");
    let newest: String = text.rsplit("needed is ").next().unwrap().split(' ').next().unwrap().to_string();
    let old = run(&[s(&bin), "2.1"]);
    let old_text = String::from_utf8_lossy(&old.stdout);
    assert_eq!(old.status.code(), Some(1), "{old_text}");
    assert!(old_text.contains(&format!("FAIL: requires glibc {newest} > 2.1")), "{old_text}");
    assert!(old_text.lines().any(|l| l.starts_with("needs ") && l.contains("@GLIBC_")), "{old_text}");
    assert_eq!(run(&["/nonexistent/binary"]).status.code(), Some(2));
    assert_eq!(run(&[s(&bin), "two.seventeen"]).status.code(), Some(2));
}
