//! `spawnscope lab`: spawn N children of `true` by a chosen method and print
//! the time per spawn. A thin layer over `spawnscope_lab`.

use std::io::Write;
use std::path::PathBuf;

use spawnscope_lab::{format_ns, format_size, EnvSource, LabConfig, LabError, LabReport, Method};

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
                let ids: Vec<&str> = spawnscope_lab::demo_scenarios()
                    .iter()
                    .map(|s| s.id)
                    .collect();
                return Err(super::common::exit_error(
                    2,
                    format!("unknown scenario {id:?}; known: {}", ids.join(", ")),
                ));
            }
        },
        None => config_from(&args)?,
    };
    let report = spawnscope_lab::run(&config).map_err(lab_error)?;
    let traced = tracer_pid();
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut v = to_json(&report);
        v["traced_by"] = traced.map_or(serde_json::Value::Null, |p| p.into());
        v["scenario"] = args
            .scenario
            .clone()
            .map_or(serde_json::Value::Null, |s| s.into());
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        write_text(&mut out, &report, traced)?;
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
        method: a
            .method
            .as_deref()
            .and_then(Method::parse)
            .unwrap_or(d.method),
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

/// The pid of a tracer attached to us (e.g. `spawnscope record`), if any.
fn tracer_pid() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let v: u64 = s
        .lines()
        .find_map(|l| l.strip_prefix("TracerPid:"))?
        .trim()
        .parse()
        .ok()?;
    (v != 0).then_some(v)
}

fn write_text(out: &mut impl Write, r: &LabReport, traced: Option<u64>) -> std::io::Result<()> {
    let c = &r.config;
    let threads = if c.threads == 1 {
        "1 thread".to_string()
    } else {
        format!("{} threads", c.threads)
    };
    let mut how = c.method.describe().to_string();
    if c.pre_exec {
        how.push_str(" with pre_exec");
    }
    writeln!(
        out,
        "spawnscope lab: {} spawns of {} by {} ({how}), {threads}",
        c.count, r.program, c.method
    )?;
    let opt = |v: Option<u64>| v.map_or("?".to_string(), format_size);
    let ballast = if c.rss_bytes == 0 {
        "no ballast".to_string()
    } else {
        format!(
            "ballast {} touched in {}",
            format_size(c.rss_bytes),
            format_ns(r.ballast_ns)
        )
    };
    writeln!(
        out,
        "  parent      VmRSS {}, VmPTE {} ({ballast})",
        opt(r.vm_rss_bytes),
        opt(r.vm_pte_bytes)
    )?;
    let how_env = if c.env_per_command {
        ", set per command"
    } else {
        ""
    };
    let attempts = if c.path_search {
        format!(
            "{} failed + 1 (PATH search, found {})",
            r.failed_attempts_per_spawn, r.resolved_path
        )
    } else {
        "1 (absolute path)".to_string()
    };
    writeln!(
        out,
        "  children    env {} vars, {}{how_env}; exec attempts per spawn: {attempts}",
        r.env_vars,
        format_size(r.env_bytes as u64)
    )?;
    writeln!(
        out,
        "  total       {}  ({:.0} spawns/s, {} wall per spawn incl. child run and reap)",
        format_ns(r.total_ns),
        r.spawns_per_second(),
        format_ns(r.wall_per_spawn_ns())
    )?;
    let s = &r.spawn_call;
    writeln!(
        out,
        "  spawn call  mean {}  median {}  p90 {}  p99 {}  min {}  max {}",
        format_ns(s.mean_ns),
        format_ns(s.median_ns),
        format_ns(s.p90_ns),
        format_ns(s.p99_ns),
        format_ns(s.min_ns),
        format_ns(s.max_ns)
    )?;
    match traced {
        None => writeln!(out, "  (untraced: these times measure this machine; spawn call = time the parent is blocked)")?,
        Some(p) => writeln!(out, "  (traced by pid {p}: these times include the tracer's overhead, not only the machine's)")?,
    }
    Ok(())
}

fn to_json(r: &LabReport) -> serde_json::Value {
    let c = &r.config;
    let s = &r.spawn_call;
    serde_json::json!({
        "method": c.method.name(),
        "count": c.count,
        "threads": c.threads,
        "pre_exec": c.pre_exec,
        "program": r.program,
        "resolved_path": r.resolved_path,
        "path_search": c.path_search,
        "path_prepend": c.path_prepend,
        "failed_attempts_per_spawn": r.failed_attempts_per_spawn,
        "env_vars": r.env_vars,
        "env_bytes": r.env_bytes,
        "env_per_command": c.env_per_command,
        "rss_bytes": c.rss_bytes,
        "vm_rss_bytes": r.vm_rss_bytes,
        "vm_pte_bytes": r.vm_pte_bytes,
        "ballast_ns": r.ballast_ns,
        "total_ns": r.total_ns,
        "spawns_per_second": r.spawns_per_second(),
        "wall_per_spawn_ns": r.wall_per_spawn_ns(),
        "spawn_call_ns": {
            "mean": s.mean_ns, "median": s.median_ns, "p90": s.p90_ns, "p99": s.p99_ns,
            "min": s.min_ns, "max": s.max_ns,
        },
        "args": c.to_args(),
    })
}

fn list_scenarios(json: bool) -> anyhow::Result<i32> {
    let all = spawnscope_lab::demo_scenarios();
    let mut out = std::io::stdout().lock();
    if json {
        let v: Vec<_> = all
            .iter()
            .map(|s| {
                serde_json::json!({
                    "id": s.id, "title": s.title, "shows": s.shows,
                    "compare_with": s.compare_with, "args": s.args(),
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        for s in &all {
            writeln!(out, "{:<26} {}", s.id, s.title)?;
            writeln!(out, "{:<26} spawnscope lab {}", "", s.args().join(" "))?;
        }
    }
    out.flush()?;
    Ok(0)
}
