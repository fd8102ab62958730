//! The Chrome trace-event JSON and the CSV, checked for structure and parsed back.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;
use spawnscope_analyzer::{analyze_reader, Analysis, Thresholds};
use spawnscope_report::export::{csv, export, ExportFormat};
use spawnscope_strace::{import_paths, ImportOptions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn strace_analysis(name: &str) -> Analysis {
    let t = import_paths(&[root().join("fixtures/strace").join(name)], &ImportOptions::default()).unwrap();
    let bytes = t.write(spawnscope_format::TraceWriter::new(Vec::new())).unwrap();
    analyze_reader(&bytes[..], &Thresholds::default()).unwrap()
}

fn chrome_json(a: &Analysis) -> Value {
    let mut out = Vec::new();
    export(a, ExportFormat::Chrome, &mut out).unwrap();
    serde_json::from_slice(&out).unwrap()
}

/// Checks what chrome://tracing and Perfetto need; returns the events.
fn validate_chrome(doc: &Value) -> Vec<Value> {
    let events = doc["traceEvents"].as_array().expect("traceEvents array").clone();
    let mut open: HashMap<(i64, i64), Vec<(String, f64)>> = HashMap::new();
    let mut flows: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let mut slices: HashMap<(i64, i64), Vec<(f64, f64)>> = HashMap::new();
    for e in &events {
        let ph = e["ph"].as_str().expect("ph");
        assert!(e["ts"].is_number(), "ts: {e}");
        assert!(e["ts"].as_f64().unwrap() >= 0.0, "{e}");
        let pid = e["pid"].as_i64().expect("pid");
        let tid = e["tid"].as_i64().expect("tid");
        assert!(e["name"].is_string(), "name: {e}");
        let ts = e["ts"].as_f64().unwrap();
        match ph {
            "X" => {
                let dur = e["dur"].as_f64().expect("X needs dur");
                assert!(dur >= 0.0, "{e}");
                slices.entry((pid, tid)).or_default().push((ts, ts + dur));
            }
            "B" => open.entry((pid, tid)).or_default().push((e["name"].to_string(), ts)),
            "E" => {
                let (_, start) = open.get_mut(&(pid, tid)).and_then(Vec::pop).expect("E without B");
                assert!(ts >= start);
            }
            "i" | "I" => assert!(matches!(e["s"].as_str(), Some("t" | "p" | "g")), "{e}"),
            "s" | "f" => flows.entry(e["id"].as_u64().expect("flow id")).or_default().push(ph.to_string()),
            "M" => assert!(e["args"].is_object(), "{e}"),
            other => panic!("unexpected phase {other}"),
        }
    }
    assert!(open.values().all(Vec::is_empty), "unclosed B events");
    for (id, phs) in &flows {
        assert_eq!(phs, &vec!["s".to_string(), "f".to_string()], "flow {id}");
    }
    // Slices on one thread nest or follow each other, never overlap partly.
    for (track, mut v) in slices {
        v.sort_by(|x, y| x.0.partial_cmp(&y.0).unwrap().then(y.1.partial_cmp(&x.1).unwrap()));
        let mut stack: Vec<(f64, f64)> = Vec::new();
        for (s, e) in v {
            while stack.last().is_some_and(|&(_, pe)| pe <= s + 1e-6) {
                stack.pop();
            }
            if let Some(&(_, pe)) = stack.last() {
                assert!(e <= pe + 1e-6, "partial overlap on {track:?}: [{s}, {e}] in [.., {pe}]");
            }
            stack.push((s, e));
        }
    }
    events
}

#[test]
fn chrome_export_of_spawn_all() {
    let a = strace_analysis("spawn_all.log");
    let doc = chrome_json(&a);
    let events = validate_chrome(&doc);
    let named = |ph: &str, prefix: &str| {
        events.iter().filter(|e| e["ph"] == ph && e["name"].as_str().unwrap().starts_with(prefix)).count()
    };
    assert_eq!(named("X", "spawn ("), a.spawns.len());
    assert_eq!(named("i", "exec failed: ENOENT"), 2);
    assert_eq!(named("M", "process_name"), a.processes.len());
    assert_eq!(events.iter().filter(|e| e["ph"] == "s").count(), a.spawns.len());
    // One track per process, named after the program.
    let names: Vec<&str> =
        events.iter().filter(|e| e["name"] == "process_name").map(|e| e["args"]["name"].as_str().unwrap()).collect();
    assert!(names.iter().any(|n| n.starts_with("echo [")), "{names:?}");
    // The vfork spawn slice spans clone entry to the child's exec.
    let s = a.spawns.iter().find(|s| s.syscall == spawnscope_format::CloneSyscall::Vfork).unwrap();
    let ev = events.iter().find(|e| e["ph"] == "X" && e["pid"] == s.child_pid && e["cat"] == "spawn").unwrap();
    assert_eq!(ev["name"], "spawn (vfork, vfork() syscall)");
    assert!((ev["dur"].as_f64().unwrap() - s.latency_ns.unwrap() as f64 / 1000.0).abs() < 1e-6);
    assert_eq!(doc["otherData"]["source"], "strace");
    // Every thread track is named.
    for e in events.iter().filter(|e| e["ph"] != "M") {
        assert!(
            events.iter().any(|m| m["name"] == "thread_name" && m["pid"] == e["pid"] && m["tid"] == e["tid"]),
            "no thread_name for {e}"
        );
    }
}

#[test]
fn chrome_export_gives_reused_pids_their_own_track() {
    let a = common::analyze_file(&root().join("fixtures/traces/valid/pid-reuse.jsonl"));
    let events = validate_chrome(&chrome_json(&a));
    let pids: Vec<i64> = events.iter().filter(|e| e["name"] == "process_name").map(|e| e["pid"].as_i64().unwrap()).collect();
    let mut dedup = pids.clone();
    dedup.sort_unstable();
    dedup.dedup();
    assert_eq!(pids.len(), dedup.len(), "{pids:?}");
    assert_eq!(pids.len(), a.processes.len());
}

#[test]
fn chrome_export_of_every_valid_fixture_is_well_formed() {
    for entry in std::fs::read_dir(root().join("fixtures/traces/valid")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "jsonl") {
            let a = common::analyze_file(&p);
            let events = validate_chrome(&chrome_json(&a));
            assert!(!events.is_empty(), "{}", p.display());
        }
    }
}

/// RFC 4180 reader for the test.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(!quoted && cell.is_empty() && row.is_empty(), "CSV must end with a newline");
    rows
}

#[test]
fn csv_has_one_row_per_spawn_and_parses_back() {
    let a = strace_analysis("spawn_all.log");
    let mut out = Vec::new();
    export(&a, ExportFormat::Csv, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let rows = parse_csv(&text);
    assert_eq!(rows[0], csv::COLUMNS.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(rows.len(), a.spawns.len() + 1);
    let col = |name: &str| csv::COLUMNS.iter().position(|c| *c == name).unwrap();
    for (r, s) in rows[1..].iter().zip(&a.spawns) {
        assert_eq!(r.len(), csv::COLUMNS.len());
        assert_eq!(r[col("child_pid")], s.child_pid.to_string());
        assert_eq!(r[col("style")], s.style.as_str());
        assert_eq!(r[col("code_path")], s.code_path.as_str());
        assert_eq!(r[col("latency_ns")], s.latency_ns.unwrap().to_string());
    }
    let echo = rows.iter().find(|r| r[col("exe")] == "/bin/echo").unwrap();
    assert_eq!(echo[col("failed_attempts")], "1");
    assert_eq!(echo[col("failed_paths")], "/nonexistent/echo");
    assert_eq!(echo[col("flags")], "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID");
    // argv with a newline, quote, backslash and ESC: escaped, then quoted.
    assert_eq!(echo[col("argv")], "echo a\\nb\\tc\"d\\\\e\\x1b[2J\u{fffd}");
    assert!(!text.contains('\x1b'));
    let posix = rows.iter().filter(|r| r[col("code_path")] == "glibc-posix-spawn").count();
    assert_eq!(posix, 2);
}

#[test]
fn csv_of_rust_fallback_shows_parent_memory() {
    let a = common::TraceBuilder::new("h", "2.17", "3.10", 4).rust_fallback(2, 1_000_000, 800_000, 4 << 20).analysis();
    let mut out = Vec::new();
    csv::write(&a, &mut out).unwrap();
    let rows = parse_csv(&String::from_utf8(out).unwrap());
    let col = |name: &str| csv::COLUMNS.iter().position(|c| *c == name).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][col("code_path")], "rust-std-fork-fallback");
    assert_eq!(rows[1][col("rust_socketpair")], "true");
    assert_eq!(rows[1][col("parent_rss_kb")], (4u64 << 20).to_string());
    assert_eq!(rows[1][col("clone_ns")], "800000");
}

#[test]
#[should_panic(expected = "partial overlap")]
fn the_validator_rejects_partly_overlapping_slices() {
    let doc = serde_json::json!({"traceEvents": [
        {"ph": "X", "ts": 0.0, "dur": 10.0, "pid": 1, "tid": 1, "name": "a"},
        {"ph": "X", "ts": 5.0, "dur": 10.0, "pid": 1, "tid": 1, "name": "b"},
    ]});
    validate_chrome(&doc);
}
