//! `spawnscope export`: a trace as Chrome trace-event JSON (Perfetto UI,
//! chrome://tracing) or as CSV, one row per spawn. A thin layer over
//! `spawnscope_report::export`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use spawnscope_analyzer::{analyze_path, Thresholds};
use spawnscope_report::export::{export, ExportFormat};

/// Arguments of `spawnscope export`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  spawnscope export app.jsonl -o app.trace.json      then open it in https://ui.perfetto.dev
  spawnscope export app.jsonl --format csv -o spawns.csv
  spawnscope export app.jsonl --format csv | python3 -c 'import pandas, sys; print(pandas.read_csv(sys.stdin))'

chrome: one track per process; the spawn phase (clone entry to the child's exec), each
program the process ran, the parent's blocked time, failed exec attempts as instant events,
and an arrow from each parent to its child. csv: one row per spawn.")]
pub struct Args {
    /// The trace to export (`.jsonl` or `.jsonl.zst`).
    #[arg(value_name = "TRACE")]
    trace: PathBuf,
    /// Output format.
    #[arg(long, value_name = "FORMAT", default_value = "chrome", value_parser = ["chrome", "csv"])]
    format: String,
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let format = ExportFormat::from_name(&args.format)
        .ok_or_else(|| super::common::exit_error(2, format!("unknown format {:?}", args.format)))?;
    let analysis = analyze_path(&args.trace, &Thresholds::default())?;
    for w in &analysis.warnings {
        eprintln!("spawnscope: warning: {}", spawnscope_format::escape(w));
    }
    match &args.output {
        Some(path) => {
            let f = spawnscope_format::create_output(path, spawnscope_format::Existing::Replace)?;
            let mut out = std::io::BufWriter::new(f);
            export(&analysis, format, &mut out)
                .with_context(|| format!("writing {}", path.display()))?;
            out.flush()
                .with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            export(&analysis, format, &mut out)?;
            out.flush()?;
        }
    }
    Ok(0)
}
