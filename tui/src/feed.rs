//! The one place the UI meets the analyzer: records in, [`Analysis`] out.

use spawnscope_analyzer::{Analysis, Analyzer, Thresholds};
use spawnscope_format::{Header, Record};

pub use spawnscope_analyzer::{group_by, GroupBy};

/// Incremental analysis of a trace: push records, take snapshots.
#[derive(Debug)]
pub struct Feed {
    analyzer: Analyzer,
}

impl Feed {
    pub fn new(header: Header) -> Feed {
        Feed { analyzer: Analyzer::new(header, Thresholds::default()) }
    }

    pub fn push(&mut self, line: u64, rec: &Record) {
        self.analyzer.push(line, rec);
    }

    /// Like [`Feed::push`], without copying the record.
    pub fn push_owned(&mut self, line: u64, rec: Record) {
        self.analyzer.push_owned(line, rec);
    }

    /// Spawns so far (cheap).
    pub fn spawn_count(&self) -> usize {
        self.analyzer.spawn_count()
    }

    /// A reader warning to show with the analysis.
    pub fn warn(&mut self, w: String) {
        self.analyzer.warn(w);
    }

    /// The analysis so far, as an owned copy.
    pub fn snapshot(&self) -> Analysis {
        self.analyzer.snapshot()
    }

    pub fn finish(self) -> Analysis {
        self.analyzer.finish()
    }
}
