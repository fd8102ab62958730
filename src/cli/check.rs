//! `spawnscope check`: record a command (or read a trace) and check it
//! against spawning rules from flags and a policy file. A thin layer over
//! `spawnscope_check`.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use spawnscope_check::{
    parse_code_path, parse_duration, parse_exe_limit, parse_finding_pattern, parse_style, CheckReport, CodePath, Format, Origin,
    Policy, Rule, SpawnStyle,
};

use super::common::exit_error;

/// Arguments of `spawnscope check`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Rules come from flags and from a policy file: --policy FILE, else spawnscope.toml in the
current directory or at the git root (--no-policy skips it). Flags override the file.
Counts and styles are exact; --max-spawn-p99 only warns unless --strict-timing.

Exit codes: 0 every rule holds; 1 a rule is violated (or the command failed, unless
--allow-command-failure); 2 usage, policy or input error.

Examples:
  spawnscope check --deny-style fork --max-failed-exec-attempts 0 -- cargo test
  spawnscope check --max-spawns-per-exe git=20 -f junit --report-file check.xml -- make
  spawnscope check --policy ci/spawnscope.toml build.jsonl")]
pub struct Args {
    /// A recorded trace to check (.jsonl or .jsonl.zst), instead of `-- CMD`.
    #[arg(value_name = "TRACE", conflicts_with = "command")]
    trace: Option<PathBuf>,

    /// Fail if any spawn has this style: fork, vfork or vm (repeatable).
    #[arg(long, value_name = "STYLE", value_parser = parse_style, help_heading = "Rules")]
    deny_style: Vec<SpawnStyle>,
    /// Apply --deny-style and --deny-code-path only to spawns made by code
    /// matching PATTERN: a substring of the call site's function or file:line,
    /// or of a caller (needs a trace with stacks), e.g. --at 'myapp::'.
    #[arg(long, value_name = "PATTERN", help_heading = "Rules")]
    at: Option<String>,
    /// Fail if there are more than N spawns.
    #[arg(long, value_name = "N", help_heading = "Rules")]
    max_spawns: Option<u64>,
    /// Fail if there are fewer than N spawns.
    #[arg(long, value_name = "N", help_heading = "Rules")]
    min_spawns: Option<u64>,
    /// Fail if EXE (a basename, or a full path) is spawned more than N times (repeatable).
    #[arg(long, value_name = "EXE=N", value_parser = parse_exe_limit, help_heading = "Rules")]
    max_spawns_per_exe: Vec<(String, u64)>,
    /// Fail if EXE is spawned fewer than N times (repeatable).
    #[arg(long, value_name = "EXE=N", value_parser = parse_exe_limit, help_heading = "Rules")]
    min_spawns_per_exe: Vec<(String, u64)>,
    /// Fail if the children made more than N failed exec attempts (PATH search misses).
    #[arg(long, value_name = "N", help_heading = "Rules")]
    max_failed_exec_attempts: Option<u64>,
    /// Fail if any exec passed more than N bytes of environment.
    #[arg(long, value_name = "N", help_heading = "Rules")]
    max_env_bytes: Option<u64>,
    /// Fail on a finding: an id (SS001), a name (fork-large-parent) or all (repeatable).
    #[arg(long, value_name = "ID", value_parser = parse_finding_pattern, help_heading = "Rules")]
    deny_finding: Vec<String>,
    /// Exempt a finding from --deny-finding (repeatable).
    #[arg(long, value_name = "ID", value_parser = parse_finding_pattern, help_heading = "Rules")]
    allow_finding: Vec<String>,
    /// Fail unless every spawn takes one of these code paths, e.g. glibc-posix-spawn (repeatable).
    #[arg(long, value_name = "NAME", value_parser = parse_code_path, help_heading = "Rules")]
    require_code_path: Vec<CodePath>,
    /// Fail if any spawn takes this code path, e.g. rust-std-fork-fallback (repeatable).
    #[arg(long, value_name = "NAME", value_parser = parse_code_path, help_heading = "Rules")]
    deny_code_path: Vec<CodePath>,
    /// Warn if the p99 spawn latency exceeds DURATION (e.g. 5ms); fail with --strict-timing.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Rules")]
    max_spawn_p99: Option<u64>,
    /// Duration rules fail the check instead of warning.
    #[arg(long, help_heading = "Rules")]
    strict_timing: bool,
    /// A failing command does not fail the check.
    #[arg(long, help_heading = "Rules")]
    allow_command_failure: bool,

    /// Policy file [default: spawnscope.toml here or at the git root, if present].
    #[arg(long, value_name = "FILE", conflicts_with = "no_policy")]
    policy: Option<PathBuf>,
    /// Do not look for spawnscope.toml.
    #[arg(long)]
    no_policy: bool,

    /// Output format.
    #[arg(long, short = 'f', value_name = "FORMAT", default_value = "text", value_parser = clap::builder::PossibleValuesParser::new(Format::NAMES))]
    format: String,
    #[command(flatten)]
    color: super::common::ColorArgs,
    /// Write the report to FILE (a text summary still goes to stdout).
    #[arg(long, value_name = "FILE")]
    report_file: Option<PathBuf>,
    /// Keep the recorded trace in FILE (with `-- CMD`).
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// How to trace (with `-- CMD`).
    #[arg(long, value_enum, default_value_t = super::record::Mode::Auto)]
    mode: super::record::Mode,

    /// The command to record and check, after `--`.
    #[arg(last = true, value_name = "CMD")]
    command: Vec<OsString>,
}

impl Args {
    /// The rules given as flags.
    fn flag_policy(&self) -> anyhow::Result<Policy> {
        let mut p = Policy::new();
        let flag = |f: &str| Origin::Flag { flag: format!("--{f}") };
        p.at = self.at.clone();
        for s in &self.deny_style {
            p.add(Rule::DenyStyle(*s), flag("deny-style"));
        }
        if let Some(n) = self.max_spawns {
            p.add(Rule::MaxSpawns { exe: None, limit: n }, flag("max-spawns"));
        }
        if let Some(n) = self.min_spawns {
            p.add(Rule::MinSpawns { exe: None, limit: n }, flag("min-spawns"));
        }
        for (exe, n) in &self.max_spawns_per_exe {
            p.add(Rule::MaxSpawns { exe: Some(exe.clone()), limit: *n }, flag("max-spawns-per-exe"));
        }
        for (exe, n) in &self.min_spawns_per_exe {
            p.add(Rule::MinSpawns { exe: Some(exe.clone()), limit: *n }, flag("min-spawns-per-exe"));
        }
        if let Some(n) = self.max_failed_exec_attempts {
            p.add(Rule::MaxFailedExecAttempts(n), flag("max-failed-exec-attempts"));
        }
        if let Some(n) = self.max_env_bytes {
            p.add(Rule::MaxEnvBytes(n), flag("max-env-bytes"));
        }
        for f in &self.deny_finding {
            p.add(Rule::DenyFinding(f.clone()), flag("deny-finding"));
        }
        for f in &self.allow_finding {
            p.add_allowed_finding(f, flag("allow-finding"))?;
        }
        for c in &self.require_code_path {
            p.add(Rule::RequireCodePath(*c), flag("require-code-path"));
        }
        for c in &self.deny_code_path {
            p.add(Rule::DenyCodePath(*c), flag("deny-code-path"));
        }
        if let Some(ns) = self.max_spawn_p99 {
            p.add(Rule::MaxSpawnP99(ns), flag("max-spawn-p99"));
        }
        p.strict_timing = self.strict_timing;
        p.allow_command_failure = self.allow_command_failure;
        Ok(p)
    }

    /// The policy file's rules (if any) with the flags on top.
    fn policy(&self) -> anyhow::Result<Policy> {
        let file = match (&self.policy, self.no_policy) {
            (Some(path), _) => Some(path.clone()),
            (None, true) => None,
            (None, false) => {
                let cwd = std::env::current_dir().context("cannot read the current directory")?;
                spawnscope_check::find_policy_file(&cwd).map(|p| relative_to(&p, &cwd))
            }
        };
        let base = match file {
            Some(path) => {
                let p = Policy::from_toml_file(&path)?;
                if let Some(t) = &p.thresholds {
                    super::common::warn_threshold_notes(&path, &t.notes);
                }
                p
            }
            None => Policy::new(),
        };
        Ok(base.merge(self.flag_policy()?))
    }
}

/// `path` relative to `dir` when it is inside it (shorter messages, and
/// GitHub annotations want paths relative to the workspace).
fn relative_to(path: &std::path::Path, dir: &std::path::Path) -> PathBuf {
    path.strip_prefix(dir).map(PathBuf::from).unwrap_or_else(|_| path.to_path_buf())
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let format: Format = args.format.parse().map_err(|e: String| exit_error(2, e))?;
    if args.output.is_some() && args.trace.is_some() {
        return Err(exit_error(2, "-o/--output keeps the trace of a recording: it needs `-- CMD`, not a trace file"));
    }
    let policy = args.policy()?;
    let report = match (&args.trace, args.command.is_empty()) {
        (Some(trace), true) => spawnscope_check::check_trace(trace, &policy)?,
        (None, false) => record_and_check(&args, &policy)?,
        (None, true) => return Err(exit_error(2, "nothing to check: give a trace file, or a command after `--` (see --help)")),
        (Some(_), false) => return Err(exit_error(2, "give a trace file or `-- CMD`, not both")),
    };
    print(&report, format, args.report_file.as_deref(), args.color.enabled())?;
    Ok(report.exit_code())
}

/// The report in `format` to stdout, or to `file` with the text summary on
/// stdout; text on stdout is coloured when `color`.
fn print(report: &CheckReport, format: Format, file: Option<&std::path::Path>, color: bool) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if let Some(path) = file {
        let mut f = spawnscope_format::create_output(path, spawnscope_format::Existing::Replace)?;
        spawnscope_check::write_report(report, format, &mut f).with_context(|| format!("writing {}", path.display()))?;
        if format != Format::Text {
            spawnscope_check::write_text(report, &mut out, color)?;
        }
    } else if format == Format::Text {
        spawnscope_check::write_text(report, &mut out, color)?;
    } else {
        spawnscope_check::write_report(report, format, &mut out)?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(target_os = "linux")]
fn record_and_check(args: &Args, policy: &Policy) -> anyhow::Result<CheckReport> {
    use super::record::Mode;
    use spawnscope_tracer::{Control, ModeRequest, RecordOptions};

    let mut opts = RecordOptions::new(args.command.clone());
    opts.mode = match args.mode {
        Mode::Auto => ModeRequest::Auto,
        Mode::Seccomp => ModeRequest::Seccomp,
        Mode::Syscall => ModeRequest::Syscall,
        Mode::Events => ModeRequest::Events,
    };
    let control = Control::new();
    opts.control = Some(control.clone());
    control.install_signal_handlers(false);
    let report = spawnscope_session::check_command(&opts, args.output.as_deref(), policy)?;
    // The command's own output came first; separate the report from it.
    let _ = std::io::stderr().flush();
    Ok(report)
}

#[cfg(not(target_os = "linux"))]
fn record_and_check(_args: &Args, _policy: &Policy) -> anyhow::Result<CheckReport> {
    Err(exit_error(2, "recording needs Linux (ptrace); check a trace file recorded elsewhere instead"))
}
