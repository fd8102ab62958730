//! The raw event list, in time order, and a case-insensitive filter over it.
//!
//! Two ways to hold it:
//! - **rows**: one short escaped text row per record ([`EventRow`], about
//!   170 bytes each). Live recordings, compressed (`.zst`) traces and
//!   standard input, which cannot be read again, are held this way.
//! - **index**: for a plain trace file, only where each record's line starts
//!   in the file, its line number and its time (20 bytes per record); the
//!   rows on screen are read back and formatted when drawn (a few dozen
//!   lines, kept in a small cache), and the filter reads the file again.
//!   A 10M-event trace's list is 200 MB instead of 1.7 GB.

mod row;
mod scan;
mod source;

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use spawnscope_format::Record;

pub use row::EventRow;
pub use scan::FilterScan;
use source::RowSource;

/// The position of one record in an indexed trace file. Packed: 20 bytes,
/// not 24.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, packed(4))]
pub struct IndexRow {
    /// Byte offset of the record's line.
    pub offset: u64,
    /// Its time; [`NO_TIME`] for a record without one.
    pub t: u64,
    /// Its line number (saturated at `u32::MAX`).
    pub line: u32,
}

/// [`IndexRow::t`] of a record without a time.
pub const NO_TIME: u64 = u64::MAX;

impl IndexRow {
    /// The index row of a record at `offset` (None: the record has no row).
    pub fn of(offset: u64, line: u64, rec: &Record) -> Option<IndexRow> {
        EventRow::shown(rec).then(|| IndexRow {
            offset,
            t: rec.time().unwrap_or(NO_TIME),
            line: u32::try_from(line).unwrap_or(u32::MAX),
        })
    }
}

/// New rows for the log, made where the trace is read.
#[derive(Debug, Clone, PartialEq)]
pub enum RowBatch {
    Rows(Vec<EventRow>),
    Index(Vec<IndexRow>),
}

impl RowBatch {
    /// An empty batch of the kind `log` takes.
    pub fn for_log(log: &EventLog) -> RowBatch {
        match log.store {
            Store::Rows(_) => RowBatch::Rows(Vec::new()),
            Store::Index { .. } => RowBatch::Index(Vec::new()),
        }
    }

    /// Adds the row of a record read at byte `offset` (nothing for a record
    /// without a row).
    pub fn push(&mut self, offset: u64, line: u64, rec: &Record) {
        match self {
            RowBatch::Rows(v) => v.extend(EventRow::of(line, rec)),
            RowBatch::Index(v) => v.extend(IndexRow::of(offset, line, rec)),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            RowBatch::Rows(v) => v.len(),
            RowBatch::Index(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An empty batch of the same kind.
    pub fn empty_like(&self) -> RowBatch {
        match self {
            RowBatch::Rows(_) => RowBatch::Rows(Vec::new()),
            RowBatch::Index(_) => RowBatch::Index(Vec::new()),
        }
    }

    /// Keeps the rows for which `keep` (called once per row, in order) says so.
    pub fn retain(&mut self, mut keep: impl FnMut() -> bool) {
        match self {
            RowBatch::Rows(v) => v.retain(|_| keep()),
            RowBatch::Index(v) => v.retain(|_| keep()),
        }
    }

    /// The rows so far, leaving an empty batch of the same kind.
    pub fn take(&mut self) -> RowBatch {
        let empty = self.empty_like();
        std::mem::replace(self, empty)
    }
}

#[derive(Debug, Clone)]
enum Store {
    Rows(Vec<EventRow>),
    /// The index is shared with a running [`FilterScan`] (copied on write).
    Index {
        src: Arc<RowSource>,
        ix: Arc<Vec<IndexRow>>,
    },
}

/// All records of a trace, in time order (the file's order is the order
/// the tracer observed them: a vfork-style spawn line comes after its
/// child's exec, which happened later).
#[derive(Debug, Clone)]
pub struct EventLog {
    store: Store,
    /// Lowest row index that changed since [`EventLog::take_changed`]
    /// (a late row inserted before others moves every row after it).
    changed_from: Option<usize>,
}

impl Default for EventLog {
    fn default() -> Self {
        EventLog { store: Store::Rows(Vec::new()), changed_from: None }
    }
}

/// Where a row with time `t` goes among rows sorted by time, given the time
/// of row `i` (None: no time): after every row not later than it; rows
/// without a time go last; equal times keep the arrival order.
fn insert_at(len: usize, t: Option<u64>, time: impl Fn(usize) -> Option<u64>) -> usize {
    match t {
        Some(t) if len > 0 && time(len - 1).is_some_and(|lt| lt > t) => {
            // Rows are sorted by time: the first row later than this one.
            let (mut lo, mut hi) = (0, len);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if time(mid).is_none_or(|rt| rt <= t) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            lo
        }
        _ => len,
    }
}

impl EventLog {
    /// An empty log that indexes the plain trace file at `path`: rows are
    /// added with [`EventLog::extend`] of [`RowBatch::Index`] and read back
    /// from the file when shown.
    pub fn indexed(path: &Path) -> std::io::Result<EventLog> {
        let src = Arc::new(RowSource::open(path)?);
        Ok(EventLog { store: Store::Index { src, ix: Arc::new(Vec::new()) }, changed_from: None })
    }

    /// Whether rows are read back from the file (not held as text).
    pub fn is_indexed(&self) -> bool {
        matches!(self.store, Store::Index { .. })
    }

    /// Adds a record's row at its place in time. For an indexed log use
    /// [`EventLog::push_at`]: without its offset the record cannot be shown
    /// and is left out.
    pub fn push(&mut self, line: u64, rec: &Record) {
        if let Some(row) = EventRow::of(line, rec) {
            self.extend(RowBatch::Rows(vec![row]));
        }
    }

    /// Adds a record read at byte `offset` of the file.
    pub fn push_at(&mut self, offset: u64, line: u64, rec: &Record) {
        let mut batch = RowBatch::for_log(self);
        batch.push(offset, line, rec);
        self.extend(batch);
    }

    /// Adds rows, each at its place in time. A batch of the other kind than
    /// the log (rows for an index) is ignored.
    pub fn extend(&mut self, batch: RowBatch) {
        let mut moved = self.changed_from;
        match (&mut self.store, batch) {
            (Store::Rows(rows), RowBatch::Rows(new)) => {
                for row in new {
                    let at = insert_at(rows.len(), row.t, |i| rows[i].t);
                    if at < rows.len() {
                        moved = Some(moved.map_or(at, |m| m.min(at)));
                    }
                    rows.insert(at, row);
                }
            }
            (Store::Index { ix, .. }, RowBatch::Index(new)) => {
                let ix = Arc::make_mut(ix);
                let time = |r: &IndexRow| Some(r.t).filter(|&t| t != NO_TIME);
                for row in new {
                    let at = insert_at(ix.len(), time(&row), |i| time(&ix[i]));
                    if at < ix.len() {
                        moved = Some(moved.map_or(at, |m| m.min(at)));
                    }
                    ix.insert(at, row);
                }
            }
            _ => {}
        }
        self.changed_from = moved;
    }

    /// Makes room for `total` rows in all, so that growing the list while a
    /// big trace is read never copies it in one go.
    pub fn reserve_total(&mut self, total: usize) {
        let extra = total.saturating_sub(self.len());
        match &mut self.store {
            Store::Rows(r) => r.reserve(extra),
            Store::Index { ix, .. } => Arc::make_mut(ix).reserve(extra),
        }
    }

    /// The lowest row index that moved since the last call (None: rows were
    /// only appended).
    pub fn take_changed(&mut self) -> Option<usize> {
        self.changed_from.take()
    }

    pub fn len(&self) -> usize {
        match &self.store {
            Store::Rows(r) => r.len(),
            Store::Index { ix, .. } => ix.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i` (read from the file for an indexed log: a line that can no
    /// longer be read shows why instead).
    pub fn row(&self, i: usize) -> Option<Cow<'_, EventRow>> {
        match &self.store {
            Store::Rows(r) => r.get(i).map(Cow::Borrowed),
            Store::Index { src, ix } => ix.get(i).map(|&r| Cow::Owned(src.cached(r))),
        }
    }

    /// The trace line number of row `i` (without reading it).
    pub fn line(&self, i: usize) -> Option<u64> {
        match &self.store {
            Store::Rows(r) => r.get(i).map(|r| r.line),
            Store::Index { ix, .. } => ix.get(i).map(|r| u64::from(r.line)),
        }
    }

    /// Calls `f` with each of `rows` (indices, increasing) and its row; an
    /// indexed log reads them in one pass over the file, without caching.
    fn each(&self, rows: impl Iterator<Item = u32>, mut f: impl FnMut(u32, &EventRow)) {
        match &self.store {
            Store::Rows(r) => {
                for i in rows {
                    if let Some(row) = r.get(i as usize) {
                        f(i, row);
                    }
                }
            }
            Store::Index { src, ix } => src.scan(rows.filter_map(|i| Some((i, *ix.get(i as usize)?))), f),
        }
    }

    /// Keeps the rows `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&EventRow) -> bool) {
        let mut kept = Vec::new();
        self.each(0..self.len() as u32, |i, r| {
            if keep(r) {
                kept.push(i as usize);
            }
        });
        match &mut self.store {
            Store::Rows(r) => {
                let mut n = 0;
                let mut k = kept.iter().peekable();
                r.retain(|_| {
                    let hit = k.peek() == Some(&&n);
                    if hit {
                        k.next();
                    }
                    n += 1;
                    hit
                });
            }
            Store::Index { ix, .. } => *ix = Arc::new(kept.iter().map(|&i| ix[i]).collect()),
        }
        self.changed_from = Some(0);
    }

    /// Those of `candidates` (row indices, increasing) that pass the filter
    /// `needle` ([`EventRow::matches`]: kind or text, case-insensitive, or a
    /// pid that starts with it). Narrowing a previous result when the filter
    /// grows is exact, and filtering only new rows keeps typing fast.
    pub fn filter(&self, needle: &str, candidates: impl Iterator<Item = u32>) -> Vec<u32> {
        let needle = needle.to_ascii_lowercase();
        let numeric = !needle.is_empty() && needle.bytes().all(|b| b.is_ascii_digit());
        let mut buf = String::new();
        let mut out = Vec::new();
        self.each(candidates, |i, r| {
            if r.matches(&needle, numeric, &mut buf) {
                out.push(i);
            }
        });
        out
    }

    /// Starts filtering `candidates` (None: every row) on a thread of its
    /// own (an indexed log only: None for rows held as text, which filter
    /// fast enough in place).
    pub fn filter_in_background(&self, needle: &str, candidates: Option<Vec<u32>>) -> Option<FilterScan> {
        match &self.store {
            Store::Rows(_) => None,
            Store::Index { src, ix } => FilterScan::start(src.path(), Arc::clone(ix), needle, candidates),
        }
    }

    /// Every row, in order (an indexed log reads the file).
    pub fn rows(&self) -> Vec<EventRow> {
        let mut out = Vec::with_capacity(self.len());
        self.each(0..self.len() as u32, |_, r| out.push(r.clone()));
        out
    }
}

#[cfg(test)]
mod tests;
