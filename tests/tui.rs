//! End-to-end tests of `spawnscope view`, `run` and `demo`: in a real
//! terminal (tmux: keys in with send-keys, screen out with capture-pane),
//! and without a terminal (the text report).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;

use spawnscope_testkit::Tmux;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tui/tests/data/sample.jsonl");

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("spawnscope")
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

/// The shell line for a test session: the command, then its exit code.
fn session_cmd(args: &str) -> String {
    format!("{} {args}; echo EXIT=$?; sleep 60", quote(&bin()))
}

#[test]
fn view_in_a_real_terminal() {
    let Some(t) = Tmux::start("view", &session_cmd(&format!("view {}", quote(Path::new(SAMPLE)))), 100, 30) else {
        return;
    };
    let s = t.wait_for("Findings");
    assert!(s.contains("1 Overview") && s.contains("sample.jsonl"), "{s}");
    assert!(s.contains("measured under tracing"), "{s}");
    t.keys(&["3"]);
    let s = t.wait_for("Executables (5)");
    assert!(s.contains("spawns↓"), "{s}");
    t.keys(&["s"]);
    t.wait_for("styles↓");
    // The shell's argv holds ESC [2J and an OSC title: shown escaped, never obeyed.
    t.keys(&["4"]);
    let s = t.wait_for("Process tree");
    assert!(s.contains(r#"sh -c "printf '\x1b[2J\x1b]0;pwned\x07'""#), "{s}");
    let title = t.tmux(&["display-message", "-p", "-t", &t.session, "#{pane_title}"]);
    assert!(!String::from_utf8_lossy(&title.stdout).contains("pwned"), "the trace set the terminal title");
    // Filter the events, open the details of a failed PATH-search attempt.
    t.keys(&["/", "ENOENT", "Enter"]);
    let s = t.wait_for("4 of 48 match");
    assert!(s.contains("/usr/local/sbin/cc"), "{s}");
    t.keys(&["Enter"]);
    let s = t.wait_for("Detail: trace line");
    assert!(s.contains("ENOENT") && s.contains("CLONE_CHILD_SETTID"), "{s}");
    // Escape alone, then the next key: sent together, a terminal reads
    // ESC ? as Alt-? and the detail pane would stay open.
    t.keys(&["Escape"]);
    t.wait_gone("Detail: trace line");
    t.keys(&["?"]);
    t.wait_for("Keys");
    t.keys(&["Escape"]);
    // A smaller terminal: still the whole frame.
    assert!(t.tmux(&["resize-window", "-t", &t.session, "-x", "80", "-y", "24"]).status.success());
    t.keys(&["1"]);
    let s = t.wait_for("Trace");
    assert!(s.lines().next().unwrap_or("").starts_with(" 1 Overview"), "{s}");
    assert!(s.contains("j/k finding"), "status bar visible after the resize:\n{s}");
    t.keys(&["q"]);
    let s = t.wait_for("EXIT=0");
    assert!(!s.contains("1 Overview"), "the terminal was not restored:\n{s}");
}

#[test]
fn ctrl_c_quits_and_restores_the_terminal() {
    let Some(t) = Tmux::start("ctrlc", &session_cmd(&format!("view {}", quote(Path::new(SAMPLE)))), 100, 30) else {
        return;
    };
    t.wait_for("Findings");
    t.keys(&["C-c"]);
    let s = t.wait_for("EXIT=0");
    assert!(!s.contains("1 Overview"), "the terminal was not restored:\n{s}");
    // The shell is back in cooked mode: what we type is echoed.
    t.keys(&["-l", "echoed-text"]);
    t.wait_for("echoed-text");
}

#[test]
fn view_with_compare_overlays_histograms() {
    let cmd = session_cmd(&format!("view {} --compare {}", quote(Path::new(SAMPLE)), quote(Path::new(SAMPLE))));
    let Some(t) = Tmux::start("compare", &cmd, 100, 30) else { return };
    t.wait_for("Findings");
    t.keys(&["2"]);
    let s = t.wait_for("B/A");
    assert!(s.contains("A sample.jsonl vs B sample.jsonl"), "{s}");
    assert!(s.contains("1.0x"), "same trace twice: ratio 1.0\n{s}");
    assert!(s.contains('█') && s.contains("both"), "{s}");
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}

/// Whether a process runs exactly `argv` (the tmux shell's own command
/// line holds the same words, so substrings are not enough).
fn process_running(argv: &[&str]) -> bool {
    let want: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c == want))
}

#[test]
fn run_live_then_the_view_stays_when_the_target_ends() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    let cmd =
        session_cmd(&format!("run -o {} -- sh -c 'printf OUT%s 42; printf ERR%s 42 >&2; /bin/true; exit 3'", quote(&trace)));
    let Some(t) = Tmux::start("runend", &cmd, 100, 30) else { return };
    let s = t.wait_for("finished, exit 3");
    assert!(s.contains("target output →") && s.contains("t.jsonl.out"), "{s}");
    assert!(!s.contains("OUT42") && !s.contains("ERR42"), "target output on the UI:\n{s}");
    t.keys(&["q"]);
    t.wait_for("EXIT=3");
    let out = std::fs::read_to_string(dir.path().join("t.jsonl.out")).unwrap();
    assert_eq!(out, "OUT42ERR42");
    let (_, recs, warnings) = spawnscope_format::read_all(std::fs::File::open(&trace).unwrap()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(recs.iter().any(|r| matches!(r, spawnscope_format::Record::Exec(e) if e.path == "/bin/true")));
}

#[test]
fn quitting_a_running_target_asks_and_kill_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let marker = format!("31.{}", std::process::id());
    let cmd = session_cmd(&format!("run -o {} -- sh -c 'sleep {marker}; true'", quote(&dir.path().join("k.jsonl"))));
    let Some(t) = Tmux::start("runkill", &cmd, 100, 30) else { return };
    t.wait_for("running, pid");
    t.keys(&["q"]);
    t.wait_for("is still running");
    assert!(process_running(&["sleep", &marker]), "the target should still run while we ask");
    t.keys(&["k"]);
    t.wait_for("EXIT=137");
    let start = Instant::now();
    while process_running(&["sleep", &marker]) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!process_running(&["sleep", &marker]), "the killed target is still running");
}

/// Regression: closing the terminal window of `run` left spawnscope spinning
/// on the hung-up terminal (at ~25% CPU, for ever) with its target alive.
#[test]
fn closing_the_terminal_of_run_ends_spawnscope_and_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let marker = format!("32.{}", std::process::id());
    let trace = dir.path().join("h.jsonl");
    let run = ["run", "-o", trace.to_str().unwrap(), "--", "sleep", marker.as_str()];
    let cmd = format!("{} {}", quote(&bin()), run.join(" "));
    let Some(t) = Tmux::start("runhangup", &cmd, 100, 30) else { return };
    t.wait_for("running, pid");
    let mut argv = vec![bin().to_str().unwrap().to_string()];
    argv.extend(run.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    assert!(process_running(&argv) && process_running(&["sleep", &marker]));
    drop(t); // kills the tmux session: the terminal hangs up
    let start = Instant::now();
    while (process_running(&argv) || process_running(&["sleep", &marker])) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!process_running(&argv), "spawnscope run survived its terminal");
    assert!(!process_running(&["sleep", &marker]), "the target survived the hangup");
    // What was recorded stays readable.
    let mut r = spawnscope_format::FileReader::open(&trace).unwrap();
    while r.next_record().unwrap().is_some() {}
}

#[test]
fn letting_the_target_finish_completes_the_trace() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("f.jsonl");
    let cmd = session_cmd(&format!("run -o {} -- sh -c 'sleep 1; echo done'", quote(&trace)));
    let Some(t) = Tmux::start("runfinish", &cmd, 100, 30) else { return };
    t.wait_for("running, pid");
    t.keys(&["q"]);
    t.wait_for("is still running");
    t.keys(&["w"]);
    let s = t.wait_for("EXIT=0");
    assert!(s.contains("waiting for the target to finish"), "{s}");
    assert_eq!(std::fs::read_to_string(dir.path().join("f.jsonl.out")).unwrap(), "done\n");
    let (_, recs, _) = spawnscope_format::read_all(std::fs::File::open(&trace).unwrap()).unwrap();
    assert!(matches!(recs.last(), Some(spawnscope_format::Record::End(_))), "trace has its end line");
}

#[test]
fn quitting_an_attached_process_leaves_it_running() {
    let marker = format!("32.{}", std::process::id());
    let mut child = std::process::Command::new("sleep").arg(&marker).spawn().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cmd = session_cmd(&format!("run -p {} -o {}", child.id(), quote(&dir.path().join("a.jsonl"))));
    let t = Tmux::start("attach", &cmd, 100, 30);
    if let Some(t) = &t {
        let s = t.wait_for("running, pid");
        assert!(s.contains(&format!("pid {}", child.id())), "{s}");
        t.keys(&["q"]);
        t.wait_for("EXIT=0");
    }
    let alive = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(alive, "the attached process was killed");
}

// ---- without a terminal: the text report ----

fn spawnscope() -> Command {
    Command::cargo_bin("spawnscope").unwrap()
}

#[test]
fn view_without_a_terminal_prints_the_report() {
    let out = spawnscope().args(["view", SAMPLE]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("sample.jsonl"), "{text}");
    assert!(!text.contains('\x1b'), "raw escape sequence in the report");
    let out = spawnscope().args(["view", SAMPLE, "--compare", SAMPLE]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("spawnscope diff"));
}

#[test]
fn view_of_a_missing_or_bad_trace_is_an_input_error() {
    let out = spawnscope().args(["view", "/nonexistent/t.jsonl"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/t.jsonl") && err.lines().count() == 1, "{err}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "not a trace\n").unwrap();
    let out = spawnscope().arg("view").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a spawnscope trace"));
}

#[test]
fn run_without_a_terminal_records_and_prints_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("r.jsonl");
    let out =
        spawnscope().arg("run").arg("-o").arg(&trace).args(["--", "sh", "-c", "echo hi; /bin/true; exit 4"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("hi\n"), "target output mixed into the report:\n{text}");
    assert!(text.contains("r.jsonl"), "{text}");
    assert_eq!(std::fs::read_to_string(dir.path().join("r.jsonl.out")).unwrap(), "hi\n");
    assert!(trace.exists());
}

#[test]
fn run_of_a_missing_program_exits_127() {
    let dir = tempfile::tempdir().unwrap();
    let out = spawnscope()
        .arg("run")
        .arg("-o")
        .arg(dir.path().join("m.jsonl"))
        .args(["--", "spawnscope-no-such-program"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn demo_without_a_terminal_prints_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("demo.jsonl");
    let out = spawnscope()
        .args(["demo", "--scenario", "baseline", "--scenario", "rust-std-pre-exec", "-o"])
        .arg(&trace)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("glibc posix_spawn"), "{text}");
    assert!(text.contains("Rust std fork+exec fallback"), "{text}");
    let lab_out = std::fs::read_to_string(dir.path().join("demo.jsonl.out")).unwrap();
    assert!(lab_out.contains("== baseline") && lab_out.contains("== rust-std-pre-exec"), "{lab_out}");
    let out = spawnscope().args(["demo", "--scenario", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown scenario"));
}
