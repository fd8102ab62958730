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
///
/// Library errors keep their sources (`#[source]`) and often also name the
/// source in their own message ("x.toml: cannot read policy file: No such
/// file"); a cause whose text the line already holds is not repeated.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut s = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if s.contains(&text) {
            continue;
        }
        if !s.is_empty() {
            s.push_str(": ");
        }
        s.push_str(&text);
    }
    s = s.replace('\n', " ");
    s.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

#[cfg(test)]
mod one_line_tests {
    /// An error that names its source in its message and also returns it.
    #[derive(Debug)]
    struct Read(std::io::Error);
    impl std::fmt::Display for Read {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "p.toml: cannot read policy file: {}", self.0)
        }
    }
    impl std::error::Error for Read {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn one_line_does_not_repeat_a_cause_the_message_already_holds() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = anyhow::Error::new(Read(io()));
        assert_eq!(super::one_line(&e), "p.toml: cannot read policy file: no such file");
        let e = anyhow::Error::new(io()).context("reading x");
        assert_eq!(super::one_line(&e), "reading x: no such file");
    }
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

/// The default trace name of `record`, `run` and `demo`:
/// `spawnscope-20261127-081500.jsonl` (UTC, current directory).
pub fn default_trace_name() -> std::path::PathBuf {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    std::path::PathBuf::from(format!("spawnscope-{y:04}{m:02}{d:02}-{:02}{:02}{:02}.jsonl", rem / 3600, rem % 3600 / 60, rem % 60))
}
