//! Opening a trace file for the UI: one streaming pass feeds both the
//! analysis and the event list. A reader thread parses the lines while a
//! second thread analyses them and indexes the events (two cores: about the
//! time of the slower half instead of the sum).
//!
//! [`load_trace`] reads the whole trace before returning. [`open_view`]
//! returns an app at once and reads behind it ([`progressive`]): the first
//! frame shows within milliseconds whatever the size, the views fill in as
//! snapshots of the analysis arrive, and when the reading ends the app is
//! the one [`load_trace`] would have made.

mod progressive;

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use spawnscope_analyzer::{Analysis, Selection};
use spawnscope_format::{FileReader, ReadError, Record};

use crate::app::App;
use crate::eventlog::{EventLog, RowBatch};
use crate::feed::Feed;
use crate::TuiError;

pub use progressive::{LoadMsg, Loading, Progress, Snapshot};

/// A trace read for viewing.
#[derive(Debug)]
pub struct Loaded {
    pub path: PathBuf,
    pub analysis: Analysis,
    pub events: EventLog,
}

impl Loaded {
    /// The part of the trace a selection (`--exe`, `--pid`, `--since`,
    /// `--until`) keeps: its analysis, and the events of the processes it
    /// keeps within its time window.
    pub fn select(mut self, sel: &Selection) -> Loaded {
        if sel.is_empty() {
            return self;
        }
        self.analysis = sel.apply(&self.analysis);
        let keep = RowScope::new(sel, &self.analysis);
        self.events.retain(|r| keep.keeps(r.pid, r.child, r.t));
        self
    }
}

/// Which event rows a selection keeps: those of the processes its analysis
/// kept (a spawn row also for its child), within its time window.
#[derive(Debug)]
struct RowScope {
    pids: std::collections::HashSet<i32>,
    since: u64,
    until: u64,
}

impl RowScope {
    /// `a`: the selected analysis.
    fn new(sel: &Selection, a: &Analysis) -> RowScope {
        RowScope {
            pids: a.processes.iter().map(|p| p.pid).collect(),
            since: sel.since_ns.unwrap_or(0),
            until: sel.until_ns.unwrap_or(u64::MAX),
        }
    }

    fn keeps(&self, pid: i32, child: Option<i32>, t: Option<u64>) -> bool {
        (self.pids.contains(&pid) || child.is_some_and(|c| self.pids.contains(&c)))
            && t.is_none_or(|t| t >= self.since && t < self.until)
    }
}

/// Records per message from the reader thread.
const BATCH: usize = 4096;
/// Batches in flight: bounds the memory used by records not yet analysed.
const IN_FLIGHT: usize = 16;

/// What the reader thread sends: records with the byte offset of their line.
enum Parsed {
    Records(Vec<(u64, u64, Record)>),
    /// The end of the file, with the reader's warnings.
    Done(Vec<String>),
    Failed(ReadError),
}

fn trace_err(path: &Path) -> impl Fn(ReadError) -> TuiError + '_ {
    |e| TuiError::Trace { path: path.to_path_buf(), source: e }
}

/// The event list for `path`: an index of a plain file, rows for a
/// compressed trace or standard input (they cannot be read again).
fn new_log(path: &Path) -> EventLog {
    let plain = !spawnscope_format::is_stdio(path) && !spawnscope_format::is_zstd_path(path) && path.is_file();
    if plain {
        EventLog::indexed(path).unwrap_or_default()
    } else {
        EventLog::default()
    }
}

/// Starts the thread that parses the trace; records arrive in batches.
fn start_reader(mut reader: FileReader) -> Result<mpsc::Receiver<Parsed>, TuiError> {
    let (tx, rx) = mpsc::sync_channel(IN_FLIGHT);
    std::thread::Builder::new()
        .name("spawnscope-read".into())
        .spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            loop {
                match reader.next_record() {
                    Ok(Some((line, rec))) => {
                        batch.push((reader.line_offset(), line, rec));
                        if batch.len() == BATCH && tx.send(Parsed::Records(std::mem::take(&mut batch))).is_err() {
                            return;
                        }
                    }
                    Ok(None) => {
                        let _ = tx.send(Parsed::Records(batch));
                        let _ = tx.send(Parsed::Done(reader.warnings().iter().map(|w| w.to_string()).collect()));
                        return;
                    }
                    Err(e) => {
                        let _ = tx.send(Parsed::Failed(e));
                        return;
                    }
                }
            }
        })
        .map_err(TuiError::Terminal)?;
    Ok(rx)
}

/// Reads and analyses a trace in one pass (`.zst` handled by the reader).
pub fn load_trace(path: &Path) -> Result<Loaded, TuiError> {
    let reader = FileReader::open(path).map_err(trace_err(path))?;
    let mut feed = Feed::new(reader.header().clone());
    let mut events = new_log(path);
    let rx = start_reader(reader)?;
    let mut result = Ok(());
    for msg in rx {
        match msg {
            Parsed::Records(batch) => {
                let mut rows = RowBatch::for_log(&events);
                for (offset, line, rec) in batch {
                    rows.push(offset, line, &rec);
                    feed.push_owned(line, rec);
                }
                events.extend(rows);
            }
            Parsed::Done(warnings) => {
                for w in warnings {
                    feed.warn(w);
                }
            }
            Parsed::Failed(e) => result = Err(trace_err(path)(e)),
        }
    }
    result?;
    events.take_changed();
    Ok(Loaded { path: path.to_path_buf(), analysis: feed.finish(), events })
}

/// Traces smaller than this (about 80,000 events, read in ~0.2 s) are read
/// whole before the first frame.
pub const SMALL_BYTES: u64 = 16 << 20;

/// The app for `spawnscope view`: a big trace opens at once and is read
/// behind the first frames ([`progressive`]), with a selection too (its
/// views then show the selected part of what is read so far, and its events
/// when the reading ends); a small one or standard input is read before.
/// Errors found before the first record (no such file, not a trace) are
/// returned here; a damaged line further on ends the UI with the same error
/// ([`App::load_error`]).
pub fn open_view(path: &Path, name: impl Into<String>, sel: &Selection) -> Result<App, TuiError> {
    // A small trace is read before the first frame, as it takes a moment:
    // its first frame is the whole view (and a test's screen is what it was).
    let limit = if spawnscope_format::is_zstd_path(path) { SMALL_BYTES / 8 } else { SMALL_BYTES };
    let small = std::fs::metadata(path).map_or(true, |m| !m.is_file() || m.len() < limit);
    if small {
        let loaded = load_trace(path)?.select(sel);
        return Ok(App::new(name, loaded.analysis, loaded.events));
    }
    progressive::open(path, name.into(), progressive::Pace::default(), sel.clone())
}

/// Opens `path` at once and reads it behind the first frames, whatever its
/// size (see [`open_view`]).
pub fn open_progressive(path: &Path, name: impl Into<String>) -> Result<App, TuiError> {
    progressive::open(path, name.into(), progressive::Pace::default(), Selection::default())
}

#[cfg(test)]
mod tests;
