//! Every view at the standard sizes.

use crate::app::View;
use crate::test_utils::{apply, compare_app, render, sample_app};
use crate::Action;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn snap_view(view: View, name: &str, extra: &[Action]) {
    for (w, h) in SIZES {
        let mut app = sample_app();
        apply(&mut app, [Action::Resize(w, h), Action::ShowView(view)]);
        apply(&mut app, extra.iter().cloned());
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(&app, w, h));
    }
}

#[test]
fn overview() {
    snap_view(View::Overview, "overview", &[]);
}

#[test]
fn latency() {
    snap_view(View::Latency, "latency", &[]);
}

#[test]
fn latency_by_code_path() {
    snap_view(View::Latency, "latency_code_path", &[Action::Regroup]);
}

#[test]
fn executables() {
    snap_view(View::Executables, "executables", &[]);
}

#[test]
fn tree() {
    snap_view(View::Tree, "tree", &[]);
}

#[test]
fn events() {
    snap_view(View::Events, "events", &[]);
}

#[test]
fn detail_of_slowest_fork() {
    snap_view(View::Executables, "detail", &[Action::Down, Action::Enter]);
}

#[test]
fn help() {
    snap_view(View::Overview, "help", &[Action::Help]);
}

#[test]
fn compare_overlay() {
    for (w, h) in SIZES {
        let mut app = compare_app();
        apply(&mut app, [Action::Resize(w, h), Action::ShowView(View::Latency)]);
        insta::assert_snapshot!(format!("compare_{w}x{h}"), render(&app, w, h));
    }
}

#[test]
fn nothing_from_the_trace_reaches_the_terminal_raw() {
    // The sample's shell argv holds ESC [2J and an OSC title sequence.
    for view in View::ALL {
        for (w, h) in SIZES {
            let mut app = sample_app();
            apply(&mut app, [Action::Resize(w, h), Action::ShowView(view), Action::End, Action::Enter]);
            let screen = render(&app, w, h);
            assert!(!screen.chars().any(|c| c.is_control() && c != '\n'), "{view:?} {w}x{h}:\n{screen}");
        }
    }
    let mut app = sample_app();
    apply(&mut app, [Action::Resize(120, 40), Action::ShowView(View::Events), Action::FilterStart]);
    apply(&mut app, "printf".chars().map(Action::FilterChar));
    let screen = render(&app, 120, 40);
    assert!(screen.contains(r"\x1b[2J\x1b]0;pwned\x07"), "{screen}");
}

#[test]
fn small_and_resized_terminals_do_not_break() {
    let mut app = sample_app();
    for view in View::ALL {
        apply(&mut app, [Action::ShowView(view), Action::Resize(120, 40), Action::End]);
        render(&app, 120, 40);
        app.update(Action::Resize(80, 24));
        let screen = render(&app, 80, 24);
        assert_eq!(screen.lines().count(), 24);
        for (w, h) in [(20, 5), (1, 1), (200, 3)] {
            app.update(Action::Resize(w, h));
            render(&app, w, h);
        }
    }
}

#[test]
fn events_mode_latencies_are_called_lower_bounds() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/traces/valid/events-mode.jsonl");
    let loaded = crate::load_trace(std::path::Path::new(path)).unwrap();
    let mut app = crate::App::new("events-mode.jsonl", loaded.analysis, loaded.events);
    app.update(Action::ShowView(View::Latency));
    let screen = render(&app, 100, 30);
    assert!(screen.contains("events mode") && screen.contains("lower bounds"), "{screen}");
}

#[test]
fn help_names_every_view_and_its_key() {
    // Regression: the help listed keys 1-5 while Call sites is 6.
    let mut app = sample_app();
    apply(&mut app, [Action::Resize(80, 24), Action::Help]);
    let screen = render(&app, 80, 24);
    let views: String = screen.lines().filter(|l| l.contains("views:")).collect();
    assert!(views.contains("1 2 3") && views.contains("4 5 6"), "{screen}");
    for v in View::ALL {
        assert!(views.contains(v.title()), "{} not in the help:\n{screen}", v.title());
    }
    for key in ["PgUp PgDn ^U ^D", "Home End G", "s  r", "space", "Ctrl-C"] {
        assert!(screen.contains(key), "{key} not in the help:\n{screen}");
    }
}
