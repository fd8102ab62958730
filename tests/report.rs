//! End-to-end tests of `spawnscope report`: the real binary on checked-in
//! traces (fixtures/traces), on bad input, and on traces it records itself
//! from real programs (python3, bash, perl, the Rust fixtures).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

fn spawnscope() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spawnscope"));
    c.env_remove("NO_COLOR").env_remove("SPAWNSCOPE_NO_SYSCALL_INFO");
    c
}

fn trace(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/traces").join(rel)
}

fn report(args: &[&str]) -> Output {
    spawnscope().arg("report").args(args).stdin(Stdio::null()).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_of(path: &Path, extra: &[&str]) -> Value {
    let o = spawnscope().arg("report").arg(path).args(["-f", "json"]).args(extra).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// A failure is one line on stderr, exit 2, nothing on stdout.
fn assert_one_line_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(o.stdout.is_empty(), "stdout: {}", stdout(o));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("spawnscope: error: "), "{err}");
    assert!(err.contains(needle), "{err:?} lacks {needle:?}");
}

// ---- bad input ----

#[test]
fn missing_file() {
    let o = report(&["/nonexistent/trace.jsonl"]);
    assert_one_line_error(&o, "/nonexistent/trace.jsonl: No such file or directory");
}

#[test]
fn directory() {
    // A directory is read as a set of traces; one without any is one error line.
    let dir = tempfile::tempdir().unwrap();
    let o = report(&[dir.path().to_str().unwrap()]);
    assert_one_line_error(&o, "no trace files");
}

#[test]
fn garbage_empty_newer_and_malformed() {
    let g = trace("invalid/garbage.bin");
    assert_one_line_error(&report(&[g.to_str().unwrap()]), "not a spawnscope trace");
    let e = trace("invalid/empty.jsonl");
    assert_one_line_error(&report(&[e.to_str().unwrap()]), "empty file");
    let f = trace("invalid/future-version.jsonl");
    assert_one_line_error(&report(&[f.to_str().unwrap()]), "upgrade spawnscope");
    let m = trace("invalid/malformed-middle.jsonl");
    assert_one_line_error(&report(&[m.to_str().unwrap()]), "malformed event");
}

#[test]
fn garbage_with_control_characters_prints_one_clean_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("evil\x1b[2J.jsonl");
    std::fs::write(&p, b"\x1b]0;pwned\x07\n\x1b[2J more\n").unwrap();
    let o = report(&[p.to_str().unwrap()]);
    assert_one_line_error(&o, "not a spawnscope trace");
    assert!(!stderr(&o).contains('\x1b') && !stderr(&o).contains('\x07'));
}

#[test]
fn incomplete_trace_is_reported_with_a_warning() {
    let o = report(&[trace("valid/incomplete.jsonl").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("INCOMPLETE (cut short)"), "{out}");
    assert!(out.contains("trace is incomplete (no end line after line 5)"), "{out}");
}

#[test]
fn bad_arguments() {
    let t = trace("valid/path-search.jsonl");
    let t = t.to_str().unwrap();
    assert_one_line_error(&report(&[t, "--disable", "SS999"]), "unknown finding \"SS999\"");
    assert_one_line_error(&report(&[t, "--serial-share", "2"]), "--serial-share must be between 0 and 1");
    let o = report(&[t, "--format", "yaml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn bad_config_files() {
    let dir = tempfile::tempdir().unwrap();
    let t = trace("valid/path-search.jsonl");
    let t = t.to_str().unwrap();
    let typo = dir.path().join("typo.toml");
    std::fs::write(&typo, "env_varz = 3\n").unwrap();
    assert_one_line_error(&report(&[t, "--config", typo.to_str().unwrap()]), "env_varz");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "this is not toml =\n").unwrap();
    assert_one_line_error(&report(&[t, "--config", bad.to_str().unwrap()]), "bad.toml");
    assert_one_line_error(&report(&[t, "--config", "/nonexistent.toml"]), "/nonexistent.toml");
}

// ---- output ----

#[test]
fn json_has_the_documented_fields() {
    let v = json_of(&trace("valid/rust-fork-fallback.jsonl"), &[]);
    assert_eq!(v["summary"]["spawns"], 3);
    assert_eq!(v["summary"]["threads"], 0);
    for k in ["fork", "vfork", "vm"] {
        assert!(v["summary"]["styles"][k].is_u64(), "{k}");
    }
    for s in v["spawns"].as_array().unwrap() {
        for k in ["parent_pid", "child_pid", "syscall", "flags", "style", "code_path", "socketpair", "exec"] {
            assert!(!s[k].is_null() || k == "exec", "{k} in {s}");
        }
        assert!(s["exec"]["path"].is_string() && s["exec"]["failed_attempts"].is_u64());
    }
    let f = &v["findings"][0];
    // Two forks from a small parent in a 12 ms run: severity follows impact (issue 12).
    assert_eq!((f["id"].as_str(), f["severity"].as_str()), (Some("SS002"), Some("info")));
    assert!(f["message"].is_string());
    assert!(v["note"].as_str().unwrap().contains("measured under tracing"));
}

#[test]
fn text_and_markdown() {
    let t = trace("valid/fork-4gib.jsonl");
    let t = t.to_str().unwrap();
    let o = report(&[t]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("SS001  high     fork-large-parent"), "{out}");
    assert!(out.contains("measured under tracing"), "{out}");
    let o = report(&[t, "--format", "markdown"]);
    let md = stdout(&o);
    assert!(md.starts_with("## spawnscope report"), "{md}");
    assert!(md.contains("- **SS001** (high, `fork-large-parent`)"), "{md}");
    assert!(md.contains("| fork + exec | 3 | fork 3 |"), "{md}");
}

#[test]
fn colour_only_on_request_or_a_terminal() {
    let t = trace("valid/fork-4gib.jsonl");
    let t = t.to_str().unwrap();
    // Not a terminal: no colour.
    assert!(!stdout(&report(&[t])).contains('\x1b'));
    assert!(stdout(&report(&[t, "--color", "always"])).contains("\x1b[1;31mhigh"));
    assert!(!stdout(&report(&[t, "--color", "never"])).contains('\x1b'));
}

#[test]
fn no_color_is_respected_on_a_terminal() {
    // `script` gives the command a terminal; skip quietly where it is missing.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("script(1) not installed; skipping");
        return;
    }
    let t = trace("valid/fork-4gib.jsonl");
    let cmd = format!("{} report {}", env!("CARGO_BIN_EXE_spawnscope"), t.display());
    let run = |no_color: Option<&str>| {
        let mut c = Command::new("script");
        c.args(["-q", "-e", "-c", &cmd, "/dev/null"]).env_remove("NO_COLOR");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        let o = c.stdin(Stdio::null()).output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert!(run(None).contains("\x1b[1;31mhigh"), "colour on a terminal");
    assert!(!run(Some("1")).contains('\x1b'), "NO_COLOR=1");
}

#[test]
fn escapes_what_the_trace_holds() {
    let t = trace("valid/escapes.jsonl");
    for f in ["text", "markdown", "json"] {
        let o = report(&[t.to_str().unwrap(), "--spawns", "-f", f]);
        assert_eq!(o.status.code(), Some(0));
        assert!(!o.stdout.contains(&0x1b) && !o.stdout.contains(&0x07), "{f}: raw control bytes");
    }
}

#[test]
fn thresholds_from_config_and_flags() {
    let t = trace("valid/large-env.jsonl");
    let ids = |v: &Value| -> Vec<String> {
        v["findings"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(ids(&json_of(&t, &[])), ["SS004"]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("spawnscope.toml");
    std::fs::write(&cfg, "[thresholds]\nenv_vars = 500\nenv_bytes = 100000\n").unwrap();
    let quiet = json_of(&t, &["--config", cfg.to_str().unwrap()]);
    assert!(ids(&quiet).is_empty());
    assert_eq!(quiet["thresholds"]["env_vars"], 500);
    // A flag wins over the file.
    assert_eq!(ids(&json_of(&t, &["--config", cfg.to_str().unwrap(), "--env-vars", "150"])), ["SS004"]);
    assert!(ids(&json_of(&t, &["--disable", "large-env"])).is_empty());
    let p = trace("valid/path-search.jsonl");
    assert!(ids(&json_of(&p, &["--path-search-failed", "100"])).is_empty());
}

#[test]
fn broken_pipe_is_not_an_error() {
    let mut child = spawnscope()
        .args(["report", "-f", "json"])
        .arg(trace("valid/serial-spawns.jsonl"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close our end at once: the report (hundreds of KiB) cannot all fit in the pipe.
    drop(child.stdout.take());
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "{err}");
}

// ---- recorded from real programs ----

fn tmp_trace(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.jsonl"))
}

/// PATH given to every recorded program, so failed attempts are predictable.
const PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Failed exec attempts a PATH walk makes before it finds `prog` in [`PATH`].
fn path_misses(prog: &str) -> usize {
    PATH.split(':').take_while(|d| !Path::new(d).join(prog).exists()).count()
}

/// Records `cmd` and returns the JSON report.
fn record_and_report(name: &str, cmd: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = tmp_trace(dir.path(), name);
    let o = spawnscope()
        .args(["record", "-q", "-o"])
        .arg(&out)
        .arg("--")
        .args(cmd)
        .env("PATH", PATH)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "record {cmd:?}: {}", stderr(&o));
    json_of(&out, &[])
}

/// (style, code path, exec basename, failed attempts) for every spawn.
fn spawns(v: &Value) -> Vec<(String, String, String, u64)> {
    v["spawns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let path = s["exec"]["path"].as_str().unwrap_or("(no exec)");
            (
                s["style"].as_str().unwrap().to_string(),
                s["code_path"].as_str().unwrap().to_string(),
                path.rsplit('/').next().unwrap().to_string(),
                s["exec"]["failed_attempts"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn e(style: &str, path: &str, exe: &str, failed: usize) -> (String, String, String, u64) {
    (style.into(), path.into(), exe.into(), failed as u64)
}

/// The real CPython (not a pyenv-style shim script, which would add its own spawns).
fn python3() -> String {
    let o = Command::new("python3").args(["-c", "import sys; print(sys.executable)"]).output().unwrap();
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

#[test]
fn records_python_subprocess() {
    let py = python3();
    let v = record_and_report(
        "py",
        &[&py, "-c", "import subprocess; subprocess.run(['true']); subprocess.run(['/bin/echo'], stdout=subprocess.DEVNULL)"],
    );
    assert_eq!(spawns(&v), [e("vfork", "vfork-syscall", "true", path_misses("true")), e("vfork", "vfork-syscall", "echo", 0)]);
    let v = record_and_report(
        "py-preexec",
        &[&py, "-c", "import subprocess, os; subprocess.run(['/bin/true'], preexec_fn=os.setpgrp)"],
    );
    assert_eq!(spawns(&v), [e("fork", "fork-exec", "true", 0)]);
}

#[test]
fn records_a_bash_loop() {
    // bash finds programs with stat(), not by trying execve: no failed attempts.
    let v = record_and_report("bash", &["bash", "-c", "for i in 1 2 3; do true_=1; env >/dev/null; done; exit 0"]);
    assert_eq!(spawns(&v), vec![e("fork", "fork-exec", "env", 0); 3]);
    assert!(v["findings"].as_array().unwrap().is_empty(), "{}", v["findings"]);
}

#[test]
fn records_perl_system() {
    // perl's system() with one word forks and execvp()s: glibc walks PATH.
    let v = record_and_report("perl", &["perl", "-e", "system('true'); system('/bin/true')"]);
    assert_eq!(spawns(&v), [e("fork", "fork-exec", "true", path_misses("true")), e("fork", "fork-exec", "true", 0)]);
}

/// The Rust fixture binaries (fixtures/rust), built once into their own
/// target directory so the build does not wait on this test's cargo.
fn rust_fixture(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target-h2-fixtures");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let o = Command::new(cargo)
            .args(["build", "-q", "-p", "spawnscope-fixtures", "--bins", "--target-dir"])
            .arg(&target)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(o.status.success(), "building fixtures/rust: {}", stderr(&o));
        target.join("debug")
    });
    dir.join(name)
}

#[test]
fn records_rust_command_variants() {
    let pre = rust_fixture("cmd-pre-exec");
    let v = record_and_report("pre-exec", &[pre.to_str().unwrap()]);
    assert_eq!(spawns(&v), [e("fork", "rust-std-fork-fallback", "true", 0)]);
    assert_eq!(v["spawns"][0]["socketpair"], true);
    assert_eq!(v["findings"][0]["id"], "SS002");
    assert_eq!(v["findings"][0]["numbers"]["cause_not_visible"], 1.0);

    let abs = rust_fixture("cmd-abs");
    let v = record_and_report("abs", &[abs.to_str().unwrap()]);
    assert_eq!(spawns(&v), [e("vfork", "glibc-posix-spawn", "true", 0)]);
    assert_eq!(v["spawns"][0]["socketpair"], false);

    let clear = rust_fixture("cmd-env-clear");
    let v = record_and_report("env-clear", &[clear.to_str().unwrap()]);
    // env_clear(): no PATH in the child, so glibc's execvp uses its default
    // path (/bin:/usr/bin) where `true` is found at once.
    assert_eq!(spawns(&v), [e("fork", "rust-std-fork-fallback", "true", 0)]);
    assert_eq!(v["findings"][0]["numbers"]["cause_path_changed"], 1.0);
}

#[test]
fn records_a_spawn_from_a_thread() {
    let bin = rust_fixture("thread-spawn");
    let v = record_and_report("thread", &[bin.to_str().unwrap()]);
    assert_eq!(spawns(&v), [e("vfork", "glibc-posix-spawn", "true", 0)]);
    assert_eq!(v["summary"]["threads"], 1);
    let s = &v["spawns"][0];
    assert_ne!(s["parent_tid"], s["parent_pid"], "the spawning thread is not the main thread");
}
