//! Record to a trace file, then analyse it: written once, used by `record`,
//! `run`, `check` and the test API.

use std::path::{Path, PathBuf};

use spawnscope_analyzer::{analyze_path, Analysis, Thresholds};
use spawnscope_check::{evaluate, CheckReport, Policy};
use spawnscope_format::Record;
use spawnscope_tracer::{record, FileSink, Observer, ObserverError, Outcome, RecordOptions};

use crate::SessionError;

/// Sees the recording as it happens (a progress line, a live UI), before
/// each record is written to the file.
pub trait Tap {
    /// The target exists (or was attached); a UI may signal it from now on.
    fn started(&mut self, _root_pid: i32) {}
    /// One record, before it is written.
    fn record(&mut self, _record: &Record) {}
}

/// No tap.
impl Tap for () {}

/// A trace file being recorded into.
#[derive(Debug)]
pub struct TraceFile {
    path: PathBuf,
    sink: FileSink,
    /// Only a file this session created may be removed again (never
    /// /dev/null or a user's existing file).
    existed: bool,
}

/// The tap, then the file.
struct TapSink<'a> {
    sink: &'a mut FileSink,
    tap: &'a mut dyn Tap,
}

impl Observer for TapSink<'_> {
    fn started(&mut self, root_pid: i32) {
        self.tap.started(root_pid);
    }
    fn record(&mut self, record: Record) -> Result<(), ObserverError> {
        self.tap.record(&record);
        self.sink.record(record)
    }
}

impl TraceFile {
    /// Creates (truncates) the trace file; call before starting anything.
    pub fn create(path: &Path) -> Result<TraceFile, SessionError> {
        let existed = std::fs::symlink_metadata(path).is_ok();
        let sink = FileSink::create(path).map_err(|source| SessionError::Create { path: path.to_path_buf(), source })?;
        Ok(TraceFile { path: path.to_path_buf(), sink, existed })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records `opts` into the file on the calling thread (which becomes the
    /// tracer), passing each record to `tap` first, and closes the file. When
    /// the recording could not start, a file this session created and left
    /// empty is removed.
    pub fn record(mut self, opts: &RecordOptions, tap: &mut dyn Tap) -> Result<Outcome, SessionError> {
        let result = record(opts, &mut TapSink { sink: &mut self.sink, tap });
        let closed = self.sink.close();
        let outcome = match result {
            Ok(o) => o,
            Err(e) => {
                let empty = std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.is_file() && m.len() == 0);
                if empty && !self.existed {
                    let _ = std::fs::remove_file(&self.path);
                }
                return Err(SessionError::Record(e));
            }
        };
        closed.map_err(|source| SessionError::Close { path: self.path.clone(), source })?;
        if let Some(message) = &outcome.observer_error {
            return Err(SessionError::Write { path: self.path.clone(), message: message.clone() });
        }
        Ok(outcome)
    }
}

/// A recording and its analysis.
#[derive(Debug)]
pub struct Recorded {
    pub analysis: Analysis,
    pub outcome: Outcome,
}

/// Analyses a finished recording. The recorder knows the exit code even
/// when the trace's end line is missing.
pub fn analyze_recording(trace: &Path, outcome: Outcome, thresholds: &Thresholds) -> Result<Recorded, SessionError> {
    let mut analysis = analyze_path(trace, thresholds)?;
    if analysis.summary.exit_code.is_none() {
        analysis.summary.exit_code = outcome.exit_code;
    }
    Ok(Recorded { analysis, outcome })
}

/// Records `opts` into the trace file `trace` (on the calling thread) and
/// analyses it.
pub fn record_and_analyze(opts: &RecordOptions, trace: &Path, thresholds: &Thresholds) -> Result<Recorded, SessionError> {
    let outcome = TraceFile::create(trace)?.record(opts, &mut ())?;
    analyze_recording(trace, outcome, thresholds)
}

/// A temporary trace file, deleted when dropped.
pub(crate) fn temp_trace(prefix: &str) -> Result<tempfile::TempPath, SessionError> {
    tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".jsonl")
        .tempfile()
        .map(|f| f.into_temp_path())
        .map_err(|source| SessionError::Io { what: "creating a temporary trace file".into(), source })
}

/// Records a command and checks it against `policy` (whose thresholds the
/// analysis uses). The trace is written to `trace`, or to a temporary file
/// deleted afterwards. The report's `command-exit` result says whether the
/// command succeeded.
pub fn check_command(opts: &RecordOptions, trace: Option<&Path>, policy: &Policy) -> Result<CheckReport, SessionError> {
    let temp;
    let path: &Path = match trace {
        Some(p) => p,
        None => {
            temp = temp_trace("spawnscope-check-")?;
            &temp
        }
    };
    let thresholds = policy.thresholds.clone().unwrap_or_default();
    let rec = record_and_analyze(opts, path, &thresholds)?;
    let mut report = evaluate(policy, &rec.analysis);
    report.source = match trace {
        Some(p) => p.display().to_string(),
        None => "recording".into(),
    };
    Ok(report)
}
