//! spawnscope's bridges to other tools.
//!
//! - [`strace`]: import strace text logs as spawnscope traces, so that a
//!   machine with only strace can still be analysed.
//! - [`export`]: write a trace's analysis as Chrome trace-event JSON (opens
//!   in Perfetto UI and chrome://tracing) or as CSV (one row per spawn).
//! - [`diff`]: compare two analysed traces (two machines, or before/after)
//!   and rank the differences by impact.
//!
//! ```
//! use spawnscope_interop::strace::{import, ImportOptions, LogInput};
//! let log = "7 1700000000.5 fork() = 8 <0.0001>\n8 1700000000.6 +++ exited with 0 +++\n";
//! let t = import(vec![LogInput::from_bytes("log", None, log.into())], &ImportOptions::default())?;
//! let bytes = t.write(spawnscope_format::TraceWriter::new(Vec::new()))?;
//! let (header, records, _) = spawnscope_format::read_all(&bytes[..])?;
//! assert_eq!(header.source.as_deref(), Some("strace"));
//! assert_eq!(records.iter().filter(|r| r.kind() == "spawn").count(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod diff;
pub mod export;
pub mod fmt;
pub mod strace;

/// Why an import, export or diff failed.
#[derive(Debug, thiserror::Error)]
pub enum InteropError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: no such file (nor {path}.PID files from strace -ff -o {path})")]
    NotFound { path: String },
    #[error("{path}: is a directory, not an strace log (give the log file, or the -ff prefix)")]
    IsDirectory { path: String },
    #[error("{path}: line {line}: {detail}")]
    Malformed {
        path: String,
        line: u64,
        detail: String,
    },
    #[error("{path}: no strace output in this file (expected lines like `1234  1700000000.000001 execve(...) = 0`)")]
    Empty { path: String },
    #[error(transparent)]
    Write(#[from] spawnscope_format::WriteError),
}
