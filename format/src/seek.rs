//! Reading single lines of a trace file by byte offset, for a viewer that
//! keeps the offset of each record instead of the record (a 10M-event trace
//! is 2 GiB of JSON; its offsets are 80 MB).
//!
//! [`TraceReader::line_offset`](crate::TraceReader::line_offset) gives the
//! offset of each record while the file is read once; [`LineReader::line_at`]
//! reads one line back later and [`parse_line`] parses it exactly as the
//! streaming reader does. Only plain files are seekable: a `.zst` trace is
//! one compressed stream, read front to back.
//!
//! ```
//! # use spawnscope_format::*;
//! let dir = std::env::temp_dir().join(format!("spawnscope-seek-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("t.jsonl");
//! let text = concat!(
//!     r#"{"kind":"header","format":"spawnscope-trace","format_version":"1.0","tool_version":"0","command":[],"cwd":"/","start_unix_ns":0,"host":{},"tracer":{"mode":"seccomp"}}"#, "\n",
//!     r#"{"kind":"end","t":5,"exit_code":0}"#, "\n");
//! std::fs::write(&path, text).unwrap();
//! let mut r = FileReader::open(&path).unwrap();
//! let (line, _) = r.next_record().unwrap().unwrap();
//! let offset = r.line_offset();
//! let mut lines = LineReader::open(&path).unwrap();
//! let rec = parse_line(lines.line_at(offset).unwrap()).unwrap();
//! assert_eq!((line, rec.kind()), (2, "end"));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use crate::event::Record;
use crate::MAX_LINE;

/// Bytes read at a time: a window of the file kept in memory, so reading
/// lines that are close together (a screen of events, or a scan in file
/// order) costs one read per window.
const WINDOW: usize = 256 * 1024;

/// Reads the line that starts at a byte offset of a plain file.
#[derive(Debug)]
pub struct LineReader {
    file: File,
    /// Bytes of the file from `start` on.
    buf: Vec<u8>,
    start: u64,
}

impl LineReader {
    pub fn open(path: impl AsRef<Path>) -> io::Result<LineReader> {
        Ok(LineReader { file: File::open(path)?, buf: Vec::new(), start: 0 })
    }

    /// The line starting at `offset`, without its newline (nor a `\r`
    /// before it). A line longer than [`MAX_LINE`] is an error, as for the
    /// streaming reader; past the end of the file the line is empty.
    pub fn line_at(&mut self, offset: u64) -> io::Result<&[u8]> {
        let in_window = offset >= self.start && offset - self.start <= self.buf.len() as u64;
        if !in_window {
            self.refill(offset)?;
        }
        loop {
            let from = (offset - self.start) as usize;
            if let Some(n) = memchr::memchr(b'\n', &self.buf[from..]) {
                let line = &self.buf[from..from + n];
                return Ok(line.strip_suffix(b"\r").unwrap_or(line));
            }
            if self.buf.len() - from > MAX_LINE {
                return Err(io::Error::new(io::ErrorKind::InvalidData, format!("line longer than {MAX_LINE} bytes")));
            }
            // The line goes on past the window: a window from its start.
            if from > 0 {
                self.refill(offset)?;
                continue;
            }
            if !self.extend()? {
                // The last line of a file without a final newline.
                let from = (offset - self.start) as usize;
                return Ok(&self.buf[from..]);
            }
        }
    }

    /// Starts the window at `offset`.
    fn refill(&mut self, offset: u64) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(offset))?;
        self.start = offset;
        self.buf.clear();
        self.extend()?;
        Ok(())
    }

    /// Reads up to [`WINDOW`] more bytes; false at the end of the file.
    fn extend(&mut self) -> io::Result<bool> {
        let old = self.buf.len();
        self.buf.resize(old + WINDOW, 0);
        let n = loop {
            match self.file.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(old + n);
        Ok(n > 0)
    }
}

/// Parses one event line as the streaming reader does (the same records and
/// the same error messages); `line` is without its newline.
pub fn parse_line(line: &[u8]) -> Result<Record, serde_json::Error> {
    crate::read::parse_record(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_by_offset_across_windows_and_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        // Lines of growing length, one longer than a window, no final newline.
        let mut text = Vec::new();
        let mut offsets = Vec::new();
        for i in 0..2000usize {
            offsets.push(text.len() as u64);
            let len = if i == 1500 { WINDOW + 100 } else { i % 300 };
            text.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, len));
            if i % 7 == 0 {
                text.push(b'\r');
            }
            if i < 1999 {
                text.push(b'\n');
            }
        }
        std::fs::write(&path, &text).unwrap();
        let mut r = LineReader::open(&path).unwrap();
        // In order, backwards, and jumping around: the same lines.
        let order: Vec<usize> = (0..2000).chain((0..2000).rev()).chain((0..2000).map(|i| (i * 7919) % 2000)).collect();
        for i in order {
            let want = if i == 1500 { WINDOW + 100 } else { i % 300 };
            let line = r.line_at(offsets[i]).unwrap();
            assert_eq!(line.len(), want, "line {i}");
            assert!(line.iter().all(|&b| b == b'a' + (i % 26) as u8), "line {i}");
        }
        assert_eq!(r.line_at(text.len() as u64 + 10).unwrap(), b"");
        // A line cut by the end of a window, with more lines after it.
        let text: Vec<u8> = (0..300u32).flat_map(|i| format!("{i:0999}\n").into_bytes()).collect();
        std::fs::write(&path, &text).unwrap();
        let mut r = LineReader::open(&path).unwrap();
        for i in 0..300u64 {
            assert_eq!(r.line_at(i * 1000).unwrap(), format!("{i:0999}").as_bytes(), "line {i}");
        }
    }
}
