//! Statistics over the spawns: distributions, groups, the summary.

use std::collections::HashMap;

use spawnscope_format::Nanos;

use crate::model::{Analysis, CodePath, Group, LatencyStats, Spawn, SpawnStyle, Summary};

impl LatencyStats {
    /// Distribution of `values` (sorted in place). Percentiles are nearest-rank.
    ///
    /// ```
    /// let mut v = vec![3_000, 1_000, 2_000, 1_000_000];
    /// let s = spawnscope_analyzer::LatencyStats::from_values(&mut v);
    /// assert_eq!((s.count, s.min, s.p50, s.max), (4, 1_000, 2_000, 1_000_000));
    /// assert_eq!(s.buckets[9], 1); // 1000 ns is in [512, 1024)
    /// ```
    pub fn from_values(values: &mut [Nanos]) -> LatencyStats {
        if values.is_empty() {
            return LatencyStats::default();
        }
        values.sort_unstable();
        let n = values.len();
        let rank = |pct: u32| spawnscope_units::percentile(values, pct).unwrap_or(0);
        let mut buckets = Vec::new();
        for &v in values.iter() {
            let b = bucket_of(v);
            if buckets.len() <= b {
                buckets.resize(b + 1, 0);
            }
            buckets[b] += 1;
        }
        let sum: u128 = values.iter().map(|&v| u128::from(v)).sum();
        LatencyStats {
            count: n as u64,
            min: values[0],
            p50: rank(50),
            p90: rank(90),
            p99: rank(99),
            max: values[n - 1],
            mean: (sum / n as u128) as Nanos,
            buckets,
        }
    }

    /// Lower bound (inclusive) of histogram bucket `i` in ns.
    pub fn bucket_floor(i: usize) -> Nanos {
        if i == 0 {
            0
        } else {
            1u64.checked_shl(i as u32).unwrap_or(u64::MAX)
        }
    }
}

/// Log-2 bucket of a value: bucket i holds [2^i, 2^(i+1)); 0 and 1 go to bucket 0.
pub fn bucket_of(v: Nanos) -> usize {
    if v <= 1 {
        0
    } else {
        63 - v.leading_zeros() as usize
    }
}

/// What to group spawns by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupBy {
    Style,
    CodePath,
    /// Full path of the exec'd program (the end of its exec chain).
    Executable,
    /// The parent process (`name[pid]`).
    Parent,
}

impl GroupBy {
    pub const ALL: [GroupBy; 4] = [GroupBy::Style, GroupBy::CodePath, GroupBy::Executable, GroupBy::Parent];
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Style => "style",
            GroupBy::CodePath => "code-path",
            GroupBy::Executable => "executable",
            GroupBy::Parent => "parent",
        }
    }
}

/// Groups the spawns; largest group first (ties by key). A bounded-memory
/// analysis gives its precomputed groups (without `spawns` indices).
pub fn group_by(a: &Analysis, by: GroupBy) -> Vec<Group> {
    if let Some(ag) = &a.aggregate {
        return ag.groups(by);
    }
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<(Group, Vec<Nanos>)> = Vec::new();
    for s in &a.spawns {
        let key = group_key(a, s, by);
        let gi = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((empty_group(key), Vec::new()));
            groups.len() - 1
        });
        let (g, lat) = &mut groups[gi];
        g.count += 1;
        *g.styles.entry(s.style.as_str().to_string()).or_default() += 1;
        if let Some(e) = &s.exec {
            g.failed_attempts += e.failed_attempts.len() as u64;
            g.failed_ns = g.failed_ns.saturating_add(e.failed_ns);
            g.env_bytes_max = g.env_bytes_max.max(e.env_bytes);
        }
        if let Some(l) = s.latency_ns {
            lat.push(l);
        }
        g.spawns.push(s.index);
    }
    let mut out: Vec<Group> = groups
        .into_iter()
        .map(|(mut g, mut lat)| {
            g.latency = LatencyStats::from_values(&mut lat);
            g
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    out
}

fn empty_group(key: String) -> Group {
    let styles = SpawnStyle::ALL.iter().map(|s| (s.as_str().to_string(), 0)).collect();
    Group {
        key,
        count: 0,
        styles,
        failed_attempts: 0,
        failed_ns: 0,
        env_bytes_max: 0,
        latency: LatencyStats::default(),
        spawns: Vec::new(),
    }
}

fn group_key(a: &Analysis, s: &Spawn, by: GroupBy) -> String {
    match by {
        GroupBy::Style => s.style.as_str().to_string(),
        GroupBy::CodePath => s.code_path.as_str().to_string(),
        // By full path: eight different `build-script-build`s are eight rows.
        GroupBy::Executable => s.exec.as_ref().map_or("(no exec)", |e| e.path.as_str()).to_string(),
        GroupBy::Parent => match s.parent.and_then(|p| a.processes.get(p)) {
            Some(p) => format!("{}[{}]", basename(&p.name), p.pid),
            None => format!("?[{}]", s.parent_pid),
        },
    }
}

/// Last path component (the whole string if it has no `/`).
pub fn basename(path: &str) -> &str {
    match path.rsplit('/').next() {
        Some("") | None => path,
        Some(b) => b,
    }
}

/// Fills `in_flight` of every spawn and returns the most at once: how many
/// other spawns had started and not yet finished (child exec'd or exited)
/// when each one started.
pub fn fill_in_flight(spawns: &mut [Spawn]) -> u32 {
    let mut starts: Vec<(Nanos, usize)> = spawns.iter().map(|s| (s.t_start, s.index)).collect();
    starts.sort_unstable();
    let mut ends: Vec<Nanos> = spawns.iter().filter_map(|s| s.t_done).collect();
    ends.sort_unstable();
    let mut ended = 0usize;
    let mut max = 0u32;
    for (started_before, &(t, i)) in starts.iter().enumerate() {
        while ended < ends.len() && ends[ended] <= t {
            ended += 1;
        }
        let n = started_before.saturating_sub(ended) as u32;
        if let Some(s) = spawns.get_mut(i) {
            s.in_flight = n;
        }
        max = max.max(n + 1);
    }
    max
}

/// Exec-attempt totals, kept up to date by the analyzer as attempts arrive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecTotals {
    pub attempts: u64,
    pub failed: u64,
    pub failed_ns: Nanos,
}

impl ExecTotals {
    pub fn add(&mut self, result: i32, t_entry: Option<Nanos>, t_exit: Nanos) {
        self.attempts += 1;
        if result != 0 {
            self.failed += 1;
            self.failed_ns = self.failed_ns.saturating_add(attempt_ns(t_entry, t_exit));
        }
    }
}

/// Totals over an analysis whose spawns and processes are complete. One pass
/// over the spawns, no allocation per spawn (it runs at every live refresh).
pub fn summarize(
    processes: usize,
    spawns: &[Spawn],
    execs: ExecTotals,
    threads: u64,
    failed_clones: u64,
    duration_ns: Nanos,
    exit_code: Option<i32>,
) -> Summary {
    let mut s = Summary {
        spawns: spawns.len() as u64,
        threads,
        processes: processes as u64,
        duration_ns,
        exit_code,
        failed_clones,
        exec_attempts: execs.attempts,
        failed_exec_attempts: execs.failed,
        failed_exec_ns: execs.failed_ns,
        ..Summary::default()
    };
    let mut styles = [0u64; SpawnStyle::ALL.len()];
    let mut paths = [0u64; CodePath::ALL.len()];
    let mut latencies = Vec::with_capacity(spawns.len());
    let mut env_execs = 0u64;
    for sp in spawns {
        styles[sp.style as usize] += 1;
        paths[sp.code_path as usize] += 1;
        if let Some(l) = sp.latency_ns {
            latencies.push(l);
        }
        if sp.style_mismatch {
            s.style_mismatches += 1;
        }
        if let Some(e) = &sp.exec {
            if !e.failed_attempts.is_empty() {
                s.path_search_spawns += 1;
            }
            if e.success {
                env_execs += 1;
                s.env_bytes_total = s.env_bytes_total.saturating_add(e.env_bytes);
                s.env_bytes_max = s.env_bytes_max.max(e.env_bytes);
                s.env_count_max = s.env_count_max.max(e.env_count);
            } else {
                s.exec_failed_spawns += 1;
            }
        }
    }
    s.styles = SpawnStyle::ALL.iter().map(|st| (st.as_str().to_string(), styles[*st as usize])).collect();
    s.code_paths = CodePath::ALL.iter().map(|c| (c.as_str().to_string(), paths[*c as usize])).collect();
    s.env_bytes_mean = s.env_bytes_total.checked_div(env_execs).unwrap_or(0);
    s.latency = LatencyStats::from_values(&mut latencies);
    if duration_ns > 0 {
        s.spawn_rate = s.spawns as f64 / (duration_ns as f64 / 1e9);
    }
    let (bucket, timeline) = timeline(spawns, duration_ns);
    s.timeline_bucket_ns = bucket;
    s.timeline = timeline;
    s
}

/// The distributions of the clone call times (entry → event) and of the
/// parent-blocked times of all spawns.
pub fn spawn_times(a: &Analysis) -> (LatencyStats, LatencyStats) {
    if let Some(ag) = &a.aggregate {
        return (ag.clone.clone(), ag.parent_blocked.clone());
    }
    let mut clone: Vec<Nanos> = a.spawns.iter().filter_map(|s| s.clone_ns).collect();
    let mut blocked: Vec<Nanos> = a.spawns.iter().filter_map(|s| s.parent_blocked_ns).collect();
    (LatencyStats::from_values(&mut clone), LatencyStats::from_values(&mut blocked))
}

/// Duration of one exec attempt (0 without an entry time).
pub fn attempt_ns(t_entry: Option<Nanos>, t_exit: Nanos) -> Nanos {
    t_entry.map_or(0, |e| t_exit.saturating_sub(e))
}

/// The timeline's bucket for a recording whose last time is `last`: the
/// smallest 1-2-5 step from 1 ms that makes fewer than 120 buckets.
pub(crate) fn timeline_bucket(last: Nanos) -> Nanos {
    let mut bucket: Nanos = 1_000_000;
    let mut step = 0;
    while last / bucket >= 120 {
        bucket = bucket.saturating_mul(if step % 3 == 1 { 5 } else { 2 }) / if step % 3 == 1 { 2 } else { 1 };
        step += 1;
    }
    bucket
}

/// Spawns started per bucket; the bucket is a 1-2-5 step chosen for at most
/// 120 buckets.
fn timeline(spawns: &[Spawn], duration_ns: Nanos) -> (Nanos, Vec<u64>) {
    let last = spawns.iter().map(|s| s.t_start).max().unwrap_or(0).max(duration_ns);
    let bucket = timeline_bucket(last);
    let mut counts = vec![0u64; (last / bucket) as usize + 1];
    for s in spawns {
        let i = ((s.t_start / bucket) as usize).min(counts.len() - 1);
        counts[i] += 1;
    }
    (bucket, counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_nearest_rank() {
        let mut v: Vec<Nanos> = (1..=100).collect();
        let s = LatencyStats::from_values(&mut v);
        assert_eq!((s.p50, s.p90, s.p99, s.max, s.min), (50, 90, 99, 100, 1));
        assert_eq!(s.mean, 50);
        assert_eq!(s.buckets.iter().sum::<u64>(), 100);
        assert_eq!(s.buckets[6], 37); // 64..=100
    }

    #[test]
    fn buckets() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(1), 0);
        assert_eq!(bucket_of(2), 1);
        assert_eq!(bucket_of(1023), 9);
        assert_eq!(bucket_of(1024), 10);
        assert_eq!(bucket_of(u64::MAX), 63);
        assert_eq!(LatencyStats::bucket_floor(10), 1024);
    }

    #[test]
    fn empty_stats() {
        assert_eq!(LatencyStats::from_values(&mut []), LatencyStats::default());
    }

    #[test]
    fn timeline_steps() {
        let (b, t) = timeline(&[], 10_000_000_000);
        assert!(t.len() <= 120, "{b} {}", t.len());
        assert_eq!(b, 100_000_000);
        let (b, _) = timeline(&[], 50_000_000);
        assert_eq!(b, 1_000_000);
    }
}
