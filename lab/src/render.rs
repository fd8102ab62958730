//! Text and JSON of a lab run and of the scenario list (as `report` does it
//! for traces; the CLI only picks one). Units come from `spawnscope_units`.

use std::io::{self, Write};

use serde_json::{json, Value};
use spawnscope_units::{bytes, counted, duration};

use crate::{LabReport, Scenario};

/// The pid of a tracer attached to this process (e.g. `spawnscope record`),
/// if any: the times then include the tracer's overhead.
pub fn tracer_pid() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let v: u64 = s.lines().find_map(|l| l.strip_prefix("TracerPid:"))?.trim().parse().ok()?;
    (v != 0).then_some(v)
}

/// The result for a terminal; `traced` is [`tracer_pid`].
pub fn write_text(out: &mut dyn Write, r: &LabReport, traced: Option<u64>) -> io::Result<()> {
    let c = &r.config;
    let threads = counted(c.threads as u64, "thread", "threads");
    let mut how = c.method.describe().to_string();
    if c.pre_exec {
        how.push_str(" with pre_exec");
    }
    writeln!(out, "spawnscope lab: {} of {} by {} ({how}), {threads}", counted(c.count, "spawn", "spawns"), r.program, c.method)?;
    let opt = |v: Option<u64>| v.map_or("?".to_string(), bytes);
    let ballast = if c.rss_bytes == 0 {
        "no ballast".to_string()
    } else {
        format!("ballast {} touched in {}", bytes(c.rss_bytes), duration(r.ballast_ns))
    };
    writeln!(out, "  parent      VmRSS {}, VmPTE {} ({ballast})", opt(r.vm_rss_bytes), opt(r.vm_pte_bytes))?;
    let how_env = if c.env_per_command { ", set per command" } else { "" };
    let attempts = if c.path_search {
        format!("{} failed + 1 (PATH search, found {})", r.failed_attempts_per_spawn, r.resolved_path)
    } else {
        "1 (absolute path)".to_string()
    };
    writeln!(
        out,
        "  children    env {}, {}{how_env}; exec attempts per spawn: {attempts}",
        counted(r.env_vars as u64, "var", "vars"),
        bytes(r.env_bytes as u64)
    )?;
    writeln!(
        out,
        "  total       {}  ({:.0} spawns/s, {} wall per spawn incl. child run and reap)",
        duration(r.total_ns),
        r.spawns_per_second(),
        duration(r.wall_per_spawn_ns())
    )?;
    let s = &r.spawn_call;
    writeln!(
        out,
        "  spawn call  mean {}  median {}  p90 {}  p99 {}  min {}  max {}",
        duration(s.mean_ns),
        duration(s.median_ns),
        duration(s.p90_ns),
        duration(s.p99_ns),
        duration(s.min_ns),
        duration(s.max_ns)
    )?;
    match traced {
        None => writeln!(out, "  (untraced: these times measure this machine; spawn call = time the parent is blocked)"),
        Some(p) => writeln!(out, "  (traced by pid {p}: these times include the tracer's overhead, not only the machine's)"),
    }
}

/// The result as JSON (times in ns, sizes in bytes); `traced` is
/// [`tracer_pid`], `scenario` the scenario id when one was run.
pub fn to_json(r: &LabReport, traced: Option<u64>, scenario: Option<&str>) -> Value {
    let c = &r.config;
    let s = &r.spawn_call;
    json!({
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
        "traced_by": traced,
        "scenario": scenario,
    })
}

/// The scenarios, each with its `spawnscope lab` command line.
pub fn write_scenarios(out: &mut dyn Write, all: &[Scenario]) -> io::Result<()> {
    for s in all {
        writeln!(out, "{:<26} {}", s.id, s.title)?;
        writeln!(out, "{:<26} spawnscope lab {}", "", s.args().join(" "))?;
    }
    Ok(())
}

/// The scenarios as JSON.
pub fn scenarios_json(all: &[Scenario]) -> Value {
    Value::Array(
        all.iter()
            .map(|s| {
                json!({
                    "id": s.id, "title": s.title, "shows": s.shows,
                    "compare_with": s.compare_with, "args": s.args(),
                })
            })
            .collect(),
    )
}
