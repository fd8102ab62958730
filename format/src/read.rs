//! Streaming reader.

mod fast;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::event::{Header, Record};
use crate::{FORMAT_MAJOR, FORMAT_NAME, MAX_LINE};

/// Why a trace could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("{path}: is a directory, not a trace file")]
    IsDirectory { path: PathBuf },
    #[error("line {line}: read error: {source}")]
    Io { line: u64, source: io::Error },
    #[error("empty file: not a spawnscope trace")]
    Empty,
    #[error("line 1: not a spawnscope trace (expected a header with \"format\": \"{FORMAT_NAME}\"): {detail}")]
    NotATrace { detail: String },
    #[error("trace format version {found} is newer than this spawnscope reads ({FORMAT_MAJOR}.x): upgrade spawnscope")]
    NewerVersion { found: String },
    #[error("line {line}: malformed event: {detail}")]
    Malformed { line: u64, detail: String },
    #[error("line {line}: longer than {MAX_LINE} bytes; the trace is damaged")]
    LineTooLong { line: u64 },
}

/// Something odd but survivable; the reader goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadWarning {
    /// No end line: the recording was cut short (tracer killed, disk full).
    Incomplete { last_line: u64 },
    /// The last line was cut in the middle and was dropped.
    TruncatedLine { line: u64 },
    /// A line of an unknown kind was skipped.
    UnknownKind { line: u64 },
    /// Lines after the end line were ignored.
    DataAfterEnd { line: u64 },
}

impl std::fmt::Display for ReadWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadWarning::Incomplete { last_line } => write!(
                f,
                "trace is incomplete (no end line after line {last_line}): the recording was cut short; analysing what is there"
            ),
            ReadWarning::TruncatedLine { line } => {
                write!(f, "line {line}: cut short, ignored (recording interrupted)")
            }
            ReadWarning::UnknownKind { line } => {
                write!(f, "line {line}: unknown event kind, skipped (written by a newer spawnscope?)")
            }
            ReadWarning::DataAfterEnd { line } => {
                write!(f, "line {line}: data after the end line, ignored")
            }
        }
    }
}

/// Reads a trace one event at a time; memory use is bounded by one line.
///
/// ```
/// # use spawnscope_format::*;
/// let text = concat!(
///     r#"{"kind":"header","format":"spawnscope-trace","format_version":"1.0","tool_version":"0","command":[],"cwd":"/","start_unix_ns":0,"host":{},"tracer":{"mode":"seccomp"}}"#, "\n",
///     r#"{"kind":"end","t":5,"exit_code":0}"#, "\n");
/// let mut r = TraceReader::new(text.as_bytes()).unwrap();
/// assert_eq!(r.header().format_version, "1.0");
/// assert!(matches!(r.next_record().unwrap(), Some((2, Record::End(_)))));
/// assert!(r.next_record().unwrap().is_none());
/// assert!(r.warnings().is_empty());
/// ```
pub struct TraceReader<R> {
    inner: R,
    header: Header,
    line: u64,
    buf: Vec<u8>,
    st: Status,
    /// Bytes consumed from `inner` so far, and where the last line read starts.
    pos: u64,
    line_start: u64,
}

impl<R> std::fmt::Debug for TraceReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceReader").field("line", &self.line).field("ended", &self.st.ended).finish()
    }
}

/// Reader over a file, transparently decompressing `.zst`.
pub type FileReader = TraceReader<Box<dyn BufRead + Send>>;

impl FileReader {
    /// Opens a trace file (`.zst` suffix: zstd-compressed); `-` reads
    /// standard input.
    pub fn open(path: impl AsRef<Path>) -> Result<FileReader, ReadError> {
        let path = path.as_ref();
        let open_err = |source| ReadError::Open { path: path.to_path_buf(), source };
        if crate::is_stdio(path) {
            // `-`: standard input, zstd-compressed or not (told by its magic number).
            let mut stdin = BufReader::with_capacity(256 * 1024, io::stdin());
            let zst = stdin.fill_buf().map_err(open_err)?.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
            let inner: Box<dyn BufRead + Send> = if zst {
                let dec = zstd::stream::read::Decoder::with_buffer(stdin).map_err(open_err)?;
                Box::new(BufReader::with_capacity(256 * 1024, dec))
            } else {
                Box::new(stdin)
            };
            return TraceReader::new(inner);
        }
        if path.is_dir() {
            return Err(ReadError::IsDirectory { path: path.to_path_buf() });
        }
        let file = File::open(path).map_err(open_err)?;
        let inner: Box<dyn BufRead + Send> = if crate::is_zstd_path(path) {
            let dec = zstd::stream::read::Decoder::new(file).map_err(open_err)?;
            Box::new(BufReader::with_capacity(256 * 1024, dec))
        } else {
            Box::new(BufReader::with_capacity(256 * 1024, file))
        };
        TraceReader::new(inner)
    }
}

impl<R: BufRead> TraceReader<R> {
    /// Reads and checks the header line.
    pub fn new(inner: R) -> Result<Self, ReadError> {
        let mut r =
            TraceReader { inner, header: empty_header(), line: 0, buf: Vec::new(), st: Status::default(), pos: 0, line_start: 0 };
        r.line = 1;
        let complete = match r.read_line()? {
            None => return Err(ReadError::Empty),
            Some(c) => c,
        };
        let _ = complete;
        let text = String::from_utf8_lossy(&r.buf);
        let value: serde_json::Value =
            serde_json::from_str(text.trim_end()).map_err(|e| ReadError::NotATrace { detail: short(&e.to_string()) })?;
        if value.get("format").and_then(|v| v.as_str()) != Some(FORMAT_NAME) {
            return Err(ReadError::NotATrace { detail: "no \"format\" field of that value".into() });
        }
        let version = value.get("format_version").and_then(|v| v.as_str()).unwrap_or("");
        let major: u32 = version
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .ok_or_else(|| ReadError::NotATrace { detail: format!("bad format_version {version:?}") })?;
        if major > FORMAT_MAJOR {
            return Err(ReadError::NewerVersion { found: version.to_string() });
        }
        match serde_json::from_value::<Record>(value) {
            Ok(Record::Header(h)) => r.header = h,
            Ok(_) => return Err(ReadError::NotATrace { detail: "first line is not a header".into() }),
            Err(e) => return Err(ReadError::NotATrace { detail: short(&e.to_string()) }),
        }
        Ok(r)
    }

    /// Parses every line with serde_json, as before the fast path: the
    /// reference for tests and the `read-cost` example. Same results, slower.
    #[doc(hidden)]
    pub fn serde_only(mut self) -> Self {
        self.st.serde_only = true;
        self
    }

    /// The header (line 1).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Warnings so far; complete after `next_record` returned `Ok(None)`.
    pub fn warnings(&self) -> &[ReadWarning] {
        &self.st.warnings
    }

    /// Whether the end line was seen.
    pub fn is_complete(&self) -> bool {
        self.st.ended
    }

    /// Byte offset, in the (decompressed) stream, of the line of the record
    /// [`TraceReader::next_record`] returned last: with
    /// [`LineReader`](crate::LineReader) a viewer can read it again later.
    pub fn line_offset(&self) -> u64 {
        self.line_start
    }

    /// The next event with its line number; `Ok(None)` at the end of the file.
    /// The end line itself is returned as [`Record::End`]; unknown kinds are
    /// skipped with a warning.
    pub fn next_record(&mut self) -> Result<Option<(u64, Record)>, ReadError> {
        loop {
            if self.st.done {
                return Ok(None);
            }
            self.buf.clear();
            self.line += 1;
            self.line_start = self.pos;
            let line = self.line;
            // Nearly every line lies whole in the reader's buffer: judged there,
            // without a copy. Otherwise (a line across the buffer's end, too
            // long, end of file, an error) the copying path below, which sees
            // exactly what this first look saw.
            match self.inner.fill_buf() {
                Ok(avail) => match memchr::memchr(b'\n', avail) {
                    Some(i) if i < MAX_LINE && !self.st.serde_only => {
                        let bytes = trim_newline(&avail[..=i]);
                        // The fast path never returns an end, a header or an
                        // unknown kind, nor reads a blank line: judge() is
                        // needed only after the end line or when it steps aside.
                        let rec = if self.st.ended { None } else { fast::parse(bytes) };
                        if let Some(rec) = rec {
                            self.inner.consume(i + 1);
                            self.pos += i as u64 + 1;
                            return Ok(Some((line, rec)));
                        }
                        let verdict = self.st.judge(line, bytes, true, false);
                        self.inner.consume(i + 1);
                        self.pos += i as u64 + 1;
                        match verdict {
                            Some(v) => return v,
                            None => continue,
                        }
                    }
                    _ if avail.is_empty() => return Ok(self.st.at_eof(line)),
                    _ => {}
                },
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // A zstd stream cut mid-frame ends the data, like a truncated line.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(self.st.at_eof(line)),
                Err(source) => {
                    self.st.done = true;
                    return Err(ReadError::Io { line, source });
                }
            }
            let complete = match self.read_line() {
                Ok(Some(c)) => c,
                Ok(None) => return Ok(self.st.at_eof(line)),
                Err(e) => {
                    self.st.done = true;
                    return Err(e);
                }
            };
            let fast = !self.st.serde_only;
            if let Some(v) = self.st.judge(line, trim_newline(&self.buf), complete, fast) {
                return v;
            }
        }
    }

    /// Reads the rest of the line `next_record` began into `self.buf`, bounded
    /// by [`MAX_LINE`]. Returns `Some(true)` for a newline-terminated line,
    /// `Some(false)` for a last line without newline, `None` at end of file.
    fn read_line(&mut self) -> Result<Option<bool>, ReadError> {
        let line = self.line;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A zstd stream cut mid-frame ends the data, like a truncated line.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => &[],
                Err(source) => return Err(ReadError::Io { line, source }),
            };
            if avail.is_empty() {
                return Ok(if self.buf.is_empty() { None } else { Some(false) });
            }
            let (take, found) = match memchr::memchr(b'\n', avail) {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            if self.buf.len() + take > MAX_LINE {
                self.buf.clear();
                return Err(ReadError::LineTooLong { line });
            }
            self.buf.extend_from_slice(&avail[..take]);
            self.inner.consume(take);
            self.pos += take as u64;
            if found {
                return Ok(Some(true));
            }
        }
    }
}

/// Where a reader stands, apart from its input: kept apart so that a line can
/// be judged while it still lies in the input's buffer.
#[derive(Debug, Default)]
struct Status {
    ended: bool,
    done: bool,
    warnings: Vec<ReadWarning>,
    /// Parse with serde_json only (the reference the fast path is tested against).
    serde_only: bool,
}

impl Status {
    /// End of file before line `line`.
    fn at_eof(&mut self, line: u64) -> Option<(u64, Record)> {
        self.done = true;
        if !self.ended {
            // `line` was counted but is not there.
            self.warnings.push(ReadWarning::Incomplete { last_line: line.saturating_sub(1) });
        }
        None
    }

    /// What `next_record` answers for line `line` (`bytes`, without its
    /// newline; `complete`: it had one), or `None`: go on to the next line.
    /// `fast`: try the fast path first (false: it was tried, or serde_only).
    #[allow(clippy::type_complexity)]
    fn judge(&mut self, line: u64, bytes: &[u8], complete: bool, fast: bool) -> Option<Result<Option<(u64, Record)>, ReadError>> {
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return None;
        }
        if self.ended {
            self.warnings.push(ReadWarning::DataAfterEnd { line });
            self.done = true;
            return Some(Ok(None));
        }
        let parsed = if fast { parse_record(bytes) } else { parse_record_serde(bytes) };
        match parsed {
            Ok(Record::Unknown) => {
                self.warnings.push(ReadWarning::UnknownKind { line });
                None
            }
            Ok(Record::Header(_)) => {
                self.done = true;
                Some(Err(ReadError::Malformed { line, detail: "a second header".into() }))
            }
            Ok(rec) => {
                if matches!(rec, Record::End(_)) {
                    self.ended = true;
                }
                Some(Ok(Some((line, rec))))
            }
            Err(_) if !complete => {
                self.warnings.push(ReadWarning::TruncatedLine { line });
                self.done = true;
                self.warnings.push(ReadWarning::Incomplete { last_line: line - 1 });
                Some(Ok(None))
            }
            Err(e) => {
                self.done = true;
                Some(Err(ReadError::Malformed { line, detail: short(&e.to_string()) }))
            }
        }
    }
}

impl<R: BufRead> Iterator for TraceReader<R> {
    type Item = Result<(u64, Record), ReadError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// Reads a whole trace from any reader (convenience for tests and small traces).
pub fn read_all(r: impl Read) -> Result<(Header, Vec<Record>, Vec<ReadWarning>), ReadError> {
    let mut tr = TraceReader::new(BufReader::new(r))?;
    let mut out = Vec::new();
    while let Some((_, rec)) = tr.next_record()? {
        out.push(rec);
    }
    Ok((tr.header.clone(), out, tr.st.warnings.clone()))
}

/// Parses one event line: the fast path ([`fast`]) for the hot kinds in the
/// writer's shape, serde_json for everything else and for every line the fast
/// path does not fully understand, so records and error messages are serde_json's.
pub(crate) fn parse_record(bytes: &[u8]) -> Result<Record, serde_json::Error> {
    match fast::parse(bytes) {
        Some(rec) => Ok(rec),
        None => parse_record_serde(bytes),
    }
}

/// Parses one event line with serde_json only: what [`parse_record`] did
/// before the fast path, kept as the reference the tests and the `read-cost`
/// example compare it with.
///
/// `Record` is an internally tagged enum, which serde parses by first
/// buffering the object into a generic tree: about 40% of the time of reading
/// a big trace. The writer always puts `"kind"` first, so lines that start
/// `{"kind":"<kind>",` are parsed straight into the event struct; anything
/// else (another key order, an unknown kind, a line that fails) takes the
/// `Record` path, so results and error messages are the same either way.
#[doc(hidden)]
pub fn parse_record_serde(bytes: &[u8]) -> Result<Record, serde_json::Error> {
    use crate::event::{ExecEvent, ExitEvent, PipeEvent, SocketpairEvent, SpawnEvent};
    const PREFIX: &[u8] = b"{\"kind\":\"";
    let kind = bytes.strip_prefix(PREFIX).and_then(|rest| {
        let end = rest.iter().position(|&b| b == b'"')?;
        (rest.get(end + 1) == Some(&b',')).then(|| &rest[..end])
    });
    let direct = match kind {
        Some(b"spawn") => serde_json::from_slice::<SpawnEvent>(bytes).map(Record::Spawn).ok(),
        Some(b"exec") => serde_json::from_slice::<ExecEvent>(bytes).map(Record::Exec).ok(),
        Some(b"exit") => serde_json::from_slice::<ExitEvent>(bytes).map(Record::Exit).ok(),
        Some(b"socketpair") => serde_json::from_slice::<SocketpairEvent>(bytes).map(Record::Socketpair).ok(),
        Some(b"pipe") => serde_json::from_slice::<PipeEvent>(bytes).map(Record::Pipe).ok(),
        _ => None,
    };
    match direct {
        Some(r) => Ok(r),
        None => serde_json::from_slice::<Record>(bytes),
    }
}

fn trim_newline(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.strip_suffix(b"\r").unwrap_or(b)
}

fn short(s: &str) -> String {
    let mut s: String = s.chars().take(200).collect();
    s.retain(|c| !c.is_control());
    s
}

fn empty_header() -> Header {
    Header {
        format: String::new(),
        format_version: String::new(),
        tool_version: String::new(),
        command: Vec::new(),
        cwd: String::new(),
        start_unix_ns: 0,
        host: Default::default(),
        tracer: crate::TracerInfo {
            mode: crate::TracerMode::Imported,
            syscall_info: false,
            attached_pid: None,
            capture_env: false,
            env_count: 0,
            env_bytes: 0,
            stacks: None,
        },
        source: None,
        env_hash: None,
        redaction: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_and_record_path_agree() {
        let line = br#"{"kind":"exit","pid":1,"tid":1,"code":0,"signal":null,"t":5}"#;
        assert!(matches!(parse_record(line), Ok(Record::Exit(_))));
        // Another key order, spaces: the Record path, same result.
        let line2 = br#"{ "pid":1,"tid":1,"code":0,"signal":null,"t":5, "kind": "exit"}"#;
        assert_eq!(parse_record(line).unwrap(), parse_record(line2).unwrap());
        // A bad value: the Record path's error message.
        let bad = br#"{"kind":"exit","pid":"x","tid":1,"t":5}"#;
        assert_eq!(parse_record(bad).unwrap_err().to_string(), serde_json::from_slice::<Record>(bad).unwrap_err().to_string());
    }
}
