//! Issue 13: a finding's advice in full (the finding pane), a tree that
//! groups repeated children and folds all at once, and nothing decisive cut
//! at 80x24.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::{App, View};
use crate::eventlog::EventLog;
use crate::feed::Feed;
use crate::test_utils::{apply, render, sample_analysis, sample_app};
use crate::{key_action, sample, Action};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn press(app: &mut App, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\x1b' => KeyCode::Esc,
            c => KeyCode::Char(c),
        };
        if let Some(a) = key_action(app, KeyEvent::new(code, KeyModifiers::NONE)) {
            app.update(a);
        }
    }
}

/// The sample with a finding whose advice is far longer than the Overview
/// has room for (its last words are `LAST-WORDS`).
fn long_advice_app() -> App {
    let (mut a, log) = sample_analysis(1, "2.36");
    let mut advice = String::from("Spawn with posix_spawn (vfork-style): its cost does not grow with the parent's memory.");
    for i in 1..=30 {
        advice.push_str(&format!(" Step {i}: check the spawning code for pre_exec hooks, uid/gid changes and cwd changes."));
    }
    advice.push_str(" LAST-WORDS");
    a.findings[0].advice = advice;
    a.findings[0].savings_ns = Some(75_000_000);
    a.findings[0].numbers.insert("rss_bytes".into(), 1_073_741_824.0);
    a.findings[0].numbers.insert("savings_share".into(), 0.8523);
    App::new("build.jsonl", a, log)
}

#[test]
fn finding_pane_screens() {
    for (w, h) in SIZES {
        let mut app = sample_app();
        apply(&mut app, [Action::Resize(w, h), Action::Enter]);
        assert!(app.finding.is_some() && app.detail.is_none());
        insta::assert_snapshot!(format!("finding_{w}x{h}"), render(&app, w, h));
    }
}

#[test]
fn finding_pane_scrolls_to_the_end_of_long_advice() {
    let mut app = long_advice_app();
    apply(&mut app, [Action::Resize(80, 24)]);
    press(&mut app, "\n");
    let top = render(&app, 80, 24);
    assert!(top.contains("What to do") && top.contains("more lines (j/PgDn)"), "{top}");
    assert!(!top.contains("LAST-WORDS"), "{top}");
    insta::assert_snapshot!("finding_long_80x24_top", top);
    // j scrolls a line, PgDn a page; the end stops at the last line.
    press(&mut app, "j");
    assert_eq!(app.finding.map(|p| p.scroll), Some(1));
    app.update(Action::PageDown);
    app.update(Action::PageDown);
    app.update(Action::PageDown);
    let bottom = render(&app, 80, 24);
    assert!(bottom.contains("LAST-WORDS") && bottom.contains("Numbers"), "{bottom}");
    assert!(bottom.contains("1,073,741,824") && bottom.contains("0.8523"), "{bottom}");
    assert!(!bottom.contains("more lines"), "{bottom}");
    let at_end = app.finding.map(|p| p.scroll);
    press(&mut app, "j");
    assert_eq!(app.finding.map(|p| p.scroll), at_end, "no scrolling past the end");
    insta::assert_snapshot!("finding_long_80x24_bottom", bottom);
    app.update(Action::PageUp);
    app.update(Action::Home);
    assert_eq!(app.finding.map(|p| p.scroll), Some(0));
}

#[test]
fn finding_pane_keys() {
    let mut app = sample_app();
    press(&mut app, "\n");
    assert_eq!(app.finding.map(|p| p.index), Some(0));
    let s = render(&app, 80, 24);
    assert!(s.contains("Finding 1 of 2") && s.contains("What to do") && s.contains("Evidence: 5 spawns"), "{s}");
    // n / p: the next and previous finding, the list follows.
    press(&mut app, "n");
    assert_eq!(app.finding.map(|p| p.index), Some(1));
    assert_eq!(app.findings.selected, 1);
    press(&mut app, "p");
    assert_eq!(app.finding.map(|p| p.index), Some(0));
    // Enter: the evidence one spawn at a time, over the pane; Esc goes back
    // to the pane, Esc again to the list.
    press(&mut app, "\n");
    assert_eq!(app.detail.as_ref().map(|d| d.items.len()), Some(5));
    press(&mut app, "\x1b");
    assert!(app.detail.is_none() && app.finding.is_some());
    press(&mut app, "\x1b");
    assert!(app.finding.is_none());
    assert_eq!(app.view, View::Overview);
    // Another view closes it.
    press(&mut app, "\n3");
    assert!(app.finding.is_none());
}

#[test]
fn findings_without_evidence_or_savings_say_so() {
    let (mut a, log) = sample_analysis(1, "2.36");
    a.findings[1].evidence.clear();
    let mut app = App::new("build.jsonl", a, log);
    press(&mut app, "j\n");
    let s = render(&app, 120, 40);
    assert!(s.contains("no single spawns") && s.contains("No sound estimate"), "{s}");
    // Enter with no evidence opens nothing.
    press(&mut app, "\n");
    assert!(app.detail.is_none());
}

/// The sample's spawns repeated (`events` events): the root runs
/// `/usr/bin/true --step=N` 6 times a round, `cc --version` twice, ...
fn large_app(events: usize) -> App {
    let mut buf = Vec::new();
    sample::write_large(&mut buf, events).expect("write");
    let (header, recs, _) = spawnscope_format::read_all(&buf[..]).expect("read");
    let mut feed = Feed::new(header);
    let mut log = EventLog::default();
    for (i, r) in recs.into_iter().enumerate() {
        log.push(i as u64 + 2, &r);
        feed.push_owned(i as u64 + 2, r);
    }
    App::new("large.jsonl", feed.finish(), log)
}

#[test]
fn grouped_tree_screens() {
    for (w, h) in SIZES {
        let mut app = large_app(1_000);
        apply(&mut app, [Action::Resize(w, h), Action::ShowView(View::Tree)]);
        let s = render(&app, w, h);
        assert!(s.contains("× /usr/bin/true …, p50"), "{s}");
        insta::assert_snapshot!(format!("tree_grouped_{w}x{h}"), s);
    }
}

#[test]
fn groups_open_and_fold_like_nodes() {
    let mut app = large_app(1_000);
    press(&mut app, "4");
    let rows = app.tree.rows.len();
    let trues = app.analysis_count("/usr/bin/true");
    assert!(trues >= crate::app::MIN_SAME_PROGRAM, "{trues}");
    // The first child row is the group of `true`s.
    press(&mut app, "j");
    let row = app.tree.selected().expect("row");
    let g = app.tree.group(&row).expect("a group row").clone();
    assert_eq!(g.members.len(), trues);
    assert_eq!(g.argv, None, "--step=N differs");
    // Enter: its spawns, slowest first.
    press(&mut app, "\n");
    assert_eq!(app.detail.as_ref().map(|d| d.items.len()), Some(trues));
    press(&mut app, "\x1b");
    // l opens it, h on a member goes back to the group row, h folds it.
    press(&mut app, "l");
    assert_eq!(app.tree.rows.len(), rows + trues);
    press(&mut app, "jj");
    assert_eq!(app.tree.selected().and_then(|r| r.in_group), row.group);
    press(&mut app, "h");
    assert_eq!(app.tree.selected().and_then(|r| r.group), row.group);
    press(&mut app, "h");
    assert_eq!(app.tree.rows.len(), rows);
    // Space toggles it.
    press(&mut app, " ");
    assert_eq!(app.tree.rows.len(), rows + trues);
    let s = render(&app, 80, 24);
    assert!(s.contains("--step=0") && s.contains("▾ "), "{s}");
    // Identical children (`cc --version`, same arguments) are one group too.
    let cc = app.tree.groups.iter().find(|g| g.program == "/usr/bin/cc").expect("cc group");
    assert_eq!(cc.argv.as_deref(), Some(&["cc".to_string(), "--version".to_string()][..]));
}

#[test]
fn collapse_all_and_expand_all() {
    let mut app = large_app(1_000);
    press(&mut app, "4");
    let rows = app.tree.rows.len();
    press(&mut app, "G");
    press(&mut app, "c");
    assert_eq!(app.tree.rows.len(), 1, "only the root");
    assert_eq!(app.tree.scroll.selected, 0);
    let s = render(&app, 80, 24);
    assert!(s.contains("▸ 100 python3 build.py (+"), "{s}");
    press(&mut app, "c");
    assert!(app.tree.rows.len() >= rows, "everything expanded again");
    // Help names the key.
    press(&mut app, "?");
    assert!(render(&app, 80, 24).contains("collapse all"));
}

#[test]
fn small_groups_are_not_grouped() {
    // The sample: 6 `true`s with different arguments, 3 `gcc`s, 2 `cc`s:
    // every process keeps its row.
    let mut app = sample_app();
    press(&mut app, "4");
    assert!(app.tree.groups.is_empty());
    assert_eq!(app.tree.rows.len(), app.trace.analysis.processes.len());
}

#[test]
fn glibc_and_counts_are_never_cut_at_80x24() {
    let (mut a, log) = sample_analysis(1, "2.17");
    a.header.host.kernel_release = Some("6.18.0-0.deb13.3-cloud-amd64-with-a-long-suffix".into());
    a.summary.spawns = 1_234_567;
    a.summary.processes = 1_234_568;
    a.summary.threads = 12_345;
    let app = App::new("build.jsonl", a, log);
    let s = render(&app, 80, 24);
    assert!(s.contains("glibc   2.17"), "{s}");
    assert!(s.contains("1,234,567") && s.contains("1,234,568") && s.contains("12,345"), "{s}");
}

impl App {
    /// Processes of the trace that ran `program`.
    fn analysis_count(&self, program: &str) -> usize {
        self.trace.analysis.processes.iter().filter(|p| p.execs.iter().any(|x| x.result == 0 && x.path == program)).count()
    }
}

#[test]
fn a_finding_names_its_call_sites_when_the_trace_has_stacks() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/traces/stacks/mixed.jsonl");
    let loaded = crate::load_trace(std::path::Path::new(path)).expect("stacks fixture");
    let mut app = App::new("mixed.jsonl", loaded.analysis, loaded.events);
    let i = app.trace.analysis.findings.iter().position(|f| !f.evidence.is_empty()).expect("a finding with evidence");
    let want = spawnscope_analyzer::origin::describe_sites(&app.trace.analysis, &app.trace.analysis.findings[i].evidence, 8)
        .expect("call sites");
    let first = want.split("; ").next().unwrap_or_default().to_string();
    for _ in 0..i {
        press(&mut app, "j");
    }
    press(&mut app, "\n");
    let s = render(&app, 120, 40);
    assert!(s.contains("Call sites"), "{s}");
    assert!(s.contains(&first), "{first:?} not shown:\n{s}");
}
