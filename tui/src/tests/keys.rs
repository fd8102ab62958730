//! Key sequences through the real key mapping, then a snapshot or a check.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::{App, Exit, View};
use crate::test_utils::{render, sample_app};
use crate::{key_action, Action};

fn press(app: &mut App, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\x1b' => KeyCode::Esc,
            '\t' => KeyCode::Tab,
            c => KeyCode::Char(c),
        };
        if let Some(a) = key_action(app, KeyEvent::new(code, KeyModifiers::NONE)) {
            app.update(a);
        }
    }
}

#[test]
fn number_keys_and_tab_switch_views() {
    let mut app = sample_app();
    press(&mut app, "3");
    assert_eq!(app.view, View::Executables);
    press(&mut app, "\t\t");
    assert_eq!(app.view, View::Events);
    press(&mut app, "\t");
    assert_eq!(app.view, View::Overview);
}

#[test]
fn sorting_executables_by_p99() {
    let mut app = sample_app();
    press(&mut app, "3sssss");
    insta::assert_snapshot!(render(&app, 80, 24));
    press(&mut app, "r");
    assert!(!app.exes.descending);
}

#[test]
fn filtering_events() {
    let mut app = sample_app();
    press(&mut app, "/enoent\n");
    assert!(!app.events.editing);
    assert_eq!(app.events.matches.as_ref().map(Vec::len), Some(4));
    insta::assert_snapshot!(render(&app, 80, 24));
    // Typing the filter again from scratch and deleting it shows everything.
    press(&mut app, "\x1b");
    assert!(app.events.matches.is_none());
}

#[test]
fn filter_then_details_of_an_exec() {
    let mut app = sample_app();
    press(&mut app, "/cc --version\njjj\n");
    let d = app.detail.as_ref().expect("detail open");
    assert!(d.title.starts_with("trace line"));
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn collapsing_the_tree() {
    let mut app = sample_app();
    press(&mut app, "4");
    let all = app.tree.rows.len();
    press(&mut app, "h");
    assert_eq!(app.tree.rows.len(), 1, "root collapsed");
    press(&mut app, "l");
    assert_eq!(app.tree.rows.len(), all);
    // Go to the shell (the second to last row) and fold its subshell.
    press(&mut app, "G");
    press(&mut app, "k ");
    assert_eq!(app.tree.rows.len(), all - 1);
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn details_of_the_root_process_and_of_a_spawn() {
    let mut app = sample_app();
    press(&mut app, "4\n");
    let d = app.detail.clone().expect("detail of the root");
    assert_eq!(d.items, vec![crate::app::Subject::Process(0)]);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("process 100 (not spawned by a traced process"), "{screen}");
    press(&mut app, "\x1bjjjjjjjjjjj\n");
    let screen = render(&app, 120, 40);
    assert!(screen.contains("Rust socketpair before      yes"), "{screen}");
    assert!(screen.contains("ENOENT") && screen.contains("/usr/local/sbin/cc"), "{screen}");
    assert!(screen.contains("failed exec attempts        2 in 6.0 µs"), "{screen}");
}

#[test]
fn finding_evidence_steps_through_spawns() {
    let mut app = sample_app();
    // Enter opens the finding, Enter again its evidence.
    press(&mut app, "\n\n");
    let d = app.detail.clone().expect("evidence");
    assert_eq!(d.items.len(), 5, "3 gcc forks and 2 Rust fallback forks");
    press(&mut app, "n");
    assert_eq!(app.detail.as_ref().map(|d| d.pos), Some(1));
    press(&mut app, "\x1b\x1b");
    assert!(app.detail.is_none() && app.finding.is_none());
    press(&mut app, "j\n\n");
    assert_eq!(app.detail.as_ref().map(|d| d.items.len()), Some(2));
}

#[test]
fn pinning_a_latency_group() {
    let mut app = sample_app();
    press(&mut app, "2j ");
    assert!(app.latency.pinned.is_some());
    press(&mut app, "k");
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn help_and_quit() {
    let mut app = sample_app();
    press(&mut app, "?");
    assert!(app.help);
    press(&mut app, "\x1b");
    assert!(!app.help);
    press(&mut app, "q");
    assert_eq!(app.exit, Some(Exit::Quit));
}

#[test]
fn ctrl_c_quits() {
    let mut app = sample_app();
    let a = key_action(&app, KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(a, Some(Action::Interrupt));
    app.update(Action::Interrupt);
    assert_eq!(app.exit, Some(Exit::Quit));
}

#[test]
fn the_tree_computes_children_again_for_a_new_analysis() {
    // Children are cached per analysis (a fold does not group a million
    // children again); a new analysis must not see the old ones.
    use crate::app::{Trace, TreeState};
    let recs = crate::sample::records(1);
    let mut feed = crate::feed::Feed::new(crate::sample::header("laptop", "2.36"));
    for (i, rec) in recs.iter().enumerate() {
        if i == recs.len() / 2 {
            break;
        }
        feed.push(i as u64 + 2, rec);
    }
    let one = Trace::new("a", feed.snapshot());
    for (i, rec) in recs.iter().enumerate().skip(recs.len() / 2) {
        feed.push(i as u64 + 2, rec);
    }
    let two = Trace::new("b", feed.finish());
    let mut tree = TreeState::default();
    tree.rebuild(&one, 10);
    let before = tree.rows.clone();
    tree.rebuild(&two, 10);
    let mut fresh = TreeState::default();
    fresh.rebuild(&two, 10);
    assert_ne!(before, fresh.rows);
    assert_eq!(tree.rows, fresh.rows);
    assert_eq!(tree.groups, fresh.groups);
}
