//! How long processes ran and how they ended: the longest processes of a
//! trace and the children that failed, for the report and the UI.

use std::collections::BTreeMap;

use crate::model::Analysis;
use crate::stats::basename;

/// Indices of the `n` longest-running processes, longest first (ties by
/// index). A process still running at the end counts until the end.
pub fn longest_processes(a: &Analysis, n: usize) -> Vec<usize> {
    if let Some(ag) = &a.aggregate {
        return ag.longest.iter().copied().take(n).collect();
    }
    let end = a.summary.duration_ns;
    let mut v: Vec<(u64, usize)> = a.processes.iter().map(|p| (p.duration_ns(end), p.index)).collect();
    v.sort_unstable_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
    v.into_iter().take(n).map(|(_, i)| i).collect()
}

/// Processes that ended badly, grouped by program and outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedExits {
    /// Program basename.
    pub program: String,
    /// `exit 1`, `SIGKILL` (see `spawnscope_format::names`).
    pub outcome: String,
    pub count: u64,
    /// Pids of the first few.
    pub pids: Vec<i32>,
}

/// Children (every process but the roots) that exited non-zero or were
/// killed, most frequent first.
pub fn failed_children(a: &Analysis) -> Vec<FailedExits> {
    if let Some(ag) = &a.aggregate {
        return ag.failed_children.clone();
    }
    let mut m: BTreeMap<(String, String), (u64, Vec<i32>)> = BTreeMap::new();
    for p in a.processes.iter().filter(|p| p.parent.is_some()) {
        let Some(e) = p.exit.filter(|e| e.failed()) else { continue };
        let outcome = match (e.code, e.signal) {
            (_, Some(s)) => spawnscope_format::names::signal_label(s),
            (Some(c), None) => format!("exit {c}"),
            (None, None) => continue,
        };
        let entry = m.entry((basename(&p.name).to_string(), outcome)).or_default();
        entry.0 += 1;
        if entry.1.len() < 5 {
            entry.1.push(p.pid);
        }
    }
    let mut v: Vec<FailedExits> =
        m.into_iter().map(|((program, outcome), (count, pids))| FailedExits { program, outcome, count, pids }).collect();
    v.sort_by(|x, y| y.count.cmp(&x.count).then_with(|| x.program.cmp(&y.program)));
    v
}
