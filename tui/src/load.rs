//! Opening a trace file for the UI: one streaming pass feeds both the
//! analysis and the raw event list.

use std::path::{Path, PathBuf};

use spawnscope_analyzer::Analysis;
use spawnscope_format::FileReader;

use crate::eventlog::EventLog;
use crate::feed::Feed;
use crate::TuiError;

/// A trace read for viewing.
#[derive(Debug)]
pub struct Loaded {
    pub path: PathBuf,
    pub analysis: Analysis,
    pub events: EventLog,
}

/// Reads and analyses a trace in one pass (`.zst` handled by the reader).
pub fn load_trace(path: &Path) -> Result<Loaded, TuiError> {
    let err = |e| TuiError::Trace { path: path.to_path_buf(), source: e };
    let mut reader = FileReader::open(path).map_err(err)?;
    let mut feed = Feed::new(reader.header().clone());
    let mut events = EventLog::default();
    while let Some((line, rec)) = reader.next_record().map_err(err)? {
        events.push(line, &rec);
        feed.push_owned(line, rec);
    }
    for w in reader.warnings() {
        feed.warn(w.to_string());
    }
    Ok(Loaded { path: path.to_path_buf(), analysis: feed.finish(), events })
}
