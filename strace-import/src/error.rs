//! The one error type of the importer.

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: no such file (nor {path}.PID files from strace -ff -o {path})")]
    NotFound { path: String },
    #[error("{path}: is a directory, not an strace log (give the log file, or the -ff prefix)")]
    IsDirectory { path: String },
    #[error("{path}: line {line}: {detail}")]
    Malformed { path: String, line: u64, detail: String },
    #[error("{path}: no strace output in this file (expected lines like `1234  1700000000.000001 execve(...) = 0`)")]
    Empty { path: String },
    #[error(transparent)]
    Write(#[from] spawnscope_format::WriteError),
}
