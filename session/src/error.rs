//! The one error type of this crate.

use std::path::PathBuf;

/// Why a recording session failed (as opposed to the recorded command
/// failing, which is its exit code).
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The trace file could not be created; nothing was started.
    #[error("{source}; the target was not started")]
    Create {
        path: PathBuf,
        #[source]
        source: spawnscope_format::WriteError,
    },
    /// The recorder could not start or follow the command.
    #[cfg(target_os = "linux")]
    #[error(transparent)]
    Record(#[from] spawnscope_tracer::TraceError),
    /// Closing the trace file failed: the trace has no end line.
    #[error("trace {} is incomplete: {source}", path.display())]
    Close {
        path: PathBuf,
        #[source]
        source: spawnscope_format::WriteError,
    },
    /// Writing a record failed during the recording (the target ran on).
    #[error("writing {} failed: {message}", path.display())]
    Write { path: PathBuf, message: String },
    /// The trace could not be analysed.
    #[error(transparent)]
    Analyze(#[from] spawnscope_analyzer::AnalyzeError),
    /// A temporary file could not be created.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The API was used where it cannot work; `api` names the function.
    #[error("{api}: {message}")]
    Usage { api: String, message: String },
}

impl SessionError {
    /// The exit code a shell would give: 127 the program was not found, 126
    /// it could not be executed, 2 for every other failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            #[cfg(target_os = "linux")]
            SessionError::Record(e) => e.exit_code(),
            _ => 2,
        }
    }

    pub(crate) fn usage(api: impl Into<String>, message: impl Into<String>) -> SessionError {
        SessionError::Usage { api: api.into(), message: message.into() }
    }
}
