//! Many traces read together (`spawnscope_analyzer::many`): merged totals are
//! the exact sums of the single analyses, traces group by host, one bad file
//! is skipped with its own error and the rest still count.

use std::path::{Path, PathBuf};

use spawnscope_analyzer::many::{analyze_many, trace_files, Merged, Options};
use spawnscope_analyzer::{analyze_path, Thresholds};

fn valid() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/valid")
}

fn invalid(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/invalid").join(name)
}

/// A fresh directory under the system's temp dir, removed on drop (the
/// analyzer has no tempfile dependency).
struct TempDir(PathBuf);
impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("spawnscope-many-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fixtures() -> Vec<PathBuf> {
    let (files, skipped) = trace_files(&[valid()]);
    assert!(skipped.is_empty());
    files
}

/// Sums of the single analyses, the way a merge must give them.
fn expected(files: &[PathBuf]) -> Merged {
    let mut m = Merged::default();
    for f in files {
        m.merge(&Merged::of(&analyze_path(f, &Thresholds::default()).unwrap()));
    }
    m
}

#[test]
fn a_directory_merges_to_the_sums_of_its_traces() {
    let files = fixtures();
    assert!(files.len() >= 20);
    let m = analyze_many(&[valid()], &Thresholds::default(), &Options { jobs: 2, ..Default::default() });
    assert!(m.skipped.is_empty(), "{:?}", m.skipped);
    let want = expected(&files);
    assert_eq!(m.total, want);
    assert_eq!(m.total.traces, files.len() as u64);
    // Spot-check against the analyses' own summaries.
    let mut spawns = 0;
    let mut failed = 0;
    for f in &files {
        let a = analyze_path(f, &Thresholds::default()).unwrap();
        spawns += a.summary.spawns;
        failed += a.summary.failed_exec_attempts;
    }
    assert_eq!((m.total.spawns, m.total.failed_exec_attempts), (spawns, failed));
    assert_eq!(m.total.latency.count, m.total.histogram.count());
    // Hosts: the fixtures were recorded on three machines.
    let hosts: Vec<&str> = m.hosts.iter().map(|h| h.host.as_str()).collect();
    assert_eq!(hosts, ["laptop", "node042", "vm"]);
    let per_host: u64 = m.hosts.iter().map(|h| h.merged.spawns).sum();
    assert_eq!(per_host, m.total.spawns);
    for h in &m.hosts {
        assert!(h.traces.iter().all(|t| t.host == h.host));
        assert_eq!(h.merged.traces, h.traces.len() as u64);
    }
}

#[test]
fn one_job_or_several_give_the_same_result() {
    let one = analyze_many(&[valid()], &Thresholds::default(), &Options { jobs: 1, ..Default::default() });
    let four = analyze_many(&[valid()], &Thresholds::default(), &Options { jobs: 4, ..Default::default() });
    assert_eq!(one.total, four.total);
    assert_eq!(
        one.hosts.iter().map(|h| (&h.host, &h.merged)).collect::<Vec<_>>(),
        four.hosts.iter().map(|h| (&h.host, &h.merged)).collect::<Vec<_>>()
    );
}

#[test]
fn a_corrupt_file_is_skipped_with_its_error_and_the_rest_still_report() {
    let dir = TempDir::new("corrupt");
    let good = [valid().join("path-search.jsonl"), valid().join("go-exec.jsonl")];
    for g in &good {
        std::fs::copy(g, dir.path().join(g.file_name().unwrap())).unwrap();
    }
    std::fs::copy(invalid("malformed-middle.jsonl"), dir.path().join("bad.jsonl")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a trace name: ignored").unwrap();
    let missing = dir.path().join("missing.jsonl");
    let empty_dir = dir.path().join("empty");
    std::fs::create_dir(&empty_dir).unwrap();
    let m = analyze_many(
        &[dir.path().to_path_buf(), missing.clone(), empty_dir.clone(), invalid("future-version.jsonl")],
        &Thresholds::default(),
        &Options::default(),
    );
    assert_eq!(m.total.traces, 2);
    assert_eq!(m.total, expected(&good));
    let skipped: Vec<(&Path, &str)> = m.skipped.iter().map(|s| (s.path.as_path(), s.error.as_str())).collect();
    assert_eq!(skipped.len(), 4, "{skipped:?}");
    // Directory problems first (found while listing), then files in input order.
    assert_eq!(skipped[0].0, empty_dir);
    assert!(skipped[0].1.ends_with("no trace files (*.jsonl, *.jsonl.zst) in this directory"), "{}", skipped[0].1);
    assert_eq!(skipped[1].0, dir.path().join("bad.jsonl"));
    assert!(
        skipped[1].1.starts_with(&format!("{}: line 3: malformed event: ", dir.path().join("bad.jsonl").display())),
        "{}",
        skipped[1].1
    );
    assert_eq!(skipped[2].0, missing);
    assert!(skipped[2].1.contains("No such file or directory"), "{}", skipped[2].1);
    assert_eq!(skipped[3].0, invalid("future-version.jsonl"));
    assert!(skipped[3].1.contains("newer than this spawnscope reads"), "{}", skipped[3].1);
}

#[test]
fn nothing_readable_is_an_empty_result_not_a_panic() {
    let m = analyze_many(&[invalid("garbage.bin"), invalid("empty.jsonl")], &Thresholds::default(), &Options::default());
    assert_eq!(m.total.traces, 0);
    assert!(m.hosts.is_empty());
    assert_eq!(m.skipped.len(), 2);
    assert!(m.skipped[1].error.ends_with("empty file: not a spawnscope trace"), "{}", m.skipped[1].error);
}

#[test]
fn a_selection_applies_to_every_trace() {
    use spawnscope_analyzer::Selection;
    let files = fixtures();
    let sel = Selection { exe: Some("cc".into()), ..Selection::default() };
    let m = analyze_many(&[valid()], &Thresholds::default(), &Options { selection: Some(sel.clone()), ..Default::default() });
    let mut want = Merged::default();
    for f in &files {
        want.merge(&Merged::of(&sel.apply(&analyze_path(f, &Thresholds::default()).unwrap())));
    }
    assert_eq!(m.total, want);
    let all = analyze_many(&[valid()], &Thresholds::default(), &Options::default());
    assert!(0 < m.total.spawns && m.total.spawns < all.total.spawns, "{} of {}", m.total.spawns, all.total.spawns);
}

#[test]
fn call_sites_of_traces_with_stacks_add_up_by_label() {
    let stacks = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/stacks");
    let files: Vec<PathBuf> = ["mixed.jsonl", "fallback.jsonl"].iter().map(|n| stacks.join(n)).collect();
    // The mixed trace twice (two nodes that ran the same program) and the fallback one.
    let inputs = [files[0].clone(), files[0].clone(), files[1].clone()];
    let m = analyze_many(&inputs, &Thresholds::default(), &Options::default());
    assert!(m.skipped.is_empty());
    let mut want: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    for f in &inputs {
        let a = analyze_path(f, &Thresholds::default()).unwrap();
        for s in spawnscope_analyzer::origin::call_sites(&a) {
            let e = want.entry(s.label).or_default();
            e.0 += s.count;
            e.1 += s.total_latency_ns;
        }
    }
    let got: std::collections::BTreeMap<String, (u64, u64)> =
        m.total.call_sites.iter().map(|(k, s)| (k.clone(), (s.count, s.total_latency_ns))).collect();
    assert_eq!(got, want);
    assert!(got.keys().any(|k| k.contains("myapp::jobs::run")), "{got:?}");
    let total: u64 = m.total.call_sites.values().map(|s| s.count).sum();
    assert_eq!(total, m.total.spawns, "every spawn is in one call site row");
    // A site's code paths and APIs add up to its spawns too.
    for s in m.total.call_sites.values() {
        assert_eq!(s.code_paths.values().sum::<u64>(), s.count);
        assert_eq!(s.latency.count, s.histogram.count());
    }
    // Traces without stacks have none.
    let plain = analyze_many(&[valid()], &Thresholds::default(), &Options::default());
    assert!(plain.total.call_sites.is_empty());
}
