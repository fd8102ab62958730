//! `spawnscope view`, `run` and `demo`: the terminal UI over a trace file,
//! over a recording while it happens, and over the built-in demo workload.
//! When stdout is not a terminal they print the text report instead.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use spawnscope_analyzer::{analyze_path, Analysis, Thresholds};
use spawnscope_tui::open_view;

use super::common::exit_error;

const KEYS_HELP: &str = "\
Keys: tab or 1-6 switch views (Overview, Latency, Executables, Tree, Events, Call sites); j/k or arrows
move; Enter shows the selected spawn(s); / filters events; s sorts; g regroups; ? help; q quits.
Latencies are measured under tracing: they include the tracer's overhead.";

/// Arguments of `spawnscope view`.
#[derive(Debug, clap::Args)]
#[command(after_help = KEYS_HELP)]
pub struct ViewArgs {
    /// Trace file to open (.jsonl, or .jsonl.zst).
    #[arg(value_name = "TRACE")]
    trace: PathBuf,
    /// A second trace (another machine, or before/after a change): its latency
    /// histograms are overlaid on TRACE's.
    #[arg(long, value_name = "TRACE2")]
    compare: Option<PathBuf>,
    #[command(flatten)]
    select: super::report::SelectArgs,
}

/// Arguments of `spawnscope run`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The target's stdout and stderr go to a file (--target-output, said on screen), never over
the UI; its stdin is /dev/null. When it ends the view stays, marked \"finished, exit N\";
q while it runs asks whether to kill it or let it finish. spawnscope exits with the
target's exit code. Without a terminal on stdout, prints the text report instead.
With -p PID the process's own output stays where it is.

Examples:
  spawnscope run -- make -j8
  spawnscope run -o build.jsonl -- cargo build")]
pub struct RunArgs {
    /// Trace file to write (.jsonl, or .jsonl.zst) [default: spawnscope-<time>.jsonl].
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Where the target's stdout and stderr go [default: the trace file name + .out].
    #[arg(long, value_name = "FILE", conflicts_with = "pid")]
    target_output: Option<PathBuf>,
    #[command(flatten)]
    trace: super::record::TraceArgs,
}

/// Arguments of `spawnscope demo`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Records `spawnscope lab --scenario ID` for each demo scenario (posix_spawn vs fork from a
512 MiB parent, PATH search, large environment, Rust's fork fallback, vfork) and shows the
recording live. List them with `spawnscope lab --list-scenarios`. Takes a few seconds.")]
pub struct DemoArgs {
    /// Trace file to write (%h host, %p pid, %t time) [default:
    /// spawnscope-demo-<time>-<pid>.jsonl in the temporary directory].
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Record only this scenario (repeatable) [default: all].
    #[arg(long = "scenario", value_name = "ID")]
    scenarios: Vec<String>,
    /// Run the workload itself (what `demo` records).
    #[arg(long, hide = true)]
    workload: bool,
}

pub fn view(a: ViewArgs) -> anyhow::Result<i32> {
    let sel = a.select.selection()?;
    if !std::io::stdout().is_terminal() {
        let analysis = sel.apply(&analyze_path(&a.trace, &Thresholds::default())?);
        // The compared trace is checked here too: a bad one is an error
        // whether or not stdout is a terminal.
        if let Some(c) = &a.compare {
            analyze_path(c, &Thresholds::default())?;
        }
        let opts = spawnscope_report::Options {
            source: Some(display(&a.trace)),
            selection: (!sel.is_empty()).then(|| sel.describe()),
            ..Default::default()
        };
        let mut out = std::io::stdout().lock();
        spawnscope_report::write(&mut out, &analysis, spawnscope_report::Format::Text, &opts)?;
        out.flush()?;
        if let Some(c) = &a.compare {
            println!("(--compare {}: overlaid in the terminal UI; compare as text with `spawnscope diff`)", display(c));
        }
        return Ok(0);
    }
    // Opens at once; the trace is read behind the first frames.
    let mut app = open_view(&a.trace, file_name(&a.trace), &sel)?;
    if let Some(c) = &a.compare {
        app = app.with_compare(file_name(c), analyze_path(c, &Thresholds::default())?);
    }
    spawnscope_tui::run::run_offline(app)?;
    Ok(0)
}

pub fn run_live(a: RunArgs) -> anyhow::Result<i32> {
    #[cfg(target_os = "linux")]
    {
        live::run(a)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = a;
        Err(exit_error(2, "recording needs Linux (ptrace); `spawnscope view` opens traces anywhere"))
    }
}

pub fn demo(a: DemoArgs) -> anyhow::Result<i32> {
    if a.workload {
        return run_workload(&a.scenarios);
    }
    let known = spawnscope_lab::demo_scenarios();
    for id in &a.scenarios {
        if !known.iter().any(|s| s.id == id) {
            let ids: Vec<&str> = known.iter().map(|s| s.id).collect();
            return Err(exit_error(2, format!("unknown scenario {id:?}; known: {}", ids.join(", "))));
        }
    }
    #[cfg(target_os = "linux")]
    {
        live::demo(a)
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(exit_error(2, "the demo records with ptrace and needs Linux; `spawnscope view` opens traces anywhere"))
    }
}

/// What `demo` records: each scenario as `spawnscope lab --scenario ID`, one
/// after the other, so each shows as its own subtree.
fn run_workload(only: &[String]) -> anyhow::Result<i32> {
    let exe = std::env::current_exe().context("cannot find the spawnscope executable")?;
    let mut failed = 0;
    for s in spawnscope_lab::demo_scenarios() {
        if !only.is_empty() && !only.iter().any(|id| id == s.id) {
            continue;
        }
        println!("== {}: {}", s.id, s.title);
        std::io::stdout().flush()?;
        let status = std::process::Command::new(&exe)
            .args(["lab", "--scenario", s.id])
            .status()
            .with_context(|| format!("cannot run {}", exe.display()))?;
        if !status.success() {
            super::common::warn(format_args!("demo scenario {} failed ({status})", s.id));
            failed += 1;
        }
    }
    Ok(i32::from(failed > 0))
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| display(p))
}

fn display(p: &Path) -> String {
    spawnscope_format::escape(&p.display().to_string()).into_owned()
}

/// The text report, for when stdout is not a terminal.
fn print_report(a: &Analysis, trace: &Path) -> anyhow::Result<()> {
    let opts = spawnscope_report::Options { source: Some(display(trace)), ..Default::default() };
    let mut out = std::io::stdout().lock();
    spawnscope_report::write(&mut out, a, spawnscope_report::Format::Text, &opts)?;
    out.flush()?;
    Ok(())
}

#[cfg(target_os = "linux")]
mod live;
