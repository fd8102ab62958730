//! spawnscope's strace importer: reads strace text logs and writes
//! spawnscope traces, so that a machine with only strace can still be
//! analysed. An input beside the ptrace recorder: it needs only the trace
//! format (`spawnscope-format`).
//!
//! Reads what `strace -f -ttt -T -s 4096 -v -e trace=... -o LOG CMD` writes
//! (and, degrading gracefully, logs without `-T`, `-v`, timestamps or `-f`;
//! `-tt` time-of-day stamps; `-ff -o PREFIX` per-process files; stderr output
//! with `[pid N]` prefixes) and turns it into the same records the ptrace
//! recorder writes, so that report, view, check and diff work on it.
//!
//! Two passes: [`parse`] joins `<unfinished ...>` / `<... resumed>` halves
//! and decodes the recorded syscalls of every file; then `build` merges
//! the files on their timestamps, works out thread groups from the clone
//! flags, and emits records in the order the recorder would have written
//! them (a spawn when the parent returns, an exec when it completes).
//!
//! ```
//! use spawnscope_strace::{import, ImportOptions, LogInput};
//! let log = "7 1700000000.5 fork() = 8 <0.0001>\n8 1700000000.6 +++ exited with 0 +++\n";
//! let t = import(vec![LogInput::from_bytes("log", None, log.into())], &ImportOptions::default())?;
//! let bytes = t.write(spawnscope_format::TraceWriter::new(Vec::new()))?;
//! let (header, records, _) = spawnscope_format::read_all(&bytes[..])?;
//! assert_eq!(header.source.as_deref(), Some("strace"));
//! assert_eq!(records.iter().filter(|r| r.kind() == "spawn").count(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod build;
mod decode;
mod line;
mod names;
mod parse;
mod stacks;
mod syntax;

mod error;
pub use error::ImportError;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use spawnscope_format::{Header, HostFacts, Nanos, Record, TraceWriter, WriteError};

/// Options for [`import`].
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Host facts of the machine the log came from (strace does not record
    /// them): `--glibc 2.17`, `--kernel 3.10.0`, `--cpus 128`, ...
    pub host: HostFacts,
    /// Store environment values (`ExecEvent::env`) when the log shows them.
    pub capture_env: bool,
    /// Key of the environment hash (None: `SPAWNSCOPE_ENV_KEY` if set, else
    /// random per import). Set it only in tests that compare hashes across traces.
    pub env_key: Option<spawnscope_format::EnvKey>,
    /// Masks secrets in command lines (and captured environment values) as
    /// `spawnscope record` does: the built-in rules by default,
    /// `Redactor::none()` for `--no-redact`. The header says what was applied.
    pub redact: spawnscope_format::Redactor,
}

/// One strace log to read.
pub struct LogInput {
    /// Shown in error messages (usually the path).
    pub name: String,
    /// For `strace -ff -o PREFIX` files (`PREFIX.PID`): the pid of every line.
    pub pid: Option<i32>,
    pub reader: Box<dyn BufRead>,
}

impl std::fmt::Debug for LogInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogInput").field("name", &self.name).field("pid", &self.pid).finish()
    }
}

impl LogInput {
    /// A log held in memory (tests, pipes).
    pub fn from_bytes(name: &str, pid: Option<i32>, bytes: Vec<u8>) -> LogInput {
        LogInput { name: name.to_string(), pid, reader: Box::new(std::io::Cursor::new(bytes)) }
    }

    /// Opens a log file.
    pub fn open(path: &Path, pid: Option<i32>) -> Result<LogInput, ImportError> {
        let name = path.display().to_string();
        if path.is_dir() {
            return Err(ImportError::IsDirectory { path: name });
        }
        let f = std::fs::File::open(path).map_err(|source| ImportError::Io { path: name.clone(), source })?;
        Ok(LogInput { name, pid, reader: Box::new(std::io::BufReader::with_capacity(256 * 1024, f)) })
    }
}

/// Expands the paths a user gave into log files, each with the pid its name
/// carries when it is one of `strace -ff -o PREFIX`'s `PREFIX.PID` files.
///
/// One existing file is read as is. A path that does not exist is taken as an
/// `-ff` prefix when `PATH.<pid>` files exist next to it. Several files are
/// read together, each `NAME.<pid>` taken as that process's file.
pub fn resolve_inputs(paths: &[PathBuf]) -> Result<Vec<(PathBuf, Option<i32>)>, ImportError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            return Err(ImportError::IsDirectory { path: p.display().to_string() });
        }
        if p.exists() {
            let pid = if paths.len() > 1 { pid_suffix(p) } else { None };
            out.push((p.clone(), pid));
            continue;
        }
        let ff = ff_files(p);
        if ff.is_empty() {
            return Err(ImportError::NotFound { path: p.display().to_string() });
        }
        out.extend(ff.into_iter().map(|(f, pid)| (f, Some(pid))));
    }
    Ok(out)
}

/// The pid in a `PREFIX.PID` file name.
fn pid_suffix(p: &Path) -> Option<i32> {
    let name = p.file_name()?.to_str()?;
    let (_, digits) = name.rsplit_once('.')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `PREFIX.PID` files next to `prefix`, sorted by pid.
fn ff_files(prefix: &Path) -> Vec<(PathBuf, i32)> {
    let Some(base) = prefix.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let dir = match prefix.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, i32)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let rest = name.strip_prefix(base)?.strip_prefix('.')?;
            if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) || !e.path().is_file() {
                return None;
            }
            Some((e.path(), rest.parse().ok()?))
        })
        .collect();
    out.sort_by_key(|&(_, pid)| pid);
    out
}

/// The result of an import: a whole trace, ready to write.
#[derive(Debug, Clone)]
pub struct Imported {
    pub header: Header,
    /// Events in the order the recorder would have written them (warnings first).
    pub records: Vec<Record>,
    /// Time of the last line, ns since the first.
    pub end_t: Nanos,
    /// Exit code of the first process (128+N if killed by signal N), if the log shows it.
    pub exit_code: Option<i32>,
    /// What was lost or guessed, one sentence each (also in the trace as warning events).
    pub notes: Vec<String>,
    /// Counts for the user: lines read, syscalls recorded.
    pub stats: ImportStats,
}

/// Numbers about an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportStats {
    pub files: usize,
    pub lines: u64,
    pub spawns: u64,
    pub threads: u64,
    pub execs: u64,
    pub failed_execs: u64,
    pub processes: u64,
    /// Values masked in command lines by [`ImportOptions::redact`].
    pub masked: u64,
}

impl Imported {
    /// Applies a redactor to the header's command and every exec's argv (and
    /// captured environment values), as the tracer does at record time; the
    /// header's `redaction` says which rules were applied.
    fn redact(&mut self, redactor: &spawnscope_format::Redactor) {
        let mut header = Record::Header(self.header.clone());
        let mut masked = redactor.apply(&mut header);
        if let Record::Header(h) = header {
            self.header = h;
        }
        for r in &mut self.records {
            masked += redactor.apply(r);
        }
        self.stats.masked = masked as u64;
    }

    /// Writes header, events and the end line.
    pub fn write<W: Write>(&self, mut w: TraceWriter<W>) -> Result<W, WriteError> {
        w.write_header(&self.header)?;
        for r in &self.records {
            w.write_record(r)?;
        }
        w.finish(self.end_t, self.exit_code)
    }
}

/// Imports strace logs (one, or the `-ff` files of one run).
///
/// ```
/// use spawnscope_strace::{import, ImportOptions, LogInput};
/// let log = concat!(
///     "100  1700000000.000000 vfork( <unfinished ...>\n",
///     "101  1700000000.000100 execve(\"/bin/true\", [\"true\"], [\"A=1\"]) = 0 <0.000050>\n",
///     "100  1700000000.000200 <... vfork resumed>) = 101 <0.000200>\n",
///     "101  1700000000.000300 +++ exited with 0 +++\n",
/// );
/// let t = import(vec![LogInput::from_bytes("log", None, log.into())], &ImportOptions::default()).unwrap();
/// assert_eq!(t.stats.spawns, 1);
/// assert_eq!(t.records.iter().filter(|r| r.kind() == "exec").count(), 1);
/// ```
pub fn import(inputs: Vec<LogInput>, opts: &ImportOptions) -> Result<Imported, ImportError> {
    let parsed = parse::parse_all(inputs, opts.capture_env)?;
    let mut imported = build::build(parsed, opts);
    imported.redact(&opts.redact);
    Ok(imported)
}

/// Imports the logs at `paths` (see [`resolve_inputs`]).
pub fn import_paths(paths: &[PathBuf], opts: &ImportOptions) -> Result<Imported, ImportError> {
    let mut inputs = Vec::new();
    for (p, pid) in resolve_inputs(paths)? {
        inputs.push(LogInput::open(&p, pid)?);
    }
    import(inputs, opts)
}
