//! Rows of an indexed log, read back from the trace file when needed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use spawnscope_format::{parse_line, LineReader};

use super::{EventRow, IndexRow, NO_TIME};

/// Rows kept formatted: a few screens of them.
const CACHE: usize = 4096;

/// The trace file and a cache of the rows shown lately.
#[derive(Debug)]
pub(super) struct RowSource {
    path: PathBuf,
    reader: Mutex<LineReader>,
    cache: Mutex<HashMap<u64, EventRow>>,
}

impl RowSource {
    pub fn open(path: &Path) -> std::io::Result<RowSource> {
        Ok(RowSource { path: path.to_path_buf(), reader: Mutex::new(LineReader::open(path)?), cache: Mutex::new(HashMap::new()) })
    }

    pub fn path(&self) -> &Path {
        &self.path
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
        match self.reader.lock() {
            Ok(mut reader) => read_row(&mut reader, r),
            Err(_) => read_row_failed(r, "reader unavailable".into()),
        }
    }
}

/// The row of `r`, read with `reader` (a line that cannot be read again
/// gives a row that says why).
pub(super) fn read_row(reader: &mut LineReader, r: IndexRow) -> EventRow {
    let parsed = match reader.line_at(r.offset) {
        Ok(bytes) => parse_line(bytes).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match parsed {
        Ok(rec) => EventRow::of(u64::from(r.line), &rec).unwrap_or_else(|| read_row_failed(r, "the file changed".into())),
        Err(why) => read_row_failed(r, why),
    }
}

fn read_row_failed(r: IndexRow, why: String) -> EventRow {
    let t = r.t;
    EventRow {
        line: u64::from(r.line),
        t: (t != NO_TIME).then_some(t),
        pid: 0,
        kind: "?",
        child: None,
        text: spawnscope_format::escape(&format!("cannot read this line again: {why}")).into(),
    }
}
