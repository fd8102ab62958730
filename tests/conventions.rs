//! Issue 13, one set of conventions: the same flag means the same thing on
//! every subcommand (`-f/--format`, `--color` with NO_COLOR), colours never
//! change the text, counts in prose have the right plural, everything the
//! tool says about itself on stderr begins `spawnscope: `, and secrets are
//! masked whether a trace is recorded or imported from strace.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn valid(name: &str) -> String {
    root().join("fixtures/traces/valid").join(name).display().to_string()
}

fn policy_trace(name: &str) -> String {
    root().join("fixtures/policies/traces").join(name).display().to_string()
}

fn spawnscope() -> Command {
    let mut c = Command::cargo_bin("spawnscope").unwrap();
    c.env_remove("NO_COLOR");
    c
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("spawnscope")
}

fn run(args: &[&str]) -> Output {
    spawnscope().args(args).output().unwrap()
}

/// stdout of a command that must exit with `code`.
fn stdout_with(args: &[&str], code: i32) -> String {
    let out = run(args);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// ANSI colour codes (`ESC [ ... m`) removed.
fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The three subcommands that colour text, each with an argument list that
/// gives text output, and the exit code it ends with.
fn coloured_commands() -> Vec<(Vec<String>, i32)> {
    let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        (v(&["report", &valid("rust-fork-fallback.jsonl"), "--spawns"]), 0),
        (v(&["diff", &valid("recorded-rss-posix.jsonl"), &valid("old-glibc.jsonl")]), 0),
        (v(&["check", "--no-policy", "--deny-style", "fork", "--max-spawn-p99", "1ms", &policy_trace("bad.jsonl")]), 1),
    ]
}

#[test]
fn color_always_colours_and_never_and_a_pipe_do_not_on_report_diff_and_check() {
    for (args, code) in coloured_commands() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let with = |extra: &[&str]| stdout_with(&[&args[..], extra].concat(), code);
        let plain = with(&[]);
        assert!(!plain.contains('\x1b'), "{args:?}: auto with stdout not a terminal must not colour");
        assert_eq!(with(&["--color", "never"]), plain, "{args:?}");
        assert_eq!(with(&["--color", "auto"]), plain, "{args:?}");
        let coloured = with(&["--color", "always"]);
        assert!(coloured.contains("\x1b[1m"), "{args:?}: --color always gave no colour");
        // Colours never change the text: same words, same columns.
        assert_eq!(strip_ansi(&coloured), plain, "{args:?}");
        // NO_COLOR does not overrule an explicit `always`.
        let out = spawnscope().args(&args).args(["--color", "always"]).env("NO_COLOR", "1").output().unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), coloured, "{args:?}");
    }
}

#[test]
fn machine_formats_are_never_coloured() {
    let (a, b) = (valid("recorded-rss-posix.jsonl"), valid("old-glibc.jsonl"));
    let bad = policy_trace("bad.jsonl");
    let cases: &[(&[&str], i32)] = &[
        (&["report", &a, "-f", "json", "--color", "always"], 0),
        (&["report", &a, "-f", "markdown", "--color", "always"], 0),
        (&["diff", &a, &b, "-f", "json", "--color", "always"], 0),
        (&["diff", &a, &b, "-f", "markdown", "--color", "always"], 0),
        (&["check", "--no-policy", "--max-spawns", "1", &bad, "-f", "json", "--color", "always"], 1),
        (&["check", "--no-policy", "--max-spawns", "1", &bad, "-f", "github", "--color", "always"], 1),
    ];
    for (args, code) in cases {
        let out = stdout_with(args, *code);
        assert!(!out.is_empty() && !out.contains('\x1b'), "{args:?}");
    }
}

#[test]
fn color_auto_on_a_terminal_colours_unless_no_color() {
    if !spawnscope_testkit::require_tool("script") {
        return;
    }
    // `script` gives the command a terminal; its output comes back through it.
    let on_tty = |no_color: Option<&str>| -> String {
        let cmd = format!("'{}' report '{}'", bin().display(), valid("rust-fork-fallback.jsonl"));
        let mut c = std::process::Command::new(spawnscope_testkit::tool("script"));
        c.args(["-q", "-e", "-c", &cmd, "/dev/null"]).env("SHELL", "/bin/sh").env_remove("NO_COLOR");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        let out = spawnscope_testkit::output_with_timeout(&mut c, Duration::from_secs(60));
        assert!(out.status.success(), "{}", stderr_of(&out));
        String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
    };
    let coloured = on_tty(None);
    assert!(coloured.contains("\x1b[1mFindings"), "{coloured}");
    let plain = on_tty(Some("1"));
    assert!(!plain.contains('\x1b'), "{plain}");
    assert!(plain.contains("Findings"), "{plain}");
    // An empty NO_COLOR is no request (https://no-color.org).
    assert!(on_tty(Some("")).contains('\x1b'));
}

/// The `--color` entry of `spawnscope SUB --help`: the flag and its
/// description up to the next flag, whitespace collapsed.
fn color_help(sub: &str) -> String {
    let help = stdout_with(&[sub, "--help"], 0);
    let start = help.find("--color <WHEN>").unwrap_or_else(|| panic!("{sub} --help has no --color <WHEN>:\n{help}"));
    let mut lines = help[start..].lines();
    let mut entry = vec![lines.next().unwrap()];
    entry.extend(lines.take_while(|l| !l.trim_start().starts_with('-')));
    // Clap lays the help out by the width of each subcommand's flags.
    entry.join(" ").split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn color_and_format_flags_are_the_same_on_report_diff_and_check() {
    let report = color_help("report");
    assert!(report.contains("NO_COLOR") && report.contains("[possible values: auto, always, never]"), "{report}");
    assert_eq!(color_help("diff"), report);
    assert_eq!(color_help("check"), report);
    for sub in ["report", "diff", "check"] {
        let help = stdout_with(&[sub, "--help"], 0);
        assert!(help.contains("-f, --format <"), "{sub} --help has no -f/--format:\n{help}");
    }
}

#[test]
fn short_f_selects_the_format_on_diff_and_check_as_on_report() {
    let (a, b) = (valid("recorded-rss-posix.jsonl"), valid("recorded-rss-fork.jsonl"));
    let json = stdout_with(&["diff", "-f", "json", &a, &b], 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["verdict"].as_str().unwrap().starts_with("B is "), "{json}");
    assert_eq!(stdout_with(&["diff", "-f", "markdown", &a, &b], 0), stdout_with(&["diff", "--format", "markdown", &a, &b], 0));
    assert!(stdout_with(&["report", "-f", "markdown", &a], 0).starts_with("## spawnscope report"));

    let bad = policy_trace("bad.jsonl");
    let json = stdout_with(&["check", "--no-policy", "--max-spawns", "1", "-f", "json", &bad], 1);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["passed"], false);
    let junit = stdout_with(&["check", "--no-policy", "--max-spawns", "1", "-f", "junit", &bad], 1);
    assert!(junit.starts_with("<?xml"), "{junit}");
    // Same value names where the formats overlap.
    let out = run(&["diff", "-f", "junit", &a, &b]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("[possible values: text, json, markdown]"), "{}", stderr_of(&out));
}

#[test]
fn the_coloured_report_keeps_the_plain_reports_alignment() {
    let dir = root().join("fixtures/traces/valid");
    let mut traces: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    traces.sort();
    assert!(traces.len() > 20);
    for t in &traces {
        let t = t.display().to_string();
        let plain = stdout_with(&["report", &t, "--spawns", "--color", "never"], 0);
        let coloured = stdout_with(&["report", &t, "--spawns", "--color", "always"], 0);
        assert!(coloured.contains("\x1b[1mCommand\x1b[0m "), "{t}: not coloured");
        assert_eq!(strip_ansi(&coloured), plain, "{t}");
    }
}

#[test]
fn plurals_in_report_and_check_prose() {
    let report = stdout_with(&["report", &valid("exec-failed.jsonl")], 0);
    for want in
        ["1 spawn searched PATH", "1 child never exec'd successfully", "1 child process ended badly", "7 attempts, 6 failed"]
    {
        assert!(report.contains(want), "{want}:\n{report}");
    }
    assert!(!report.contains("1 spawns") && !report.contains("1 children"), "{report}");
    let threads = stdout_with(&["report", &valid("threads.jsonl")], 0);
    assert!(threads.contains(" — 2 threads, 2 processes, "), "{threads}");

    let good = policy_trace("good.jsonl");
    let check = stdout_with(&["check", "--no-policy", "--max-spawns", "100", "--max-spawn-p99", "1ns", &good], 0);
    assert_eq!(check.lines().last().unwrap(), "PASS: 2 of 3 rules hold, 1 warning", "{check}");
    let check = stdout_with(&["check", "--no-policy", "--max-spawns", "100", &good], 0);
    assert_eq!(check.lines().last().unwrap(), "PASS: 2 of 2 rules hold", "{check}");

    let lab = stdout_with(&["lab", "--method", "posix-spawn", "--count", "1"], 0);
    assert!(lab.starts_with("spawnscope lab: 1 spawn of /"), "{lab}");
    assert!(lab.lines().next().unwrap().ends_with("), 1 thread"), "{lab}");
}

#[test]
fn a_cut_spawn_list_says_how_to_see_every_spawn() {
    let t = valid("serial-spawns.jsonl");
    let text = stdout_with(&["report", &t, "--spawns", "--limit", "3"], 0);
    assert!(text.contains("\n  … and 147 more spawns: --limit 0 lists them all (-f json has every spawn)\n"), "{text}");
    let md = stdout_with(&["report", &t, "--spawns", "--limit", "3", "-f", "markdown"], 0);
    assert!(md.contains("\n… and 147 more spawns: --limit 0 lists them all (-f json has every spawn)\n"), "{md}");
    // What it advises works: every spawn listed, nothing cut.
    let all = stdout_with(&["report", &t, "--spawns", "--limit", "0"], 0);
    assert!(!all.contains("more spawns"), "{all}");
    assert!(all.contains("\n  149  "), "the last spawn (#149) is listed");
    let json = stdout_with(&["report", &t, "-f", "json"], 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["spawns"].as_array().unwrap().len(), 150);
}

#[test]
fn old_snake_case_threshold_keys_warn_the_same_way_in_report_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("old.toml");
    std::fs::write(&cfg, "[thresholds]\nenv_vars = 150\n").unwrap();
    let cfg = cfg.display().to_string();
    let want = format!(
        "spawnscope: warning: {cfg}: [thresholds] env_vars: write env-vars (snake_case keys are deprecated; spawnscope.toml is kebab-case)\n"
    );
    let report = run(&["report", "--config", &cfg, &valid("large-env.jsonl")]);
    assert!(report.status.success());
    assert_eq!(stderr_of(&report), want);
    let check = run(&["check", "--policy", &cfg, &policy_trace("good.jsonl")]);
    assert_eq!(stderr_of(&check), want);
    // The new spelling is read without a word.
    std::fs::write(dir.path().join("new.toml"), "[thresholds]\nenv-vars = 150\n").unwrap();
    let new = dir.path().join("new.toml").display().to_string();
    let report = run(&["report", "--config", &new, &valid("large-env.jsonl")]);
    assert!(report.status.success() && report.stderr.is_empty(), "{}", stderr_of(&report));
}

/// Every line of `err` is the tool talking about itself: `spawnscope: ...`.
fn all_prefixed(what: &str, err: &str) {
    assert!(!err.is_empty(), "{what}: nothing on stderr");
    for line in err.lines() {
        assert!(line.starts_with("spawnscope: "), "{what}: {line:?} in\n{err}");
    }
}

#[test]
fn record_summary_counts_and_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("one.jsonl");
    let lab = bin().display().to_string();
    let mut cmd = std::process::Command::new(bin());
    cmd.args(["record", "--stacks", "off", "-o"]).arg(&t).args(["--", &lab, "lab", "--method", "posix-spawn", "--count", "1"]);
    let out = spawnscope_testkit::output_with_timeout(&mut cmd, Duration::from_secs(120));
    assert!(out.status.success(), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    all_prefixed("record", &err);
    let want = "spawnscope: 1 spawn (vfork 1, fork 0, vm 0), 0 threads, 2 exec attempts (0 failed), seccomp mode -> ";
    assert!(err.starts_with(want), "{err}");
    assert!(err.trim_end().ends_with(" KiB)") || err.trim_end().ends_with(" B)"), "{err}");
}

#[test]
fn record_to_standard_output_says_so() {
    let mut cmd = std::process::Command::new(bin());
    cmd.args(["record", "--stacks", "off", "-o", "-", "--", "/bin/true"]);
    let out = spawnscope_testkit::output_with_timeout(&mut cmd, Duration::from_secs(60));
    assert!(out.status.success(), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert_eq!(
        err,
        "spawnscope: 0 spawns (vfork 0, fork 0, vm 0), 0 threads, 1 exec attempt (0 failed), seccomp mode \
         -> the trace went to standard output\n"
    );
    let first = String::from_utf8(out.stdout).unwrap();
    assert!(first.starts_with("{\"kind\":\"header\""), "{first}");
}

#[test]
fn the_progress_line_has_the_one_prefix() {
    if !spawnscope_testkit::require_tool("script") {
        return;
    }
    // stderr on a terminal: the live progress line is shown while the lab
    // spawns (it is redrawn every 200 ms, so a run of a few thousand spawns
    // shows it at least once).
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("p.jsonl");
    let cmd = format!(
        "'{b}' record --stacks off -o '{t}' -- '{b}' lab --method posix-spawn --count 3000 >/dev/null",
        b = bin().display(),
        t = t.display()
    );
    let mut c = std::process::Command::new(spawnscope_testkit::tool("script"));
    c.args(["-q", "-e", "-c", &cmd, "/dev/null"]).env("SHELL", "/bin/sh");
    let out = spawnscope_testkit::output_with_timeout(&mut c, Duration::from_secs(300));
    assert!(out.status.success(), "{}", stderr_of(&out));
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(screen.contains("\x1b[Kspawnscope: "), "no progress line: {screen:?}");
    assert!(!screen.contains("[spawnscope]"), "{screen:?}");
    assert!(screen.contains(" spawns/s"), "{screen:?}");
    assert!(
        screen
            .contains("\x1b[Kspawnscope: 3,000 spawns (vfork 3,000, fork 0, vm 0), 0 threads, 3,001 exec attempts (0 failed), "),
        "{screen:?}"
    );
}

/// A log of one exec whose argv holds a password option, a URL with
/// credentials and a token assignment.
const SECRET_LOG: &str = concat!(
    "100  1700000000.000000 vfork( <unfinished ...>\n",
    "101  1700000000.000100 execve(\"/usr/bin/curl\", [\"curl\", \"--password\", \"hunter2\", ",
    "\"https://user:s3cret@example.com/x\", \"GITHUB_TOKEN=ghp_abc\"], [\"A=1\"]) = 0 <0.000050>\n",
    "100  1700000000.000200 <... vfork resumed>) = 101 <0.000200>\n",
    "101  1700000000.000300 +++ exited with 0 +++\n",
);

#[test]
fn import_strace_masks_secrets_like_record_unless_no_redact() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("secret.strace");
    std::fs::write(&log, SECRET_LOG).unwrap();
    let out_path = dir.path().join("t.jsonl");
    let out = run(&["import", "strace", &log.display().to_string(), "-o", &out_path.display().to_string(), "--glibc", "2.36"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    all_prefixed("import strace", &err);
    assert!(
        err.starts_with(
            "spawnscope: imported 4 lines from 1 file: 1 spawn, 0 threads, 1 exec attempt (0 failed), 3 values masked -> "
        ),
        "{err}"
    );
    let trace = std::fs::read_to_string(&out_path).unwrap();
    for secret in ["hunter2", "s3cret", "ghp_abc"] {
        assert!(!trace.contains(secret), "{secret} left in the trace:\n{trace}");
    }
    assert!(trace.contains(r#""--password","<redacted>""#), "{trace}");
    assert!(trace.contains("https://user:<redacted>@example.com/x"), "{trace}");
    let header: serde_json::Value = serde_json::from_str(trace.lines().next().unwrap()).unwrap();
    assert_eq!(header["redaction"]["rules"][0], "secret-option", "{header}");

    // --redact adds a pattern; --no-redact keeps everything.
    let out = run(&[
        "import",
        "strace",
        &log.display().to_string(),
        "-o",
        &out_path.display().to_string(),
        "-q",
        "--redact",
        "example\\.com",
    ]);
    assert!(out.status.success() && out.stderr.is_empty(), "{}", stderr_of(&out));
    assert!(!std::fs::read_to_string(&out_path).unwrap().contains("example.com"));
    let out = run(&["import", "strace", &log.display().to_string(), "-o", &out_path.display().to_string(), "-q", "--no-redact"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let kept = std::fs::read_to_string(&out_path).unwrap();
    assert!(kept.contains("hunter2") && kept.contains("s3cret") && kept.contains("ghp_abc"), "{kept}");
    let out = run(&["import", "strace", &log.display().to_string(), "-o", &out_path.display().to_string(), "--redact", "("]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn stderr_lines_begin_with_the_one_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    // redact
    let out = run(&["redact", &valid("escapes.jsonl"), "-o", &p("r.jsonl")]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    all_prefixed("redact", &stderr_of(&out));
    assert!(stderr_of(&out).starts_with("spawnscope: masked 0 values in 0 exec records -> "), "{}", stderr_of(&out));
    // export of a trace cut short: a warning
    let out = run(&["export", &valid("incomplete.jsonl"), "--format", "csv", "-o", &p("x.csv")]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    all_prefixed("export", &err);
    assert!(err.starts_with("spawnscope: warning: "), "{err}");
    // diff of a trace cut short: a warning naming the side
    let out = run(&["diff", &valid("incomplete.jsonl"), &valid("go-exec.jsonl")]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    all_prefixed("diff", &err);
    assert!(err.starts_with("spawnscope: warning: A: "), "{err}");
    // view without a terminal prints the report; nothing on stderr
    let out = run(&["view", &valid("escapes.jsonl")]);
    assert!(out.status.success() && out.stderr.is_empty(), "{}", stderr_of(&out));
}

/// Waits (polling, with a deadline) until `path` holds a line with `text`.
fn wait_for_line(path: &Path, text: &str, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::fs::read_to_string(path).is_ok_and(|s| s.lines().any(|l| l.contains(text))) {
            return true;
        }
        // Polling for a condition, with a deadline (no ordering by sleeping).
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[cfg(target_os = "linux")]
#[test]
fn an_attached_trace_shows_the_processs_command_line() {
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;
    if !spawnscope_testkit::require_tool("sh") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("attached.jsonl");
    // A process that waits for its stdin to close; argv[0] holds a terminal
    // escape (it must come back escaped) and argv a secret (masked).
    let mut target = std::process::Command::new(spawnscope_testkit::tool("sh"))
        .arg0("sh\x1b[31m")
        .args(["-c", "read x", "sh", "--password", "hunter2"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let watchdog = spawnscope_testkit::Watchdog::new("attached sh", Duration::from_secs(120));
    watchdog.watch(target.id() as i32);
    let rec = std::process::Command::new(bin())
        .args(["record", "-p", &target.id().to_string(), "-o"])
        .arg(&t)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    watchdog.watch(rec.id() as i32);
    let attached = wait_for_line(&t, "\"kind\":\"header\"", Duration::from_secs(60));
    // Its stdin closes: it ends, and the recording with it.
    drop(target.stdin.take());
    let _ = target.wait();
    let out = rec.wait_with_output().unwrap();
    watchdog.finish();
    assert!(attached, "no header in the trace");
    let err = stderr_of(&out);
    all_prefixed("record -p", &err);
    // The trace's one warning (attached to a running process) is counted.
    let summary = err.lines().last().unwrap();
    assert!(summary.contains(" (0 failed), events mode, 1 warning in the trace -> "), "{err}");
    let trace = std::fs::read_to_string(&t).unwrap();
    let header: serde_json::Value = serde_json::from_str(trace.lines().next().unwrap()).unwrap();
    assert_eq!(
        header["command"],
        serde_json::json!(["sh\x1b[31m", "-c", "read x", "sh", "--password", "<redacted>"]),
        "{header}"
    );
    let report = stdout_with(&["report", &t.display().to_string()], 0);
    let command = report.lines().find(|l| l.starts_with("Command")).unwrap();
    assert_eq!(command, "Command    sh\\x1b[31m -c 'read x' sh --password <redacted>");
}

#[test]
fn usage_errors_are_one_line_with_the_prefix_and_name_the_subcommands_help() {
    let cases: &[(&[&str], &str)] = &[
        (&["check", "--bogus"], "spawnscope: error: unexpected argument '--bogus' found (to pass '--bogus' as a value, use '-- --bogus'); see spawnscope check --help"),
        (&["report"], "spawnscope: error: the following required arguments were not provided: <TRACE>; see spawnscope report --help"),
        (&["diff", "-f", "junit", "a", "b"], "spawnscope: error: invalid value 'junit' for '--format <FORMAT>' [possible values: text, json, markdown]; see spawnscope diff --help"),
        (&["import", "strace"], "spawnscope: error: the following required arguments were not provided: --output <TRACE>, <LOG>...; see spawnscope import strace --help"),
        (&["nope"], "spawnscope: error: unrecognized subcommand 'nope'; see spawnscope --help"),
    ];
    for (args, want) in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(stderr_of(&out), format!("{want}\n"), "{args:?}");
    }
    // Help and version are not errors: stdout, exit 0.
    assert!(stdout_with(&["check", "--help"], 0).contains("Usage: spawnscope check"));
    assert!(stdout_with(&["--version"], 0).starts_with("spawnscope "));
}
