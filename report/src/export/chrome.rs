//! Chrome trace-event JSON.
//!
//! Format reference: "Trace Event Format" (Google, the document behind
//! chrome://tracing; Perfetto reads the same JSON). Times are microseconds
//! (fractions allowed). Every event carries `ph`, `ts`, `pid`, `tid` and
//! `name`; slices are complete events (`ph: "X"` with `dur`), failed exec
//! attempts are thread-scoped instant events (`ph: "i"`, `s: "t"`), and each
//! spawn has a flow arrow (`ph: "s"` on the parent, `ph: "f"` with `bp: "e"`
//! on the child) sharing an `id`.
//!
//! Tracks: one per process, keyed by its pid; when the trace reuses a pid,
//! the later process gets a synthetic pid (1e9 + its index) and its real pid
//! in the track name.

use std::collections::HashMap;
use std::io::Write;

use serde::Serialize;
use serde_json::{json, Map, Value};
use spawnscope_analyzer::{attempt_ns, basename, Analysis, Process, Spawn};
use spawnscope_format::flags;

/// One trace event.
#[derive(Debug, Serialize)]
pub struct TraceEvent {
    pub name: String,
    pub cat: &'static str,
    pub ph: &'static str,
    /// Microseconds from the start of the recording.
    pub ts: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dur: Option<f64>,
    pub pid: i64,
    pub tid: i64,
    /// Instant event scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s: Option<&'static str>,
    /// Flow id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// Flow binding point.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bp: Option<&'static str>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub args: Map<String, Value>,
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

fn args(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Track pid of every process (real pid unless reused).
fn track_pids(a: &Analysis) -> Vec<i64> {
    let mut seen: HashMap<i32, ()> = HashMap::new();
    a.processes
        .iter()
        .map(|p| if seen.insert(p.pid, ()).is_none() { i64::from(p.pid) } else { 1_000_000_000 + p.index as i64 })
        .collect()
}

/// All events of the trace, metadata first.
pub fn events(a: &Analysis) -> Vec<TraceEvent> {
    let end = a.summary.duration_ns.max(a.processes.iter().filter_map(|p| p.exit.map(|e| e.t)).max().unwrap_or(0));
    let tracks = track_pids(a);
    let mut out = Vec::new();
    for p in &a.processes {
        let pid = tracks[p.index];
        let label = if pid == i64::from(p.pid) {
            format!("{} [{}]", basename(&p.name), p.pid)
        } else {
            format!("{} [{}, reused pid]", basename(&p.name), p.pid)
        };
        out.push(meta("process_name", pid, pid, json!({ "name": label })));
        out.push(meta("process_sort_index", pid, pid, json!({ "sort_index": p.index })));
        process_events(a, p, pid, end, &mut out);
    }
    for s in &a.spawns {
        spawn_events(a, s, &tracks, end, &mut out);
    }
    // Name every thread track: the main thread by the program, others by tid.
    let mut threads: Vec<(i64, i64)> = out.iter().filter(|e| e.ph != "M").map(|e| (e.pid, e.tid)).collect();
    threads.sort_unstable();
    threads.dedup();
    for (pid, tid) in threads {
        let main = a.processes.iter().any(|p| tracks[p.index] == pid && i64::from(p.pid) == tid);
        let name = if main { "main".to_string() } else { format!("thread {tid}") };
        out.push(meta("thread_name", pid, tid, json!({ "name": name })));
    }
    out
}

fn meta(name: &str, pid: i64, tid: i64, a: Value) -> TraceEvent {
    TraceEvent {
        name: name.to_string(),
        cat: "__metadata",
        ph: "M",
        ts: 0.0,
        dur: None,
        pid,
        tid,
        s: None,
        id: None,
        bp: None,
        args: args(a),
    }
}

fn slice(name: String, cat: &'static str, start: u64, end: u64, pid: i64, tid: i64, a: Value) -> TraceEvent {
    TraceEvent {
        name,
        cat,
        ph: "X",
        ts: us(start),
        dur: Some(us(end.saturating_sub(start))),
        pid,
        tid,
        s: None,
        id: None,
        bp: None,
        args: args(a),
    }
}

/// The program images a process ran (one slice per successful exec) and its
/// failed exec attempts.
fn process_events(a: &Analysis, p: &Process, pid: i64, end: u64, out: &mut Vec<TraceEvent>) {
    let exit_t = p.exit.map_or(end, |e| e.t);
    let main = i64::from(p.pid);
    // Where the image part starts: after the spawn phase, or at the first sight.
    let spawn_done = p.spawn.and_then(|i| a.spawns.get(i)).map(|s| s.t_done.unwrap_or(exit_t));
    let mut start = spawn_done.unwrap_or(p.t_start);
    let mut name = match p.spawn {
        // Before its first exec a spawned child is still its parent's copy.
        Some(_) => None,
        None => Some((basename(&p.name).to_string(), p.name.clone())),
    };
    let exit_args = json!({
        "exit_code": p.exit.and_then(|e| e.code),
        "signal": p.exit.and_then(|e| e.signal),
    });
    for e in &p.execs {
        if e.result != 0 {
            let errno = flags::errno_name(e.result).map_or_else(|| e.result.to_string(), str::to_string);
            out.push(TraceEvent {
                name: format!("exec failed: {errno}"),
                cat: "exec",
                ph: "i",
                ts: us(e.t_exit),
                dur: None,
                pid,
                tid: i64::from(e.tid),
                s: Some("t"),
                id: None,
                bp: None,
                args: args(json!({
                    "path": e.path,
                    "errno": e.result,
                    "error": errno,
                    "duration_ns": attempt_ns(e.t_entry, e.t_exit),
                })),
            });
            continue;
        }
        if let Some((n, path)) = name.take() {
            if e.t_exit > start {
                out.push(slice(n, "process", start, e.t_exit, pid, main, json!({ "path": path })));
            }
        }
        start = start.max(e.t_exit);
        name = Some((basename(&e.path).to_string(), e.path.clone()));
    }
    if let Some((n, path)) = name {
        let last = p.execs.iter().rev().find(|e| e.result == 0);
        let mut a = json!({ "path": path });
        if let (Some(l), Value::Object(m)) = (last, &mut a) {
            m.insert("argv".into(), json!(l.argv.iter().take(32).collect::<Vec<_>>()));
            m.insert("env_count".into(), json!(l.env_count));
            m.insert("env_bytes".into(), json!(l.env_bytes));
        }
        if let (Value::Object(m), Value::Object(x)) = (&mut a, &exit_args) {
            m.extend(x.clone());
        }
        out.push(slice(n, "process", start, exit_t.max(start), pid, main, a));
    }
}

/// The spawn phase on the child's track, the parent's blocked time on the
/// parent's, and a flow arrow between them.
fn spawn_events(a: &Analysis, s: &Spawn, tracks: &[i64], end: u64, out: &mut Vec<TraceEvent>) {
    let child_pid = s.child.map_or(i64::from(s.child_pid), |c| tracks[c]);
    let child_tid = i64::from(s.child_pid);
    let parent_pid = s.parent.map_or(i64::from(s.parent_pid), |p| tracks[p]);
    let parent_tid = i64::from(s.parent_tid);
    let exit_t = s.child.and_then(|c| a.processes[c].exit).map(|e| e.t);
    let done = s.t_done.or(exit_t).unwrap_or(end).max(s.t_start);
    let exec = s.exec.as_ref();
    let info = json!({
        "syscall": s.syscall.as_str(),
        "flags": flags::clone_flag_names(s.flags).join("|"),
        "exit_signal": s.exit_signal,
        "style": s.style.as_str(),
        "code_path": s.code_path.as_str(),
        "parent_pid": s.parent_pid,
        "parent_tid": s.parent_tid,
        "child_pid": s.child_pid,
        "exe": exec.map(|e| e.path.as_str()),
        "exec_success": exec.map(|e| e.success),
        "failed_attempts": exec.map_or(0, |e| e.failed_attempts.len()),
        "failed_ns": exec.map_or(0, |e| e.failed_ns),
        "env_bytes": exec.map(|e| e.env_bytes),
        "latency_ns": s.latency_ns,
        "parent_blocked_ns": s.parent_blocked_ns,
        "clone_ns": s.clone_ns,
        "parent_rss_kb": s.parent_mem.map(|m| m.rss_kb),
        "origin": crate::callsites::chrome_origin(a, s),
    });
    let name = format!("spawn ({}, {})", s.style.as_str(), s.code_path.label());
    out.push(slice(name, "spawn", s.t_start, done, child_pid, child_tid, info));
    if let Some(b) = s.parent_blocked_ns {
        let name = format!("{} (parent blocked)", s.syscall.as_str());
        out.push(slice(
            name,
            "spawn",
            s.t_start,
            s.t_start.saturating_add(b),
            parent_pid,
            parent_tid,
            json!({ "child_pid": s.child_pid }),
        ));
    }
    let id = s.index as u64 + 1;
    for (ph, pid, tid, bp) in [("s", parent_pid, parent_tid, None), ("f", child_pid, child_tid, Some("e"))] {
        out.push(TraceEvent {
            name: "spawn".into(),
            cat: "spawn",
            ph,
            ts: us(s.t_start),
            dur: None,
            pid,
            tid,
            s: None,
            id: Some(id),
            bp,
            args: Map::new(),
        });
    }
}

/// The whole JSON document.
pub fn document(a: &Analysis) -> Value {
    json!({
        "traceEvents": events(a),
        "displayTimeUnit": "ms",
        "otherData": {
            "tool": "spawnscope",
            "command": a.header.command,
            "hostname": a.header.host.hostname,
            "kernel": a.header.host.kernel_release,
            "glibc": a.header.host.glibc_version,
            "tracer_mode": a.header.tracer.mode.as_str(),
            "source": a.header.source,
            "note": "times were measured under tracing and include the tracer's overhead",
        },
    })
}

/// Writes the JSON document.
pub fn write(a: &Analysis, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, &document(a)).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}
