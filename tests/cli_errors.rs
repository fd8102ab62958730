//! Every command given bad input prints one clear line and exits 2, never a
//! panic (issue 7); everything printed from a crafted trace is escaped.

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;

fn spawnscope() -> Command {
    Command::cargo_bin("spawnscope").unwrap()
}

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/traces").join(rel)
}

/// Commands that take a trace file as their first positional argument.
fn trace_commands(trace: &str) -> Vec<Vec<String>> {
    let t = trace.to_string();
    vec![
        vec!["report".into(), t.clone()],
        vec!["check".into(), t.clone()],
        vec!["export".into(), t.clone(), "--format".into(), "csv".into()],
        vec!["diff".into(), t.clone(), fixture("valid/path-search.jsonl").display().to_string()],
        vec!["diff".into(), fixture("valid/path-search.jsonl").display().to_string(), t.clone()],
        vec!["import".into(), "strace".into(), t.clone(), "-o".into(), "/dev/null".into()],
        vec!["view".into(), t],
    ]
}

fn assert_one_line_exit_2(args: &[String], out: &Output, must_contain: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ctx = format!("spawnscope {}: stderr={stderr:?}", args.join(" "));
    assert_eq!(out.status.code(), Some(2), "{ctx}");
    assert!(!stderr.contains("panicked"), "{ctx}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{ctx}");
    assert!(lines[0].starts_with("spawnscope"), "{ctx}");
    assert!(lines[0].contains(must_contain), "{ctx}");
    assert!(!stderr.contains('\x1b'), "{ctx}");
}

fn run(args: &[String]) -> Output {
    spawnscope().args(args).env("NO_COLOR", "1").write_stdin("").output().unwrap()
}

#[test]
fn missing_file_is_one_line_exit_2() {
    for args in trace_commands("/nonexistent/trace.jsonl") {
        let out = run(&args);
        assert_one_line_exit_2(&args, &out, "/nonexistent/trace.jsonl");
    }
}

#[test]
fn directory_is_one_line_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    for args in trace_commands(&d) {
        let out = run(&args);
        assert_one_line_exit_2(&args, &out, &d);
    }
}

#[test]
fn unreadable_file_is_one_line_exit_2() {
    // Root reads anything, so "unreadable" is simulated with a file that
    // cannot be opened for reading: a dangling symlink loop.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("loop.jsonl");
    std::os::unix::fs::symlink(&p, &p).unwrap();
    let s = p.display().to_string();
    for args in trace_commands(&s) {
        let out = run(&args);
        assert_one_line_exit_2(&args, &out, "loop.jsonl");
    }
}

#[test]
fn garbage_and_empty_files_are_one_line_exit_2() {
    for (name, text) in [
        ("invalid/garbage.bin", "not a spawnscope trace"),
        ("invalid/empty.jsonl", "empty file"),
        ("invalid/future-version.jsonl", "newer than this spawnscope reads"),
    ] {
        let path = fixture(name).display().to_string();
        for args in trace_commands(&path) {
            // `import strace` reads strace logs, not traces: its message differs.
            let expect = if args[0] == "import" { "" } else { text };
            let out = run(&args);
            assert_one_line_exit_2(&args, &out, expect);
        }
    }
}

#[test]
fn unknown_flag_is_a_usage_error_exit_2() {
    for cmd in ["record", "report", "check", "diff", "export", "view", "lab", "demo", "run"] {
        let out = spawnscope().args([cmd, "--no-such-flag"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{cmd}: {:?}", out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--no-such-flag"), "{cmd}: {stderr}");
        assert!(!stderr.contains("panicked"), "{cmd}: {stderr}");
    }
}

#[test]
fn unknown_subcommand_is_a_usage_error_exit_2() {
    let out = spawnscope().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn incomplete_trace_warns_but_is_analysed() {
    let path = fixture("invalid/truncated.jsonl").display().to_string();
    let out = run(&["report".to_string(), path]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("incomplete"), "{all}");
}

/// A trace whose argv and paths hold terminal escape sequences: no command
/// may print a raw ESC or BEL byte.
#[test]
fn crafted_argv_never_reaches_the_terminal_raw() {
    let path = fixture("valid/escapes.jsonl").display().to_string();
    let commands: Vec<Vec<String>> = vec![
        vec!["report".into(), path.clone()],
        vec!["report".into(), path.clone(), "--format".into(), "markdown".into()],
        vec!["check".into(), path.clone(), "--max-spawns".into(), "0".into()],
        vec!["check".into(), path.clone(), "--max-spawns".into(), "0".into(), "--format".into(), "github".into()],
        vec!["diff".into(), path.clone(), fixture("valid/path-search.jsonl").display().to_string()],
        vec!["view".into(), path.clone()], // not a tty: prints the text report
    ];
    for args in commands {
        let out = run(&args);
        for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(
                !bytes.iter().any(|&b| b == 0x1b || b == 0x07 || b == 0x9b),
                "spawnscope {}: raw control byte on {name}",
                args.join(" ")
            );
        }
    }
}
