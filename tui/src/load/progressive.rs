//! Reading a trace behind the UI: a loader thread analyses the records the
//! reader thread parses and sends the app, over a channel, the event rows
//! (every 50 ms) and snapshots of the analysis with their derived tables
//! (every 250 ms at most, less often when a snapshot itself is slow, so that
//! snapshots take at most a fifth of the loader's time). The UI thread only
//! swaps them in: its frames stay short however big the trace.
//!
//! A snapshot is a copy of the analysis: while one is shown and the next is
//! made, the analysis is in memory three times. Past
//! [`SNAPSHOT_MAX_SPAWNS`] spawns no more snapshots are made (the views show
//! that much until the reading ends), which bounds what reading a big trace
//! this way costs on top of the analysis.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use spawnscope_analyzer::Selection;
use spawnscope_format::{FileReader, Header};

use super::{new_log, start_reader, trace_err, Parsed, RowScope};
use crate::app::{App, Trace, TreeState};
use crate::eventlog::{RowBatch, NO_TIME};
use crate::feed::Feed;
use crate::TuiError;

/// A held row without a child.
const NO_CHILD: i32 = i32::MIN;

/// How often event rows are handed over.
const ROWS_EVERY: Duration = Duration::from_millis(50);
/// Least time between two snapshots of the analysis.
pub const SNAPSHOT_EVERY: Duration = Duration::from_millis(250);
/// A snapshot that took `d` waits `SLOW_FACTOR * d` for the next one.
const SLOW_FACTOR: u32 = 4;
/// No snapshot of more spawns than this (about 400,000 events of a build
/// trace; a copy of about 110 MB): two copies at a time must cost less than
/// the text rows the index saves (measured at 1M events in BENCHMARKS.md).
pub const SNAPSHOT_MAX_SPAWNS: usize = 100_000;

/// When the loader hands things over (tests make it hand over everything).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pace {
    pub snapshot_every: Duration,
    /// A snapshot that took `d` waits `slow_factor * d` for the next one.
    pub slow_factor: u32,
    pub max_spawns: usize,
}

impl Default for Pace {
    fn default() -> Self {
        Pace { snapshot_every: SNAPSHOT_EVERY, slow_factor: SLOW_FACTOR, max_spawns: SNAPSHOT_MAX_SPAWNS }
    }
}

/// How far the reading is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Records read.
    pub events: u64,
    /// Bytes of the file read (decompressed bytes for a `.zst` trace).
    pub bytes: u64,
    /// Size of the file, when the bytes read can be compared with it (not
    /// for a compressed trace or standard input).
    pub total_bytes: Option<u64>,
    /// The views stopped following the reading at this many records (the
    /// analysis grew past [`SNAPSHOT_MAX_SPAWNS`]); they show the rest when
    /// it ends.
    pub views_at: Option<u64>,
}

impl Progress {
    /// Percent read, when known.
    pub fn percent(&self) -> Option<u64> {
        self.total_bytes.filter(|&t| t > 0).map(|t| (self.bytes.saturating_mul(100) / t).min(100))
    }

    /// The number of records the whole file will have, estimated from the
    /// bytes per record so far.
    pub fn estimated_events(&self) -> Option<u64> {
        let total = self.total_bytes?;
        (self.bytes > 0 && self.events > 0).then(|| (total as f64 * self.events as f64 / self.bytes as f64) as u64)
    }
}

/// What the loader thread sends the app.
#[derive(Debug)]
pub enum LoadMsg {
    /// Event rows read since the last message, and how far the reading is.
    Rows(RowBatch, Progress),
    /// The analysis so far, with its tables.
    Snapshot(Box<Snapshot>),
    /// The whole trace: the final analysis. Nothing follows.
    Done(Box<Snapshot>),
    /// A damaged line: the reading stopped. Nothing follows.
    Failed(TuiError),
}

/// An analysis and what the views derive from it that takes long on a big
/// trace, made on the loader thread.
#[derive(Debug)]
pub struct Snapshot {
    pub trace: Trace,
    /// The process tree's rows, unfolded.
    pub tree: TreeState,
}

impl Snapshot {
    fn new(name: String, analysis: spawnscope_analyzer::Analysis) -> Box<Snapshot> {
        let trace = Trace::new(name, analysis);
        let mut tree = TreeState::default();
        tree.rebuild(&trace, 1);
        Box::new(Snapshot { trace, tree })
    }
}

/// A trace being read behind the UI ([`App::loading`]).
#[derive(Debug)]
pub struct Loading {
    pub rx: Receiver<LoadMsg>,
    pub progress: Progress,
    pub started: Instant,
}

/// Opens `path` (errors in its first line are returned now) and starts
/// reading it on a loader thread; the app shows the header at once. With a
/// selection (`sel` not empty) the snapshots are of the selected part and
/// the event rows are held back until the end, when it is known which
/// processes the selection keeps.
pub(crate) fn open(path: &Path, name: String, pace: Pace, sel: Selection) -> Result<App, TuiError> {
    let reader = FileReader::open(path).map_err(trace_err(path))?;
    let header = reader.header().clone();
    let log = new_log(path);
    // Offsets can be compared with the file's size only for a plain file.
    let total_bytes = if log.is_indexed() { std::fs::metadata(path).ok().map(|m| m.len()) } else { None };
    let rows = RowBatch::for_log(&log);
    let parsed = start_reader(reader)?;
    let (tx, rx) = mpsc::channel();
    let path_buf = path.to_path_buf();
    let loader_name = name.clone();
    let first = Feed::new(header.clone()).snapshot();
    std::thread::Builder::new()
        .name("spawnscope-load".into())
        .spawn(move || {
            let progress = Progress { total_bytes, ..Progress::default() };
            let held = (!sel.is_empty()).then(Vec::new);
            let mut l = Loader { tx, name: loader_name, rows, progress, pace, sel, held };
            l.run(&path_buf, header, parsed);
        })
        .map_err(TuiError::Terminal)?;
    let loading = Loading { rx, progress: Progress { total_bytes, ..Progress::default() }, started: Instant::now() };
    Ok(App::loading(name, first, log, loading))
}

struct Loader {
    pace: Pace,
    tx: Sender<LoadMsg>,
    name: String,
    rows: RowBatch,
    progress: Progress,
    sel: Selection,
    /// With a selection: each row's pid, child (`NO_CHILD`: none) and time
    /// (`NO_TIME`: none), 16 bytes, to keep the selected ones at the end
    /// (the rows wait in `rows` until then).
    held: Option<Vec<(i32, i32, u64)>>,
}

impl Loader {
    /// Analyses what the reader thread parses; returns early when the app is
    /// gone (the user quit).
    fn run(&mut self, path: &Path, header: Header, parsed: Receiver<Parsed>) {
        let mut feed = Feed::new(header);
        let mut rows_sent = Instant::now();
        let mut next_snapshot = Instant::now() + self.pace.snapshot_every;
        for msg in parsed {
            match msg {
                Parsed::Records(batch) => {
                    for (offset, line, rec) in batch {
                        if let Some(held) = &mut self.held {
                            held.extend(
                                crate::eventlog::EventRow::of(line, &rec)
                                    .map(|r| (r.pid, r.child.unwrap_or(NO_CHILD), r.t.unwrap_or(NO_TIME))),
                            );
                        }
                        self.rows.push(offset, line, &rec);
                        self.progress.events += 1;
                        self.progress.bytes = offset;
                        feed.push_owned(line, rec);
                    }
                    if rows_sent.elapsed() >= ROWS_EVERY {
                        rows_sent = Instant::now();
                        if !self.send_rows() {
                            return;
                        }
                    }
                    if self.progress.views_at.is_none() && feed.spawn_count() > self.pace.max_spawns {
                        self.progress.views_at = Some(self.progress.events);
                    }
                    if self.progress.views_at.is_none() && Instant::now() >= next_snapshot {
                        let start = Instant::now();
                        let snapshot = Snapshot::new(self.name.clone(), self.selected(feed.snapshot()));
                        if self.tx.send(LoadMsg::Snapshot(snapshot)).is_err() {
                            return;
                        }
                        next_snapshot = Instant::now() + self.pace.snapshot_every.max(start.elapsed() * self.pace.slow_factor);
                    }
                }
                Parsed::Done(warnings) => {
                    for w in warnings {
                        feed.warn(w);
                    }
                }
                Parsed::Failed(e) => {
                    self.send_rows();
                    let _ = self.tx.send(LoadMsg::Failed(trace_err(path)(e)));
                    return;
                }
            }
        }
        self.progress.bytes = self.progress.total_bytes.unwrap_or(self.progress.bytes);
        let analysis = self.selected(feed.finish());
        if let Some(held) = self.held.take() {
            let scope = RowScope::new(&self.sel, &analysis);
            let mut who = held.into_iter();
            self.rows.retain(|| {
                who.next().is_some_and(|(pid, child, t)| {
                    scope.keeps(pid, Some(child).filter(|&c| c != NO_CHILD), Some(t).filter(|&t| t != NO_TIME))
                })
            });
            self.held = Some(Vec::new());
        }
        if self.tx.send(LoadMsg::Rows(self.rows.take(), self.progress)).is_ok() {
            let _ = self.tx.send(LoadMsg::Done(Snapshot::new(self.name.clone(), analysis)));
        }
    }

    /// The selected part of an analysis (all of it without a selection).
    fn selected(&self, a: spawnscope_analyzer::Analysis) -> spawnscope_analyzer::Analysis {
        if self.sel.is_empty() {
            a
        } else {
            self.sel.apply(&a)
        }
    }

    /// Hands the rows read so far over (only the progress while a selection
    /// holds them back); false when the app is gone.
    fn send_rows(&mut self) -> bool {
        let rows = if self.held.is_some() { self.rows.empty_like() } else { self.rows.take() };
        self.tx.send(LoadMsg::Rows(rows, self.progress)).is_ok()
    }
}
