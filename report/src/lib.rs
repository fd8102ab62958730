//! Reports of a spawnscope [`Analysis`]: text for a terminal, Markdown to
//! paste into an issue, JSON for machines; [`diff`] renders the comparison
//! of two analyses ([`spawnscope_analyzer::diff`]) and [`export`] writes an
//! analysis for other tools (Perfetto / Chrome trace JSON, CSV).
//!
//! Every string that comes from a trace (paths, argv, program names inside
//! finding messages) is escaped with [`spawnscope_format::escape`] in text and
//! Markdown; JSON escapes control characters by itself. Durations are
//! measured under tracing and every report says so where it shows them.
//!
//! ```
//! use spawnscope_report::{render, Format, Options};
//! # let text = concat!(
//! #   r#"{"kind":"header","format":"spawnscope-trace","format_version":"1.0","tool_version":"0","command":["true"],"cwd":"/","start_unix_ns":0,"host":{},"tracer":{"mode":"seccomp"}}"#, "\n",
//! #   r#"{"kind":"end","t":5,"exit_code":0}"#, "\n");
//! let a = spawnscope_analyzer::analyze_reader(text.as_bytes(), &Default::default()).unwrap();
//! let json = render(&a, Format::Json, &Options::default());
//! let v: serde_json::Value = serde_json::from_str(&json).unwrap();
//! assert_eq!(v["summary"]["spawns"], 0);
//! ```
//!
//! The JSON layout is documented in `docs/report.md` and versioned by its
//! `report_version` field (additions keep the version; changes bump it).

mod callsites;
pub mod diff;
pub mod export;
mod json;
pub mod many;
mod markdown;
mod table;
mod text;

use std::io::{self, Write};

use spawnscope_analyzer::Analysis;

pub use json::{to_json, REPORT_VERSION};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
    Markdown,
}

impl Format {
    pub fn from_name(s: &str) -> Option<Format> {
        match s {
            "text" => Some(Format::Text),
            "json" => Some(Format::Json),
            "markdown" | "md" => Some(Format::Markdown),
            _ => None,
        }
    }
}

/// How much to show and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// ANSI colours (text only). The CLI sets this for a terminal without NO_COLOR.
    pub color: bool,
    /// The trace file name shown in the title.
    pub source: Option<String>,
    /// Text/Markdown: list every spawn (JSON always lists them all).
    pub list_spawns: bool,
    /// Text/Markdown: most rows per table (executables, parents, spawns).
    pub max_rows: usize,
    /// The selection (`--exe`, `--pid`, `--since`, `--until`) the analysis
    /// was cut to, described (see `spawnscope_analyzer::Selection::describe`).
    pub selection: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options { color: false, source: None, list_spawns: false, max_rows: 20, selection: None }
    }
}

/// Said wherever latencies are shown.
pub const TRACING_NOTE: &str =
    "measured under tracing: durations include the tracer's overhead (each ptrace stop costs ~15-80 µs)";

/// Writes a report. I/O errors (e.g. a broken pipe) are returned as they are.
pub fn write(out: &mut dyn Write, a: &Analysis, format: Format, opts: &Options) -> io::Result<()> {
    match format {
        Format::Text => text::write(out, a, opts),
        Format::Markdown => markdown::write(out, a, opts),
        Format::Json => json::write(out, a, opts),
    }
}

/// A report as a string.
pub fn render(a: &Analysis, format: Format, opts: &Options) -> String {
    let mut buf = Vec::new();
    write(&mut buf, a, format, opts).expect("writing to a Vec cannot fail");
    String::from_utf8(buf).expect("reports are UTF-8")
}
