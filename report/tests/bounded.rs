//! The text and Markdown reports of a bounded-memory analysis
//! (`Retention::Aggregate`, what `spawnscope report` uses for them) are
//! byte-identical to the full analysis' on every checked-in trace.

use spawnscope_analyzer::{analyze_path, analyze_path_with, Retention, Thresholds};
use spawnscope_report::{render, Format, Options};

#[test]
fn text_and_markdown_reports_are_the_same_in_bounded_memory() {
    let t = Thresholds::default();
    let mut n = 0;
    for path in spawnscope_testkit::fixture_traces() {
        let full = analyze_path(&path, &t).unwrap();
        let bounded = analyze_path_with(&path, &t, Retention::Aggregate).unwrap();
        if bounded.aggregate.is_some() {
            n += 1;
        }
        for (format, max_rows) in [(Format::Text, 20), (Format::Markdown, 20), (Format::Text, 2)] {
            let opts = Options { source: Some("t.jsonl".into()), max_rows, ..Options::default() };
            let (f, b) = (render(&full, format, &opts), render(&bounded, format, &opts));
            assert_eq!(f, b, "{} ({format:?}, {max_rows} rows)", path.display());
        }
    }
    assert!(n >= 25, "{n} traces analysed in bounded memory");
}

#[test]
fn the_json_report_is_the_same_with_spawns_streamed_from_disk() {
    let t = Thresholds::default();
    let mut n = 0;
    for path in spawnscope_testkit::fixture_traces() {
        let full = analyze_path(&path, &t).unwrap();
        let streamed = analyze_path_with(&path, &t, Retention::Stream).unwrap();
        if streamed.aggregate.as_ref().is_some_and(|ag| ag.spill.is_some()) {
            assert!(streamed.spawns.is_empty());
            n += 1;
        }
        let opts = Options { source: Some("t.jsonl".into()), ..Options::default() };
        let (f, s) = (render(&full, Format::Json, &opts), render(&streamed, Format::Json, &opts));
        let first = f.lines().zip(s.lines()).position(|(x, y)| x != y);
        assert!(f == s, "{}: line {first:?} differs", path.display());
    }
    assert!(n >= 25, "{n} traces streamed");
}

#[test]
fn the_spawn_list_is_the_same_read_back_from_disk() {
    let t = Thresholds::default();
    for path in spawnscope_testkit::fixture_traces() {
        let full = analyze_path(&path, &t).unwrap();
        let streamed = analyze_path_with(&path, &t, Retention::Stream).unwrap();
        for (format, max_rows) in [(Format::Text, 20), (Format::Markdown, 3), (Format::Text, usize::MAX)] {
            let opts = Options { source: Some("t.jsonl".into()), list_spawns: true, max_rows, ..Options::default() };
            let (f, s) = (render(&full, format, &opts), render(&streamed, format, &opts));
            let first = f.lines().zip(s.lines()).position(|(x, y)| x != y);
            assert!(f == s, "{} ({format:?}, {max_rows} rows): line {first:?} differs", path.display());
        }
    }
}

#[test]
fn diff_is_the_same_in_bounded_memory() {
    let t = Thresholds::default();
    let paths = spawnscope_testkit::fixture_traces();
    let mut compared = 0;
    for pair in paths.windows(2).chain([[paths[0].clone(), paths[paths.len() - 1].clone()]].iter().map(|p| &p[..])) {
        let full: Vec<_> = pair.iter().map(|p| analyze_path(p, &t).unwrap()).collect();
        let bounded: Vec<_> = pair.iter().map(|p| analyze_path_with(p, &t, Retention::Aggregate).unwrap()).collect();
        let labels = ("a.jsonl", "b.jsonl");
        let f = spawnscope_analyzer::diff::diff(&full[0], &full[1], labels);
        let b = spawnscope_analyzer::diff::diff(&bounded[0], &bounded[1], labels);
        let (ft, bt) = (spawnscope_report::diff::render_text(&f), spawnscope_report::diff::render_text(&b));
        let first = ft.lines().zip(bt.lines()).position(|(x, y)| x != y);
        assert!(ft == bt, "{} vs {}: line {first:?} differs", pair[0].display(), pair[1].display());
        assert_eq!(serde_json::to_string(&f).unwrap(), serde_json::to_string(&b).unwrap());
        compared += 1;
    }
    assert!(compared >= 30, "{compared}");
}
