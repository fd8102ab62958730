//! `spawnscope export --format parquet`: the tables of several traces loaded
//! together with DuckDB (the Python package) give the counts of `report -f
//! json` for each trace. Without DuckDB the test says "skipped: needs
//! duckdb"; with SPAWNSCOPE_REQUIRE_TOOLS=1 (CI) it fails instead.

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use assert_cmd::Command;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/traces/valid").join(name)
}

fn spawnscope() -> Command {
    Command::cargo_bin("spawnscope").unwrap()
}

/// A Python interpreter that can import duckdb: $SPAWNSCOPE_PYTHON, else
/// python3 as found, else /usr/bin/python3.
fn python_with_duckdb() -> Option<String> {
    let mut candidates: Vec<String> = std::env::var("SPAWNSCOPE_PYTHON").into_iter().collect();
    candidates.extend(["python3".to_string(), "/usr/bin/python3".to_string()]);
    candidates.into_iter().find(|py| Std::new(py).args(["-c", "import duckdb"]).output().is_ok_and(|o| o.status.success()))
}

fn require_python() -> Option<String> {
    let py = python_with_duckdb();
    if py.is_none() {
        if std::env::var("SPAWNSCOPE_REQUIRE_TOOLS").is_ok_and(|v| v == "1") {
            panic!("needs duckdb (pip install duckdb), and SPAWNSCOPE_REQUIRE_TOOLS=1");
        }
        eprintln!("skipped: needs duckdb (pip install duckdb)");
    }
    py
}

fn export(trace: &Path, dir: &Path) -> String {
    let out = spawnscope().arg("export").arg(trace).args(["--format", "parquet", "-o"]).arg(dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8(out.stderr).unwrap();
    // "... (trace id 0123456789abcdef) under DIR"
    let id = stderr.split("trace id ").nth(1).and_then(|s| s.get(..16)).unwrap_or_default().to_string();
    assert_eq!(id.len(), 16, "{stderr}");
    id
}

fn report_json(trace: &Path) -> Value {
    let out = spawnscope().arg("report").arg(trace).args(["-f", "json"]).output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn duckdb_reads_every_table_of_a_job_and_counts_match_report() {
    let Some(py) = require_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let traces = [fixture("path-search.jsonl"), fixture("recorded-bash-loop.jsonl"), fixture("rust-fork-fallback.jsonl")];
    let ids: Vec<String> = traces.iter().map(|t| export(t, dir.path())).collect();
    let script = r#"
import duckdb, json, sys
d = sys.argv[1]
out = {}
for table in ["spawns", "execs", "processes", "traces"]:
    rows = duckdb.sql(f"SELECT trace_id, any_value(host), count(*) FROM read_parquet('{d}/{table}/*.parquet') GROUP BY trace_id").fetchall()
    for tid, host, n in rows:
        out.setdefault(tid, {"host": host})[table] = n
failed = duckdb.sql(f"SELECT trace_id, count(*) FROM read_parquet('{d}/execs/*.parquet') WHERE NOT success GROUP BY trace_id").fetchall()
for tid, n in failed:
    out[tid]["failed_execs"] = n
styles = duckdb.sql(f"SELECT trace_id, style, count(*) FROM read_parquet('{d}/spawns/*.parquet') GROUP BY ALL").fetchall()
for tid, style, n in styles:
    out[tid].setdefault("styles", {})[style] = n
print(json.dumps(out))
"#;
    let out = Std::new(&py).args(["-c", script]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got.as_object().unwrap().len(), 3, "{got}");
    for (trace, id) in traces.iter().zip(&ids) {
        let r = report_json(trace);
        let s = &r["summary"];
        let g = &got[id.as_str()];
        let name = trace.display();
        assert_eq!(g["spawns"].as_u64().unwrap_or(0), s["spawns"].as_u64().unwrap(), "{name}: {g}");
        assert_eq!(g["execs"].as_u64().unwrap_or(0), s["exec_attempts"].as_u64().unwrap(), "{name}: {g}");
        assert_eq!(g["processes"].as_u64().unwrap_or(0), s["processes"].as_u64().unwrap(), "{name}: {g}");
        assert_eq!(g["failed_execs"].as_u64().unwrap_or(0), s["failed_exec_attempts"].as_u64().unwrap(), "{name}: {g}");
        assert_eq!(g["traces"], 1);
        let header: Value = serde_json::from_str(std::fs::read_to_string(trace).unwrap().lines().next().unwrap()).unwrap();
        assert_eq!(g["host"].as_str(), header["host"]["hostname"].as_str(), "{name}");
        for (style, n) in s["styles"].as_object().unwrap() {
            assert_eq!(g["styles"][style].as_u64().unwrap_or(0), n.as_u64().unwrap(), "{name}: {style}");
        }
    }
    // Something to count: the fixtures are not empty.
    assert!(got.as_object().unwrap().values().all(|g| g["spawns"].as_u64().unwrap_or(0) > 0), "{got}");
}

#[test]
fn parquet_needs_an_output_directory() {
    let out = spawnscope().arg("export").arg(fixture("path-search.jsonl")).args(["--format", "parquet"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("-o DIR"), "{stderr}");
}

#[test]
fn a_bad_trace_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/traces/invalid/malformed-middle.jsonl");
    let out = spawnscope().arg("export").arg(&bad).args(["--format", "parquet", "-o"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("line 3: malformed event"), "{stderr}");
}

#[test]
fn duckdb_joins_recorded_spawns_to_their_stacks() {
    let Some(py) = require_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("stacks.jsonl");
    let bin = assert_cmd::cargo::cargo_bin("spawnscope");
    let mut rec = Std::new(&bin);
    rec.args(["record", "-q", "--stacks", "on", "-o"]).arg(&trace);
    rec.arg("--").arg(&bin).args(["lab", "--method", "posix-spawn", "--count", "3"]);
    let out = spawnscope_testkit::output_with_timeout(&mut rec, std::time::Duration::from_secs(120));
    assert!(out.status.success(), "record: {}", String::from_utf8_lossy(&out.stderr));
    // What the trace itself says: the spawns (not threads) with a stack, and their distinct stacks.
    let text = std::fs::read_to_string(&trace).unwrap();
    let spawn_stacks: Vec<u64> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["kind"] == "spawn" && v["thread"] == false)
        .filter_map(|v| v["stack_id"].as_u64())
        .collect();
    let distinct: std::collections::BTreeSet<u64> = spawn_stacks.iter().copied().collect();
    assert!(spawn_stacks.len() >= 3, "3 spawns with stacks recorded:\n{text}");
    let out_dir = dir.path().join("tables");
    export(&trace, &out_dir);
    let script = r#"
import duckdb, json, sys
d = sys.argv[1]
q = lambda sql: duckdb.sql(sql.replace("@SP", f"read_parquet('{d}/spawns/*.parquet')").replace("@ST", f"read_parquet('{d}/stacks/*.parquet')")).fetchall()
out = {
    "with_stack": q("SELECT count(*) FROM @SP WHERE stack_id IS NOT NULL")[0][0],
    "joined": q("SELECT count(*) FROM @SP s JOIN @ST k ON s.trace_id = k.trace_id AND s.stack_id = k.stack_id WHERE k.frame = 0")[0][0],
    "stacks": q("SELECT count(DISTINCT stack_id) FROM @ST")[0][0],
    "gaps": q("SELECT count(*) FROM (SELECT stack_id, count(*) AS n, max(frame) AS m FROM @ST GROUP BY stack_id) WHERE n <> m + 1")[0][0],
    "sites": q("SELECT count(*) FROM @SP s JOIN @ST k USING (trace_id, stack_id) WHERE k.is_call_site AND k.function <> '??'")[0][0],
    "hosts": q("SELECT count(DISTINCT host) FROM @ST")[0][0],
}
print(json.dumps(out))
"#;
    let out = Std::new(&py).args(["-c", script]).arg(&out_dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let n = spawn_stacks.len() as u64;
    assert_eq!(got["with_stack"], n, "{got}");
    assert_eq!(got["joined"], n, "every spawn's stack has a frame 0: {got}");
    assert_eq!(got["stacks"], distinct.len() as u64, "{got}");
    assert_eq!(got["gaps"], 0, "frames numbered 0..n per stack: {got}");
    assert_eq!(got["hosts"], 1, "{got}");
    // lab's own Rust code called posix_spawn: each spawn has a named call site.
    assert_eq!(got["sites"], n, "{got}");
}
