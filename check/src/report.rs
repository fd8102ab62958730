//! The outcome of a check: one result per rule.

use std::path::PathBuf;

use serde::Serialize;

use crate::policy::Origin;
use spawnscope_units::duration as format_duration;

/// Most offenders kept per result (the total is in `offenders_total`).
pub const MAX_OFFENDERS: usize = 20;

/// How a rule came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The rule holds.
    Pass,
    /// The rule is violated: the check fails (exit code 1).
    Fail,
    /// Reported but not failing: an exceeded duration without strict timing,
    /// or a failed command with `allow-command-failure`.
    Warn,
    /// Could not be measured from this trace (the reason is in `note`).
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Skip => "skip",
        }
    }
}

/// What a measured number counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    Spawns,
    Attempts,
    Bytes,
    Nanoseconds,
    Findings,
    ExitCode,
}

/// Which way the limit bounds the measured value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bound {
    AtMost,
    AtLeast,
    Equal,
}

/// A spawn (or process) that broke a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offender {
    /// Index into `Analysis::spawns` (None: the traced command's own process).
    pub spawn: Option<usize>,
    /// The child's pid.
    pub pid: i32,
    pub parent_pid: Option<i32>,
    /// Executable (basename of the exec path), as in the trace (unescaped).
    pub exe: String,
    /// argv of the exec, as in the trace (unescaped; printers escape it).
    pub argv: Vec<String>,
    /// What about it broke the rule (already escaped).
    pub detail: String,
}

/// The outcome of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleResult {
    /// Rule name (`max-spawns`, `deny-style`, ..., `command-exit`).
    pub rule: String,
    /// Name with argument (`deny-style fork`, `max-spawns git`).
    pub title: String,
    pub status: Status,
    pub measured: u64,
    pub limit: u64,
    pub unit: Unit,
    pub bound: Bound,
    /// One line: what was measured against what.
    pub message: String,
    /// Extra explanation (why skipped or advisory, a breakdown).
    pub note: Option<String>,
    pub origin: Origin,
    /// The spawns that broke it, worst or first first; at most [`MAX_OFFENDERS`].
    pub offenders: Vec<Offender>,
    pub offenders_total: usize,
}

/// Everything a check found; printed by [`crate::output`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// The trace file checked, or a description of the recording.
    pub source: String,
    /// The traced command line.
    pub command: Vec<String>,
    /// The trace had its end line.
    pub complete: bool,
    /// Reader/analyzer warnings and check warnings (escaped).
    pub warnings: Vec<String>,
    /// Number of spawns in the trace.
    pub spawns: u64,
    /// The checked command's exit code, if known.
    pub exit_code: Option<i32>,
    pub policy_file: Option<PathBuf>,
    pub results: Vec<RuleResult>,
}

impl CheckReport {
    /// No rule failed.
    pub fn passed(&self) -> bool {
        !self.results.iter().any(|r| r.status == Status::Fail)
    }

    /// The results with a given status.
    pub fn with_status(&self, status: Status) -> impl Iterator<Item = &RuleResult> {
        self.results.iter().filter(move |r| r.status == status)
    }

    /// Exit code of `spawnscope check`: 0 all rules hold, 1 a rule is violated.
    pub fn exit_code(&self) -> i32 {
        if self.passed() {
            0
        } else {
            1
        }
    }
}

/// A measured value in its unit: `3 spawns`, `4.2 ms`, `70,000 bytes`.
pub fn format_value(v: u64, unit: Unit) -> String {
    let plural = |one: &str, many: &str| spawnscope_units::counted(v, one, many);
    match unit {
        Unit::Spawns => plural("spawn", "spawns"),
        Unit::Attempts => plural("failed exec attempt", "failed exec attempts"),
        Unit::Bytes => plural("byte", "bytes"),
        Unit::Nanoseconds => format_duration(v),
        Unit::Findings => plural("finding", "findings"),
        Unit::ExitCode => format!("exit code {v}"),
    }
}

/// The limit phrased with its bound: `at most 200`, `at least 1`.
pub fn format_limit(limit: u64, unit: Unit, bound: Bound) -> String {
    let v = match unit {
        Unit::Nanoseconds => format_duration(limit),
        _ => spawnscope_units::count(limit),
    };
    match bound {
        Bound::AtMost => format!("at most {v}"),
        Bound::AtLeast => format!("at least {v}"),
        Bound::Equal => format!("expected {v}"),
    }
}
