//! Getting an analysis to check from a trace file (recording a command to
//! check is `spawnscope_session::check_command`).

use std::path::Path;

use spawnscope_analyzer::{analyze_path_with, Analysis, Retention};

use crate::{evaluate, CheckReport, Error, Policy};

/// Reads and analyses a trace file with the policy's finding thresholds,
/// in bounded memory: the rules read the spawns back from a temporary file
/// ([`Retention::Stream`]).
pub fn analyze_trace(path: &Path, policy: &Policy) -> Result<Analysis, Error> {
    let thresholds = policy.thresholds.clone().unwrap_or_default();
    analyze_path_with(path, &thresholds, Retention::Stream).map_err(|source| Error::Trace { path: path.to_path_buf(), source })
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
