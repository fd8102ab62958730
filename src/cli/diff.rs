//! `spawnscope diff`: compare two traces (two machines, or before and after a
//! change). A thin layer over `spawnscope_analyzer::diff` (the model) and
//! `spawnscope_report::diff` (text and Markdown).

use std::io::Write;
use std::path::PathBuf;

use spawnscope_analyzer::diff::diff;
use spawnscope_analyzer::{analyze_path_with, Retention, Thresholds};
use spawnscope_report::diff::{render_markdown, render_text_with};

/// Arguments of `spawnscope diff`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  spawnscope diff laptop.jsonl cluster.jsonl
  spawnscope diff before.jsonl after.jsonl -f markdown >> $GITHUB_STEP_SUMMARY
  spawnscope diff a.jsonl b.jsonl -f json | jq .verdict

The verdict splits the mean spawn latency into the clone call, failed exec attempts (PATH
search), the successful exec and the rest, and ranks them by how much of the difference
each explains. Record both traces the same way: tracer overhead is part of every latency.")]
pub struct Args {
    /// The reference trace.
    #[arg(value_name = "A")]
    a: PathBuf,
    /// The trace compared with it.
    #[arg(value_name = "B")]
    b: PathBuf,
    /// Output format.
    #[arg(long, short = 'f', value_name = "FORMAT", default_value = "text", value_parser = ["text", "json", "markdown"])]
    format: String,
    #[command(flatten)]
    color: super::common::ColorArgs,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let t = Thresholds::default();
    // Bounded memory (issue 15): diff reads only summaries, groups and tallies.
    let a = analyze_path_with(&args.a, &t, Retention::Aggregate)?;
    let b = analyze_path_with(&args.b, &t, Retention::Aggregate)?;
    for (tag, an) in [("A", &a), ("B", &b)] {
        for w in &an.warnings {
            super::common::warn(format_args!("{tag}: {}", spawnscope_format::escape(w)));
        }
    }
    let d = diff(&a, &b, (&args.a.display().to_string(), &args.b.display().to_string()));
    let text = match args.format.as_str() {
        "markdown" => render_markdown(&d),
        "json" => serde_json::to_string_pretty(&d)? + "\n",
        _ => render_text_with(&d, args.color.enabled()),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(0)
}
