//! Portable analysis of spawnscope traces.
//!
//! Reads a trace (see `spawnscope_format`) and says, for every spawn, its
//! style (fork / vfork / vm), the library code path that produced it, what the
//! child exec'd (with the failed attempts of a PATH search), how long it took,
//! and which costs are worth fixing ([`Finding`]s with stable ids, see
//! [`RULES`]). Builds on any OS: no ptrace, no terminal.
//!
//! ```no_run
//! use spawnscope_analyzer::{analyze_path, group_by, GroupBy, Thresholds};
//! let a = analyze_path("trace.jsonl", &Thresholds::default()).unwrap();
//! println!("{} spawns, {} fork-style", a.summary.spawns, a.summary.styles["fork"]);
//! for g in group_by(&a, GroupBy::CodePath) {
//!     println!("{}: {} (p50 {} ns)", g.key, g.count, g.latency.p50);
//! }
//! for f in &a.findings {
//!     println!("{} {}: {}", f.id, f.severity.as_str(), f.message);
//! }
//! ```
//!
//! For a live trace, feed records to an [`Analyzer`] and call
//! [`Analyzer::current`] (or [`Analyzer::snapshot`]) whenever a view is needed.

mod aggregate;
mod analyze;
pub mod classify;
pub mod diff;
mod findings;
mod lifetimes;
pub mod many;
mod model;
pub mod origin;
mod proportion;
pub mod sample;
mod select;
pub mod spill;
mod stats;
mod thresholds;
pub mod units;

use std::io::BufRead;
use std::path::{Path, PathBuf};

use spawnscope_format::ReadError;

pub use aggregate::{Aggregated, SpillHandle};
pub use analyze::{Analyzer, Retention, EVENTS_MODE_NOTE};
pub use findings::{Rule, RULES};
pub use lifetimes::{failed_children, longest_processes, FailedExits};
pub use model::*;
pub use proportion::{blocked_ns, blocked_totals};
pub use select::{Selection, SelectionError};
pub use stats::{attempt_ns, basename, bucket_of, group_by, spawn_times, GroupBy};
pub use thresholds::{ConfigError, Thresholds};

/// Why a trace could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// The file could not be opened (the message names the path).
    #[error("{0}")]
    Open(ReadError),
    /// The trace is not one we can read (bad header, newer version, bad line).
    #[error("{path}: {source}")]
    Read { path: PathBuf, source: ReadError },
}

impl AnalyzeError {
    /// The underlying reader error.
    pub fn read_error(&self) -> &ReadError {
        match self {
            AnalyzeError::Open(e) | AnalyzeError::Read { source: e, .. } => e,
        }
    }
}

/// Reads and analyses a trace file (`.zst`: compressed). Reader warnings (an
/// incomplete trace, skipped lines) land in [`Analysis::warnings`].
pub fn analyze_path(path: impl AsRef<Path>, thresholds: &Thresholds) -> Result<Analysis, AnalyzeError> {
    analyze_path_with(path, thresholds, Retention::Full)
}

/// [`analyze_path`] with a choice of [`Retention`]: `Aggregate` reads a
/// trace of any size in bounded memory (no `spawns`, precomputed groups).
pub fn analyze_path_with(
    path: impl AsRef<Path>,
    thresholds: &Thresholds,
    retention: Retention,
) -> Result<Analysis, AnalyzeError> {
    let path = path.as_ref();
    let reader = spawnscope_format::FileReader::open(path).map_err(|e| match e {
        ReadError::Open { .. } | ReadError::IsDirectory { .. } => AnalyzeError::Open(e),
        source => AnalyzeError::Read { path: path.to_path_buf(), source },
    })?;
    // A trace with call stacks in bounded memory: its stack records first
    // (symbols come at the end of a recording; the fold needs them as it
    // goes). Only a regular file can be read twice: standard input, a pipe
    // or `<(zstdcat …)` is analysed whole, as is a file the first pass
    // cannot read (the second says why, if it cannot either).
    let regular = !spawnscope_format::is_stdio(path) && std::fs::metadata(path).is_ok_and(|m| m.is_file());
    let stacks = (retention != Retention::Full && reader.header().tracer.stacks.is_some() && regular)
        .then(|| spawnscope_format::stack::scan_file(path).ok())
        .flatten();
    analyze_trace(reader, thresholds, retention, stacks).map_err(|source| AnalyzeError::Read { path: path.to_path_buf(), source })
}

/// Analyses a trace from any reader.
pub fn analyze_reader(r: impl BufRead + Send, thresholds: &Thresholds) -> Result<Analysis, ReadError> {
    analyze_reader_with(r, thresholds, Retention::Full)
}

/// [`analyze_reader`] with a choice of [`Retention`].
pub fn analyze_reader_with(r: impl BufRead + Send, thresholds: &Thresholds, retention: Retention) -> Result<Analysis, ReadError> {
    analyze_trace(spawnscope_format::TraceReader::new(r)?, thresholds, retention, None)
}

/// Records handed from the parsing thread to the analysing thread at a time.
const BATCH: usize = 4096;

/// Parses on a second thread while this one analyses: JSON parsing is about
/// half of the work, so on two cores the wall time is close to the larger
/// half instead of the sum. Memory stays bounded by a few batches in flight.
fn analyze_trace<R: BufRead + Send>(
    mut reader: spawnscope_format::TraceReader<R>,
    thresholds: &Thresholds,
    retention: Retention,
    stacks: Option<spawnscope_format::StackTable>,
) -> Result<Analysis, ReadError> {
    let header = reader.header().clone();
    let mut an = match stacks {
        Some(t) => Analyzer::with_stacks(header, thresholds.clone(), retention, t),
        None => Analyzer::with_retention(header, thresholds.clone(), retention),
    };
    type Batch = Vec<(u64, spawnscope_format::Record)>;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(8);
    // Emptied batches go back to the parser: a batch is about a megabyte,
    // and allocating one fresh each time costs page faults on both sides.
    let (back_tx, back_rx) = std::sync::mpsc::sync_channel::<Batch>(10);
    std::thread::scope(|s| {
        let parser = s.spawn(move || -> Result<Vec<String>, ReadError> {
            let fresh = || back_rx.try_recv().unwrap_or_else(|_| Vec::with_capacity(BATCH));
            let mut batch = fresh();
            while let Some(item) = reader.next_record()? {
                batch.push(item);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, fresh());
                    if tx.send(full).is_err() {
                        break;
                    }
                }
            }
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
            Ok(reader.warnings().iter().map(|w| w.to_string()).collect())
        });
        for mut batch in rx {
            for (line, rec) in batch.drain(..) {
                an.push_owned(line, rec);
            }
            let _ = back_tx.try_send(batch);
        }
        let warnings = match parser.join() {
            Ok(result) => result?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        for w in warnings {
            an.warn(w);
        }
        Ok(an.finish())
    })
}
