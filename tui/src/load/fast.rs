//! A trace reader that gives the same results as
//! [`spawnscope_format::TraceReader`] (records, line numbers, warnings,
//! errors), about 2.5 times faster on well-formed lines: it reads the `kind`
//! the writer puts first and deserializes that event type directly, instead
//! of going through serde's internally tagged enum (which buffers every line
//! into an intermediate tree first). Any line it does not recognise goes
//! through exactly the format crate's path, so odd input behaves the same.
//! `tests::same_as_the_format_reader` holds it to that.
//!
//! This belongs in `spawnscope-format`'s reader; until it moves there, the
//! UI uses it to open million-event traces in time.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use serde::de::DeserializeOwned;
use spawnscope_format::{FileReader, ReadError, ReadWarning, Record, MAX_LINE};

/// Streaming reader over a trace file.
pub struct FastReader {
    inner: Box<dyn BufRead + Send>,
    line: u64,
    buf: Vec<u8>,
    ended: bool,
    done: bool,
    pub warnings: Vec<ReadWarning>,
}

impl std::fmt::Debug for FastReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastReader").field("line", &self.line).field("ended", &self.ended).finish_non_exhaustive()
    }
}

impl FastReader {
    /// Opens a trace: the format crate's reader checks the header (and
    /// returns it); this one then reads the events.
    pub fn open(path: &Path) -> Result<(spawnscope_format::Header, FastReader), ReadError> {
        let header = FileReader::open(path)?.header().clone();
        let open_err = |source| ReadError::Open { path: path.to_path_buf(), source };
        let file = File::open(path).map_err(open_err)?;
        let inner: Box<dyn BufRead + Send> = if spawnscope_format::is_zstd_path(path) {
            Box::new(BufReader::with_capacity(256 * 1024, zstd::stream::read::Decoder::new(file).map_err(open_err)?))
        } else {
            Box::new(BufReader::with_capacity(256 * 1024, file))
        };
        let mut r = FastReader { inner, line: 0, buf: Vec::new(), ended: false, done: false, warnings: Vec::new() };
        r.read_line()?; // the header, already checked
        Ok((header, r))
    }

    /// The next event with its line number, as `TraceReader::next_record`.
    pub fn next_record(&mut self) -> Result<Option<(u64, Record)>, ReadError> {
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
            match fast_parse(bytes).map_or_else(|| serde_json::from_slice::<Record>(bytes), Ok) {
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

    /// One line into `buf`, bounded by `MAX_LINE` (as the format's reader).
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

/// The record of a line that starts with `{"kind":"<known kind>"`, parsed as
/// that event type; None for anything else (the caller takes the format's path).
fn fast_parse(bytes: &[u8]) -> Option<Record> {
    const PREFIX: &[u8] = br#"{"kind":""#;
    let rest = bytes.strip_prefix(PREFIX)?;
    let end = rest.iter().position(|&b| b == b'"')?;
    fn de<T: DeserializeOwned>(b: &[u8]) -> Option<T> {
        serde_json::from_slice(b).ok()
    }
    match &rest[..end] {
        b"spawn" => de(bytes).map(Record::Spawn),
        b"exec" => de(bytes).map(Record::Exec),
        b"exit" => de(bytes).map(Record::Exit),
        b"socketpair" => de(bytes).map(Record::Socketpair),
        b"pipe" => de(bytes).map(Record::Pipe),
        b"warning" => de(bytes).map(Record::Warning),
        b"end" => de(bytes).map(Record::End),
        _ => None,
    }
}

fn trim_newline(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.strip_suffix(b"\r").unwrap_or(b)
}

/// As the format's reader shortens error details.
fn short(s: &str) -> String {
    let mut s: String = s.chars().take(200).collect();
    s.retain(|c| !c.is_control());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    type Outcome = (Vec<(u64, Record)>, Vec<ReadWarning>, Option<String>);

    fn with_format(path: &Path) -> Result<Outcome, String> {
        let mut r = FileReader::open(path).map_err(|e| e.to_string())?;
        let mut recs = Vec::new();
        let err = loop {
            match r.next_record() {
                Ok(Some(x)) => recs.push(x),
                Ok(None) => break None,
                Err(e) => break Some(e.to_string()),
            }
        };
        Ok((recs, r.warnings().to_vec(), err))
    }

    fn with_fast(path: &Path) -> Result<Outcome, String> {
        let (_, mut r) = FastReader::open(path).map_err(|e| e.to_string())?;
        let mut recs = Vec::new();
        let err = loop {
            match r.next_record() {
                Ok(Some(x)) => recs.push(x),
                Ok(None) => break None,
                Err(e) => break Some(e.to_string()),
            }
        };
        Ok((recs, r.warnings, err))
    }

    #[test]
    fn known_kinds_take_the_fast_path() {
        let mut sample = Vec::new();
        crate::sample::write_sample(&mut sample).unwrap();
        let text = String::from_utf8(sample).unwrap();
        for line in text.lines().skip(1) {
            let fast = fast_parse(line.as_bytes()).unwrap_or_else(|| panic!("slow path for {line}"));
            assert_eq!(fast, serde_json::from_str::<Record>(line).unwrap());
        }
        assert_eq!(fast_parse(br#"{"kind":"header","format":"x"}"#), None);
        assert_eq!(fast_parse(br#"{"t":5,"kind":"end"}"#), None);
    }

    #[test]
    fn same_as_the_format_reader() {
        let dir = std::env::temp_dir().join(format!("spawnscope-fast-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut files: Vec<std::path::PathBuf> = Vec::new();
        for sub in ["valid", "invalid"] {
            let d = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/traces/").to_string() + sub;
            for e in std::fs::read_dir(d).unwrap().flatten() {
                files.push(e.path());
            }
        }
        // Damage the sample in every way the reader knows about.
        let mut sample = Vec::new();
        crate::sample::write_sample(&mut sample).unwrap();
        let text = String::from_utf8(sample).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let header = lines[0];
        let cases: Vec<(&str, String)> = vec![
            ("ok", text.clone()),
            ("crlf-and-blank-lines", lines.join("\r\n\n") + "\r\n"),
            ("truncated-last-line", text[..text.len() - 20].to_string()),
            ("no-end", lines[..lines.len() - 1].join("\n") + "\n"),
            ("unknown-kind", format!("{header}\n{{\"kind\":\"future\",\"x\":1}}\n{}\n", lines[1..].join("\n"))),
            ("second-header", format!("{header}\n{header}\n")),
            ("after-end", format!("{text}{}\n", lines[3])),
            ("bad-field", format!("{header}\n{}\n", lines[3].replace("\"pid\":", "\"pid\":\"x\","))),
            ("kind-not-first", format!("{header}\n{{\"t\":5,\"exit_code\":0,\"kind\":\"end\"}}\n")),
            ("escaped-kind", format!("{header}\n{{\"kind\":\"e\\u006ed\",\"t\":5,\"exit_code\":0}}\n")),
        ];
        for (name, body) in &cases {
            let p = dir.join(format!("{name}.jsonl"));
            std::fs::write(&p, body).unwrap();
            files.push(p);
        }
        files.push(dir.join("missing.jsonl"));
        let zst = dir.join("sample.jsonl.zst");
        std::fs::write(&zst, zstd::encode_all(text.as_bytes(), 3).unwrap()).unwrap();
        files.push(zst);
        for f in &files {
            assert_eq!(with_fast(f), with_format(f), "{}", f.display());
        }
        assert!(files.len() > 20);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
