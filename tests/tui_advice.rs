//! Issue 13 in a real terminal (tmux, 80x24): a finding's advice can be
//! read in full (Enter on a finding opens it, j/PgDn scroll), and the
//! process tree groups repeated children and folds all at once.

use std::path::{Path, PathBuf};

use spawnscope_testkit::Tmux;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tui/tests/data/sample.jsonl");

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("spawnscope")
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

fn view_cmd(trace: &Path) -> String {
    format!("{} view {}; echo EXIT=$?; sleep 60", quote(&bin()), quote(trace))
}

/// The words of `text` that a screen shows whole (a word wider than the
/// pane is cut into pieces).
fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().filter(|w| w.chars().count() < 60).collect()
}

#[test]
fn a_findings_full_advice_at_80x24() {
    let loaded = spawnscope_tui::load_trace(Path::new(SAMPLE)).expect("sample trace");
    let finding = loaded.analysis.findings.first().expect("the sample has findings").clone();
    let Some(t) = Tmux::start("advice", &view_cmd(Path::new(SAMPLE)), 80, 24) else { return };
    t.wait_for("Findings");
    t.keys(&["Enter"]);
    let first = t.wait_until("What to do", |s| s.contains("What to do"));
    assert!(first.contains(&format!("{} {}", finding.id, finding.name)), "{first}");
    assert!(first.contains("Finding 1 of"), "{first}");
    // Page down until the bottom border no longer says there is more; the
    // screens seen hold every word of the message and of the advice.
    let mut seen = first.clone();
    let mut screen = first;
    for _ in 0..20 {
        if !screen.contains("more lines") {
            break;
        }
        t.keys(&["PageDown"]);
        let before = screen.clone();
        screen = t.wait_until("the pane to scroll", |s| *s != before);
        seen.push_str(&screen);
    }
    assert!(!screen.contains("more lines"), "never reached the end:\n{screen}");
    for w in words(&finding.advice).into_iter().chain(words(&finding.message)) {
        assert!(seen.contains(w), "{w:?} of the finding never shown; screens:\n{seen}");
    }
    // Esc closes the pane; the Overview is back.
    t.keys(&["Escape"]);
    t.wait_until("the pane to close and the Overview to be back", |s| !s.contains("What to do") && s.contains("Findings ("));
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}

#[test]
fn the_tree_groups_repeated_children_at_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("large.jsonl");
    let mut buf = Vec::new();
    spawnscope_tui::sample::write_large(&mut buf, 2_000).expect("write trace");
    std::fs::write(&trace, buf).unwrap();
    let Some(t) = Tmux::start("groups", &view_cmd(&trace), 80, 24) else { return };
    t.wait_for("Findings");
    t.keys(&["4"]);
    // The root runs /usr/bin/true 6 times per round, with --step=0..5: one row.
    let s = t.wait_until("the grouped tree", |s| s.contains("× /usr/bin/true …, p50"));
    assert!(s.contains("× /usr/bin/cc --version, p50"), "identical children grouped:\n{s}");
    assert!(!s.contains("--step=1"), "members hidden while the group is closed:\n{s}");
    // Space opens the group (the first child row).
    t.keys(&["j", "Space"]);
    t.wait_for("--step=1");
    // c folds everything: only the root is left.
    t.keys(&["c"]);
    let s = t.wait_until("the folded tree", |s| s.contains("▸ 100 python3 build.py (+"));
    assert!(!s.contains("/usr/bin/true"), "{s}");
    // c again unfolds every node (groups stay closed).
    t.keys(&["c"]);
    t.wait_for("× /usr/bin/true …, p50");
    t.keys(&["?"]);
    t.wait_for("collapse all");
    // Escape alone (ESC q sent together reads as Alt-q).
    t.keys(&["Escape"]);
    t.wait_until("the help to close", |s| !s.contains("collapse all"));
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}
