//! Live mode: records arrive from a recorder thread while the UI runs.

use std::path::PathBuf;

use spawnscope_format::{Header, Record, TracerMode};

use crate::feed::Feed;

/// What the live target is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveStatus {
    Starting,
    Running { pid: i32 },
    Finished { exit: Option<i32> },
    Failed(String),
}

/// What the caller tells the UI about a live recording.
#[derive(Debug, Clone, Default)]
pub struct LiveInfo {
    /// The command being recorded.
    pub command: Vec<String>,
    /// Where the target's stdout and stderr go (shown on screen).
    pub output: Option<PathBuf>,
    /// Where the trace is written.
    pub trace: Option<PathBuf>,
    /// Attached to a running process (`run -p`): quitting detaches from it
    /// and never kills it, so there is nothing to ask.
    pub attached: bool,
}

/// Live state: the incremental analysis and the target's status.
#[derive(Debug)]
pub struct Live {
    pub info: LiveInfo,
    pub status: LiveStatus,
    pub feed: Feed,
    /// Records arrived since the last snapshot.
    pub dirty: bool,
    /// Ticks since the last snapshot.
    pub ticks: u32,
}

impl Live {
    pub fn new(info: LiveInfo) -> Live {
        let header = Header::new(info.command.clone(), TracerMode::Seccomp);
        Live { info, status: LiveStatus::Starting, feed: Feed::new(header), dirty: true, ticks: 0 }
    }

    pub fn running(&self) -> bool {
        matches!(self.status, LiveStatus::Starting | LiveStatus::Running { .. })
    }

    /// A target of our own still runs: quitting must ask about it.
    pub fn owns_running_target(&self) -> bool {
        self.running() && !self.info.attached
    }

    pub fn push(&mut self, line: u64, rec: &Record) {
        match rec {
            Record::Header(h) => self.feed = Feed::new(h.clone()),
            _ => self.feed.push(line, rec),
        }
        self.dirty = true;
    }

    /// Whether this tick should re-snapshot: about 10 times a second, less
    /// often when the trace is so large that a snapshot itself takes long.
    pub fn snapshot_due(&mut self, spawns: usize) -> bool {
        self.ticks += 1;
        let every = 1 + (spawns / 50_000) as u32;
        if self.dirty && self.ticks >= every {
            self.ticks = 0;
            self.dirty = false;
            true
        } else {
            false
        }
    }
}
