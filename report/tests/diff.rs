//! `diff` on pairs of hand-written traces with known differences.

mod common;

use common::TraceBuilder;
use spawnscope_analyzer::diff::diff;
use spawnscope_report::diff::{render_markdown, render_text};

fn laptop() -> TraceBuilder {
    TraceBuilder::new("laptop", "2.35", "5.15.0", 8)
}

fn cluster() -> TraceBuilder {
    TraceBuilder::new("node042", "2.17", "3.10.0", 128)
}

#[test]
fn old_glibc_rust_fallback_from_a_big_parent_is_the_verdict() {
    // A: posix_spawn, 245 µs per spawn. B: the Rust fork fallback from a
    // 5 GiB parent, 2.107 ms per spawn (8.6x), most of it in the clone call.
    let a = laptop().posix_spawn(10, 245_000, 40_000, 0).analysis();
    let b = cluster().rust_fallback(10, 2_107_000, 1_800_000, 5 << 20).analysis();
    let d = diff(&a, &b, ("laptop.jsonl", "cluster.jsonl"));
    assert_eq!(
        d.verdict,
        "B is 8.6x slower per spawn (mean 2.1 ms vs 245 µs); B spawns fork-style 100% of the time (A: 0%) \
         through the Rust std fork+exec fallback (its glibc 2.17 < 2.24) from a parent with up to 5.0 GiB RSS; \
         the hosts differ: glibc 2.17 vs 2.35, kernel 3.10.0 vs 5.15.0, cpus 128 vs 8"
    );
    assert_eq!(d.factors[0].id, "clone");
    assert_eq!(d.factors[0].delta_ns, 1_760_000);
    let share = d.factors[0].share.unwrap();
    assert!((share - 1_760_000.0 / 1_862_000.0).abs() < 1e-9, "{share}");
    let glibc = d.hosts.iter().find(|h| h.fact == "glibc").unwrap();
    assert!(glibc.differs);
    assert_eq!((glibc.a.as_deref(), glibc.b.as_deref()), (Some("2.35"), Some("2.17")));
    let all = &d.latency[0];
    assert_eq!(all.a.as_ref().unwrap().p50, 245_000);
    assert!((all.ratio_p50.unwrap() - 2_107_000.0 / 245_000.0).abs() < 1e-9);
    let rss = d.parent_rss.iter().find(|r| r.name == "parent RSS (max)").unwrap();
    assert_eq!((rss.a, rss.b), (None, Some((5u64 << 30) as f64)));
}

#[test]
fn path_search_ranks_first_when_it_explains_the_difference() {
    let a = laptop().posix_spawn(5, 200_000, 40_000, 0).analysis();
    // B: same path, but 12 failed exec attempts (120 µs) before each success.
    let b = laptop().posix_spawn(5, 320_000, 40_000, 12).analysis();
    let d = diff(&a, &b, ("a", "b"));
    assert_eq!(d.factors[0].id, "path-search");
    assert_eq!(d.factors[0].delta_ns, 120_000);
    assert_eq!(d.factors[0].share, Some(1.0));
    assert!(
        d.verdict.starts_with(
            "B is 1.6x slower per spawn (mean 320 µs vs 200 µs); B makes 12.0 failed exec attempts per spawn (A: 0.0)"
        ),
        "{}",
        d.verdict
    );
    let failed = d.path_search.iter().find(|r| r.name == "failed exec attempts").unwrap();
    assert_eq!((failed.a, failed.b), (Some(0.0), Some(60.0)));
}

#[test]
fn faster_b_and_environment_sizes() {
    let a = laptop().env_bytes(27_750).posix_spawn(4, 400_000, 40_000, 0).analysis();
    let b = laptop().env_bytes(2_000).posix_spawn(4, 200_000, 40_000, 0).analysis();
    let d = diff(&a, &b, ("a", "b"));
    assert!(d.verdict.starts_with("B is 2.0x faster per spawn"), "{}", d.verdict);
    let env = d.env.iter().find(|r| r.name == "bytes (max)").unwrap();
    assert_eq!((env.a, env.b), (Some(27_750.0), Some(2_000.0)));
    // The slower part (the rest, here) is ranked by how much it gained.
    assert_eq!(d.factors[0].id, "rest");
}

#[test]
fn same_traces_are_equal_and_spawn_counts_compared() {
    let a = laptop().posix_spawn(4, 200_000, 40_000, 0).analysis();
    let b = laptop().posix_spawn(8, 200_000, 40_000, 0).analysis();
    let d = diff(&a, &b, ("a", "b"));
    assert_eq!(d.verdict, "B and A spawn about equally fast (mean 200 µs vs 200 µs); B makes 2.0x as many spawns (8 vs 4)");
    assert!(d.hosts.iter().all(|h| !h.differs));
}

#[test]
fn text_markdown_and_json_renderings() {
    let a = laptop().posix_spawn(3, 245_000, 40_000, 0).analysis();
    let b = cluster().rust_fallback(3, 2_107_000, 1_800_000, 5 << 20).analysis();
    let d = diff(&a, &b, ("a.jsonl", "b\x1b[2J.jsonl"));
    let text = render_text(&d);
    assert!(text.contains("Verdict\n  B is 8.6x slower per spawn"), "{text}");
    assert!(text.contains("b\\x1b[2J.jsonl"), "the label must be escaped: {text}");
    assert!(!text.contains('\x1b'));
    assert!(text.lines().all(|l| l.chars().count() <= 100 || l.starts_with("  B is") || l.starts_with("     ")), "{text}");
    let md = render_markdown(&d);
    assert!(md.contains("| glibc | 2.35 | 2.17 | **differs** |"), "{md}");
    assert!(md.contains("**Verdict:** B is 8.6x slower"));
    assert!(md.contains("| part | A | B | B-A | share | why |\n| --- | --: | --: | --: | --: | --- |"), "{md}");
    let json: serde_json::Value = serde_json::to_value(&d).unwrap();
    assert_eq!(json["factors"][0]["id"], "clone");
    assert_eq!(json["b"]["label"], "b\x1b[2J.jsonl");
    assert!(json["verdict"].as_str().unwrap().starts_with("B is 8.6x slower"));
}

#[test]
fn strace_import_against_recording_is_flagged() {
    use spawnscope_strace::{import_paths, ImportOptions};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/strace/rust_spawns.log");
    let t = import_paths(&[path], &ImportOptions::default()).unwrap();
    let bytes = t.write(spawnscope_format::TraceWriter::new(Vec::new())).unwrap();
    let b = spawnscope_analyzer::analyze_reader(&bytes[..], &spawnscope_analyzer::Thresholds::default()).unwrap();
    let a = laptop().posix_spawn(3, 245_000, 40_000, 0).analysis();
    let d = diff(&a, &b, ("a", "b"));
    assert!(d.notes.iter().any(|n| n.contains("A was recorded in seccomp mode and B imported from strace")), "{:?}", d.notes);
    assert!(d.notes.iter().any(|n| n.contains("B's glibc version is unknown")), "{:?}", d.notes);
    let rest = d.factors.iter().find(|f| f.id == "rest").unwrap();
    assert!(rest.b_ns > rest.a_ns);
    assert!(rest.message.ends_with("; B was recorded with strace, which stops every child at every syscall"), "{}", rest.message);
    // Turned around, strace's stops explain why A is the slower side.
    let d = diff(&b, &a, ("b", "a"));
    assert!(d.verdict.contains("faster per spawn"), "{}", d.verdict);
    let rest = d.factors.iter().find(|f| f.id == "rest").unwrap();
    assert!(rest.message.ends_with("; A was recorded with strace, which stops every child at every syscall"), "{}", rest.message);
    // Two imports: no side is singled out.
    let d = diff(&b, &b, ("b", "b"));
    let rest = d.factors.iter().find(|f| f.id == "rest").unwrap();
    assert!(!rest.message.contains("strace"), "{}", rest.message);
}

/// Two real recordings (fixtures/traces/valid/recorded-rss-*.jsonl): the same
/// program spawning from a 1 GiB parent by posix_spawn and by fork.
#[test]
fn recorded_fork_from_a_1gib_parent_against_posix_spawn() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/valid");
    let a = common::analyze_file(&dir.join("recorded-rss-posix.jsonl"));
    let b = common::analyze_file(&dir.join("recorded-rss-fork.jsonl"));
    let d = diff(&a, &b, ("posix", "fork"));
    let ratio = d.latency[0].ratio_mean.unwrap();
    assert!(ratio > 5.0, "{ratio}");
    assert!(d.verdict.starts_with("B is "), "{}", d.verdict);
    assert!(d.verdict.contains("x slower per spawn"), "{}", d.verdict);
    let mut top: Vec<&str> = d.factors[..2].iter().map(|f| f.id).collect();
    top.sort_unstable();
    assert_eq!(top, vec!["clone", "exec"], "{:?}", d.factors);
    let clone = d.factors.iter().find(|f| f.id == "clone").unwrap();
    assert!(clone.message.starts_with("B spawns fork-style 100% of the time (A: 0%)"), "{}", clone.message);
    assert!(clone.message.contains("GiB RSS"), "{}", clone.message);
    let exec = d.factors.iter().find(|f| f.id == "exec").unwrap();
    assert!(exec.message.contains("exec first frees the copy of the parent's address space"), "{}", exec.message);
}
