//! The events filter over an indexed trace, on a thread of its own: every
//! candidate row is read back from the file and formatted (about 1 µs a
//! row, 1 s per million), so the UI takes the matches as they come instead
//! of stopping until the scan ends.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::Arc;

use spawnscope_format::LineReader;

use super::source::read_row;
use super::IndexRow;

/// Rows tested between two messages to the UI.
const CHUNK: usize = 8192;

/// Matches found in the next candidates, in row order.
#[derive(Debug)]
struct Found {
    rows: Vec<u32>,
    /// Candidates tested so far.
    tested: usize,
}

/// A filter running on another thread; dropping it stops the thread.
#[derive(Debug)]
pub struct FilterScan {
    rx: Receiver<Found>,
    cancel: Arc<AtomicBool>,
    /// Candidates to test, and how many are tested.
    pub total: usize,
    pub tested: usize,
}

impl Drop for FilterScan {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

impl FilterScan {
    /// Starts testing `candidates` (None: every row of `ix`) against
    /// `needle`; None when the thread cannot be started or the file opened.
    pub(super) fn start(path: &Path, ix: Arc<Vec<IndexRow>>, needle: &str, candidates: Option<Vec<u32>>) -> Option<FilterScan> {
        let mut reader = LineReader::open(path).ok()?;
        let needle = needle.to_ascii_lowercase();
        let numeric = !needle.is_empty() && needle.bytes().all(|b| b.is_ascii_digit());
        let total = candidates.as_ref().map_or(ix.len(), Vec::len);
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let stop = Arc::clone(&cancel);
        std::thread::Builder::new()
            .name("spawnscope-filter".into())
            .spawn(move || {
                let mut buf = String::new();
                let mut found = Vec::new();
                for n in 0..total {
                    let i = match &candidates {
                        Some(c) => c[n],
                        None => n as u32,
                    };
                    if let Some(&r) = ix.get(i as usize) {
                        if read_row(&mut reader, r).matches(&needle, numeric, &mut buf) {
                            found.push(i);
                        }
                    }
                    let report = (n + 1) % CHUNK == 0 || n + 1 == total;
                    if report
                        && (stop.load(Ordering::Relaxed)
                            || tx.send(Found { rows: std::mem::take(&mut found), tested: n + 1 }).is_err())
                    {
                        return;
                    }
                }
            })
            .ok()?;
        Some(FilterScan { rx, cancel, total, tested: 0 })
    }

    /// Takes the matches found since the last call into `matches`; whether
    /// anything arrived.
    pub fn poll(&mut self, matches: &mut Vec<u32>) -> bool {
        let mut any = false;
        loop {
            match self.rx.try_recv() {
                Ok(f) => {
                    matches.extend(f.rows);
                    self.tested = f.tested;
                    any = true;
                }
                Err(TryRecvError::Empty) => return any,
                Err(TryRecvError::Disconnected) => {
                    // The thread ended (done, or could not go on).
                    if self.tested < self.total {
                        self.tested = self.total;
                        any = true;
                    }
                    return any;
                }
            }
        }
    }

    /// Blocks until the next matches arrive (tests and benchmarks).
    pub fn wait(&mut self, matches: &mut Vec<u32>) {
        match self.rx.recv() {
            Ok(f) => {
                matches.extend(f.rows);
                self.tested = f.tested;
            }
            Err(_) => self.tested = self.total,
        }
    }

    pub fn done(&self) -> bool {
        self.tested >= self.total
    }

    /// Percent of the candidates tested.
    pub fn percent(&self) -> usize {
        (self.tested * 100).checked_div(self.total).unwrap_or(100)
    }
}
