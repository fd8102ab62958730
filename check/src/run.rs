//! Getting an analysis to check: from a trace file, or by recording a command.

use std::path::Path;

use spawnscope_analyzer::{analyze_path, Analysis};

use crate::{evaluate, CheckReport, Error, Policy};

/// Reads and analyses a trace file with the policy's finding thresholds.
pub fn analyze_trace(path: &Path, policy: &Policy) -> Result<Analysis, Error> {
    let thresholds = policy.thresholds.clone().unwrap_or_default();
    analyze_path(path, &thresholds).map_err(|e| Error::Trace { path: path.to_path_buf(), cause: Box::new(e) })
}

/// Checks a recorded trace file against a policy.
///
/// A truncated trace (no end line) is checked as far as it goes and the
/// report carries a warning that it is incomplete.
pub fn check_trace(path: &Path, policy: &Policy) -> Result<CheckReport, Error> {
    let analysis = analyze_trace(path, policy)?;
    let mut report = evaluate(policy, &analysis);
    report.source = path.display().to_string();
    Ok(report)
}

#[cfg(target_os = "linux")]
pub use linux::*;

#[cfg(target_os = "linux")]
mod linux {
    use std::path::Path;

    use spawnscope_analyzer::Analysis;
    use spawnscope_tracer::{record, FileSink, Outcome, RecordOptions};

    use super::analyze_trace;
    use crate::{evaluate, CheckReport, Error, Policy};

    /// A recording and its analysis.
    #[derive(Debug)]
    pub struct Recorded {
        pub analysis: Analysis,
        pub outcome: Outcome,
    }

    fn command_text(opts: &RecordOptions) -> String {
        let argv: Vec<String> = opts.command.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        crate::quote_argv(&argv)
    }

    /// Records `opts` into the trace file `trace` (on the calling thread,
    /// which becomes the tracer) and analyses it with the policy's thresholds.
    pub fn record_and_analyze(opts: &RecordOptions, trace: &Path, policy: &Policy) -> Result<Recorded, Error> {
        let command = command_text(opts);
        let record_err = |cause: Box<dyn std::error::Error + Send + Sync>| Error::Record { command: command.clone(), cause };
        let mut sink = FileSink::create(trace).map_err(|e| record_err(Box::new(e)))?;
        let result = record(opts, &mut sink);
        let closed = sink.close();
        let outcome = result.map_err(|e| record_err(Box::new(e)))?;
        closed.map_err(|e| record_err(format!("writing {}: {e}", trace.display()).into()))?;
        if let Some(e) = &outcome.observer_error {
            return Err(record_err(format!("writing {}: {e}", trace.display()).into()));
        }
        let analysis = analyze_trace(trace, policy)?;
        Ok(Recorded { analysis, outcome })
    }

    /// Records a command and checks it. The trace is written to `trace`, or
    /// to a temporary file deleted afterwards when `trace` is None. The
    /// report's `command-exit` result says whether the command succeeded.
    pub fn check_command(opts: &RecordOptions, trace: Option<&Path>, policy: &Policy) -> Result<CheckReport, Error> {
        let temp;
        let path: &Path = match trace {
            Some(p) => p,
            None => {
                temp = tempfile::Builder::new()
                    .prefix("spawnscope-check-")
                    .suffix(".jsonl")
                    .tempfile()
                    .map_err(|cause| Error::Io { what: "creating a temporary trace file".into(), cause })?
                    .into_temp_path();
                &temp
            }
        };
        let rec = record_and_analyze(opts, path, policy)?;
        let mut a = rec.analysis;
        // The recorder knows the exit code even when the end line is missing.
        if a.summary.exit_code.is_none() {
            a.summary.exit_code = rec.outcome.exit_code;
        }
        let mut report = evaluate(policy, &a);
        report.source = match trace {
            Some(p) => p.display().to_string(),
            None => "recording".into(),
        };
        Ok(report)
    }
}
