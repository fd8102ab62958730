//! The main loop, generic over the ratatui backend and the input source so
//! tests drive it with `TestBackend` and a scripted source.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyEvent};
use ratatui::backend::Backend;
use ratatui::Terminal;
use spawnscope_format::Record;

use crate::action::{key_action, Action};
use crate::app::{App, Exit, LiveInfo};
use crate::term::TerminalGuard;
use crate::{ui, TuiError};

/// Snapshots per second in live mode.
pub const TICK: Duration = Duration::from_millis(100);

/// How often a trace being read is looked at for new rows and snapshots.
const LOAD_POLL: Duration = Duration::from_millis(20);

/// What arrives from outside: terminal input, or an action (live records).
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Key(KeyEvent),
    Resize(u16, u16),
    Action(Action),
}

/// Something that waits for input.
pub trait InputSource {
    /// The next input, or None when `timeout` passed without any.
    fn next(&mut self, timeout: Duration) -> Result<Option<Input>, TuiError>;
}

/// What a recorder thread sends to the live UI.
// Records are the common message; boxing them would add an allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum LiveMsg {
    /// A trace record (the header too) with its line number in the trace file.
    Record(u64, Record),
    /// The target is running: its pid.
    Started(i32),
    /// The target ended: its exit code.
    Finished(Option<i32>),
    /// Recording failed.
    Failed(String),
}

/// Runs until the user quits; returns how.
pub fn run_loop<B: Backend>(terminal: &mut Terminal<B>, app: &mut App, input: &mut impl InputSource) -> Result<Exit, TuiError> {
    let backend_err = |e: B::Error| TuiError::Backend(e.to_string());
    let size = terminal.size().map_err(backend_err)?;
    app.update(Action::Resize(size.width, size.height));
    let mut next_tick = Instant::now() + TICK;
    let mut dirty = true;
    loop {
        // A trace being read: its rows and snapshots are taken as they come.
        if app.loading.is_some() && app.poll_loading() {
            dirty = true;
        }
        if app.events.scan.is_some() && app.poll_filter() {
            dirty = true;
        }
        if dirty {
            terminal.draw(|f| ui::draw(f, app)).map_err(backend_err)?;
            dirty = false;
        }
        if let Some(exit) = app.exit {
            return Ok(exit);
        }
        let now = Instant::now();
        if now >= next_tick {
            next_tick = now + TICK;
            if app.live.is_some() {
                app.update(Action::Tick);
                dirty = true;
            }
            continue;
        }
        let wait =
            if app.loading.is_some() || app.events.scan.is_some() { (next_tick - now).min(LOAD_POLL) } else { next_tick - now };
        match input.next(wait)? {
            Some(Input::Key(k)) => {
                if let Some(a) = key_action(app, k) {
                    app.update(a);
                    dirty = true;
                }
            }
            Some(Input::Resize(w, h)) => {
                app.update(Action::Resize(w, h));
                dirty = true;
            }
            // Records are drawn at the next tick, not once per batch.
            Some(Input::Action(a @ Action::Records(_))) => app.update(a),
            Some(Input::Action(a)) => {
                app.update(a);
                dirty = true;
            }
            None => {}
        }
    }
}

/// The real terminal, plus the live channel when recording.
#[derive(Debug)]
pub struct TerminalInput {
    live: Option<Receiver<LiveMsg>>,
    ended: bool,
    pending: VecDeque<Input>,
}

/// Most records handed to the app in one batch, so keys stay responsive.
const BATCH: usize = 20_000;

impl TerminalInput {
    pub fn new(live: Option<Receiver<LiveMsg>>) -> Self {
        TerminalInput { live, ended: false, pending: VecDeque::new() }
    }

    fn drain_live(&mut self) {
        let Some(rx) = &self.live else { return };
        let mut batch = Vec::new();
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(LiveMsg::Record(line, rec)) => batch.push((line, rec)),
                Ok(other) => {
                    if !batch.is_empty() {
                        self.pending.push_back(Input::Action(Action::Records(std::mem::take(&mut batch))));
                    }
                    self.pending.push_back(Input::Action(match other {
                        LiveMsg::Started(pid) => Action::Started(pid),
                        LiveMsg::Finished(code) => {
                            self.ended = true;
                            Action::Finished(code)
                        }
                        LiveMsg::Failed(m) => {
                            self.ended = true;
                            Action::RecorderFailed(m)
                        }
                        LiveMsg::Record(..) => unreachable!(),
                    }));
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if !self.ended {
                        self.ended = true;
                        self.pending
                            .push_back(Input::Action(Action::RecorderFailed("the recorder stopped without a result".into())));
                    }
                    self.live = None;
                    break;
                }
            }
        }
        if !batch.is_empty() {
            self.pending.push_front(Input::Action(Action::Records(batch)));
        }
    }
}

impl InputSource for TerminalInput {
    fn next(&mut self, timeout: Duration) -> Result<Option<Input>, TuiError> {
        if self.pending.is_empty() {
            self.drain_live();
        }
        if let Some(i) = self.pending.pop_front() {
            return Ok(Some(i));
        }
        // While recording, look at the channel again soon.
        let wait = if self.live.is_some() { timeout.min(Duration::from_millis(20)) } else { timeout };
        if !event::poll(wait)? {
            return Ok(None);
        }
        Ok(match event::read()? {
            Event::Key(k) => Some(Input::Key(k)),
            Event::Resize(w, h) => Some(Input::Resize(w, h)),
            _ => None,
        })
    }
}

/// Shows a recorded trace (and an optional second one) until the user quits.
/// A trace still being read ([`crate::load::open_view`]) fills in meanwhile;
/// a damaged line in it ends the UI with its error.
pub fn run_offline(mut app: App) -> Result<Exit, TuiError> {
    let mut guard = TerminalGuard::enter()?;
    let exit = run_loop(&mut guard.terminal, &mut app, &mut TerminalInput::new(None));
    drop(guard);
    if let Some(e) = app.load_error.take() {
        std::mem::forget(app);
        return Err(e);
    }
    // The process ends next: freeing a million-event analysis piece by piece
    // would only delay the shell prompt (about 0.5 s per million events).
    std::mem::forget(app);
    exit
}

/// Shows a live recording whose records arrive on `rx`.
pub fn run_live(info: LiveInfo, rx: Receiver<LiveMsg>) -> Result<Exit, TuiError> {
    let mut app = App::live(info);
    let mut guard = TerminalGuard::enter()?;
    run_loop(&mut guard.terminal, &mut app, &mut TerminalInput::new(Some(rx)))
}
