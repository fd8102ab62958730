//! The JSON report: a stable, documented layout built from the analysis
//! (not the analysis structs serialised as they are, so they can evolve).

use serde_json::{json, Map, Value};
use spawnscope_analyzer::{group_by, Analysis, ExecAttempt, GroupBy, LatencyStats, Spawn};
use spawnscope_format::flags::{clone_flag_names, errno_name};

use crate::{Options, TRACING_NOTE};

/// Version of the JSON layout.
pub const REPORT_VERSION: u32 = 1;

/// The whole JSON report.
pub fn to_json(a: &Analysis, opts: &Options) -> Value {
    let h = &a.header;
    let s = &a.summary;
    let mut groups = Map::new();
    for by in GroupBy::ALL {
        let key = by.as_str().replace('-', "_");
        groups.insert(key, Value::Array(group_by(a, by).iter().map(group).collect()));
    }
    json!({
        "report_version": REPORT_VERSION,
        "source": opts.source,
        "note": TRACING_NOTE,
        "trace": {
            "format_version": h.format_version,
            "tool_version": h.tool_version,
            "command": h.command,
            "cwd": h.cwd,
            "start_unix_ns": h.start_unix_ns,
            "host": h.host,
            "tracer_mode": h.tracer.mode.as_str(),
            "source": h.source,
            "complete": a.complete,
        },
        "summary": {
            "spawns": s.spawns,
            "threads": s.threads,
            "processes": s.processes,
            "styles": s.styles,
            "code_paths": s.code_paths,
            "exec_attempts": s.exec_attempts,
            "failed_exec_attempts": s.failed_exec_attempts,
            "failed_exec_ns": s.failed_exec_ns,
            "path_search_spawns": s.path_search_spawns,
            "exec_failed_spawns": s.exec_failed_spawns,
            "env_count_max": s.env_count_max,
            "env_bytes_max": s.env_bytes_max,
            "env_bytes_mean": s.env_bytes_mean,
            "env_bytes_total": s.env_bytes_total,
            "latency": latency(&s.latency),
            "duration_ns": s.duration_ns,
            "spawn_rate": (s.spawn_rate * 100.0).round() / 100.0,
            "max_in_flight": s.max_in_flight,
            "failed_clones": s.failed_clones,
            "style_mismatches": s.style_mismatches,
            "exit_code": s.exit_code,
            "timeline": { "bucket_ns": s.timeline_bucket_ns, "counts": s.timeline },
        },
        "groups": groups,
        "processes": a.processes.iter().map(|p| json!({
            "index": p.index,
            "pid": p.pid,
            "parent": p.parent,
            "spawn": p.spawn,
            "name": p.name,
            "children": p.children.len(),
            "exec_attempts": p.execs.len(),
            "threads_created": p.threads_created,
            "exit_code": p.exit.and_then(|e| e.code),
            "exit_signal": p.exit.and_then(|e| e.signal),
        })).collect::<Vec<_>>(),
        "spawns": a.spawns.iter().map(spawn).collect::<Vec<_>>(),
        "findings": a.findings.iter().map(|f| json!({
            "id": f.id,
            "name": f.name,
            "severity": f.severity.as_str(),
            "message": f.message,
            "advice": f.advice,
            "numbers": f.numbers,
            "evidence": f.evidence,
        })).collect::<Vec<_>>(),
        "warnings": a.warnings,
        "thresholds": a.thresholds,
    })
}

fn spawn(s: &Spawn) -> Value {
    let exec = s.exec.as_ref().map(|e| {
        json!({
            "path": e.path,
            "argv": e.argv,
            "success": e.success,
            "failed_attempts": e.failed_attempts.len(),
            "attempts": e.failed_attempts.iter().map(attempt).collect::<Vec<_>>(),
            "failed_ns": e.failed_ns,
            "env_count": e.env_count,
            "env_bytes": e.env_bytes,
        })
    });
    let mem = s.parent_mem;
    json!({
        "index": s.index,
        "line": s.line,
        "parent_pid": s.parent_pid,
        "parent_tid": s.parent_tid,
        "child_pid": s.child_pid,
        "parent": s.parent,
        "child": s.child,
        "syscall": s.syscall.as_str(),
        "flags": clone_flag_names(s.flags),
        "flags_raw": s.flags,
        "exit_signal": s.exit_signal,
        "stack": s.stack,
        "style": s.style.as_str(),
        "ptrace_event": s.ptrace_event,
        "style_mismatch": s.style_mismatch,
        "code_path": s.code_path.as_str(),
        "socketpair": s.socketpair,
        "exec": exec,
        "t_start_ns": s.t_start,
        "latency_ns": s.latency_ns,
        "parent_blocked_ns": s.parent_blocked_ns,
        "clone_ns": s.clone_ns,
        "from_event": s.from_event,
        "parent_rss_kb": mem.map(|m| m.rss_kb),
        "parent_pte_kb": mem.map(|m| m.pte_kb),
        "parent_threads": s.parent_threads,
        "in_flight": s.in_flight,
    })
}

fn attempt(x: &ExecAttempt) -> Value {
    json!({
        "path": x.path,
        "errno": x.result,
        "error": errno_name(x.result),
        "duration_ns": x.t_entry.map(|e| x.t_exit.saturating_sub(e)),
    })
}

fn latency(l: &LatencyStats) -> Value {
    json!({
        "count": l.count,
        "min_ns": l.min,
        "p50_ns": l.p50,
        "p90_ns": l.p90,
        "p99_ns": l.p99,
        "max_ns": l.max,
        "mean_ns": l.mean,
        "histogram": l.buckets.iter().enumerate().filter(|(_, &n)| n > 0).map(|(i, &n)| json!({
            "from_ns": LatencyStats::bucket_floor(i),
            "to_ns": LatencyStats::bucket_floor(i + 1),
            "count": n,
        })).collect::<Vec<_>>(),
    })
}

fn group(g: &spawnscope_analyzer::Group) -> Value {
    json!({
        "key": g.key,
        "count": g.count,
        "styles": g.styles,
        "failed_attempts": g.failed_attempts,
        "failed_ns": g.failed_ns,
        "env_bytes_max": g.env_bytes_max,
        "latency": latency(&g.latency),
    })
}
