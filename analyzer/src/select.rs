//! Selections: one part of a large trace (`report` and `view` take the same
//! `--exe`, `--pid` with `--subtree`, `--since` and `--until`).
//!
//! A selection keeps the spawns that match every given condition, the
//! processes they connect (parents and children) and, for `--pid`, the
//! process itself; the summary and the findings are computed again over
//! what is kept, so proportions are of the selected window.
//!
//! ```
//! use spawnscope_analyzer::{analyze_reader, Selection};
//! # let text = concat!(
//! #   r#"{"kind":"header","format":"spawnscope-trace","format_version":"1.0","tool_version":"0","command":["true"],"cwd":"/","start_unix_ns":0,"host":{},"tracer":{"mode":"seccomp"}}"#, "\n",
//! #   r#"{"kind":"end","t":5,"exit_code":0}"#, "\n");
//! let a = analyze_reader(text.as_bytes(), &Default::default()).unwrap();
//! let sel = Selection { exe: Some("cc".into()), ..Selection::default() };
//! let part = sel.apply(&a);
//! assert_eq!(part.summary.spawns, 0);
//! ```

use std::collections::HashSet;

use spawnscope_format::Nanos;

use crate::model::{Analysis, Process, Spawn};
use crate::stats::{self, ExecTotals};

/// Which part of a trace to look at. Every field set must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    /// Spawns whose exec'd program (full path, or any program of its exec
    /// chain) contains this text.
    pub exe: Option<String>,
    /// Spawns made by this pid, and the spawn that created it.
    pub pid: Option<i32>,
    /// With `pid`: also the spawns of all its descendants.
    pub subtree: bool,
    /// Spawns started at or after this time (ns from the start).
    pub since_ns: Option<Nanos>,
    /// Spawns started before this time (ns from the start).
    pub until_ns: Option<Nanos>,
}

/// A selection that cannot select anything sensible.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SelectionError {
    #[error("--subtree needs --pid")]
    SubtreeWithoutPid,
    #[error("--since ({since} s) is not before --until ({until} s)")]
    EmptyWindow { since: f64, until: f64 },
    #[error("invalid time {0:?}: give seconds from the start of the recording, e.g. 1.5")]
    BadTime(String),
}

impl Selection {
    /// Nothing to select: every spawn is kept.
    pub fn is_empty(&self) -> bool {
        self.exe.is_none() && self.pid.is_none() && self.since_ns.is_none() && self.until_ns.is_none()
    }

    /// Seconds (`"1.5"`) from the start of the recording as ns.
    pub fn parse_seconds(s: &str) -> Result<Nanos, SelectionError> {
        match s.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok((v * 1e9).round() as Nanos),
            _ => Err(SelectionError::BadTime(s.to_string())),
        }
    }

    /// Checks that the conditions can be met together.
    pub fn validate(&self) -> Result<(), SelectionError> {
        if self.subtree && self.pid.is_none() {
            return Err(SelectionError::SubtreeWithoutPid);
        }
        if let (Some(a), Some(b)) = (self.since_ns, self.until_ns) {
            if a >= b {
                return Err(SelectionError::EmptyWindow { since: a as f64 / 1e9, until: b as f64 / 1e9 });
            }
        }
        Ok(())
    }

    /// A short description, e.g. `exe "cc", pid 42 and descendants, 1.0-2.5 s`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(e) = &self.exe {
            parts.push(format!("programs matching {e:?}"));
        }
        if let Some(p) = self.pid {
            parts.push(if self.subtree { format!("pid {p} and its descendants") } else { format!("pid {p}") });
        }
        match (self.since_ns, self.until_ns) {
            (None, None) => {}
            (s, u) => parts.push(format!(
                "spawns started {}",
                match (s, u) {
                    (Some(s), Some(u)) => format!("from {:.3} s to {:.3} s", s as f64 / 1e9, u as f64 / 1e9),
                    (Some(s), None) => format!("from {:.3} s", s as f64 / 1e9),
                    (None, Some(u)) => format!("before {:.3} s", u as f64 / 1e9),
                    (None, None) => unreachable!(),
                }
            )),
        }
        parts.join(", ")
    }

    /// The processes `--pid` names (roots), and with `--subtree` their
    /// descendants too (all).
    fn pid_processes(&self, a: &Analysis) -> (HashSet<usize>, HashSet<usize>) {
        let (mut roots, mut all) = (HashSet::new(), HashSet::new());
        let Some(pid) = self.pid else { return (roots, all) };
        let mut stack: Vec<usize> = a.processes.iter().filter(|p| p.pid == pid).map(|p| p.index).collect();
        roots.extend(stack.iter().copied());
        while let Some(i) = stack.pop() {
            if !all.insert(i) {
                continue;
            }
            if self.subtree {
                if let Some(p) = a.processes.get(i) {
                    stack.extend(p.children.iter().copied());
                }
            }
        }
        (roots, all)
    }

    fn matches(&self, s: &Spawn, roots: &HashSet<usize>, all: &HashSet<usize>) -> bool {
        if let Some(pat) = &self.exe {
            let hit = s
                .exec
                .as_ref()
                .is_some_and(|e| e.path.contains(pat.as_str()) || e.chain.iter().any(|c| c.contains(pat.as_str())));
            if !hit {
                return false;
            }
        }
        if self.pid.is_some() {
            let by = s.parent.is_some_and(|p| all.contains(&p));
            let of = s.child.is_some_and(|c| roots.contains(&c));
            if !by && !of {
                return false;
            }
        }
        if self.since_ns.is_some_and(|t| s.t_start < t) || self.until_ns.is_some_and(|t| s.t_start >= t) {
            return false;
        }
        true
    }

    /// The selected part of `a`, with its summary and findings computed
    /// again. Indices are renumbered; an empty selection returns a copy.
    pub fn apply(&self, a: &Analysis) -> Analysis {
        if self.is_empty() {
            return a.clone();
        }
        let (roots, pids) = self.pid_processes(a);
        let kept_spawns: Vec<usize> = a.spawns.iter().filter(|s| self.matches(s, &roots, &pids)).map(|s| s.index).collect();
        let mut keep_proc = vec![false; a.processes.len()];
        for &i in &pids {
            keep_proc[i] = true;
        }
        for &si in &kept_spawns {
            let s = &a.spawns[si];
            for p in [s.parent, s.child].into_iter().flatten() {
                if let Some(k) = keep_proc.get_mut(p) {
                    *k = true;
                }
            }
        }
        let mut proc_map = vec![None; a.processes.len()];
        let mut n = 0;
        for (i, k) in keep_proc.iter().enumerate() {
            if *k {
                proc_map[i] = Some(n);
                n += 1;
            }
        }
        let mut spawn_map = vec![None; a.spawns.len()];
        for (new, &old) in kept_spawns.iter().enumerate() {
            spawn_map[old] = Some(new);
        }
        let spawns: Vec<Spawn> = kept_spawns
            .iter()
            .enumerate()
            .map(|(new, &old)| {
                let mut s = a.spawns[old].clone();
                s.index = new;
                s.parent = s.parent.and_then(|p| proc_map[p]);
                s.child = s.child.and_then(|c| proc_map[c]);
                s
            })
            .collect();
        let processes: Vec<Process> = a
            .processes
            .iter()
            .filter(|p| keep_proc[p.index])
            .map(|p| {
                let mut q = p.clone();
                q.index = proc_map[p.index].expect("kept");
                q.parent = p.parent.and_then(|x| proc_map[x]);
                q.spawn = p.spawn.and_then(|x| spawn_map[x]);
                // Only children whose spawn is kept: the tree shows the selection.
                q.children = p
                    .children
                    .iter()
                    .filter(|&&c| a.processes[c].spawn.is_some_and(|x| spawn_map[x].is_some()))
                    .filter_map(|&c| proc_map[c])
                    .collect();
                q
            })
            .collect();
        let mut out = Analysis {
            header: a.header.clone(),
            complete: a.complete,
            warnings: a.warnings.clone(),
            processes,
            spawns,
            summary: a.summary.clone(),
            findings: Vec::new(),
            thresholds: a.thresholds.clone(),
            origins: a.origins.clone(),
            revision: a.revision,
            aggregate: None,
        };
        let end = a.summary.duration_ns;
        let from = self.since_ns.unwrap_or(0).min(end);
        let to = self.until_ns.map_or(end, |u| u.min(end)).max(from);
        resummarize(&mut out, a.summary.exit_code, to - from);
        out
    }
}

/// Recomputes the summary and findings of an analysis whose processes and
/// spawns changed (a selection); `recording_ns` is the window's length.
fn resummarize(a: &mut Analysis, exit_code: Option<i32>, recording_ns: Nanos) {
    let mut execs = ExecTotals::default();
    for p in &a.processes {
        for e in &p.execs {
            execs.add(e.result, e.t_entry, e.t_exit);
        }
    }
    let threads = a.processes.iter().map(|p| u64::from(p.threads_created)).sum();
    let duration = a.summary.duration_ns;
    let max_in_flight = stats::fill_in_flight(&mut a.spawns);
    a.summary = stats::summarize(a.processes.len(), &a.spawns, execs, threads, 0, duration, exit_code);
    a.summary.max_in_flight = max_in_flight;
    crate::proportion::fill_summary(a, recording_ns);
    a.findings = crate::findings::evaluate(a);
}
