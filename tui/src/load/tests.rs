//! Loading a trace, whole or behind the first frames.

use super::*;
use crate::sample;

#[test]
fn loads_every_record_and_reports_errors_with_the_path() {
    let dir = std::env::temp_dir().join(format!("spawnscope-tui-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.jsonl");
    let n = sample::write_large(std::fs::File::create(&path).unwrap(), 20_000).unwrap();
    let loaded = load_trace(&path).unwrap();
    assert_eq!(loaded.events.len(), n + 1, "every event and the end line");
    assert!(loaded.analysis.complete);
    assert_eq!(loaded.analysis.spawns.len() as u64, loaded.analysis.summary.spawns);
    // A damaged line in the middle is an error naming file and line.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[9000] = "{\"kind\":\"exec\",";
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let e = load_trace(&bad).unwrap_err().to_string();
    assert!(e.contains("bad.jsonl") && e.contains("line 9001"), "{e}");
    // Compressed traces are read the same way.
    let zst = dir.join("sample.jsonl.zst");
    let mut w = spawnscope_format::FileWriter::create(&zst).unwrap();
    w.write_header(&sample::header("laptop", "2.36")).unwrap();
    for rec in sample::records(1).iter().filter(|r| !matches!(r, Record::End(_))) {
        w.write_record(rec).unwrap();
    }
    w.finish(100_000_000, Some(0)).unwrap();
    let z = load_trace(&zst).unwrap();
    assert_eq!((z.analysis.spawns.len(), z.events.len()), (13, 48));
    let e = load_trace(&dir.join("missing.jsonl")).unwrap_err().to_string();
    assert!(e.contains("missing.jsonl"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_selection_cuts_the_analysis_and_the_events() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sample.jsonl");
    let all = load_trace(&path).unwrap();
    let rows = all.events.len();
    let sel = spawnscope_analyzer::Selection { pid: Some(130), ..Default::default() };
    let part = load_trace(&path).unwrap().select(&sel);
    // pid 130's own spawn (by its parent) is kept, nothing else.
    assert_eq!(part.analysis.spawns.len(), 1);
    assert_eq!(part.analysis.spawns[0].child_pid, 130);
    assert!(part.events.len() < rows);
    let pids: std::collections::HashSet<i32> = part.analysis.processes.iter().map(|p| p.pid).collect();
    assert!(part.events.rows().iter().all(|r| pids.contains(&r.pid) || r.child.is_some_and(|c| pids.contains(&c))));
    assert!(part.events.rows().iter().any(|r| r.pid == 130 && r.kind == "exec"));
    // An empty selection changes nothing.
    let same = load_trace(&path).unwrap().select(&spawnscope_analyzer::Selection::default());
    assert_eq!(same.events.len(), rows);
}

/// A sample trace of `events` events in a temporary directory.
fn big(name: &str, events: usize) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("spawnscope-tui-open-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.jsonl");
    sample::write_large(std::fs::File::create(&path).unwrap(), events).unwrap();
    (dir, path)
}

#[test]
fn a_view_opened_at_once_ends_as_the_whole_load() {
    use crate::app::View;
    use crate::test_utils::{apply, render};
    let (dir, path) = big("same", 30_000);
    let sel = spawnscope_analyzer::Selection::default();
    let mut app = open_progressive(&path, "big.jsonl").unwrap();
    // open_view reads a trace this small before the first frame.
    assert!(open_view(&path, "big.jsonl", &sel).unwrap().loading.is_none());
    // The first frame: the header, and how far the reading is.
    assert!(app.loading.is_some());
    apply(&mut app, [crate::Action::Resize(120, 40)]);
    let first = render(&app, 120, 40);
    assert!(first.contains("reading") && first.contains("the views fill in"), "{first}");
    // Not "cut short": the end line is just not read yet.
    assert!(first.contains("reading…") && !first.contains("INCOMPLETE"), "{first}");
    app.wait_loaded();
    assert!(app.loading.is_none() && app.load_error.is_none() && app.exit.is_none());
    let whole = load_trace(&path).unwrap();
    assert!(app.log.is_indexed() && whole.events.is_indexed());
    assert_eq!(app.log.len(), whole.events.len());
    let mut today = App::new("big.jsonl", whole.analysis, whole.events);
    apply(&mut today, [crate::Action::Resize(120, 40)]);
    assert_eq!(app.trace.analysis.spawns.len(), today.trace.analysis.spawns.len());
    for v in View::ALL {
        apply(&mut app, [crate::Action::ShowView(v)]);
        apply(&mut today, [crate::Action::ShowView(v)]);
        let screen = render(&app, 120, 40);
        assert_eq!(screen, render(&today, 120, 40), "{v:?}");
        assert!(!screen.contains("reading"), "{screen}");
    }
    // Keys and the filter over the index read the file again.
    apply(&mut app, [crate::Action::ShowView(View::Events), crate::Action::FilterStart]);
    apply(&mut today, [crate::Action::ShowView(View::Events), crate::Action::FilterStart]);
    for c in "gcc".chars() {
        app.update(crate::Action::FilterChar(c));
        today.update(crate::Action::FilterChar(c));
    }
    assert!(app.events.matches.as_ref().is_some_and(|m| !m.is_empty()));
    assert_eq!(app.events.matches, today.events.matches);
    assert_eq!(render(&app, 120, 40), render(&today, 120, 40));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_line_found_while_the_view_is_open_ends_it_with_the_error() {
    let (dir, path) = big("bad", 20_000);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[15_000] = "{\"kind\":\"exec\",";
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let mut app = open_progressive(&path, "big.jsonl").unwrap();
    app.wait_loaded();
    let e = app.load_error.as_ref().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("big.jsonl") && e.contains("line 15001"), "{e}");
    assert_eq!(e, load_trace(&path).unwrap_err().to_string());
    assert_eq!(app.exit, Some(crate::Exit::Quit));
    // A cut trace: the same warnings as a whole load, in the finished view.
    let cut = &text[..text.len() - 40];
    std::fs::write(&path, cut).unwrap();
    let mut app = open_progressive(&path, "big.jsonl").unwrap();
    app.wait_loaded();
    assert!(app.load_error.is_none());
    let whole = load_trace(&path).unwrap();
    assert!(!whole.analysis.warnings.is_empty());
    assert_eq!(app.trace.analysis.warnings, whole.analysis.warnings);
    // Errors before the first record are returned at once, as before.
    let e = open_progressive(&dir.join("missing.jsonl"), "m").unwrap_err().to_string();
    assert_eq!(e, load_trace(&dir.join("missing.jsonl")).unwrap_err().to_string());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_filter_on_its_own_thread_finds_what_the_filter_in_place_finds() {
    use crate::app::View;
    use crate::Action;
    let (dir, path) = big("scan", 30_000);
    let sel = spawnscope_analyzer::Selection::default();
    let mut inplace = open_view(&path, "big.jsonl", &sel).unwrap();
    inplace.events.background_from = usize::MAX;
    // Typed one key at a time, waiting for each scan (narrowing), or all at
    // once (each key cuts the running scan short), or while the trace is
    // still read: the same matches in the end.
    let mut waited = open_view(&path, "big.jsonl", &sel).unwrap();
    let mut hurried = open_view(&path, "big.jsonl", &sel).unwrap();
    let mut reading = open_progressive(&path, "big.jsonl").unwrap();
    for app in [&mut waited, &mut hurried, &mut reading] {
        app.events.background_from = 1;
    }
    for app in [&mut inplace, &mut waited, &mut hurried, &mut reading] {
        app.update(Action::ShowView(View::Events));
        app.update(Action::FilterStart);
    }
    for c in "gcc".chars() {
        inplace.update(Action::FilterChar(c));
        assert!(inplace.events.scan.is_none());
        waited.update(Action::FilterChar(c));
        assert!(waited.events.scan.is_some() || waited.events.matches.as_ref().is_some_and(|m| !m.is_empty()));
        waited.wait_filtered();
        assert_eq!(waited.events.matches, inplace.events.matches, "after {c:?}");
        hurried.update(Action::FilterChar(c));
        reading.update(Action::FilterChar(c));
    }
    hurried.wait_filtered();
    reading.wait_loaded();
    reading.wait_filtered();
    let want = inplace.events.matches.clone().unwrap();
    assert!(want.len() > 100);
    assert_eq!(hurried.events.matches.as_ref(), Some(&want));
    assert_eq!(reading.events.matches.as_ref(), Some(&want));
    assert!(!reading.events.stale);
    // Deleting a key filters again from all rows.
    waited.update(Action::FilterBackspace);
    inplace.update(Action::FilterBackspace);
    waited.wait_filtered();
    assert_eq!(waited.events.matches, inplace.events.matches);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn snapshots_stop_at_the_spawn_cap_and_the_end_is_whole() {
    let (dir, path) = big("cap", 30_000);
    // A snapshot after every batch of records, none past 5,000 spawns.
    let pace = progressive::Pace { snapshot_every: std::time::Duration::ZERO, slow_factor: 0, max_spawns: 5_000 };
    let mut app = progressive::open(&path, "big.jsonl".into(), pace, Default::default()).unwrap();
    let loading = app.loading.take().unwrap();
    let (mut snapshots, mut views_at, mut last) = (Vec::new(), None, None);
    for msg in loading.rx {
        match msg {
            LoadMsg::Rows(_, p) => views_at = views_at.or(p.views_at),
            LoadMsg::Snapshot(s) => snapshots.push(s.trace.analysis.spawns.len()),
            LoadMsg::Done(s) => last = Some(s),
            LoadMsg::Failed(e) => panic!("{e}"),
        }
    }
    assert!(snapshots.len() >= 2, "{snapshots:?}");
    assert!(snapshots.iter().all(|&n| n <= 5_000), "{snapshots:?}");
    let views_at = views_at.expect("the views stopped following");
    assert!(views_at > 0 && views_at < 30_000, "{views_at}");
    let whole = load_trace(&path).unwrap();
    let last = last.expect("done");
    assert_eq!(last.trace.analysis.spawns.len(), whole.analysis.spawns.len());
    assert!(whole.analysis.spawns.len() > 5_000);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_selection_on_a_big_trace_opens_at_once_and_ends_as_the_whole_load_cut() {
    use crate::app::View;
    use crate::test_utils::{apply, render};
    let (dir, path) = big("select", 30_000);
    let whole = load_trace(&path).unwrap();
    let t_end = whole.analysis.summary.duration_ns;
    let sel = spawnscope_analyzer::Selection {
        exe: Some("gcc".into()),
        since_ns: Some(t_end / 4),
        until_ns: Some(t_end / 2),
        ..Default::default()
    };
    let cut = whole.select(&sel);
    assert!(!cut.analysis.spawns.is_empty() && !cut.events.is_empty());
    // Opened with the small-trace limit out of the way: read behind the first frame.
    let pace = progressive::Pace { snapshot_every: std::time::Duration::ZERO, slow_factor: 0, max_spawns: usize::MAX };
    let mut app = progressive::open(&path, "big.jsonl".into(), pace, sel.clone()).unwrap();
    assert!(app.loading.is_some(), "the first frame comes before the reading ends");
    // Snapshots while reading are of the selection: never a spawn of another program.
    let loading = app.loading.take().unwrap();
    let (mut last, mut batches) = (None, 0);
    for msg in loading.rx {
        match msg {
            LoadMsg::Rows(rows, _) => batches += usize::from(!rows.is_empty()),
            LoadMsg::Snapshot(s) => {
                assert!(s.trace.analysis.spawns.iter().all(|x| x.exec.as_ref().is_some_and(|e| e.path.contains("gcc"))))
            }
            LoadMsg::Done(s) => last = Some(s),
            LoadMsg::Failed(e) => panic!("{e}"),
        }
    }
    assert_eq!(batches, 1, "the event rows come once, at the end, cut to the selection");
    let last = last.expect("done");
    assert_eq!(last.trace.analysis.spawns, cut.analysis.spawns);
    assert_eq!(last.trace.analysis.summary, cut.analysis.summary);
    // Through the app: the same screens as the whole load cut, events included.
    let mut app = progressive::open(&path, "big.jsonl".into(), progressive::Pace::default(), sel).unwrap();
    app.wait_loaded();
    assert_eq!(app.log.len(), cut.events.len());
    let mut today = App::new("big.jsonl", cut.analysis, cut.events);
    apply(&mut app, [crate::Action::Resize(120, 40)]);
    apply(&mut today, [crate::Action::Resize(120, 40)]);
    for v in View::ALL {
        apply(&mut app, [crate::Action::ShowView(v)]);
        apply(&mut today, [crate::Action::ShowView(v)]);
        assert_eq!(render(&app, 120, 40), render(&today, 120, 40), "{v:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
