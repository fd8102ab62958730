//! The crate's error type.

use std::path::{Path, PathBuf};

use spawnscope_format::ReadError;

/// What can go wrong while loading a trace or driving the terminal.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error("{}", trace_message(.path, .source))]
    Trace { path: PathBuf, source: ReadError },
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
    #[error("terminal backend: {0}")]
    Backend(String),
}

/// Errors that already name the file are not prefixed with it again.
fn trace_message(path: &Path, e: &ReadError) -> String {
    match e {
        ReadError::Open { .. } | ReadError::IsDirectory { .. } => e.to_string(),
        _ => format!("{}: {e}", path.display()),
    }
}
