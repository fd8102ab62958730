//! Shared CLI helpers: error rendering, exit codes, output names, the
//! `--color` flag, warnings on stderr.

use spawnscope_format::NameParts;

/// `--color auto|always|never`: the same flag, help and meaning on every
/// subcommand that colours its text output (report, diff, check).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct ColorArgs {
    /// Colours in text output: auto = only when standard output is a terminal
    /// and NO_COLOR is not set; never changes the text itself.
    #[arg(long = "color", value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub when: ColorChoice,
}

/// When to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorArgs {
    /// Whether to colour standard output: `always`, or `auto` with stdout on
    /// a terminal and no (non-empty) NO_COLOR (https://no-color.org).
    pub fn enabled(&self) -> bool {
        use std::io::IsTerminal;
        match self.when {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

/// `spawnscope: warning: MESSAGE` on stderr: the one shape of a warning.
pub fn warn(message: impl std::fmt::Display) {
    eprintln!("spawnscope: warning: {message}");
}

/// The deprecation notes of a thresholds table read from `path` (old
/// snake_case keys), as warnings: `report --config` and `check --policy`
/// print them the same way.
pub fn warn_threshold_notes(path: &std::path::Path, notes: &[String]) {
    for n in notes {
        warn(format_args!("{}: {}", spawnscope_format::escape(&path.display().to_string()), n));
    }
}

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
    e.chain().find_map(|c| c.downcast_ref::<ExitError>().map(|x| x.code)).unwrap_or(2)
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

/// Clap's usage error (several lines: the error, a tip, the usage, a
/// pointer to --help) as one line: `unexpected argument '--x' found (tip:
/// ...); see spawnscope check --help`. `command` is the subcommand typed
/// (`spawnscope check`).
pub fn usage_line(rendered: &str, command: &str) -> String {
    let mut line = String::new();
    let mut listing = false;
    for raw in rendered.lines() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with("Usage: ") || l.starts_with("For more information") {
            continue;
        }
        let l = l.strip_prefix("error: ").unwrap_or(l);
        if line.is_empty() {
            line.push_str(l);
        } else if let Some(tip) = l.strip_prefix("tip: ") {
            line.push_str(&format!(" ({tip})"));
        } else if l.starts_with('[') {
            line.push(' ');
            line.push_str(l);
        } else if line.ends_with(':') {
            // `the following required arguments were not provided:` and its list.
            line.push(' ');
            line.push_str(l);
            listing = true;
            continue;
        } else if listing && raw.starts_with("  ") {
            line.push_str(", ");
            line.push_str(l);
            continue;
        } else {
            line.push_str("; ");
            line.push_str(l);
        }
        listing = false;
    }
    line.push_str(&format!("; see {command} --help"));
    line.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// Whether the error is a broken pipe on stdout (`spawnscope report | head`).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

/// Rust ignores SIGPIPE; a CLI that prints reports should not, but we handle
/// EPIPE as a clean exit instead of restoring the default disposition, so
/// that a traced target never inherits a changed disposition.
pub fn reset_sigpipe() {}

/// The default trace of `record` and `run`:
/// `spawnscope-20261127-081500-4242.jsonl` (UTC time, our pid) in the
/// current directory, created empty here with `O_EXCL` so that it never
/// replaces a file: an existing name gets `-2`, `-3`, ... (see
/// docs/reference/output-files.md). If it cannot be created, the name is
/// returned anyway and opening it later reports why.
pub fn default_trace_name() -> std::path::PathBuf {
    reserve(spawnscope_format::default_trace_name("spawnscope", &NameParts::current()))
}

/// The default trace of `demo`: `spawnscope-demo-<time>-<pid>.jsonl` in the
/// temporary directory, reserved like [`default_trace_name`].
pub fn default_demo_trace() -> std::path::PathBuf {
    reserve(std::env::temp_dir().join(spawnscope_format::default_trace_name("spawnscope-demo", &NameParts::current())))
}

fn reserve(path: std::path::PathBuf) -> std::path::PathBuf {
    match spawnscope_format::create_new_unique(&path) {
        Ok((_file, name)) => name,
        Err(_) => path,
    }
}

/// A name given with `-o`: `%h` (host), `%p` (pid), `%t` (start time) and
/// `%%` expanded; `-` stays `-` (standard output).
pub fn output_name(given: &std::path::Path) -> anyhow::Result<std::path::PathBuf> {
    let Some(text) = given.to_str() else { return Ok(given.to_path_buf()) };
    if !text.contains('%') {
        return Ok(given.to_path_buf());
    }
    let name = spawnscope_format::expand_placeholders(text, &NameParts::current()).map_err(|e| exit_error(2, e.to_string()))?;
    Ok(std::path::PathBuf::from(name))
}

#[cfg(test)]
mod usage_line_tests {
    #[test]
    fn clap_errors_become_one_line() {
        let e = "error: unexpected argument '--bogus' found\n\n  tip: to pass '--bogus' as a value, use '-- --bogus'\n\n\
                 Usage: spawnscope check [OPTIONS] [TRACE] [-- <CMD>...]\n\nFor more information, try '--help'.\n";
        assert_eq!(
            super::usage_line(e, "spawnscope check"),
            "unexpected argument '--bogus' found (to pass '--bogus' as a value, use '-- --bogus'); see spawnscope check --help"
        );
        let e = "error: the following required arguments were not provided:\n  --output <TRACE>\n  <LOG>...\n\n\
                 Usage: spawnscope import strace --output <TRACE> <LOG>...\n";
        assert_eq!(
            super::usage_line(e, "spawnscope import strace"),
            "the following required arguments were not provided: --output <TRACE>, <LOG>...; see spawnscope import strace --help"
        );
        let e = "error: invalid value 'x' for '--format <FORMAT>'\n  [possible values: text, json]\n\nFor more information, try '--help'.\n";
        assert_eq!(
            super::usage_line(e, "spawnscope diff"),
            "invalid value 'x' for '--format <FORMAT>' [possible values: text, json]; see spawnscope diff --help"
        );
    }
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
