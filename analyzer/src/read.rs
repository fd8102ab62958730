//! A faster twin of `spawnscope_format::TraceReader` for whole-file analysis.
//!
//! `Record` is an internally tagged serde enum, and serde parses those by
//! first buffering every object into a generic tree, then building the
//! variant from it: 40% of the CPU time of reading a big trace. The writer
//! always puts `"kind"` first, so this reader looks at the start of a line
//! (`{"kind":"spawn",`) and parses the event struct directly. Anything else
//! (another layout, an unknown kind, a line that fails) goes through the
//! `Record` path, so errors and warnings are exactly those of `TraceReader`.
//! The header is checked by `TraceReader` itself. `tests/reader.rs`
//! compares the two readers on every fixture and on generated damage.
//!
//! (Lives here rather than in `format/` because that crate is owned by
//! someone else; moving this fast path into `TraceReader::next_record` would
//! speed up every reader.)

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use spawnscope_format::{
    ExecEvent, ExitEvent, Header, PipeEvent, ReadError, ReadWarning, Record, SocketpairEvent,
    SpawnEvent, TraceReader, MAX_LINE,
};

pub(crate) struct FastReader<R> {
    inner: R,
    header: Header,
    line: u64,
    buf: Vec<u8>,
    ended: bool,
    done: bool,
    warnings: Vec<ReadWarning>,
}

/// Opens a trace file like `FileReader::open` (`.zst`: zstd).
pub(crate) fn open(path: &Path) -> Result<FastReader<Box<dyn BufRead + Send>>, ReadError> {
    let open_err = |source| ReadError::Open { path: path.to_path_buf(), source };
    if path.is_dir() {
        return Err(ReadError::IsDirectory { path: path.to_path_buf() });
    }
    let file = File::open(path).map_err(open_err)?;
    let inner: Box<dyn BufRead + Send> = if spawnscope_format::is_zstd_path(path) {
        let dec = zstd::stream::read::Decoder::new(file).map_err(open_err)?;
        Box::new(BufReader::with_capacity(256 * 1024, dec))
    } else {
        Box::new(BufReader::with_capacity(256 * 1024, file))
    };
    FastReader::new(inner)
}

impl<R: BufRead> FastReader<R> {
    pub(crate) fn new(inner: R) -> Result<Self, ReadError> {
        let mut r = FastReader {
            inner,
            header: Header::new(Vec::new(), spawnscope_format::TracerMode::Imported),
            line: 0,
            buf: Vec::new(),
            ended: false,
            done: false,
            warnings: Vec::new(),
        };
        if r.read_line()?.is_none() {
            return Err(ReadError::Empty);
        }
        // The header line, checked by the format crate's own reader.
        let tr = TraceReader::new(&r.buf[..])?;
        r.header = tr.header().clone();
        Ok(r)
    }

    pub(crate) fn header(&self) -> &Header {
        &self.header
    }

    pub(crate) fn warnings(&self) -> &[ReadWarning] {
        &self.warnings
    }

    /// Same contract as `TraceReader::next_record`.
    pub(crate) fn next_record(&mut self) -> Result<Option<(u64, Record)>, ReadError> {
        loop {
            if self.done {
                return Ok(None);
            }
            let complete = match self.read_line() {
                Ok(Some(c)) => c,
                Ok(None) => {
                    self.done = true;
                    if !self.ended {
                        self.warnings.push(ReadWarning::Incomplete { last_line: self.line });
                    }
                    return Ok(None);
                }
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            };
            let line = self.line;
            let bytes = trim_newline(&self.buf);
            if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            if self.ended {
                self.warnings.push(ReadWarning::DataAfterEnd { line });
                self.done = true;
                return Ok(None);
            }
            match parse(bytes) {
                Ok(Record::Unknown) => self.warnings.push(ReadWarning::UnknownKind { line }),
                Ok(Record::Header(_)) => {
                    self.done = true;
                    return Err(ReadError::Malformed { line, detail: "a second header".into() });
                }
                Ok(rec) => {
                    if matches!(rec, Record::End(_)) {
                        self.ended = true;
                    }
                    return Ok(Some((line, rec)));
                }
                Err(_) if !complete => {
                    self.warnings.push(ReadWarning::TruncatedLine { line });
                    self.done = true;
                    self.warnings.push(ReadWarning::Incomplete { last_line: line - 1 });
                    return Ok(None);
                }
                Err(e) => {
                    self.done = true;
                    return Err(ReadError::Malformed { line, detail: short(&e.to_string()) });
                }
            }
        }
    }

    fn read_line(&mut self) -> Result<Option<bool>, ReadError> {
        self.buf.clear();
        self.line += 1;
        let line = self.line;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => &[],
                Err(source) => return Err(ReadError::Io { line, source }),
            };
            if avail.is_empty() {
                return Ok(if self.buf.is_empty() { None } else { Some(false) });
            }
            let (take, found) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            if self.buf.len() + take > MAX_LINE {
                self.buf.clear();
                return Err(ReadError::LineTooLong { line });
            }
            self.buf.extend_from_slice(&avail[..take]);
            self.inner.consume(take);
            if found {
                return Ok(Some(true));
            }
        }
    }
}

/// The fast path for lines that start `{"kind":"<kind>",`; everything else,
/// and any line the fast path cannot parse, goes through `Record`.
fn parse(bytes: &[u8]) -> Result<Record, serde_json::Error> {
    const PREFIX: &[u8] = b"{\"kind\":\"";
    let fast = bytes.strip_prefix(PREFIX).and_then(|rest| {
        let end = rest.iter().position(|&b| b == b'"')?;
        (rest.get(end + 1) == Some(&b',')).then(|| &rest[..end])
    });
    let direct = match fast {
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

/// As the format crate shortens error details.
fn short(s: &str) -> String {
    let mut s: String = s.chars().take(200).collect();
    s.retain(|c| !c.is_control());
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Everything a reader yields, as comparable text.
    fn run_fast(data: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        match FastReader::new(data) {
            Err(e) => out.push(format!("new error: {e}")),
            Ok(mut r) => {
                out.push(format!("{:?}", r.header()));
                loop {
                    match r.next_record() {
                        Ok(Some((l, rec))) => out.push(format!("{l}: {rec:?}")),
                        Ok(None) => break,
                        Err(e) => {
                            out.push(format!("error: {e}"));
                            break;
                        }
                    }
                }
                out.extend(r.warnings().iter().map(|w| format!("warning: {w}")));
            }
        }
        out
    }

    fn run_reference(data: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        match TraceReader::new(data) {
            Err(e) => out.push(format!("new error: {e}")),
            Ok(mut r) => {
                out.push(format!("{:?}", r.header()));
                loop {
                    match r.next_record() {
                        Ok(Some((l, rec))) => out.push(format!("{l}: {rec:?}")),
                        Ok(None) => break,
                        Err(e) => {
                            out.push(format!("error: {e}"));
                            break;
                        }
                    }
                }
                out.extend(r.warnings().iter().map(|w| format!("warning: {w}")));
            }
        }
        out
    }

    fn fixture_files() -> Vec<std::path::PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces");
        let mut v = Vec::new();
        for dir in ["valid", "invalid"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x != "py") {
                    v.push(p);
                }
            }
        }
        v.sort();
        v
    }

    #[test]
    fn same_as_trace_reader_on_every_fixture() {
        let files = fixture_files();
        assert!(files.len() > 20);
        for p in files {
            let data = std::fs::read(&p).unwrap();
            assert_eq!(run_fast(&data), run_reference(&data), "{}", p.display());
        }
    }

    #[test]
    fn fast_path_is_taken_and_falls_back() {
        let line = br#"{"kind":"exit","pid":1,"tid":1,"code":0,"signal":null,"t":5}"#;
        assert!(matches!(parse(line), Ok(Record::Exit(_))));
        // Another key order, spaces: the Record path, same result.
        let line2 = br#"{ "pid":1,"tid":1,"code":0,"signal":null,"t":5, "kind": "exit"}"#;
        assert_eq!(parse(line).unwrap(), parse(line2).unwrap());
        // A bad value: the Record path's error.
        let bad = br#"{"kind":"exit","pid":"x","tid":1,"t":5}"#;
        assert_eq!(
            parse(bad).unwrap_err().to_string(),
            serde_json::from_slice::<Record>(bad).unwrap_err().to_string()
        );
    }

    fn mutate(data: &[u8], cut: usize, junk: &[u8], at: usize) -> Vec<u8> {
        let mut d = data[..cut.min(data.len())].to_vec();
        let at = at.min(d.len());
        d.splice(at..at, junk.iter().copied());
        d
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
        /// Cut a real trace anywhere and splice junk in anywhere: both readers
        /// say exactly the same.
        #[test]
        fn same_as_trace_reader_on_damage(
            file in 0..40usize,
            cut in 0..6000usize,
            junk in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'{'), Just(b'"'), Just(b' '), any::<u8>()], 0..12),
            at in 0..6000usize,
        ) {
            let files = fixture_files();
            let data = std::fs::read(&files[file % files.len()]).unwrap();
            let d = mutate(&data, cut.max(data.len() * (cut % 3) / 2), &junk, at);
            prop_assert_eq!(run_fast(&d), run_reference(&d));
        }
    }
}
