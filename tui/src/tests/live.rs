//! Live mode: records arriving, snapshots on ticks, the quit question, the end.

use std::collections::VecDeque;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use spawnscope_format::Record;

use crate::app::{App, Exit, LiveInfo, LiveStatus, View};
use crate::run::{run_loop, Input, InputSource};
use crate::test_utils::{apply, render, screen_text};
use crate::{sample, Action, TuiError};

fn live_app() -> App {
    App::live(LiveInfo {
        command: vec!["python3".into(), "build.py".into()],
        output: Some("/tmp/build.jsonl.out".into()),
        trace: Some("/tmp/build.jsonl".into()),
        attached: false,
    })
}

/// The sample's records as the recorder would send them (header first).
fn batch(from: usize, to: usize) -> Action {
    let mut all = vec![Record::Header(sample::header("laptop", "2.36"))];
    all.extend(sample::records(1));
    Action::Records(all.into_iter().enumerate().map(|(i, r)| (i as u64 + 1, r)).skip(from).take(to - from).collect())
}

#[test]
fn records_show_up_at_the_next_tick() {
    let mut app = live_app();
    apply(&mut app, [Action::Started(100), batch(0, 20)]);
    assert_eq!(app.trace.analysis.spawns.len(), 0, "no snapshot before the tick");
    assert_eq!(app.log.len(), 19, "the event list grows at once");
    apply(&mut app, [Action::Tick, Action::ShowView(View::Tree)]);
    assert_eq!(app.trace.analysis.spawns.len(), 6);
    insta::assert_snapshot!("live_running", render(&app, 80, 24));
}

#[test]
fn events_view_follows_new_records() {
    let mut app = live_app();
    apply(&mut app, [Action::ShowView(View::Events), batch(0, 10)]);
    assert_eq!(app.events.scroll.selected, app.log.len() - 1);
    app.update(batch(10, 30));
    assert_eq!(app.events.scroll.selected, app.log.len() - 1);
    // Once the user moves up, the selection stays put.
    apply(&mut app, [Action::Up, Action::Up, batch(30, 40)]);
    assert_eq!(app.events.scroll.selected, 26);
}

#[test]
fn quitting_while_the_target_runs_asks_first() {
    let mut app = live_app();
    apply(&mut app, [Action::Started(100), batch(0, 20), Action::Tick, Action::ShowView(View::Tree), Action::Quit]);
    assert!(app.prompt);
    assert_eq!(app.exit, None);
    insta::assert_snapshot!("live_quit_prompt", render(&app, 80, 24));
    app.update(Action::Back);
    assert!(!app.prompt);
    apply(&mut app, [Action::Quit, Action::LetFinish]);
    assert_eq!(app.exit, Some(Exit::LetFinish));
    let mut app = live_app();
    apply(&mut app, [Action::Started(100), Action::Quit, Action::KillTarget]);
    assert_eq!(app.exit, Some(Exit::KillTarget));
    // Outside the prompt, `k` is a movement key, never a kill.
    let mut app = live_app();
    app.update(Action::Started(100));
    let k = crate::key_action(&app, KeyEvent::new(KeyCode::Char('k'), KeyModifiers::NONE));
    assert_eq!(k, Some(Action::Up));
}

#[test]
fn quitting_an_attached_process_detaches_without_asking() {
    let mut app = App::live(LiveInfo { command: vec!["pid 4242".into()], attached: true, ..LiveInfo::default() });
    apply(&mut app, [Action::Started(4242), Action::Quit]);
    assert!(!app.prompt);
    assert_eq!(app.exit, Some(Exit::Quit));
    let mut app = App::live(LiveInfo { attached: true, ..LiveInfo::default() });
    apply(&mut app, [Action::Started(4242), Action::Interrupt]);
    assert_eq!(app.exit, Some(Exit::Quit), "Ctrl-C never kills an attached process");
}

#[test]
fn the_view_stays_when_the_target_ends() {
    let mut app = live_app();
    let n = sample::records(1).len() + 1;
    apply(&mut app, [Action::Started(100), batch(0, n), Action::Finished(Some(3))]);
    assert_eq!(app.live.as_ref().map(|l| l.status.clone()), Some(LiveStatus::Finished { exit: Some(3) }));
    assert_eq!(app.trace.analysis.spawns.len(), 13, "final snapshot without waiting for a tick");
    assert_eq!(app.exit, None);
    app.update(Action::ShowView(View::Tree));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("finished, exit 3"), "{screen}");
    insta::assert_snapshot!("live_finished", screen);
    app.update(Action::Quit);
    assert_eq!(app.exit, Some(Exit::Quit));
}

#[test]
fn recorder_failure_is_shown() {
    let mut app = live_app();
    app.update(Action::RecorderFailed("nosuchprog: command not found".into()));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("recorder failed: nosuchprog: command not found"), "{screen}");
    app.update(Action::Quit);
    assert_eq!(app.exit, Some(Exit::Quit));
}

/// Scripted input for the real loop.
struct Script(VecDeque<Input>);

impl InputSource for Script {
    fn next(&mut self, _timeout: Duration) -> Result<Option<Input>, TuiError> {
        Ok(Some(self.0.pop_front().unwrap_or(Input::Action(Action::Interrupt))))
    }
}

#[test]
fn main_loop_runs_on_a_test_backend() {
    let key = |c| Input::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut app = live_app();
    let mut script = Script(VecDeque::from(vec![
        Input::Action(Action::Started(100)),
        Input::Action(batch(0, 49)),
        Input::Action(Action::Tick),
        key('3'),
        Input::Action(Action::Finished(Some(0))),
        key('q'),
    ]));
    let exit = run_loop(&mut term, &mut app, &mut script).unwrap();
    assert_eq!(exit, Exit::Quit);
    let screen = screen_text(term.backend().buffer());
    assert!(screen.contains("Executables (5)"), "{screen}");
    assert!(screen.contains("finished, exit 0"), "{screen}");
}
