//! Shared CLI helpers: error rendering and exit codes.

/// An error that carries its own exit code (e.g. 127 for "program not found").
#[derive(Debug)]
pub struct ExitError {
    pub code: i32,
    pub message: String,
}

impl std::fmt::Display for ExitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExitError {}

/// Fails with a given exit code and message.
pub fn exit_error(code: i32, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(ExitError { code, message: message.into() })
}

/// Exit code for an error: its own if it has one, else 2 (usage/input error).
pub fn exit_code_for(e: &anyhow::Error) -> i32 {
    e.chain()
        .find_map(|c| c.downcast_ref::<ExitError>().map(|x| x.code))
        .unwrap_or(2)
}

/// The error and its causes on one line, without control characters.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut s = format!("{e:#}");
    s = s.replace('\n', " ");
    s.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// Whether the error is a broken pipe on stdout (`spawnscope report | head`).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Rust ignores SIGPIPE; a CLI that prints reports should not, but we handle
/// EPIPE as a clean exit instead of restoring the default disposition, so
/// that a traced target never inherits a changed disposition.
pub fn reset_sigpipe() {}
