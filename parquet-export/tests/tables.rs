//! The Parquet tables read back with the parquet crate's own reader: one row
//! per spawn / exec attempt / process of the analysis, the documented column
//! names in order, host and trace id on every row, files 0600, no symlinks
//! followed. (The DuckDB check against `report -f json` is in the CLI tests,
//! tests/parquet.rs at the repository root.)

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use spawnscope_analyzer::{analyze_path, Analysis, Thresholds};
use spawnscope_parquet::*;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/valid").join(name)
}

fn read(path: &Path) -> (Vec<String>, Vec<RecordBatch>) {
    let b = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let names = b.schema().fields().iter().map(|f| f.name().clone()).collect();
    let batches = b.build().unwrap().collect::<Result<Vec<_>, _>>().unwrap();
    (names, batches)
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

fn strings(batches: &[RecordBatch], col: &str) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        let a = b.column_by_name(col).unwrap().as_string::<i32>();
        out.extend(a.iter().map(|s| s.unwrap_or("").to_string()));
    }
    out
}

fn analyse(name: &str) -> Analysis {
    analyze_path(fixture(name), &Thresholds::default()).unwrap()
}

#[test]
fn every_fixture_exports_one_row_per_spawn_exec_and_process() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    for entry in std::fs::read_dir(fixture("")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        let a = analyze_path(&path, &Thresholds::default()).unwrap();
        let s = export(&a, &path.display().to_string(), dir.path()).unwrap();
        let name = path.display().to_string();
        assert_eq!(s.spawns, a.spawns.len() as u64, "{name}");
        assert_eq!(s.processes, a.processes.len() as u64, "{name}");
        let execs: usize = a.processes.iter().map(|p| p.execs.len()).sum();
        assert_eq!(s.execs, execs as u64, "{name}");
        assert_eq!(s.spawns, a.summary.spawns, "{name}");
        assert_eq!(s.execs, a.summary.exec_attempts, "{name}");

        let frames: usize = a.origins.list.iter().map(|o| o.stack.len()).sum();
        let tables: [(&str, &[&str], usize); 5] = [
            ("spawns", SPAWNS_COLUMNS, a.spawns.len()),
            ("execs", EXECS_COLUMNS, execs),
            ("processes", PROCESSES_COLUMNS, a.processes.len()),
            ("traces", TRACES_COLUMNS, 1),
            ("stacks", STACKS_COLUMNS, frames),
        ];
        for (i, (table, columns, count)) in tables.into_iter().enumerate() {
            let file = &s.files[i];
            assert_eq!(file, &dir.path().join(table).join(format!("{}.parquet", s.trace_id)));
            assert_eq!(std::fs::metadata(file).unwrap().permissions().mode() & 0o777, 0o600, "{}", file.display());
            let (names, batches) = read(file);
            assert_eq!(names, columns.iter().map(|c| c.to_string()).collect::<Vec<_>>(), "{table}");
            assert_eq!(rows(&batches), count, "{name}: {table}");
            let host = a.header.host.hostname.clone().unwrap_or_default();
            assert!(strings(&batches, "host").iter().all(|h| *h == host), "{name}: {table}");
            assert!(strings(&batches, "trace_id").iter().all(|t| *t == s.trace_id), "{name}: {table}");
        }
        n += 1;
    }
    assert!(n >= 20, "only {n} fixtures found");
}

#[test]
fn spawn_rows_carry_the_analysis_values() {
    let a = analyse("path-search.jsonl");
    let dir = tempfile::tempdir().unwrap();
    let s = export(&a, "path-search.jsonl", dir.path()).unwrap();
    let (_, b) = read(&s.files[0]);
    assert_eq!(strings(&b, "code_path"), a.spawns.iter().map(|s| s.code_path.as_str().to_string()).collect::<Vec<_>>());
    assert_eq!(strings(&b, "style"), a.spawns.iter().map(|s| s.style.as_str().to_string()).collect::<Vec<_>>());
    let failed: Vec<u32> = b[0]
        .column_by_name("failed_attempts")
        .unwrap()
        .as_primitive::<arrow_array::types::UInt32Type>()
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    let want: Vec<u32> = a.spawns.iter().map(|s| s.exec.as_ref().map_or(0, |e| e.failed_attempts.len() as u32)).collect();
    assert_eq!(failed, want);
    assert!(want.iter().any(|&f| f > 0), "the fixture has a PATH search");
    let lat = b[0].column_by_name("latency_ns").unwrap().as_primitive::<arrow_array::types::UInt64Type>();
    assert_eq!(lat.iter().collect::<Vec<_>>(), a.spawns.iter().map(|s| s.latency_ns).collect::<Vec<_>>());
    // Exec rows: argv as a list, failed attempts have result != 0.
    let (_, e) = read(&s.files[1]);
    let argv = e[0].column_by_name("argv").unwrap().as_list::<i32>();
    let first = a.processes.iter().flat_map(|p| &p.execs).next().unwrap();
    let got: Vec<String> = argv.value(0).as_string::<i32>().iter().map(|s| s.unwrap().to_string()).collect();
    assert_eq!(got, first.argv);
}

#[test]
fn stacks_are_one_row_per_frame_and_spawns_name_theirs() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/stacks/mixed.jsonl");
    let a = analyze_path(&path, &Thresholds::default()).unwrap();
    assert!(a.origins.list.len() > 1, "the fixture has several stacks");
    let dir = tempfile::tempdir().unwrap();
    let s = export(&a, "mixed.jsonl", dir.path()).unwrap();
    assert_eq!(s.stacks, a.origins.list.len() as u64);
    let (names, b) = read(&s.files[4]);
    assert_eq!(names, STACKS_COLUMNS.iter().map(|c| c.to_string()).collect::<Vec<_>>());
    let want: Vec<String> = a.origins.list.iter().flat_map(|o| o.stack.iter().map(|f| f.function.clone())).collect();
    assert_eq!(s.frames, want.len() as u64);
    assert_eq!(strings(&b, "function"), want);
    assert_eq!(
        strings(&b, "module"),
        a.origins.list.iter().flat_map(|o| o.stack.iter().map(|f| f.module.clone())).collect::<Vec<_>>()
    );
    // One call-site row per stack that has a call site, at its index.
    let u32s = |col: &str| -> Vec<Option<u32>> {
        b.iter()
            .flat_map(|x| {
                x.column_by_name(col).unwrap().as_primitive::<arrow_array::types::UInt32Type>().iter().collect::<Vec<_>>()
            })
            .collect()
    };
    let (ids, frames) = (u32s("stack_id"), u32s("frame"));
    let flags: Vec<bool> = b
        .iter()
        .flat_map(|x| x.column_by_name("is_call_site").unwrap().as_boolean().iter().map(|v| v.unwrap()).collect::<Vec<_>>())
        .collect();
    let sites: Vec<(u32, u32)> = (0..flags.len()).filter(|&i| flags[i]).map(|i| (ids[i].unwrap(), frames[i].unwrap())).collect();
    let want_sites: Vec<(u32, u32)> =
        a.origins.list.iter().enumerate().filter_map(|(id, o)| Some((id as u32, o.call_site_index? as u32))).collect();
    assert!(!want_sites.is_empty());
    assert_eq!(sites, want_sites);
    // The spawns table names each spawn's stack, and its call site.
    let (_, sp) = read(&s.files[0]);
    let stack_ids: Vec<Option<u32>> = sp
        .iter()
        .flat_map(|x| {
            x.column_by_name("stack_id").unwrap().as_primitive::<arrow_array::types::UInt32Type>().iter().collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(stack_ids, a.spawns.iter().map(|s| s.origin).collect::<Vec<_>>());
    assert!(stack_ids.iter().any(Option::is_some));
    let sites = strings(&sp, "call_site");
    let want: Vec<String> = a.spawns.iter().map(|s| a.origins.of(s).map(|o| o.site_label()).unwrap_or_default()).collect();
    assert_eq!(sites, want);
}

#[test]
fn exporting_twice_replaces_and_ids_differ_between_traces() {
    let dir = tempfile::tempdir().unwrap();
    let a = analyse("path-search.jsonl");
    let s1 = export(&a, "x", dir.path()).unwrap();
    let s2 = export(&a, "x", dir.path()).unwrap();
    assert_eq!(s1, s2);
    let b = analyse("go-exec.jsonl");
    assert_ne!(trace_id(&a), trace_id(&b));
    assert_eq!(trace_id(&a).len(), 16);
    export(&b, "y", dir.path()).unwrap();
    assert_eq!(std::fs::read_dir(dir.path().join("spawns")).unwrap().count(), 2);
}

#[test]
fn a_planted_symlink_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let a = analyse("path-search.jsonl");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    std::fs::create_dir(dir.path().join("spawns")).unwrap();
    let link = dir.path().join("spawns").join(format!("{}.parquet", trace_id(&a)));
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let err = export(&a, "x", dir.path()).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: is a symbolic link; spawnscope never writes through a link (remove it or choose another name)",
            link.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
}

/// Every table of a bounded analysis ([`Retention::Stream`], what
/// `export_path` uses: spawns and processes read back from a temporary file)
/// has the same rows as the full analysis', on every fixture trace with
/// and without stacks.
#[test]
fn a_bounded_analysis_exports_the_same_rows_as_a_full_one() {
    use spawnscope_analyzer::{analyze_path_with, Retention};
    let mut n = 0;
    let mut spawns = 0;
    for sub in ["valid", "stacks"] {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces").join(sub);
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "jsonl")) {
            let (full_dir, bounded_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            let full = analyze_path(&path, &Thresholds::default()).unwrap();
            let bounded = analyze_path_with(&path, &Thresholds::default(), Retention::Stream).unwrap();
            let f = export(&full, "t.jsonl", full_dir.path()).unwrap();
            let b = export(&bounded, "t.jsonl", bounded_dir.path()).unwrap();
            let name = path.display();
            assert_eq!((f.spawns, f.execs, f.processes, f.frames), (b.spawns, b.execs, b.processes, b.frames), "{name}");
            for (ff, bf) in f.files.iter().zip(&b.files) {
                let (fb, bb) = (read(ff).1, read(bf).1);
                assert_eq!(fb, bb, "{name}: {}", ff.display());
            }
            // And export_path (bounded) writes the same files as the full export.
            let via_path = tempfile::tempdir().unwrap();
            let p = export_path(&path, via_path.path()).unwrap();
            for (ff, pf) in f.files.iter().zip(&p.files) {
                if !ff.starts_with(full_dir.path().join("traces")) {
                    assert_eq!(read(ff).1, read(pf).1, "{name}: {} via export_path", ff.display());
                }
            }
            spawns += f.spawns;
            n += 1;
        }
    }
    assert!(n >= 25 && spawns > 100, "{n} fixtures, {spawns} spawns");
}
