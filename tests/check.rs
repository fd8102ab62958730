//! End-to-end tests of `spawnscope check`: every rule passing and failing on
//! the fixture traces in fixtures/policies/traces (see make_traces.py there),
//! policy files and their errors, output formats, exit codes, and recording
//! real commands (`spawnscope lab` spawns in a chosen way).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn trace(name: &str) -> String {
    format!("fixtures/policies/traces/{name}.jsonl")
}

/// `spawnscope check` run from the repository root without policy discovery.
fn check() -> Command {
    let mut c = Command::cargo_bin("spawnscope").unwrap();
    c.current_dir(root()).arg("check");
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs check with `args`; without `--policy`, the repository's own
/// spawnscope.toml (if any) is not looked for.
fn run(args: &[&str]) -> Run {
    let mut c = check();
    if !args.contains(&"--policy") {
        c.arg("--no-policy");
    }
    run_in(&mut c, args)
}

fn run_in(cmd: &mut Command, args: &[&str]) -> Run {
    let out = cmd.args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Expects an exit code and a line of stdout (trimmed) that starts with `line`.
fn expect(args: &[&str], code: i32, line: &str) -> Run {
    let r = run(args);
    assert_eq!(r.code, code, "check {args:?}\nstdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.lines().any(|l| l.trim_start().starts_with(line)),
        "check {args:?}: no line starting with {line:?} in\n{}",
        r.stdout
    );
    r
}

/// Expects exit 2, nothing on stdout and one error line on stderr containing `want`.
fn usage_error(cmd: &mut Command, args: &[&str], want: &str) {
    let r = run_in(cmd, args);
    assert_eq!(r.code, 2, "check {args:?}: {}{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "check {args:?} printed to stdout: {}", r.stdout);
    assert!(r.stderr.contains(want), "check {args:?}: stderr {:?} lacks {want:?}", r.stderr);
}

// Every rule, passing on one trace and failing on another.

#[test]
fn deny_style() {
    expect(&["--deny-style", "fork", &trace("good")], 0, "PASS  deny-style fork: 0 fork-style spawns (at most 0)");
    let r = expect(
        &["--deny-style", "fork", &trace("bad")],
        1,
        "FAIL  deny-style fork: 5 fork-style spawns (at most 0)  [--deny-style]",
    );
    assert!(
        r.stdout.contains("pid 201 (parent 200): git status: fork via rust-std-fork-fallback, parent RSS 2.0 GiB"),
        "{}",
        r.stdout
    );
    expect(&["--deny-style", "vfork", &trace("good")], 1, "FAIL  deny-style vfork: 4 vfork-style spawns");
    expect(&["--deny-style", "vm", &trace("bad")], 0, "PASS  deny-style vm");
}

#[test]
fn max_and_min_spawns() {
    expect(&["--max-spawns", "4", &trace("good")], 0, "PASS  max-spawns: 4 spawns (at most 4)");
    let r = expect(&["--max-spawns", "4", &trace("bad")], 1, "FAIL  max-spawns: 5 spawns (at most 4)");
    assert!(r.stdout.contains("by executable: 4 git, 1 (no exec)"), "{}", r.stdout);
    expect(&["--min-spawns", "4", &trace("good")], 0, "PASS  min-spawns: 4 spawns (at least 4)");
    expect(&["--min-spawns", "5", &trace("good")], 1, "FAIL  min-spawns: 4 spawns (at least 5)");
}

#[test]
fn spawns_per_executable() {
    expect(&["--max-spawns-per-exe", "cc=3", &trace("good")], 0, "PASS  max-spawns cc: 3 spawns of cc (at most 3)");
    expect(&["--max-spawns-per-exe", "cc=2", &trace("good")], 1, "FAIL  max-spawns cc: 3 spawns of cc (at most 2)");
    expect(&["--max-spawns-per-exe", "/usr/bin/git=1", &trace("bad")], 1, "FAIL  max-spawns /usr/bin/git: 4 spawns");
    expect(&["--min-spawns-per-exe", "cc=3", &trace("good")], 0, "PASS  min-spawns cc");
    let r = expect(&["--min-spawns-per-exe", "cc=1", &trace("bad")], 1, "FAIL  min-spawns cc: 0 spawns of cc (at least 1)");
    assert!(r.stdout.contains("spawned: 4 git, 1 (no exec)"), "{}", r.stdout);
}

#[test]
fn max_failed_exec_attempts() {
    // make's own start by the tracer is not counted, and good has no misses.
    expect(&["--max-failed-exec-attempts", "0", &trace("good")], 0, "PASS  max-failed-exec-attempts: 0 failed exec attempts");
    let r = expect(
        &["--max-failed-exec-attempts", "0", &trace("bad")],
        1,
        "FAIL  max-failed-exec-attempts: 12 failed exec attempts (at most 0)",
    );
    assert!(r.stdout.contains("pid 201 (parent 200): git status: 3 failed: /usr/local/sbin/git (ENOENT), /usr/local/bin/git (ENOENT), /usr/sbin/git (ENOENT)"), "{}", r.stdout);
    expect(&["--max-failed-exec-attempts", "12", &trace("bad")], 0, "PASS  max-failed-exec-attempts");
}

#[test]
fn max_env_bytes() {
    expect(&["--max-env-bytes", "16384", &trace("good")], 0, "PASS  max-env-bytes: 1,200 bytes");
    let r = expect(
        &["--max-env-bytes", "16384", &trace("bad")],
        1,
        "FAIL  max-env-bytes: 70,000 bytes of environment in the largest exec (at most 16,384)",
    );
    assert!(r.stdout.contains("git show: 70,000 bytes in 300 variables"), "{}", r.stdout);
}

#[test]
fn deny_and_allow_findings() {
    expect(&["--deny-finding", "all", &trace("good")], 0, "PASS  deny-finding all: 0 findings");
    let r = expect(&["--deny-finding", "SS002", &trace("bad")], 1, "FAIL  deny-finding SS002: 1 finding (at most 0)");
    assert!(r.stdout.contains("SS002 rust-fork-fallback (high): "), "{}", r.stdout);
    assert!(r.stdout.contains("pid 204 (parent 200): git show: evidence of SS002"), "{}", r.stdout);
    expect(&["--deny-finding", "large-env", &trace("bad")], 1, "FAIL  deny-finding large-env: 1 finding");
    let all_allowed = [
        "--deny-finding",
        "all",
        "--allow-finding",
        "SS001",
        "--allow-finding",
        "rust-fork-fallback",
        "--allow-finding",
        "ss003",
        "--allow-finding",
        "SS004",
        &trace("bad"),
    ];
    let r = expect(&all_allowed, 0, "PASS  deny-finding all: 0 findings (at most 0)");
    assert!(r.stdout.contains("4 allowed by allow-finding SS001, rust-fork-fallback, SS003, SS004"), "{}", r.stdout);
}

#[test]
fn code_paths() {
    let req = ["--require-code-path", "glibc-posix-spawn", "--require-code-path", "vfork-syscall"];
    expect(&[&req[..], &[&trace("good")]].concat(), 0, "PASS  require-code-path glibc-posix-spawn,vfork-syscall");
    expect(
        &[&req[..], &[&trace("bad")]].concat(),
        1,
        "FAIL  require-code-path glibc-posix-spawn,vfork-syscall: 5 spawns not taking",
    );
    let r = expect(
        &["--require-code-path", "glibc-posix-spawn", &trace("good")],
        1,
        "FAIL  require-code-path glibc-posix-spawn: 1 spawn not taking glibc-posix-spawn",
    );
    assert!(r.stdout.contains("pid 104 (parent 100): sh -c 'echo done': vfork via vfork-syscall"), "{}", r.stdout);
    expect(&["--deny-code-path", "rust-std-fork-fallback", &trace("good")], 0, "PASS  deny-code-path rust-std-fork-fallback");
    expect(
        &["--deny-code-path", "rust-std-fork-fallback", &trace("bad")],
        1,
        "FAIL  deny-code-path rust-std-fork-fallback: 4 spawns via rust-std-fork-fallback",
    );
}

#[test]
fn p99_is_advisory_unless_strict() {
    expect(
        &["--max-spawn-p99", "5ms", &trace("good")],
        0,
        "PASS  max-spawn-p99: 270 µs p99 spawn latency over 4 spawns (at most 5.0 ms)",
    );
    let r = expect(
        &["--max-spawn-p99", "5ms", &trace("bad")],
        0,
        "WARN  max-spawn-p99: 21 ms p99 spawn latency over 5 spawns (at most 5.0 ms)",
    );
    assert!(r.stdout.contains("advisory: latencies are measured under tracing"), "{}", r.stdout);
    assert!(r.stdout.ends_with("PASS: 1 of 2 rules holds, 1 warning\n"), "{}", r.stdout);
    expect(&["--max-spawn-p99", "5ms", "--strict-timing", &trace("bad")], 1, "FAIL  max-spawn-p99: 21 ms");
}

#[test]
fn failing_command_fails_unless_allowed() {
    let r = expect(&["--max-spawns", "10", &trace("failed")], 1, "FAIL  command-exit: the command failed with exit code 3");
    assert!(r.stdout.contains("--allow-command-failure allows it"), "{}", r.stdout);
    expect(
        &["--max-spawns", "10", "--allow-command-failure", &trace("failed")],
        0,
        "WARN  command-exit: the command failed with exit code 3",
    );
}

#[test]
fn truncated_trace_warns_that_it_is_incomplete() {
    // The cut falls in the last spawn's exec line: the spawn is kept, its exec is lost.
    let r = expect(&["--max-spawns", "10", &trace("truncated")], 0, "PASS  max-spawns: 4 spawns (at most 10)");
    assert!(r.stdout.contains("warning: line 13: cut short, ignored (recording interrupted)"), "{}", r.stdout);
    assert!(r.stdout.contains("warning: trace is incomplete (no end line after line 12)"), "{}", r.stdout);
    // A truncated trace has no exit code: no command-exit result.
    assert!(!r.stdout.contains("command-exit"), "{}", r.stdout);
    let v: Value = serde_json::from_str(&run(&["--format", "json", &trace("truncated")]).stdout).unwrap();
    assert_eq!(v["complete"], false);
}

#[test]
fn events_mode_cannot_count_failed_attempts() {
    let r = expect(
        &["--max-failed-exec-attempts", "0", &trace("events")],
        0,
        "SKIP  max-failed-exec-attempts: not measurable from this trace (at most 0)",
    );
    assert!(r.stdout.contains("recorded in events mode"), "{}", r.stdout);
}

// Policy files.

#[test]
fn policy_file_every_rule() {
    let good = expect(&["--policy", "fixtures/policies/strict.toml", &trace("good")], 0, "PASS: 14 of 14 rules hold");
    assert!(
        good.stdout.contains("PASS  deny-style fork: 0 fork-style spawns (at most 0)  [fixtures/policies/strict.toml:4]"),
        "{}",
        good.stdout
    );
    let bad = expect(&["--policy", "fixtures/policies/strict.toml", &trace("bad")], 1, "FAIL: 10 of 14 rules violated");
    let failed: Vec<&str> =
        bad.stdout.lines().filter(|l| l.starts_with("FAIL  ")).map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(
        failed,
        [
            "FAIL  deny-style fork",
            "FAIL  max-spawns",
            "FAIL  max-failed-exec-attempts",
            "FAIL  max-env-bytes",
            "FAIL  deny-finding all",
            "FAIL  require-code-path glibc-posix-spawn,vfork-syscall",
            "FAIL  deny-code-path rust-std-fork-fallback",
            "FAIL  max-spawn-p99",
            "FAIL  min-spawns cc",
            "FAIL  max-spawns git",
        ]
    );
}

#[test]
fn flags_override_the_policy_file() {
    let r = expect(
        &["--policy", "fixtures/policies/strict.toml", "--max-spawns", "5", &trace("bad")],
        1,
        "PASS  max-spawns: 5 spawns (at most 5)  [--max-spawns]",
    );
    assert!(!r.stdout.contains("strict.toml:5"), "{}", r.stdout);
}

#[test]
fn policy_file_is_found_in_the_current_directory_or_git_root() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("crates/app");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join("spawnscope.toml"), "[check]\nmax-spawns = 2\n").unwrap();
    let good = root().join(trace("good"));
    let good = good.to_str().unwrap();
    let mut c = Command::cargo_bin("spawnscope").unwrap();
    c.current_dir(&sub).arg("check");
    let r = run_in(&mut c, &[good]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let policy = dir.path().join("spawnscope.toml");
    assert!(r.stdout.contains(&format!("FAIL  max-spawns: 4 spawns (at most 2)  [{}:2]", policy.display())), "{}", r.stdout);

    // One in the current directory wins over the git root's.
    std::fs::write(sub.join("spawnscope.toml"), "[check]\nmax-spawns = 4\n").unwrap();
    let mut c = Command::cargo_bin("spawnscope").unwrap();
    c.current_dir(&sub).arg("check");
    let r = run_in(&mut c, &[good]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("[spawnscope.toml:2]"), "{}", r.stdout);

    // --no-policy ignores both.
    let mut c = Command::cargo_bin("spawnscope").unwrap();
    c.current_dir(&sub).arg("check");
    let r = run_in(&mut c, &["--no-policy", good]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("warning: no rules to check"), "{}", r.stdout);
}

#[test]
fn policy_errors_give_file_line_and_exit_2() {
    let cases = [
        ("unknown-key", "fixtures/policies/invalid/unknown-key.toml:3:1: unknown key `max-spawn`, expected one of these keys:"),
        ("bad-value", "fixtures/policies/invalid/bad-value.toml:3:28: invalid value: integer `-1`, expected u64"),
        (
            "bad-duration",
            "fixtures/policies/invalid/bad-duration.toml:5:17: bad duration \"5\": give a unit (ns, us, ms or s), e.g. \"5ms\"",
        ),
        (
            "bad-style",
            "fixtures/policies/invalid/bad-style.toml:2:24: unknown spawn style \"posix_spawn\": expected one of fork, vfork, vm",
        ),
        ("unknown-exe-key", "fixtures/policies/invalid/unknown-exe-key.toml:3:1: unknown key `max-spawn-p99`, expected"),
        ("syntax", "fixtures/policies/invalid/syntax.toml:3:"),
    ];
    for (name, want) in cases {
        let policy = format!("fixtures/policies/invalid/{name}.toml");
        let mut c = check();
        usage_error(&mut c, &["--policy", &policy, &trace("good")], &format!("spawnscope: error: {want}"));
    }
    // A missing policy file.
    usage_error(
        &mut check(),
        &["--policy", "fixtures/policies/nope.toml", &trace("good")],
        "fixtures/policies/nope.toml: cannot read policy file",
    );
    // A discovered policy file with an error is an error too.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spawnscope.toml"), "[check]\n\nmax-spawns = \"many\"\n").unwrap();
    let good = root().join(trace("good"));
    let mut c = Command::cargo_bin("spawnscope").unwrap();
    c.current_dir(dir.path()).arg("check");
    usage_error(&mut c, &[good.to_str().unwrap()], "spawnscope.toml:3:14: invalid type: string \"many\", expected u64");
}

#[test]
fn thresholds_in_the_policy_file_decide_findings() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.toml");
    let rules = "[check]\ndeny-finding = [\"fork-large-parent\"]\n";
    std::fs::write(&policy, rules).unwrap();
    expect(&["--policy", policy.to_str().unwrap(), &trace("bad")], 1, "FAIL  deny-finding fork-large-parent: 1 finding");
    // bad.jsonl's parent has 2 GiB RSS and 4 MiB of page tables: above these, SS001 stays quiet.
    let thresholds = "[thresholds]\nfork-parent-rss-mib = 4096\nfork-parent-pte-kib = 8192\n";
    std::fs::write(&policy, format!("{rules}{thresholds}")).unwrap();
    let r = expect(&["--policy", policy.to_str().unwrap(), &trace("bad")], 0, "PASS  deny-finding fork-large-parent: 0 findings");
    assert!(!r.stderr.contains("deprecated"), "{}", r.stderr);
}

/// One key style in spawnscope.toml (kebab-case, as the flags): the old
/// snake_case spelling under [thresholds] still works, with a warning.
#[test]
fn snake_case_threshold_keys_are_read_with_a_deprecation_warning() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.toml");
    let text =
        "[check]\ndeny-finding = [\"fork-large-parent\"]\n[thresholds]\nfork_parent_rss_mib = 4096\nfork-parent-pte-kib = 8192\n";
    std::fs::write(&policy, text).unwrap();
    let r = expect(&["--policy", policy.to_str().unwrap(), &trace("bad")], 0, "PASS  deny-finding fork-large-parent: 0 findings");
    assert!(
        r.stderr.contains("warning: ")
            && r.stderr.contains("[thresholds] fork_parent_rss_mib: write fork-parent-rss-mib (snake_case keys are deprecated"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.matches("deprecated").count(), 1, "{}", r.stderr);
}

#[test]
fn the_example_policy_parses() {
    expect(&["--policy", "fixtures/policies/spawnscope.toml", &trace("good")], 0, "PASS  deny-style fork");
    expect(&["--policy", "fixtures/policies/spawnscope.toml", &trace("bad")], 1, "FAIL  deny-finding fork-large-parent");
}

// Usage and input errors.

#[test]
fn usage_errors_exit_2() {
    usage_error(&mut check(), &[], "nothing to check: give a trace file, or a command after `--`");
    usage_error(&mut check(), &[&trace("good"), "--", "true"], "cannot be used with");
    usage_error(&mut check(), &["--deny-style", "spoon", &trace("good")], "unknown spawn style \"spoon\"");
    usage_error(&mut check(), &["--max-spawn-p99", "5", &trace("good")], "bad duration \"5\": give a unit");
    usage_error(&mut check(), &["--max-spawns-per-exe", "git", &trace("good")], "expected EXE=N (e.g. git=10)");
    usage_error(&mut check(), &["--max-spawns", "-1", &trace("good")], "unexpected argument '-1'");
    usage_error(&mut check(), &["--max-spawns", "many", &trace("good")], "invalid value 'many' for '--max-spawns <N>'");
    usage_error(&mut check(), &["--deny-finding", "SS999", &trace("good")], "unknown finding \"SS999\"");
    usage_error(&mut check(), &["--require-code-path", "posix_spawn", &trace("good")], "unknown code path \"posix_spawn\"");
    usage_error(&mut check(), &["--format", "xml", &trace("good")], "invalid value 'xml'");
    usage_error(
        &mut check(),
        &["-o", "x.jsonl", &trace("good")],
        "-o/--output keeps the trace of a recording: it needs `-- CMD`",
    );
    usage_error(&mut check(), &["--no-policy", "fixtures/policies/traces/missing.jsonl"], "missing.jsonl");
    usage_error(&mut check(), &["--no-policy", "fixtures/policies/strict.toml"], "not a spawnscope trace");
}

// Output formats.

#[test]
fn json_output() {
    let r = run(&["--policy", "fixtures/policies/strict.toml", "--format", "json", &trace("bad")]);
    assert_eq!(r.code, 1);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["passed"], false);
    assert_eq!(v["check_exit_code"], 1);
    assert_eq!(v["counts"]["fail"], 10);
    assert_eq!(v["spawns"], 5);
    assert_eq!(v["command"], serde_json::json!(["builder", "--all"]));
    let deny = v["results"].as_array().unwrap().iter().find(|r| r["title"] == "deny-style fork").unwrap();
    assert_eq!(deny["measured"], 5);
    assert_eq!(deny["offenders_total"], 5);
    assert_eq!(deny["origin"], serde_json::json!({"kind": "file", "path": "fixtures/policies/strict.toml", "line": 4}));
    assert_eq!(deny["offenders"][0]["argv"], serde_json::json!(["git", "status"]));
}

#[test]
fn junit_output_to_a_report_file() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("check.xml");
    let r = run(&[
        "--policy",
        "fixtures/policies/strict.toml",
        "--format",
        "junit",
        "--report-file",
        xml.to_str().unwrap(),
        &trace("bad"),
    ]);
    assert_eq!(r.code, 1);
    // The text summary still goes to the log.
    assert!(r.stdout.contains("FAIL: 10 of 14 rules violated"), "{}", r.stdout);
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"spawnscope check\" tests=\"14\" failures=\"10\" errors=\"0\" skipped=\"0\">"), "{text}");
    assert_eq!(text.matches("<testcase ").count(), 14);
    assert_eq!(text.matches("<failure ").count(), 10);
    assert!(text.contains("<failure type=\"max-spawns\" message=\"5 spawns (at most 4)\">"), "{text}");
    // (check/tests/output.rs parses JUnit back with an XML parser.)
}

#[test]
fn github_annotations_point_at_the_policy_file() {
    let r = run(&["--policy", "fixtures/policies/strict.toml", "--format", "github", &trace("bad")]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("::error file=fixtures/policies/strict.toml,line=4,title=spawnscope check%3A deny-style fork::5 fork-style spawns (at most 0)%0Apid 201 (parent 200): git status: fork via rust-std-fork-fallback"),
        "{}",
        r.stdout
    );
    let r = run(&["--max-spawn-p99", "5ms", "--format", "github", &trace("bad")]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("::warning title=spawnscope check%3A max-spawn-p99::21 ms p99"), "{}", r.stdout);
    let r = run(&["--format", "github", &trace("truncated")]);
    assert!(r.stdout.contains("::warning title=spawnscope check::trace is incomplete"), "{}", r.stdout);
}

// Recording real commands (`spawnscope lab` spawns exactly as asked).

fn spawnscope_bin() -> String {
    assert_cmd::cargo::cargo_bin("spawnscope").display().to_string()
}

#[test]
fn check_a_command_that_spawns_well() {
    let bin = spawnscope_bin();
    let r = run(&[
        "--deny-style",
        "fork",
        "--max-failed-exec-attempts",
        "0",
        "--min-spawns-per-exe",
        "true=5",
        "--require-code-path",
        "glibc-posix-spawn",
        "--",
        &bin,
        "lab",
        "--method",
        "posix-spawn",
        "--count",
        "5",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // The command's own output (lab's summary) comes first, then the report.
    let report = &r.stdout[r.stdout.find("spawnscope check: ").expect("a report")..];
    assert!(report.starts_with("spawnscope check: recording (command: "), "{}", r.stdout);
    assert!(r.stdout.contains("PASS  min-spawns true: 5 spawns of true (at least 5)"), "{}", r.stdout);
    assert!(r.stdout.contains("PASS  require-code-path glibc-posix-spawn: 0 spawns not taking"), "{}", r.stdout);
    assert!(r.stdout.ends_with("PASS: 5 of 5 rules hold\n"), "{}", r.stdout);
}

#[test]
fn check_a_command_that_forks_and_searches_path() {
    let bin = spawnscope_bin();
    // A short PATH so the misses are exactly the two prepended directories.
    let mut c = check();
    c.env("PATH", "/usr/bin:/bin").arg("--no-policy");
    let r = run_in(
        &mut c,
        &[
            "--deny-style",
            "fork",
            "--max-failed-exec-attempts",
            "0",
            "--deny-code-path",
            "rust-std-fork-fallback",
            "--",
            &bin,
            "lab",
            "--method",
            "rust-std",
            "--pre-exec",
            "--path-search",
            "--path-prepend",
            "2",
            "--count",
            "3",
        ],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("FAIL  deny-style fork: 3 fork-style spawns (at most 0)"), "{}", r.stdout);
    assert!(r.stdout.contains("FAIL  max-failed-exec-attempts: 6 failed exec attempts (at most 0)"), "{}", r.stdout);
    assert!(
        r.stdout.contains("FAIL  deny-code-path rust-std-fork-fallback: 3 spawns via rust-std-fork-fallback"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_failing_command_is_reported() {
    let r = run(&["--max-spawns", "5", "--", "/bin/sh", "-c", "/bin/true; exit 3"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("FAIL  command-exit: the command failed with exit code 3"), "{}", r.stdout);
    assert!(r.stdout.contains("PASS  max-spawns: 1 spawn (at most 5)"), "{}", r.stdout);
    let r = run(&["--max-spawns", "5", "--allow-command-failure", "--", "/bin/sh", "-c", "exit 3"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("WARN  command-exit: the command failed with exit code 3"), "{}", r.stdout);
}

#[test]
fn a_missing_command_is_an_input_error() {
    usage_error(
        &mut check(),
        &["--no-policy", "--", "no-such-program-spawnscope"],
        "no-such-program-spawnscope: command not found",
    );
}

#[test]
fn the_recorded_trace_can_be_kept_and_checked_again() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.jsonl");
    let out_s = out.to_str().unwrap();
    let r = run(&["--max-spawns", "2", "-o", out_s, "--", "/bin/sh", "-c", "/bin/true && /bin/true"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.starts_with(&format!("spawnscope check: {out_s} (command: /bin/sh -c '/bin/true && /bin/true')")),
        "{}",
        r.stdout
    );
    let again = run(&["--max-spawns", "1", out_s]);
    assert_eq!(again.code, 1);
    assert!(again.stdout.contains("FAIL  max-spawns: 2 spawns (at most 1)"), "{}", again.stdout);
    assert!(Path::new(out_s).exists());
}

// Real recorded traces (fixtures/traces/valid, recorded from fixtures/rust programs).

fn real(name: &str) -> String {
    format!("fixtures/traces/valid/{name}.jsonl")
}

#[test]
fn real_trace_std_command_by_absolute_path_passes() {
    let r = run(&[
        "--deny-style",
        "fork",
        "--max-failed-exec-attempts",
        "0",
        "--require-code-path",
        "glibc-posix-spawn",
        &real("recorded-cmd-abs"),
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.contains("PASS  require-code-path glibc-posix-spawn: 0 spawns not taking glibc-posix-spawn"),
        "{}",
        r.stdout
    );
}

#[test]
fn real_trace_pre_exec_fails_the_fork_rules() {
    let r = run(&[
        "--deny-code-path",
        "rust-std-fork-fallback",
        "--deny-finding",
        "rust-fork-fallback",
        &real("recorded-cmd-pre-exec"),
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("FAIL  deny-code-path rust-std-fork-fallback: 1 spawn via rust-std-fork-fallback"), "{}", r.stdout);
    assert!(r.stdout.contains("FAIL  deny-finding rust-fork-fallback: 1 finding"), "{}", r.stdout);
}

#[test]
fn real_trace_changed_path_searches() {
    let r = run(&["--max-failed-exec-attempts", "0", &real("recorded-cmd-env-path")]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("FAIL  max-failed-exec-attempts: 2 failed exec attempts (at most 0)"), "{}", r.stdout);
}

#[test]
fn real_trace_fork_from_a_large_parent() {
    let fork = run(&["--deny-finding", "fork-large-parent", "--deny-style", "fork", &real("recorded-rss-fork")]);
    assert_eq!(fork.code, 1, "{}", fork.stdout);
    assert!(fork.stdout.contains("FAIL  deny-finding fork-large-parent: 1 finding"), "{}", fork.stdout);
    assert!(fork.stdout.contains("FAIL  deny-style fork: 3 fork-style spawns"), "{}", fork.stdout);
    let posix = run(&["--deny-finding", "fork-large-parent", "--deny-style", "fork", &real("recorded-rss-posix")]);
    assert_eq!(posix.code, 0, "{}", posix.stdout);
}

#[test]
fn hostile_strings_are_escaped_in_every_format() {
    for format in ["text", "json", "junit", "github"] {
        let r = run(&["--deny-style", "vfork", "--format", format, &real("escapes")]);
        assert_eq!(r.code, 1, "{format}: {}", r.stdout);
        assert!(!r.stdout.chars().any(|c| c.is_control() && c != '\n'), "{format}: {:?}", r.stdout);
        for line in r.stdout.lines().filter(|l| l.starts_with("::")) {
            assert!(line.starts_with("::error title=spawnscope check%3A deny-style vfork::"), "{format}: forged {line:?}");
        }
    }
    let text = run(&["--deny-style", "vfork", &real("escapes")]).stdout;
    assert!(text.contains("/bin/echo '\\x1b]0;pwned\\x07' 'line\\nbreak' 'tab\\there' 'back\\\\slash'"), "{text}");
}
