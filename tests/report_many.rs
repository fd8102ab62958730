//! `spawnscope report a b dir/`: several traces read in parallel and reported
//! together by host; a bad file is named on stderr and in the report, and
//! the rest still count (issue 15).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn fixtures(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/traces").join(dir)
}

fn report(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::cargo_bin("spawnscope").unwrap().arg("report").args(args).output().unwrap()
}

fn spawns_of(trace: &Path) -> u64 {
    let out = report(&[trace.as_os_str(), "-f".as_ref(), "json".as_ref()]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["summary"]["spawns"].as_u64().unwrap()
}

#[test]
fn two_traces_and_a_corrupt_one_report_the_two_and_name_the_third() {
    let a = fixtures("valid/path-search.jsonl");
    let b = fixtures("valid/recorded-bash-loop.jsonl");
    let bad = fixtures("invalid/malformed-middle.jsonl");
    let out = report(&[a.as_os_str(), b.as_os_str(), bad.as_os_str(), "-f".as_ref(), "json".as_ref()]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with(&format!("spawnscope: skipped: {}: line 3: malformed event: ", bad.display())), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "many");
    assert_eq!(v["total"]["traces"], 2);
    assert_eq!(v["total"]["spawns"].as_u64().unwrap(), spawns_of(&a) + spawns_of(&b));
    assert_eq!(v["skipped"][0]["path"].as_str().unwrap(), bad.to_str().unwrap());
    let per_host: u64 = v["hosts"].as_array().unwrap().iter().map(|h| h["merged"]["spawns"].as_u64().unwrap()).sum();
    assert_eq!(per_host, v["total"]["spawns"].as_u64().unwrap());
}

#[test]
fn a_directory_is_read_whole_and_the_text_groups_by_host() {
    let dir = fixtures("valid");
    let out = report(&[dir.as_os_str(), "--limit".as_ref(), "0".as_ref()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let n =
        std::fs::read_dir(&dir).unwrap().filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "jsonl")).count();
    assert!(text.starts_with(&format!("spawnscope report: {n} traces from 3 hosts\n")), "{text}");
    for section in ["\nHosts\n", "\nCode paths\n", "\nExecutables\n", "\nFindings\n", "\nTraces\n"] {
        assert!(text.contains(section), "{section:?} missing:\n{text}");
    }
    for host in ["laptop", "node042", "vm"] {
        assert!(text.lines().any(|l| l.trim_start().starts_with(host)), "{host}:\n{text}");
    }
    assert!(!text.contains("Skipped"), "{text}");
}

#[test]
fn nothing_readable_is_exit_2() {
    let a = fixtures("invalid/garbage.bin");
    let b = fixtures("invalid/empty.jsonl");
    let out = report(&[a.as_os_str(), b.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 3, "{stderr}");
    assert!(stderr.lines().last().unwrap().contains("no trace could be read"), "{stderr}");
}

#[test]
fn colour_on_several_traces_changes_no_text() {
    let dir = fixtures("valid");
    let plain = report(&[dir.as_os_str(), "--color".as_ref(), "never".as_ref()]);
    let coloured = report(&[dir.as_os_str(), "--color".as_ref(), "always".as_ref()]);
    assert_eq!(plain.status.code(), Some(0));
    assert_eq!(coloured.status.code(), Some(0));
    let plain = String::from_utf8(plain.stdout).unwrap();
    let coloured = String::from_utf8(coloured.stdout).unwrap();
    assert!(!plain.contains('\x1b'), "{plain}");
    assert!(coloured.contains("\x1b[1mHosts\x1b[0m"), "{coloured}");
    let stripped = coloured.replace("\x1b[1m", "").replace("\x1b[0m", "");
    assert_eq!(stripped, plain);
    // Counts in prose: "1 thread", never "1 threads".
    assert!(!plain.contains(" 1 threads") && !plain.contains(" 1 processes"), "{plain}");
}

#[test]
fn traces_with_call_stacks_list_their_call_sites_merged() {
    let a = fixtures("stacks/mixed.jsonl");
    let b = fixtures("stacks/fallback.jsonl");
    let out = report(&[a.as_os_str(), a.as_os_str(), b.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let section: Vec<&str> =
        text.split("\nCall sites\n").nth(1).expect("a Call sites section").lines().take_while(|l| !l.is_empty()).collect();
    assert!(section[0].starts_with("  call site "), "{section:?}");
    // The mixed trace's posix_spawn call site, twice: its count doubles.
    let single = spawnscope_analyzer::origin::call_sites(&spawnscope_analyzer::analyze_path(&a, &Default::default()).unwrap());
    let jobs = single.iter().find(|s| s.label.starts_with("myapp::jobs::run")).expect("jobs::run in mixed.jsonl");
    let row = section.iter().find(|l| l.contains(&jobs.label)).unwrap_or_else(|| panic!("{section:?}"));
    let fallback = spawnscope_analyzer::origin::call_sites(&spawnscope_analyzer::analyze_path(&b, &Default::default()).unwrap());
    let extra: u64 = fallback.iter().filter(|s| s.label == jobs.label).map(|s| s.count).sum();
    let n: u64 = row.split_whitespace().find_map(|w| w.parse().ok()).unwrap();
    assert_eq!(n, 2 * jobs.count + extra, "{row}");
    // Traces without stacks: no such section.
    let plain =
        report(&[fixtures("valid/path-search.jsonl").as_os_str(), fixtures("valid/recorded-bash-loop.jsonl").as_os_str()]);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("Call sites"));
}
