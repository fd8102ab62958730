//! `spawnscope redact`: scrub an existing trace before sharing it. A thin
//! layer over `spawnscope_format::redact_trace`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use spawnscope_format::{escape, is_stdio, redact_trace, FileReader, FileWriter, Redactor};

use spawnscope_units::counted;

use super::common::exit_error;

/// Arguments of `spawnscope redact`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Masks secret-looking values in every command line (the header's command and each exec's
argv): values after --password/--token/--secret-like options, NAME=VALUE where NAME names a
secret, passwords in URLs, Authorization and other secret headers. Environment values
captured with --capture-env are dropped. Everything else (spawns, exits, stacks, symbols,
host facts, the keyed environment hashes) is kept, so `spawnscope report` gives the same
spawn counts, styles, code paths and call sites. Lines of kinds this version does not know
are left out. See docs/reference/security.md.

Examples:
  spawnscope redact build.jsonl -o build-shared.jsonl
  spawnscope redact build.jsonl --drop-argv -o build-shared.jsonl.zst   program names only
  spawnscope redact build.jsonl --redact 'corp-[0-9a-f]{32}' -o -      also mask these")]
pub struct Args {
    /// The trace to scrub (`.jsonl` or `.jsonl.zst`; `-`: standard input).
    #[arg(value_name = "TRACE")]
    trace: PathBuf,
    /// Where to write the scrubbed trace (`.zst`: compressed; `-`: standard output).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Keep only program names (argv[0]): drop every argument.
    #[arg(long)]
    drop_argv: bool,
    /// Also mask what this regular expression matches (repeatable; with a
    /// capture group only the group is masked).
    #[arg(long = "redact", value_name = "REGEX")]
    patterns: Vec<String>,
    /// No summary line on stderr.
    #[arg(short = 'q', long)]
    quiet: bool,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let mut redactor = Redactor::new().drop_argv(args.drop_argv);
    for p in &args.patterns {
        redactor = redactor.with_pattern(p).map_err(|e| exit_error(2, e.to_string()))?;
    }
    if same_file(&args.trace, &args.output) {
        return Err(exit_error(2, format!("{}: the output would overwrite the input; choose another -o", args.output.display())));
    }
    let reader = FileReader::open(&args.trace).with_context(|| shown(&args.trace))?;
    let mut writer = FileWriter::create(&args.output)?;
    let sum = redact_trace(reader, &mut writer, &redactor).with_context(|| shown(&args.trace))?;
    writer.flush()?;
    drop(writer);
    if !args.quiet {
        let mut line = format!(
            "spawnscope: masked {} in {}",
            counted(sum.masked, "value", "values"),
            counted(sum.execs_changed, "exec record", "exec records"),
        );
        if sum.env_dropped > 0 {
            line.push_str(&format!(", dropped the environment values of {}", sum.env_dropped));
        }
        if sum.unknown_dropped > 0 {
            line.push_str(&format!(", left out {} of unknown kinds", counted(sum.unknown_dropped, "line", "lines")));
        }
        if !sum.complete {
            line.push_str(" (the input was cut short: so is the output)");
        }
        let out = if is_stdio(&args.output) { "standard output".to_string() } else { shown(&args.output) };
        eprintln!("{line} -> {out}");
    }
    Ok(0)
}

fn shown(p: &Path) -> String {
    if is_stdio(p) {
        "standard input".to_string()
    } else {
        escape(&p.display().to_string()).into_owned()
    }
}

/// Whether two paths name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    if is_stdio(a) || is_stdio(b) {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    a == b
}
