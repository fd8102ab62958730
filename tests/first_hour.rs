//! Issue 13, a user's first hour: completions and a man page from the clap
//! definitions, a version that names the trace format, one set of flag
//! conventions: every --help names only docs that exist.

use std::path::Path;

use assert_cmd::Command;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tui/tests/data/sample.jsonl");

/// Every subcommand a user can type.
const SUBCOMMANDS: &[&str] =
    &["record", "run", "view", "demo", "lab", "report", "check", "diff", "import", "export", "redact", "completions", "man"];

fn spawnscope() -> Command {
    Command::cargo_bin("spawnscope").unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = spawnscope().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_for_bash_zsh_and_fish_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout_of(&["completions", shell]);
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell} completions lack {sub}");
        }
        // Flags of subcommands are completed too.
        let (format, color) = if shell == "fish" { ("-l format", "-l color") } else { ("--format", "--color") };
        assert!(script.contains(format) && script.contains(color), "{shell}");
    }
    assert!(stdout_of(&["completions", "bash"]).contains("complete -F"));
    assert!(stdout_of(&["completions", "zsh"]).starts_with("#compdef spawnscope"));
    assert!(stdout_of(&["completions", "fish"]).contains("complete -c spawnscope"));
    let out = spawnscope().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_man_page_is_roff_and_names_every_subcommand() {
    let page = stdout_of(&["man"]);
    assert!(page.starts_with(".ie") || page.contains(".TH spawnscope"), "{page}");
    assert!(page.contains(".TH spawnscope 1"), "{page}");
    for sub in SUBCOMMANDS {
        assert!(page.contains(sub), "the man page lacks {sub}");
    }
    // A subcommand's own page, with its flags.
    let record = stdout_of(&["man", "record"]);
    assert!(record.contains(".TH spawnscope-record 1") && record.contains("\\-\\-output"), "{record}");
    let out = spawnscope().args(["man", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no subcommand \"nope\""));
}

#[test]
fn version_names_the_trace_format() {
    let v = stdout_of(&["--version"]);
    let want = format!("spawnscope {} (trace format {})", env!("CARGO_PKG_VERSION"), spawnscope_format::FORMAT_VERSION);
    assert_eq!(v.trim(), want);
}

#[test]
fn help_names_only_docs_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut named = std::collections::BTreeSet::new();
    // Nested subcommands too (`import strace`).
    for sub in SUBCOMMANDS.iter().copied().chain(["", "import strace"]) {
        let mut args: Vec<&str> = sub.split_whitespace().collect();
        args.push("--help");
        let help = stdout_of(&args);
        for word in help.split(|c: char| c.is_whitespace() || "()[],;'\"`".contains(c)) {
            let word = word.trim_end_matches(['.', ':']);
            if word.starts_with("docs/") || word.ends_with(".md") {
                assert!(root.join(word).is_file(), "`spawnscope {sub} --help` names {word}, which does not exist");
                named.insert(format!("{sub}: {word}"));
            }
        }
    }
    // The helps do name docs (the check above is not vacuous).
    for want in
        ["record: docs/reference/security.md", "import strace: docs/reference/security.md", "export: docs/reference/parquet.md"]
    {
        assert!(named.contains(want), "{want} not found in {named:?}");
    }
}

#[test]
fn a_cut_trace_names_its_last_line() {
    // Header and two events, no end line: three lines.
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.jsonl");
    let full = std::fs::read_to_string(SAMPLE).unwrap();
    let three: String = full.lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::write(&cut, three).unwrap();
    let out = spawnscope().args(["report"]).arg(&cut).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("after line 3"), "{all}");
    assert!(!all.contains("after line 4"), "{all}");
}

#[test]
fn view_compare_checks_its_file_without_a_terminal_too() {
    let out = spawnscope().args(["view", SAMPLE, "--compare", "/nonexistent/b.jsonl"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/b.jsonl"));
    assert!(out.stdout.is_empty(), "no report before the error");
}

#[test]
fn record_of_a_missing_pid_says_no_such_process_first() {
    let dir = tempfile::tempdir().unwrap();
    let out = spawnscope().current_dir(dir.path()).args(["record", "-p", "999999999"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.lines().next().unwrap_or("").contains("no such process"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no trace file left behind");
}
