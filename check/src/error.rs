//! The one error type of this crate.

use std::path::PathBuf;

/// Why a check could not be run (as opposed to a rule being violated, which
/// is a [`crate::CheckReport`] with failures). The CLI maps every variant to
/// exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A policy file has an unknown key, a bad value or a bad duration.
    /// `line` and `column` are 1-based.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Policy { path: PathBuf, line: usize, column: usize, message: String },
    /// A policy file could not be read.
    #[error("{}: cannot read policy file: {source}", path.display())]
    PolicyRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A rule given on the command line or through the API has a bad value;
    /// `rule` names the flag (e.g. `--max-spawn-p99`).
    #[error("{rule}: {message}")]
    Rule { rule: String, message: String },
    /// The trace could not be read or analysed (the cause names the path).
    #[error("{source}")]
    Trace {
        path: PathBuf,
        #[source]
        source: spawnscope_analyzer::AnalyzeError,
    },
}

impl Error {
    pub(crate) fn rule(rule: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Rule { rule: rule.into(), message: message.into() }
    }
}
