//! Recording sessions: record a command into a trace file, then analyse it.
//!
//! This crate joins the recorder (`spawnscope-tracer`, Linux only) to the
//! portable crates (analyzer, check). Everything that records goes through
//! [`TraceFile`]: `spawnscope record`, `spawnscope run`, `spawnscope check --
//! CMD`, and the test API in [`testing`] ([`record_command`], [`record`]).
//!
//! ```no_run
//! # #[cfg(target_os = "linux")] {
//! use spawnscope_session::{record_and_analyze, RecordOptions, Thresholds};
//! let opts = RecordOptions::new(vec![std::ffi::OsString::from("make"), "-j8".into()]);
//! let rec = record_and_analyze(&opts, std::path::Path::new("build.jsonl"), &Thresholds::default()).unwrap();
//! println!("{} spawns, exit code {:?}", rec.analysis.summary.spawns, rec.outcome.exit_code);
//! # }
//! ```

mod error;
#[cfg(target_os = "linux")]
mod session;
#[cfg(target_os = "linux")]
pub mod testing;

pub use error::SessionError;
#[cfg(target_os = "linux")]
pub use session::{analyze_recording, check_command, record_and_analyze, Recorded, Tap, TraceFile};
#[cfg(target_os = "linux")]
pub use spawnscope_tracer::{ModeRequest, Outcome, RecordOptions};
#[cfg(target_os = "linux")]
pub use testing::{record, record_command, Recorder, Recording};

pub use spawnscope_analyzer::{Analysis, CodePath, Spawn, SpawnStyle, Thresholds};
pub use spawnscope_check::Policy;
