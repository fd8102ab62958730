//! Proportion: how much of the recording parents spent blocked in spawns,
//! and whether a finding is worth more than a note.
//!
//! A finding's `savings_ns` estimates the wall time its fix would save; its
//! severity drops to `info` when that is under `impact_share` of the
//! recording (5% by default): counts alone do not make a bottleneck (a 34 s
//! cargo build whose spawns all together took 0.5 s is not slow because of
//! them).

use spawnscope_format::Nanos;

use crate::model::{Analysis, CodePath, Finding, Severity, Spawn};
use crate::Thresholds;

/// How long a spawn kept its parent thread from running on: the clone call
/// until the parent ran again (for vfork-style spawns: until the child
/// exec'd). Rust std's fork fallback also waits for the exec (it reads its
/// CLOEXEC socket until the child execs or fails), so there it is the
/// spawn latency. None when the trace has neither time.
pub fn blocked_ns(s: &Spawn) -> Option<Nanos> {
    match s.code_path {
        CodePath::RustStdForkFallback => s.latency_ns.or(s.parent_blocked_ns),
        _ => s.parent_blocked_ns,
    }
}

/// (union, sum) of the spawns' blocked intervals: the wall time during which
/// at least one parent thread was blocked, and the thread time.
pub fn blocked_totals(spawns: &[Spawn]) -> (Nanos, Nanos) {
    let iv: Vec<(Nanos, Nanos)> =
        spawns.iter().filter_map(|s| blocked_ns(s).map(|b| (s.t_start, s.t_start.saturating_add(b)))).collect();
    let total = iv.iter().fold(0u64, |acc, (a, b)| acc.saturating_add(b - a));
    (union_len(iv), total)
}

/// Length of the union of half-open intervals `[a, b)`.
fn union_len(mut iv: Vec<(Nanos, Nanos)>) -> Nanos {
    iv.sort_unstable();
    let mut union: Nanos = 0;
    let mut cur: Option<(Nanos, Nanos)> = None;
    for (a, b) in iv {
        match &mut cur {
            Some((_, end)) if a <= *end => *end = (*end).max(b),
            _ => {
                if let Some((x, y)) = cur {
                    union = union.saturating_add(y - x);
                }
                cur = Some((a, b));
            }
        }
    }
    union.saturating_add(cur.map_or(0, |(x, y)| y - x))
}

/// Fills the summary's proportion fields: the recording's length, the time
/// parents spent blocked in spawns, and the processes that failed.
pub fn fill_summary(a: &mut Analysis, recording_ns: Nanos) {
    a.summary.recording_ns = recording_ns;
    let (blocked, total) = blocked_totals(&a.spawns);
    a.summary.spawn_blocked_ns = if recording_ns > 0 { blocked.min(recording_ns) } else { blocked };
    a.summary.spawn_blocked_total_ns = total;
    a.summary.failed_processes = a.processes.iter().filter(|p| p.exit.is_some_and(|e| e.failed())).count() as u64;
}

/// Share (0..1) of the recording that `ns` is; 0 for an empty recording.
pub fn share(ns: Nanos, recording_ns: Nanos) -> f64 {
    if recording_ns == 0 {
        0.0
    } else {
        ns as f64 / recording_ns as f64
    }
}

/// Lowers a finding's severity to `info` when its savings estimate is
/// under the impact threshold of the recording, and adds the estimate to
/// its numbers.
pub fn weigh(f: &mut Finding, recording_ns: Nanos, t: &Thresholds) {
    if let Some(s) = f.savings_ns {
        if recording_ns > 0 && share(s, recording_ns) < t.impact_share {
            f.severity = Severity::Info;
        }
        f.numbers.insert("savings_ms".to_string(), (s as f64 / 1e4).round() / 1e2);
        f.numbers.insert("savings_share".to_string(), (share(s, recording_ns) * 1e4).round() / 1e4);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_merges_overlaps() {
        assert_eq!(union_len(vec![(30, 40), (0, 10), (5, 20)]), 30);
        assert_eq!(union_len(vec![(0, 10), (10, 20)]), 20);
        assert_eq!(union_len(vec![(0, 50), (10, 20)]), 50);
        assert_eq!(union_len(vec![]), 0);
        assert_eq!(share(5, 100), 0.05);
        assert_eq!(share(5, 0), 0.0);
    }
}
