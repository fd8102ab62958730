//! `spawnscope lab`: spawn N children of `true` by a chosen method and print
//! the time per spawn. A thin layer over `spawnscope_lab`.

use std::io::Write;
use std::path::PathBuf;

use spawnscope_lab::{EnvSource, LabConfig, LabError, Method};

/// Arguments of `spawnscope lab`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Measures this machine: run it untraced for numbers, under `spawnscope record` to see how
each method looks in a trace. The spawn call time is how long the parent is blocked in
posix_spawn / fork / vfork / Command::spawn; children are reaped one by one.

Examples:
  spawnscope lab --method fork --rss 1G --count 200     fork from a 1 GiB parent
  spawnscope lab --method posix-spawn --rss 1G --count 200
  spawnscope lab --path-search --path-prepend 16        bare name, 16 failed execs each
  spawnscope lab --method rust-std --pre-exec           Rust's fork fallback
  spawnscope lab --list-scenarios                       what `spawnscope demo` records")]
pub struct Args {
    /// How to start each child.
    #[arg(long, value_name = "METHOD", value_parser = ["posix-spawn", "fork", "vfork", "rust-std"])]
    method: Option<String>,
    /// Children to spawn in total [default: 1000].
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Resident memory ballast in the parent, touched page by page (e.g. 512M, 1G).
    #[arg(long, value_name = "SIZE")]
    rss: Option<String>,
    /// The children's environment: exactly the KEY=VALUE lines of FILE (PATH included).
    #[arg(long, value_name = "FILE", conflicts_with = "env_vars")]
    env_file: Option<PathBuf>,
    /// Add N synthetic variables of 140 bytes each to the environment (184 ~ an HPC job).
    #[arg(long, value_name = "N")]
    env_vars: Option<usize>,
    /// rust-std: pass the environment with Command::envs on every spawn instead.
    #[arg(long)]
    env_per_command: bool,
    /// Run `true` by bare name, searching PATH (default: its absolute path).
    #[arg(long)]
    path_search: bool,
    /// With --path-search: put N missing directories in front of PATH.
    #[arg(long, value_name = "N")]
    path_prepend: Option<usize>,
    /// Spawn from N threads at once (the count is split between them).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// rust-std: add an empty pre_exec closure (forces std's fork+exec fallback).
    #[arg(long)]
    pre_exec: bool,
    /// Run a demo scenario by id (see --list-scenarios) instead of the options above.
    #[arg(long, value_name = "ID", conflicts_with_all = [
        "method", "count", "rss", "env_file", "env_vars", "env_per_command",
        "path_search", "path_prepend", "threads", "pre_exec", "list_scenarios"])]
    scenario: Option<String>,
    /// List the demo scenarios with their lab arguments.
    #[arg(long)]
    list_scenarios: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    if args.list_scenarios {
        return list_scenarios(args.json);
    }
    let config = match &args.scenario {
        Some(id) => match spawnscope_lab::scenario(id) {
            Some(s) => s.config,
            None => {
                let ids: Vec<&str> = spawnscope_lab::demo_scenarios().iter().map(|s| s.id).collect();
                return Err(super::common::exit_error(2, format!("unknown scenario {id:?}; known: {}", ids.join(", "))));
            }
        },
        None => config_from(&args)?,
    };
    let report = spawnscope_lab::run(&config).map_err(lab_error)?;
    let traced = spawnscope_lab::tracer_pid();
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = spawnscope_lab::to_json(&report, traced, args.scenario.as_deref());
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        spawnscope_lab::write_text(&mut out, &report, traced)?;
    }
    out.flush()?;
    Ok(0)
}

fn config_from(a: &Args) -> anyhow::Result<LabConfig> {
    let d = LabConfig::default();
    let rss_bytes = match &a.rss {
        Some(s) => spawnscope_lab::parse_size(s).map_err(lab_error)?,
        None => 0,
    };
    let env = match (&a.env_file, a.env_vars) {
        (Some(p), _) => EnvSource::File(p.clone()),
        (None, Some(n)) => EnvSource::Synthetic(n),
        (None, None) => EnvSource::Inherit,
    };
    Ok(LabConfig {
        method: a.method.as_deref().and_then(Method::parse).unwrap_or(d.method),
        count: a.count.unwrap_or(d.count),
        rss_bytes,
        env,
        env_per_command: a.env_per_command,
        path_search: a.path_search,
        path_prepend: a.path_prepend.unwrap_or(0),
        threads: a.threads.unwrap_or(1),
        pre_exec: a.pre_exec,
    })
}

/// Input errors exit 2; failures while spawning exit 1.
fn lab_error(e: LabError) -> anyhow::Error {
    let code = match e {
        LabError::Ballast { .. } | LabError::Spawn { .. } | LabError::ChildFailed { .. } => 1,
        _ => 2,
    };
    super::common::exit_error(code, e.to_string())
}

fn list_scenarios(json: bool) -> anyhow::Result<i32> {
    let all = spawnscope_lab::demo_scenarios();
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &spawnscope_lab::scenarios_json(&all))?;
        writeln!(out)?;
    } else {
        spawnscope_lab::write_scenarios(&mut out, &all)?;
    }
    out.flush()?;
    Ok(0)
}
