//! Exports of an analysed trace for other tools.
//!
//! - [`chrome`]: Chrome trace-event JSON ("JSON Object Format"), which
//!   Perfetto UI (ui.perfetto.dev) and chrome://tracing open: one track per
//!   process, the spawn → exec → exit phases as slices, failed exec attempts
//!   as instant events, arrows from each parent's clone to its child.
//! - [`csv`]: one row per spawn, for pandas or a spreadsheet.

pub mod chrome;
pub mod csv;

use std::io::Write;

use spawnscope_analyzer::Analysis;

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Chrome,
    Csv,
}

impl ExportFormat {
    pub fn from_name(s: &str) -> Option<ExportFormat> {
        match s {
            "chrome" | "perfetto" | "json" => Some(ExportFormat::Chrome),
            "csv" => Some(ExportFormat::Csv),
            _ => None,
        }
    }
}

/// Writes `a` in `format` to `out`.
pub fn export(a: &Analysis, format: ExportFormat, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        ExportFormat::Chrome => chrome::write(a, out),
        ExportFormat::Csv => csv::write(a, out),
    }
}
