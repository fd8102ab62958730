//! Rows of an indexed log, read back from the trace file when needed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use spawnscope_format::{parse_line, LineReader};

use super::{EventRow, IndexRow, NO_TIME};

/// Rows kept formatted: a few screens of them.
const CACHE: usize = 4096;

/// The trace file and a cache of the rows shown lately.
#[derive(Debug)]
pub(super) struct RowSource {
    reader: Mutex<LineReader>,
    cache: Mutex<HashMap<u64, EventRow>>,
}

impl RowSource {
    pub fn open(path: &Path) -> std::io::Result<RowSource> {
        Ok(RowSource { reader: Mutex::new(LineReader::open(path)?), cache: Mutex::new(HashMap::new()) })
    }

    /// The row of `r`, from the cache or the file.
    pub fn cached(&self, r: IndexRow) -> EventRow {
        let offset = r.offset;
        if let Some(row) = self.cache.lock().ok().and_then(|c| c.get(&offset).cloned()) {
            return row;
        }
        let row = self.read(r);
        if let Ok(mut c) = self.cache.lock() {
            if c.len() >= CACHE {
                c.clear();
            }
            c.insert(offset, row.clone());
        }
        row
    }

    /// Calls `f` with the row of each `(index, position)`, reading them in
    /// the order given (increasing indices are nearly increasing offsets:
    /// one pass over the file).
    pub fn scan(&self, rows: impl Iterator<Item = (u32, IndexRow)>, mut f: impl FnMut(u32, &EventRow)) {
        for (i, r) in rows {
            let row = self.read(r);
            f(i, &row);
        }
    }

    fn read(&self, r: IndexRow) -> EventRow {
        let (offset, line, t) = (r.offset, u64::from(r.line), r.t);
        let parsed = match self.reader.lock() {
            Ok(mut reader) => match reader.line_at(offset) {
                Ok(bytes) => parse_line(bytes).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
            Err(_) => Err("reader unavailable".to_string()),
        };
        match parsed.as_ref().ok().and_then(|rec| EventRow::of(line, rec)) {
            Some(row) => row,
            None => {
                let why = parsed.err().unwrap_or_else(|| "the file changed".into());
                EventRow {
                    line,
                    t: (t != NO_TIME).then_some(t),
                    pid: 0,
                    kind: "?",
                    child: None,
                    text: spawnscope_format::escape(&format!("cannot read this line again: {why}")).into(),
                }
            }
        }
    }
}
