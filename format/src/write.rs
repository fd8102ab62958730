//! Writer: one JSON object per line, files opened by
//! [`crate::create_output`] (no symbolic links, regular files only, 0600).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::event::{End, Header, Record};
use crate::output::{create_output, is_stdio, Existing, OutputError};

/// Why a trace could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot create trace file {path}: {source}")]
    Create { path: String, source: io::Error },
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("writing the trace failed: {0}")]
    Io(#[from] io::Error),
}

/// Writes records as JSON Lines and counts them by kind for the end line.
///
/// The writer buffers; call [`TraceWriter::flush`] regularly (the tracer does
/// so at least every 100 ms) so that a killed recording keeps what it saw.
#[derive(Debug)]
pub struct TraceWriter<W: Write> {
    out: W,
    counts: BTreeMap<String, u64>,
    line: Vec<u8>,
}

/// A writer to a file (zstd-compressed when the name ends in `.zst`).
pub type FileWriter = TraceWriter<Box<dyn Write + Send>>;

struct ZstdOut(zstd::stream::write::AutoFinishEncoder<'static, BufWriter<File>>);

impl Write for ZstdOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl FileWriter {
    /// Creates `path` for an explicit `-o`: an existing regular file of the
    /// user is replaced, anything else is refused (see
    /// [`crate::create_output`]); the file is 0600: traces hold command
    /// lines. `-` writes to standard output.
    pub fn create(path: impl AsRef<Path>) -> Result<FileWriter, WriteError> {
        Self::create_with(path, Existing::Replace)
    }

    /// Like [`FileWriter::create`], with a choice of what happens to an
    /// existing file ([`Existing::Refuse`] for names spawnscope chose).
    pub fn create_with(path: impl AsRef<Path>, existing: Existing) -> Result<FileWriter, WriteError> {
        let path = path.as_ref();
        if is_stdio(path) {
            return Ok(TraceWriter::new(Box::new(BufWriter::with_capacity(64 * 1024, io::stdout()))));
        }
        let file = create_output(path, existing)?;
        Self::from_file(file, path)
    }

    /// A writer to a file opened by the caller (e.g. with
    /// [`crate::create_new_unique`]); `name` decides zstd compression.
    pub fn from_file(file: File, name: &Path) -> Result<FileWriter, WriteError> {
        let out: Box<dyn Write + Send> = if crate::is_zstd_path(name) {
            let enc = zstd::stream::write::Encoder::new(BufWriter::new(file), 3)
                .map_err(|source| WriteError::Create { path: name.display().to_string(), source })?;
            Box::new(ZstdOut(enc.auto_finish()))
        } else {
            Box::new(BufWriter::with_capacity(64 * 1024, file))
        };
        Ok(TraceWriter::new(out))
    }
}

impl<W: Write> TraceWriter<W> {
    pub fn new(out: W) -> Self {
        TraceWriter { out, counts: BTreeMap::new(), line: Vec::with_capacity(1024) }
    }

    /// Writes the header line. Call once, first.
    pub fn write_header(&mut self, header: &Header) -> Result<(), WriteError> {
        self.write_record(&Record::Header(header.clone()))
    }

    /// Writes one record as a line.
    pub fn write_record(&mut self, rec: &Record) -> Result<(), WriteError> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, rec).map_err(io::Error::from)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        if !matches!(rec, Record::Header(_) | Record::End(_)) {
            *self.counts.entry(rec.kind().to_string()).or_default() += 1;
        }
        Ok(())
    }

    /// Event counts by kind so far.
    pub fn counts(&self) -> &BTreeMap<String, u64> {
        &self.counts
    }

    pub fn flush(&mut self) -> Result<(), WriteError> {
        self.out.flush()?;
        Ok(())
    }

    /// Writes the end line (with the counts filled in) and flushes.
    pub fn finish(mut self, t: u64, exit_code: Option<i32>) -> Result<W, WriteError> {
        let end = End { t, exit_code, counts: self.counts.clone() };
        self.write_record(&Record::End(end))?;
        self.out.flush()?;
        Ok(self.out)
    }
}
