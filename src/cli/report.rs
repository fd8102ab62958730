//! `spawnscope report`: explain a trace as text, Markdown or JSON.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use spawnscope_analyzer::{analyze_path_with, Retention, Selection, Thresholds, RULES};
use spawnscope_report::{Format, Options};

use super::common::exit_error;

/// Arguments of `spawnscope report`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Findings (ids are stable): SS001 fork-large-parent, SS002 rust-fork-fallback, \
SS003 path-search, SS004 large-env, SS005 serial-spawns, SS006 old-glibc, SS007 no-clone3, \
SS008 style-mismatch, SS009 exec-failed. Durations are measured under tracing.\n\n\
Exit status: 0 when the report was written (findings or not), 2 for a missing, unreadable \
or invalid trace or bad arguments.")]
pub struct Args {
    /// Trace file written by `spawnscope record` (.jsonl, or .jsonl.zst).
    #[arg(value_name = "TRACE")]
    pub trace: PathBuf,
    /// More traces or directories (searched for *.jsonl and *.jsonl.zst; a
    /// directory alone works too): read in parallel, reported together by host.
    #[arg(value_name = "TRACE")]
    pub more_traces: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// TOML file with finding thresholds (the keys are the flags below without
    /// their dashes, e.g. env-vars = 150; at the top level or in a [thresholds] table).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub color: super::common::ColorArgs,
    /// List every spawn (text and markdown; JSON always lists them).
    #[arg(long)]
    pub spawns: bool,
    /// Most rows per table in text and markdown output.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
    /// Do not report a finding (id like SS004 or name like large-env); repeatable.
    #[arg(long, value_name = "ID")]
    pub disable: Vec<String>,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub thresholds: ThresholdArgs,
}

/// Which part of a trace to look at (`report` and `view` take the same).
#[derive(Debug, Default, Clone, clap::Args)]
#[command(next_help_heading = "Selection (report on part of a trace)")]
pub struct SelectArgs {
    /// Only spawns whose program (full path, or an earlier program of its exec chain) contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub exe: Option<String>,
    /// Only spawns made by this process, and the spawn that created it.
    #[arg(long, value_name = "PID")]
    pub pid: Option<i32>,
    /// With --pid: the spawns of all its descendants too.
    #[arg(long, requires = "pid")]
    pub subtree: bool,
    /// Only spawns started at or after this many seconds from the start.
    #[arg(long, value_name = "SECONDS")]
    pub since: Option<String>,
    /// Only spawns started before this many seconds from the start.
    #[arg(long, value_name = "SECONDS")]
    pub until: Option<String>,
}

impl SelectArgs {
    /// The analyzer's selection (exit 2 for bad times).
    pub fn selection(&self) -> anyhow::Result<Selection> {
        let secs = |s: &Option<String>| -> anyhow::Result<Option<u64>> {
            s.as_deref().map(Selection::parse_seconds).transpose().map_err(|e| exit_error(2, e.to_string()))
        };
        let sel = Selection {
            exe: self.exe.clone(),
            pid: self.pid,
            subtree: self.subtree,
            since_ns: secs(&self.since)?,
            until_ns: secs(&self.until)?,
        };
        sel.validate().map_err(|e| exit_error(2, e.to_string()))?;
        Ok(sel)
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Markdown,
}

/// Threshold overrides (they win over --config).
#[derive(Debug, Default, clap::Args)]
#[command(next_help_heading = "Finding thresholds (defaults in parentheses)")]
pub struct ThresholdArgs {
    /// SS001: parent RSS in MiB from which a fork-style spawn is a finding (256).
    #[arg(long, value_name = "MIB")]
    pub fork_parent_rss_mib: Option<u64>,
    /// SS001: parent page tables in KiB from which a fork-style spawn is a finding (1024).
    #[arg(long, value_name = "KIB")]
    pub fork_parent_pte_kib: Option<u64>,
    /// SS001: parent RSS in MiB from which the finding is high severity (1024).
    #[arg(long, value_name = "MIB")]
    pub fork_high_rss_mib: Option<u64>,
    /// SS001: fork cost per GiB of RSS for estimates without clone entry times (17).
    #[arg(long, value_name = "MS")]
    pub fork_ms_per_gib: Option<f64>,
    /// SS003: failed exec attempts (all spawns) from which PATH search is a finding (3).
    #[arg(long, value_name = "N")]
    pub path_search_failed: Option<u64>,
    /// SS003: time in failed attempts from which it is a warning (10).
    #[arg(long, value_name = "MS")]
    pub path_search_ms: Option<f64>,
    /// SS004: environment variables above which an environment is large (100).
    #[arg(long, value_name = "N")]
    pub env_vars: Option<u64>,
    /// SS004: environment bytes above which an environment is large (16384).
    #[arg(long, value_name = "BYTES")]
    pub env_bytes: Option<u64>,
    /// SS005: fewest spawns from one thread (100).
    #[arg(long, value_name = "N")]
    pub serial_spawns: Option<u64>,
    /// SS005: least share of all spawns made by that thread, 0-1 (0.9).
    #[arg(long, value_name = "FRACTION")]
    pub serial_share: Option<f64>,
    /// SS005: least share of the recording spent spawning, 0-1 (0.2).
    #[arg(long, value_name = "FRACTION")]
    pub serial_busy: Option<f64>,
    /// Every finding: info when fixing it would save less than this share of the recording, 0-1 (0.05).
    #[arg(long, value_name = "FRACTION")]
    pub impact_share: Option<f64>,
}

impl ThresholdArgs {
    fn apply(&self, t: &mut Thresholds) {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { t.$f = v; } )* };
        }
        set!(
            fork_parent_rss_mib,
            fork_parent_pte_kib,
            fork_high_rss_mib,
            fork_ms_per_gib,
            path_search_failed,
            path_search_ms,
            env_vars,
            env_bytes,
            serial_spawns,
            serial_share,
            serial_busy,
            impact_share
        );
    }
}

/// Thresholds from the config file, then the flags.
fn thresholds(args: &Args) -> anyhow::Result<Thresholds> {
    let mut t = match &args.config {
        Some(path) => {
            let t = Thresholds::from_file(path).map_err(|e| exit_error(2, e.to_string()))?;
            super::common::warn_threshold_notes(path, &t.notes);
            t
        }
        None => Thresholds::default(),
    };
    args.thresholds.apply(&mut t);
    t.disable.extend(args.disable.iter().cloned());
    for d in &t.disable {
        if !RULES.iter().any(|r| r.id.eq_ignore_ascii_case(d) || r.name.eq_ignore_ascii_case(d)) {
            let known: Vec<String> = RULES.iter().map(|r| format!("{} {}", r.id, r.name)).collect();
            return Err(exit_error(2, format!("unknown finding {d:?} to disable (known: {})", known.join(", "))));
        }
    }
    for (name, v) in [("serial-share", t.serial_share), ("serial-busy", t.serial_busy), ("impact-share", t.impact_share)] {
        if !(0.0..=1.0).contains(&v) {
            return Err(exit_error(2, format!("--{name} must be between 0 and 1, not {v}")));
        }
    }
    Ok(t)
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let t = thresholds(&args)?;
    if !args.more_traces.is_empty() || args.trace.is_dir() {
        return run_many(&args, &t);
    }
    let sel = args.select.selection()?;
    // Bounded memory (issue 15): text and Markdown keep no spawn; JSON and
    // --spawns read theirs back from a temporary file; a selection keeps all.
    let retention = match args.format {
        _ if !sel.is_empty() => Retention::Full,
        FormatArg::Json => Retention::Stream,
        _ if args.spawns => Retention::Stream,
        _ => Retention::Aggregate,
    };
    let mut analysis = analyze_path_with(&args.trace, &t, retention).map_err(|e| exit_error(2, e.to_string()))?;
    if !sel.is_empty() {
        analysis = sel.apply(&analysis);
    }
    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Markdown => Format::Markdown,
    };
    let opts = Options {
        color: format == Format::Text && args.color.enabled(),
        source: Some(args.trace.display().to_string()),
        list_spawns: args.spawns,
        max_rows: if args.limit == 0 { usize::MAX } else { args.limit },
        selection: (!sel.is_empty()).then(|| sel.describe()),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    spawnscope_report::write(&mut out, &analysis, format, &opts).context("writing the report")?;
    out.flush().context("writing the report")?;
    // The process exits next: freeing hundreds of thousands of small
    // allocations one by one would only add time.
    std::mem::forget(analysis);
    Ok(0)
}

/// Several traces (or directories): read in parallel, merged by host. A bad
/// file is reported and skipped; nothing readable at all is exit 2.
fn run_many(args: &Args, t: &Thresholds) -> anyhow::Result<i32> {
    let mut inputs = vec![args.trace.clone()];
    inputs.extend(args.more_traces.iter().cloned());
    let sel = args.select.selection()?;
    let many_opts = spawnscope_analyzer::many::Options { selection: Some(sel.clone()), ..Default::default() };
    let m = spawnscope_analyzer::many::analyze_many(&inputs, t, &many_opts);
    if m.total.traces == 0 && m.skipped.len() == 1 {
        // One unreadable input: one line, as for a single trace.
        return Err(exit_error(2, spawnscope_format::escape(&m.skipped[0].error)));
    }
    for s in &m.skipped {
        eprintln!("spawnscope: skipped: {}", spawnscope_format::escape(&s.error));
    }
    if m.total.traces == 0 {
        return Err(exit_error(2, "no trace could be read (see the errors above)"));
    }
    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Markdown => Format::Markdown,
    };
    let opts = Options {
        color: format == Format::Text && args.color.enabled(),
        max_rows: if args.limit == 0 { usize::MAX } else { args.limit },
        selection: (!sel.is_empty()).then(|| sel.describe()),
        ..Options::default()
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    spawnscope_report::many::write_many(&mut out, &m, format, &opts).context("writing the report")?;
    out.flush().context("writing the report")?;
    Ok(0)
}
