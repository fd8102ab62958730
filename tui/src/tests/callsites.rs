//! The Call sites view and the stack in the spawn detail pane (issue 10), on
//! the hand-made trace with stacks in fixtures/traces/stacks.

use crate::app::View;
use crate::test_utils::{apply, render};
use crate::{Action, App};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn stacks_app() -> App {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/traces/stacks/mixed.jsonl");
    let loaded = crate::load_trace(std::path::Path::new(path)).unwrap();
    App::new("mixed.jsonl", loaded.analysis, loaded.events)
}

#[test]
fn call_sites_view() {
    for (w, h) in SIZES {
        let mut app = stacks_app();
        apply(&mut app, [Action::Resize(w, h), Action::ShowView(View::CallSites)]);
        insta::assert_snapshot!(format!("callsites_{w}x{h}"), render(&app, w, h));
    }
}

#[test]
fn enter_lists_the_spawns_of_a_call_site_with_their_stack() {
    for (w, h) in SIZES {
        let mut app = stacks_app();
        // Sorted by spawns: jobs::run (3) first, spawn_restricted (2) second.
        apply(&mut app, [Action::Resize(w, h), Action::ShowView(View::CallSites), Action::Down, Action::Enter]);
        let d = app.detail.as_ref().expect("Enter opens the call site's spawns");
        assert_eq!(d.items.len(), 2);
        assert!(d.title.contains("myapp::sandbox::spawn_restricted"), "{}", d.title);
        // Scroll down to the stack.
        apply(&mut app, std::iter::repeat_n(Action::Down, if h < 30 { 16 } else { 0 }));
        insta::assert_snapshot!(format!("callsites_detail_{w}x{h}"), render(&app, w, h));
    }
}

#[test]
fn sorting_and_the_tab() {
    let mut app = stacks_app();
    apply(&mut app, [Action::Resize(120, 40), Action::ShowView(View::CallSites)]);
    let first = |app: &App| app.sites.selected().map(|s| s.label.clone()).unwrap();
    assert_eq!(first(&app), "myapp::jobs::run (src/jobs.rs:42)");
    // s: by total latency; r: smallest first.
    apply(&mut app, [Action::Sort, Action::Reverse, Action::Home]);
    assert_eq!(app.sites.sort.label(), "total latency");
    assert_ne!(first(&app), "myapp::jobs::run (src/jobs.rs:42)");
    assert!(render(&app, 120, 40).lines().next().unwrap().contains("6 Call sites"));
    // A trace without stacks: no tab, and the view says why.
    let mut plain = crate::test_utils::sample_app();
    apply(&mut plain, [Action::Resize(120, 40)]);
    assert!(!render(&plain, 120, 40).lines().next().unwrap().contains("Call sites"));
    apply(&mut plain, [Action::ShowView(View::CallSites)]);
    let screen = render(&plain, 120, 40);
    assert!(screen.contains("no call stacks"), "{screen}");
}
