//! Printing a [`CheckReport`]: human text, JSON, JUnit XML, GitHub annotations.
//!
//! Every string that comes from a trace is escaped (argv can hold terminal
//! escape codes, or a newline that would start a forged workflow command).

mod github;
mod json;
mod junit;
mod text;

use std::io::{self, Write};

use spawnscope_format::escape;

use crate::report::{CheckReport, Offender};
use crate::units::quote_argv;
use spawnscope_units::{counted, plural};

/// Output format of `spawnscope check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// One line per rule, offenders indented under failures.
    #[default]
    Text,
    /// The whole report as one JSON object.
    Json,
    /// JUnit XML: one test case per rule.
    Junit,
    /// GitHub Actions workflow commands (`::error ...`).
    Github,
}

impl Format {
    pub const NAMES: [&'static str; 4] = ["text", "json", "junit", "github"];
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "junit" => Ok(Format::Junit),
            "github" => Ok(Format::Github),
            _ => Err(format!("unknown format {s:?}: expected one of {}", Format::NAMES.join(", "))),
        }
    }
}

/// Writes the report in a format.
pub fn write_report(report: &CheckReport, format: Format, w: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text::write(report, w, false),
        Format::Json => json::write(report, w),
        Format::Junit => junit::write(report, w),
        Format::Github => github::write(report, w),
    }
}

/// The text report, with ANSI colours when `color` (PASS green, FAIL red,
/// WARN yellow, SKIP dim, the verdict in its colour); without them it is
/// exactly [`write_report`]'s text.
pub fn write_text(report: &CheckReport, w: &mut dyn Write, color: bool) -> io::Result<()> {
    text::write(report, w, color)
}

/// The report as a string in a format.
pub fn render(report: &CheckReport, format: Format) -> String {
    let mut v = Vec::new();
    write_report(report, format, &mut v).expect("writing to a Vec cannot fail");
    String::from_utf8(v).expect("reports are UTF-8")
}

/// `pid 1234 (parent 1200): sh -c 'echo hi': fork via fork-exec`, escaped.
pub fn offender_line(o: &Offender) -> String {
    let mut s = format!("pid {}", o.pid);
    if let Some(pp) = o.parent_pid {
        s.push_str(&format!(" (parent {pp})"));
    }
    let cmd = if o.argv.is_empty() { escape(&o.exe).into_owned() } else { quote_argv(&o.argv) };
    if !cmd.is_empty() {
        s.push_str(": ");
        s.push_str(&cmd);
    }
    if !o.detail.is_empty() {
        s.push_str(": ");
        s.push_str(&o.detail);
    }
    s
}

/// "FAIL: 2 of 6 rules violated" / "PASS: 6 rules hold".
pub(crate) fn verdict(report: &CheckReport) -> String {
    use crate::report::Status;
    let n = |s| report.with_status(s).count();
    let (fail, warn, skip) = (n(Status::Fail), n(Status::Warn), n(Status::Skip));
    let total = report.results.len();
    let mut s = if fail > 0 {
        format!("FAIL: {fail} of {} violated", counted(total as u64, "rule", "rules"))
    } else {
        let held = total - warn - skip;
        format!("PASS: {held} of {} {}", counted(total as u64, "rule", "rules"), plural(held as u64, "holds", "hold"))
    };
    if warn > 0 {
        s.push_str(&format!(", {}", counted(warn as u64, "warning", "warnings")));
    }
    if skip > 0 {
        s.push_str(&format!(", {skip} skipped"));
    }
    s
}

/// Where the trace came from, for headers: `trace.jsonl (command: make -j2)`.
pub(crate) fn subject(report: &CheckReport) -> String {
    let mut s = escape(&report.source).into_owned();
    if !report.command.is_empty() {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&format!("(command: {})", quote_argv(&report.command)));
    }
    s
}
