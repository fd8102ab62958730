//! Terminal UI over spawnscope analyses, for a recorded trace or live.
//!
//! Structure (state, actions, draw): [`App`] holds all state and does no I/O;
//! key presses, trace records and timer ticks become an [`Action`] that
//! [`App::update`] applies; [`ui::draw`] renders an `&App` and nothing else;
//! [`run::run_loop`] ties them together over any ratatui `Backend`, so tests
//! drive the whole UI with `TestBackend`.
//!
//! ```
//! use spawnscope_tui::{App, Action, EventLog, ui};
//! use ratatui::{backend::TestBackend, Terminal};
//! # let analysis = spawnscope_tui::feed::Feed::new(spawnscope_format::Header::new(
//! #     vec!["true".into()], spawnscope_format::TracerMode::Seccomp)).finish();
//! let mut app = App::new("trace.jsonl", analysis, EventLog::default());
//! app.update(Action::NextView);
//! let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
//! term.draw(|f| ui::draw(f, &app)).unwrap();
//! ```

pub mod action;
pub mod app;
mod error;
pub mod eventlog;
pub mod feed;
pub mod fmt;
pub mod load;
pub mod run;
pub mod sample;
pub mod term;
pub mod ui;

#[cfg(test)]
mod test_utils;
#[cfg(test)]
mod tests;

pub use action::{key_action, Action};
pub use app::{App, Exit, LiveInfo, LiveStatus, View};
pub use error::TuiError;
pub use eventlog::{EventLog, EventRow, RowBatch};
pub use load::{load_trace, open_progressive, open_view, Loaded};
