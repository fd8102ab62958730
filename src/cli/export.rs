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
  spawnscope export node07.jsonl --format parquet -o tables/   then read_parquet('tables/spawns/*.parquet')
  spawnscope export app.jsonl --format csv | python3 -c 'import pandas, sys; print(pandas.read_csv(sys.stdin))'

chrome: one track per process; the spawn phase (clone entry to the child's exec), each
program the process ran, the parent's blocked time, failed exec attempts as instant events,
and an arrow from each parent to its child. parquet: tables spawns, execs, processes and
traces under DIR (-o DIR), host and trace id on every row, for DuckDB, Polars or Spark (see
docs/reference/parquet.md). csv: one row per spawn.")]
pub struct Args {
    /// The trace to export (`.jsonl` or `.jsonl.zst`).
    #[arg(value_name = "TRACE")]
    trace: PathBuf,
    /// Output format.
    #[arg(long, value_name = "FORMAT", default_value = "chrome", value_parser = ["chrome", "csv", "parquet"])]
    format: String,
    /// Write to FILE instead of standard output (parquet: the directory
    /// that gets the tables, required).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    if args.format == "parquet" {
        return parquet(&args);
    }
    let format = ExportFormat::from_name(&args.format)
        .ok_or_else(|| super::common::exit_error(2, format!("unknown format {:?}", args.format)))?;
    let analysis = analyze_path(&args.trace, &Thresholds::default())?;
    for w in &analysis.warnings {
        super::common::warn(spawnscope_format::escape(w));
    }
    match &args.output {
        Some(path) => {
            let f = spawnscope_format::create_output(path, spawnscope_format::Existing::Replace)?;
            let mut out = std::io::BufWriter::new(f);
            export(&analysis, format, &mut out).with_context(|| format!("writing {}", path.display()))?;
            out.flush().with_context(|| format!("writing {}", path.display()))?;
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

/// `--format parquet -o DIR`: the four tables of the trace under DIR.
fn parquet(args: &Args) -> anyhow::Result<i32> {
    let dir = args
        .output
        .as_ref()
        .ok_or_else(|| super::common::exit_error(2, "--format parquet writes a directory of tables: give it with -o DIR"))?;
    let s = spawnscope_parquet::export_path(&args.trace, dir).map_err(|e| super::common::exit_error(2, e.to_string()))?;
    eprintln!(
        "spawnscope: wrote {}, {}, {} (trace id {}) under {}",
        spawnscope_units::counted(s.spawns, "spawn", "spawns"),
        spawnscope_units::counted(s.execs, "exec attempt", "exec attempts"),
        spawnscope_units::counted(s.processes, "process", "processes"),
        s.trace_id,
        spawnscope_format::escape(&dir.display().to_string())
    );
    Ok(0)
}
