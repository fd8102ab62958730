//! SS002: the Rust std fork+exec fallback and why it happened.
//!
//! Rust's `Command::spawn` on Linux/glibc uses `posix_spawnp` (vfork-style)
//! unless one of these holds, in which case it opens a
//! socketpair(AF_UNIX, SOCK_SEQPACKET) and calls `fork()`
//! (`library/std/src/sys/process/unix/unix.rs`, `posix_spawn`):
//! - glibc older than 2.24 (or its version unknown to std);
//! - `uid()`, `gid()` or `groups()` set;
//! - the PATH changed (`env_clear()`, `env("PATH", ..)`, `env_remove("PATH")`)
//!   and the program is a bare name (no `/`);
//! - a `pre_exec` closure;
//! - `current_dir()` on a glibc without `posix_spawn_file_actions_addchdir_np` (< 2.29);
//! - (nightly) `create_pidfd`.
//!
//! The trace shows the glibc version, the child's environment size and the
//! exec attempts; it does not show the closures, ids or directory the
//! program set, so those causes can only be named as candidates.

use std::collections::BTreeMap;

use super::{finding, fmt_ns, list, ms};
use crate::model::{Analysis, CodePath, Finding, Severity, Spawn};
use crate::stats::{basename, sat_sum};

/// Why one fallback spawn happened, as far as the trace tells.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cause {
    /// Host glibc < 2.24: certain.
    OldGlibc,
    /// A bare program name found by a PATH search, with an environment that
    /// differs from the parent's: likely env_clear()/PATH change.
    PathChanged {
        program: String,
        found: String,
        child_vars: u64,
        child_bytes: u64,
        parent: Option<(u64, u64)>,
    },
    /// Nothing visible; one of the invisible causes.
    Hidden,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    OldGlibc,
    PathChanged,
    Hidden,
}

impl Cause {
    fn kind(&self) -> Kind {
        match self {
            Cause::OldGlibc => Kind::OldGlibc,
            Cause::PathChanged { .. } => Kind::PathChanged,
            Cause::Hidden => Kind::Hidden,
        }
    }
}

pub fn rust_fork_fallback(a: &Analysis) -> Option<Finding> {
    let ev: Vec<&Spawn> =
        a.spawns.iter().filter(|s| s.code_path == CodePath::RustStdForkFallback).collect();
    if ev.is_empty() {
        return None;
    }
    let glibc = a.header.glibc();
    let glibc_str = a.header.host.glibc_version.clone().unwrap_or_default();
    let mut causes: BTreeMap<Kind, Vec<Cause>> = BTreeMap::new();
    for s in &ev {
        let c = cause_of(a, s, glibc);
        causes.entry(c.kind()).or_default().push(c);
    }
    let n = ev.len() as u64;
    let mut parts = Vec::new();
    let mut advice = Vec::new();
    let all = |k: usize| if k as u64 == n { "all".to_string() } else { format!("{k} of them") };
    for (kind, list_of) in &causes {
        match (kind, &list_of[0]) {
            (_, Cause::OldGlibc) => {
                parts.push(format!(
                    "{}: host glibc {glibc_str} is older than 2.24, so std never uses posix_spawn on this host (certain)",
                    all(list_of.len())
                ));
                advice.push("On glibc < 2.24 every Command spawn forks: spawn from a small helper process started early, or run on a newer glibc.".to_string());
            }
            (_, Cause::PathChanged { .. }) => {
                let mut programs: Vec<String> = Vec::new();
                let mut found: Vec<String> = Vec::new();
                for c in list_of {
                    if let Cause::PathChanged { program, found: f, .. } = c {
                        if !programs.contains(&format!("\"{program}\"")) {
                            programs.push(format!("\"{program}\""));
                            found.push(format!("Command::new(\"{f}\")"));
                        }
                    }
                }
                let env = match &list_of[0] {
                    Cause::PathChanged { child_vars, child_bytes, parent: Some((pv, pb)), .. } => {
                        if child_vars == pv {
                            format!("{child_vars} variables like the parent, but {child_bytes} bytes against its {pb}")
                        } else {
                            format!("{child_vars} environment variables against the parent's {pv}")
                        }
                    }
                    Cause::PathChanged { child_vars, .. } => format!("{child_vars} environment variables"),
                    _ => String::new(),
                };
                parts.push(format!(
                    "{}: the bare program name {} was searched in PATH with a changed environment (e.g. {env}): env_clear() or env(\"PATH\", ..) with a bare name makes std fork and search PATH itself (likely)",
                    all(list_of.len()),
                    list(&programs, 5),
                ));
                advice.push(format!(
                    "Give the program as an absolute path (here: {}) when you clear the environment or change PATH; std then keeps posix_spawn.",
                    list(&found, 3)
                ));
            }
            (_, Cause::Hidden) => {
                let cwd = match glibc {
                    Some(v) if v < (2, 29) => format!(", current_dir() (glibc {glibc_str} < 2.29 cannot chdir in posix_spawn)"),
                    Some(_) => String::new(),
                    None => ", current_dir() (if the host's glibc is older than 2.29)".to_string(),
                };
                let excluded = match glibc {
                    Some(v) if v >= (2, 29) => format!("; not current_dir(): glibc {glibc_str} supports it in posix_spawn"),
                    _ => String::new(),
                };
                let glibc_unknown = if glibc.is_none() {
                    "; the trace does not record the glibc version, so glibc < 2.24 is also possible"
                } else {
                    ""
                };
                parts.push(format!(
                    "{}: the trace cannot tell which of pre_exec(), uid()/gid()/groups(){cwd} forced it (they leave no trace before exec){excluded}{glibc_unknown}",
                    all(list_of.len())
                ));
                advice.push("Move pre_exec work into the parent or a wrapper program, drop uid()/gid()/groups() (run the spawner as the target user)".to_string()
                    + if cwd.is_empty() { "." } else { ", and avoid current_dir() on this glibc (e.g. spawn `sh -c 'cd DIR && exec PROG'`, or chdir in a wrapper)." });
            }
        }
    }
    let latency: u64 = sat_sum(ev.iter().filter_map(|s| s.latency_ns));
    let clone: u64 = sat_sum(ev.iter().filter_map(|s| s.clone_ns));
    let large = ev.iter().any(|s| {
        s.parent_mem.is_some_and(|m| m.rss_kb >= a.thresholds.fork_parent_rss_mib.saturating_mul(1024))
    });
    let programs: Vec<String> = {
        let mut v: Vec<String> = ev.iter().map(|s| s.executable().to_string()).collect();
        v.sort();
        v.dedup();
        v
    };
    let message = format!(
        "{n} spawn{} used Rust std's fork+exec fallback instead of posix_spawn (socketpair(AF_UNIX, SOCK_SEQPACKET) then fork; programs: {}), {} from clone entry to exec (measured under tracing). Cause: {}",
        if n == 1 { "" } else { "s" },
        list(&programs, 5),
        fmt_ns(latency),
        parts.join("; ")
    );
    advice.push("A fork costs in proportion to the parent's memory (see SS001); posix_spawn does not.".to_string());
    let severity = if large { Severity::High } else { Severity::Warning };
    let mut f = finding("SS002", severity, message, advice.join(" "));
    f.numbers = BTreeMap::from([
        ("spawns".to_string(), n as f64),
        ("latency_ms_total".to_string(), ms(latency)),
        ("clone_ms_total".to_string(), ms(clone)),
        ("cause_old_glibc".to_string(), count(&causes, Kind::OldGlibc)),
        ("cause_path_changed".to_string(), count(&causes, Kind::PathChanged)),
        ("cause_not_visible".to_string(), count(&causes, Kind::Hidden)),
    ]);
    f.evidence = ev.iter().map(|s| s.index).collect();
    Some(f)
}

fn count(causes: &BTreeMap<Kind, Vec<Cause>>, kind: Kind) -> f64 {
    causes.get(&kind).map_or(0, Vec::len) as f64
}

fn cause_of(a: &Analysis, s: &Spawn, glibc: Option<(u32, u32)>) -> Cause {
    if glibc.is_some_and(|v| v < (2, 24)) {
        return Cause::OldGlibc;
    }
    let Some(e) = &s.exec else { return Cause::Hidden };
    // A bare name: argv[0] has no '/', and the exec path is that name found
    // in some directory (execvp's PATH walk).
    let Some(argv0) = e.argv.first() else { return Cause::Hidden };
    let searched = !argv0.contains('/')
        && !argv0.is_empty()
        && (basename(&e.path) == argv0.as_str() && e.path != *argv0
            || e.failed_attempts.iter().any(|x| basename(&x.path) == argv0.as_str()));
    if !searched {
        return Cause::Hidden;
    }
    let parent_env = parent_env(a, s);
    let changed = match parent_env {
        Some((count, bytes)) => count != e.env_count || bytes != e.env_bytes,
        // Unknown parent environment: a bare name with a small env is the
        // env_clear() pattern; otherwise we cannot say.
        None => e.env_count <= 3,
    };
    if changed {
        Cause::PathChanged {
            program: argv0.clone(),
            found: if e.success { e.path.clone() } else { format!("/usr/bin/{argv0}") },
            child_vars: e.env_count,
            child_bytes: e.env_bytes,
            parent: parent_env,
        }
    } else {
        Cause::Hidden
    }
}

/// The parent's own environment (count, bytes): its last successful exec,
/// or for the traced command the tracer's environment it inherited.
fn parent_env(a: &Analysis, s: &Spawn) -> Option<(u64, u64)> {
    let mut cur = s.parent;
    let mut before = s.t_start;
    for _ in 0..64 {
        let p = a.processes.get(cur?)?;
        if let Some(e) = p.execs.iter().rev().find(|e| e.result == 0 && e.t_exit <= before) {
            return Some((e.env_count, e.env_bytes));
        }
        if p.parent.is_none() {
            let t = &a.header.tracer;
            return (t.attached_pid.is_none() && t.env_count > 0).then_some((t.env_count, t.env_bytes));
        }
        before = p.t_start;
        cur = p.parent;
    }
    None
}
