//! The spawnscope trace format: what the recorder writes and everything else reads.
//!
//! # Format
//!
//! A trace is a [JSON Lines](https://jsonlines.org) file (`.jsonl`), optionally
//! zstd-compressed (`.jsonl.zst`, chosen by file name). Every line is one JSON
//! object with a `kind` field:
//!
//! | line | `kind` | type |
//! |------|--------|------|
//! | first | `header` | [`Header`]: `format` = `"spawnscope-trace"`, `format_version` = `"MAJOR.MINOR"`, tool version, command, cwd, wall-clock start (`start_unix_ns`), host facts ([`HostFacts`]: hostname, kernel release, glibc version, arch, cpus, memory, clone3), tracer ([`TracerInfo`]: mode, syscall-info use, attached pid, env capture, tracer's own env count/bytes) |
//! | events | `spawn` | [`SpawnEvent`]: every clone/clone3/fork/vfork, threads included (`thread: true`) |
//! | events | `exec` | [`ExecEvent`]: every execve/execveat attempt, failed ones too |
//! | events | `socketpair` | [`SocketpairEvent`] |
//! | events | `pipe` | [`PipeEvent`]: pipe and pipe2 |
//! | events | `exit` | [`ExitEvent`]: a process or thread ended |
//! | events | `warning` | [`WarningEvent`]: the tracer lost or detached a task, etc. |
//! | events | `module` | [`ModuleRecord`] (1.1): an executable mapping stack frames point into: id, path, type (`file`, `vdso`, `jit`), build id, stripped, unwind tables, line tables; before the first `stack` that uses it |
//! | events | `stack` | [`StackRecord`] (1.1): one distinct native call stack, raw frames `[module, offset]` innermost first, why the walk ended, a note on what is missing; before the first `spawn` whose `stack_id` names it |
//! | events | `symbols` | [`SymbolsRecord`] (1.1): function, file, line, column and inlined chain of one `(module, offset)`; written off the stop (after the tracee resumed, usually at the end) |
//! | last | `end` | [`End`]: clean end, target exit code, event counts by kind |
//!
//! Units and conventions:
//! - Times (`t`, `t_entry`, `t_event`, `t_resume`, `t_exit`) are integer
//!   nanoseconds since the start of the recording, from a monotonic clock.
//!   `t_entry` is absent (`null`) in `events` mode, which has no syscall stops.
//! - Errors are positive errno values (`result`, 0 = success): 2 = ENOENT, 13 = EACCES.
//! - Raw numbers are stored as the kernel gave them (clone flags as `u64`
//!   without the exit-signal byte, socket type with its flag bits); names are
//!   decoded when presenting ([`flags`]).
//! - Strings from the tracee (path, argv) are decoded as UTF-8 with invalid
//!   bytes replaced by U+FFFD, each bounded to [`MAX_STRING`] bytes, argv to
//!   [`MAX_ARGS`] strings (`argv_truncated` says when something was cut).
//! - Environment values are not stored by default: only count, bytes
//!   (`KEY=VALUE` plus NUL each) and a hash keyed per trace, so equal
//!   environments compare equal within a trace and nothing can be guessed
//!   from it ([`EnvSummary`], [`EnvKey`]; `header.env_hash` names the scheme
//!   and the key's id, never the key). Traces before 1.1: unkeyed FNV-1a.
//! - Command lines (exec argv, the header's command) have secret-looking
//!   values masked at record time unless `--no-redact` ([`Redactor`];
//!   `header.redaction` lists the rules applied).
//! - Events appear in the order the tracer observed them. A `spawn` line is
//!   written when the parent runs again, so the child's `exec` or even its
//!   `exit` may come before or after it: readers match by pid, never by order.
//! - Optional fields may be missing; readers ignore unknown fields, and skip
//!   unknown kinds with a warning. A newer minor version only adds; a newer major
//!   version is refused with a clear message.
//! - A missing `end` line means the recording was cut short: [`TraceReader`]
//!   warns and yields everything up to the last complete line.
//! - Stacks (1.1): frame offsets are file offsets into the module (as
//!   `/proc/PID/maps` counts them), so they mean the same in every process and
//!   can be symbolized again later; frame 0 is the instruction pointer at the
//!   syscall stop, the others return addresses. [`StackTable`] collects the
//!   three record kinds and resolves a spawn's `stack_id` into logical frames
//!   (inlined functions as frames of their own). See the [`stack`] module.
//!
//! # Versions
//!
//! - 1.0: header, spawn, exec, socketpair, pipe, exit, warning, end.
//! - 1.1: `module`, `stack` and `symbols` records; `spawn.stack_id`;
//!   `header.tracer.stacks`; `header.env_hash` (keyed environment hash) and
//!   `header.redaction`. A 1.0 reader skips the new kinds with a warning.
//!
//! # Example
//!
//! ```
//! use spawnscope_format::*;
//! let mut w = TraceWriter::new(Vec::new());
//! w.write_header(&Header::new(vec!["true".into()], TracerMode::Seccomp)).unwrap();
//! w.write_record(&Record::Exit(ExitEvent {
//!     pid: 42, tid: 42, code: Some(0), signal: None, core_dumped: false, thread: false, t: 1_000,
//! })).unwrap();
//! let bytes = w.finish(2_000, Some(0)).unwrap();
//!
//! let mut r = TraceReader::new(&bytes[..]).unwrap();
//! assert_eq!(r.header().command, vec!["true"]);
//! let (line, rec) = r.next_record().unwrap().unwrap();
//! assert_eq!((line, rec.kind()), (2, "exit"));
//! ```

mod envhash;
mod event;
pub mod flags;
pub mod names;
mod output;
mod read;
mod redact;
mod seek;
pub mod stack;
mod write;

use std::path::Path;

pub use envhash::{EnvHashInfo, EnvKey, EnvKeyError, EnvSummary, ENV_HASH_SCHEME, ENV_KEY_VAR};
pub use event::*;
pub use output::{
    create_new_unique, create_output, default_trace_name, expand_placeholders, hostname, is_stdio, utc_stamp, Existing,
    NameParts, OutputError,
};
#[doc(hidden)]
pub use read::parse_record_serde;
pub use read::{read_all, FileReader, ReadError, ReadWarning, TraceReader};
pub use redact::{
    names_secret, redact_trace, Privacy, RedactError, RedactSummary, RedactTraceError, RedactionInfo, Redactor, BUILTIN_RULES,
    MASK,
};
pub use seek::{parse_line, LineReader};
pub use stack::{
    ModuleRecord, ModuleType, RawFrame, ResolvedFrame, StackEnd, StackRecord, StackTable, SymbolFrame, SymbolsRecord,
    UnwindTables,
};
pub use write::{FileWriter, TraceWriter, WriteError};

/// Value of the header's `format` field.
pub const FORMAT_NAME: &str = "spawnscope-trace";
/// Major version this crate reads and writes.
pub const FORMAT_MAJOR: u32 = 1;
/// Full version written in new traces.
pub const FORMAT_VERSION: &str = "1.1";
/// Longest line a reader accepts (a longer one is a damaged trace).
pub const MAX_LINE: usize = 16 * 1024 * 1024;
/// Most argv strings stored per exec.
pub const MAX_ARGS: usize = 256;
/// Most bytes stored per string (path, each argv string).
pub const MAX_STRING: usize = 4096;
/// Most environment strings the tracer walks per exec.
pub const MAX_ENV_COUNT: usize = 65_536;

impl Header {
    /// A header for a new recording on this machine with host facts left empty
    /// (the tracer fills them in).
    pub fn new(command: Vec<String>, mode: TracerMode) -> Header {
        Header {
            format: FORMAT_NAME.to_string(),
            format_version: FORMAT_VERSION.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            command,
            cwd: std::env::current_dir().map(|p| p.display().to_string()).unwrap_or_default(),
            start_unix_ns: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0),
            host: HostFacts::default(),
            tracer: TracerInfo {
                mode,
                syscall_info: false,
                attached_pid: None,
                capture_env: false,
                env_count: 0,
                env_bytes: 0,
                stacks: None,
            },
            source: None,
            env_hash: None,
            redaction: None,
        }
    }

    /// The glibc version as (major, minor), if known and parseable.
    pub fn glibc(&self) -> Option<(u32, u32)> {
        parse_version(self.host.glibc_version.as_deref()?)
    }
}

/// Parses `"2.17"` or `"2.36-9"` into (2, 17).
pub fn parse_version(s: &str) -> Option<(u32, u32)> {
    let mut it = s.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// Whether a path names a zstd-compressed trace.
pub fn is_zstd_path(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "zst")
}

/// Makes a string from a trace safe to print on a terminal: control
/// characters (ESC, BEL, CR, ...) become `\x1b`-style escapes and a backslash
/// becomes `\\`, so a crafted argv can never drive the user's terminal.
///
/// ```
/// assert_eq!(spawnscope_format::escape("a\x1b[2Jb"), "a\\x1b[2Jb");
/// assert_eq!(spawnscope_format::escape("plain"), "plain");
/// ```
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() || c == '\\') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                use std::fmt::Write;
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}
