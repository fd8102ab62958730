//! Many traces at once: every node of a cluster job, a directory of a day's
//! traces. Read in parallel, merged by host, one bad file never stops the rest.
//!
//! Each trace is analysed on its own in bounded memory
//! ([`crate::Retention::Aggregate`]), then folded into a small
//! [`TraceDigest`] and dropped, so memory holds one bounded analysis per
//! worker plus digests whose size grows with what is distinct (hosts,
//! executables, code paths), not with events. Digests merge
//! into [`Merged`] totals per host and for everything.
//!
//! Exact: every count, sum, minimum, maximum and mean. Approximate: latency
//! percentiles, read from a mergeable log-linear histogram ([`Histogram`]: 16
//! buckets per power of two) whose answer is within 3.2% of the exact
//! nearest-rank value (relative error ≤ 1/32 above 32 ns; exact below).
//!
//! ```no_run
//! use spawnscope_analyzer::many::{analyze_many, Options};
//! let m = analyze_many(&["job/".into()], &Default::default(), &Options::default());
//! for h in &m.hosts {
//!     println!("{}: {} traces, {} spawns, p99 {} ns", h.host, h.merged.traces, h.merged.spawns, h.merged.latency.p99);
//! }
//! for s in &m.skipped {
//!     eprintln!("skipped {}: {}", s.path.display(), s.error);
//! }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::Serialize;
use spawnscope_format::Nanos;

use crate::model::{Analysis, LatencyStats, Severity};
pub use crate::sample::Histogram;
use crate::stats::GroupBy;
use crate::Thresholds;

/// How to read many traces.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Traces analysed at once; 0 = one per core (each analysis also parses
    /// on a second thread, so the cores stay busy while one waits to read).
    pub jobs: usize,
    /// Report on part of each trace (`--exe/--pid/--since/--until`). A trace
    /// is then analysed whole (full retention), cut, and folded.
    pub selection: Option<crate::Selection>,
}

/// A file that could not be analysed, and why (one line).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    pub path: PathBuf,
    pub error: String,
}

/// Everything read from many traces.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ManyAnalysis {
    /// One entry per host name (traces without a host name: `""`), sorted.
    pub hosts: Vec<HostAnalysis>,
    /// All traces together.
    pub total: Merged,
    /// Inputs that could not be read, in input order.
    pub skipped: Vec<Skipped>,
}

/// The traces of one host.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HostAnalysis {
    pub host: String,
    pub merged: Merged,
    /// Each trace's own digest, in input order.
    pub traces: Vec<TraceDigest>,
}

/// What one trace contributes, kept after its analysis is dropped.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TraceDigest {
    pub path: PathBuf,
    pub host: String,
    pub command: Vec<String>,
    pub start_unix_ns: u64,
    pub complete: bool,
    pub warnings: Vec<String>,
    pub totals: Merged,
}

/// A group's share (by executable or by code path).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GroupTotals {
    pub count: u64,
    pub styles: BTreeMap<String, u64>,
    pub failed_attempts: u64,
    pub failed_ns: Nanos,
    pub env_bytes_max: u64,
    pub latency: LatencyStats,
    #[serde(skip)]
    pub histogram: Histogram,
}

/// The spawns of one call site, over one or more traces.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SiteTotals {
    pub count: u64,
    /// Spawn style → count.
    pub styles: BTreeMap<String, u64>,
    /// Code path (machine name) → count.
    pub code_paths: BTreeMap<String, u64>,
    /// Spawning API → count.
    pub apis: BTreeMap<String, u64>,
    pub total_latency_ns: Nanos,
    pub latency: LatencyStats,
    #[serde(skip)]
    pub histogram: Histogram,
}

impl SiteTotals {
    fn of(s: &crate::origin::CallSite) -> SiteTotals {
        SiteTotals {
            count: s.count,
            styles: s.styles.clone(),
            code_paths: s.code_paths.clone(),
            apis: s.api_counts.iter().cloned().collect(),
            total_latency_ns: s.total_latency_ns,
            latency: LatencyStats::default(),
            histogram: s.histogram.clone(),
        }
    }

    fn merge(&mut self, o: &SiteTotals) {
        self.count += o.count;
        add_counts(&mut self.styles, &o.styles);
        add_counts(&mut self.code_paths, &o.code_paths);
        add_counts(&mut self.apis, &o.apis);
        self.total_latency_ns = self.total_latency_ns.saturating_add(o.total_latency_ns);
        self.histogram.merge(&o.histogram);
    }

    /// The most common value of a count map (ties: the first by name).
    pub fn main_of(map: &BTreeMap<String, u64>) -> Option<&str> {
        crate::origin::CallSite::main_of(map)
    }
}

/// How often a finding appeared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingTotals {
    pub id: &'static str,
    pub name: &'static str,
    /// The highest severity it had in any trace.
    pub severity: Severity,
    /// Traces that have it.
    pub traces: u64,
    /// Spawns given as evidence, summed.
    pub evidence: u64,
    /// The message of its first occurrence (one trace's numbers).
    pub example: String,
}

/// Totals over one or more traces. Counts and sums are exact; `latency`
/// percentiles come from `histogram` (see the module docs for the error).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Merged {
    pub traces: u64,
    pub spawns: u64,
    pub threads: u64,
    pub processes: u64,
    pub failed_clones: u64,
    pub exec_attempts: u64,
    pub failed_exec_attempts: u64,
    pub failed_exec_ns: Nanos,
    pub path_search_spawns: u64,
    pub exec_failed_spawns: u64,
    pub style_mismatches: u64,
    pub env_bytes_max: u64,
    pub env_count_max: u64,
    pub env_bytes_total: u64,
    /// Most spawns in flight at once within one trace.
    pub max_in_flight: u32,
    /// Summed recording time of the traces (trace-seconds, not wall time:
    /// the nodes of a job record at the same time).
    pub duration_ns: Nanos,
    pub styles: BTreeMap<String, u64>,
    pub code_paths: BTreeMap<String, u64>,
    /// Spawn latency (clone entry to the child's exec) of all spawns.
    pub latency: LatencyStats,
    #[serde(skip)]
    pub histogram: Histogram,
    /// By executable name: the [`MAX_GROUPS`] with most spawns, then `(other)`.
    pub executables: BTreeMap<String, GroupTotals>,
    pub by_code_path: BTreeMap<String, GroupTotals>,
    /// By call site label (traces with call stacks; matched by label, as
    /// `diff` matches them): the [`MAX_GROUPS`] with most spawns, then `(other)`.
    pub call_sites: BTreeMap<String, SiteTotals>,
    /// Findings by id.
    pub findings: BTreeMap<String, FindingTotals>,
}

/// Executables kept by name in a merge; the rest are summed as `(other)` so
/// that a job whose every node runs different programs stays small.
pub const MAX_GROUPS: usize = 1000;

impl Merged {
    /// The totals of one analysis.
    pub fn of(a: &Analysis) -> Merged {
        let s = &a.summary;
        let mut m = Merged {
            traces: 1,
            spawns: s.spawns,
            threads: s.threads,
            processes: s.processes,
            failed_clones: s.failed_clones,
            exec_attempts: s.exec_attempts,
            failed_exec_attempts: s.failed_exec_attempts,
            failed_exec_ns: s.failed_exec_ns,
            path_search_spawns: s.path_search_spawns,
            exec_failed_spawns: s.exec_failed_spawns,
            style_mismatches: s.style_mismatches,
            env_bytes_max: s.env_bytes_max,
            env_count_max: s.env_count_max,
            env_bytes_total: s.env_bytes_total,
            max_in_flight: s.max_in_flight,
            duration_ns: s.duration_ns,
            styles: s.styles.clone(),
            code_paths: s.code_paths.clone(),
            ..Merged::default()
        };
        if let Some(ag) = &a.aggregate {
            m.histogram = ag.latency_samples.to_histogram();
            for (map, groups, by_name) in [
                (&mut m.executables, &ag.accs[GroupBy::Executable.slot()], true),
                (&mut m.by_code_path, &ag.accs[GroupBy::CodePath.slot()], false),
            ] {
                for (key, acc) in groups {
                    let key = if by_name { key.rsplit('/').next().unwrap_or(key) } else { key.as_str() };
                    map.entry(key.to_string()).or_default().merge(&GroupTotals::of(acc));
                }
            }
        }
        for sp in &a.spawns {
            let lat = sp.latency_ns;
            if let Some(v) = lat {
                m.histogram.add(v);
            }
            let (failed, failed_ns, env) =
                sp.exec.as_ref().map_or((0, 0, 0), |e| (e.failed_attempts.len() as u64, e.failed_ns, e.env_bytes));
            for (map, key) in [(&mut m.executables, sp.executable()), (&mut m.by_code_path, sp.code_path.as_str())] {
                let g = map.entry(key.to_string()).or_default();
                g.count += 1;
                *g.styles.entry(sp.style.as_str().to_string()).or_default() += 1;
                g.failed_attempts += failed;
                g.failed_ns = g.failed_ns.saturating_add(failed_ns);
                g.env_bytes_max = g.env_bytes_max.max(env);
                if let Some(v) = lat {
                    g.histogram.add(v);
                }
            }
        }
        for site in crate::origin::call_sites(a) {
            m.call_sites.entry(site.label.clone()).or_default().merge(&SiteTotals::of(&site));
        }
        for f in &a.findings {
            m.findings.insert(
                f.id.to_string(),
                FindingTotals {
                    id: f.id,
                    name: f.name,
                    severity: f.severity,
                    traces: 1,
                    // A bounded analysis keeps only the first evidence spawns: the count is in the numbers.
                    evidence: ["spawns", "fork_spawns"]
                        .iter()
                        .find_map(|k| f.numbers.get(*k))
                        .map_or(f.evidence.len() as u64, |&n| n as u64),
                    example: f.message.clone(),
                },
            );
        }
        m.cap_groups();
        m.finish();
        m
    }

    /// Adds `o` into `self` (exact for counts; histograms add bucket by bucket).
    pub fn merge(&mut self, o: &Merged) {
        self.traces += o.traces;
        self.spawns += o.spawns;
        self.threads += o.threads;
        self.processes += o.processes;
        self.failed_clones += o.failed_clones;
        self.exec_attempts += o.exec_attempts;
        self.failed_exec_attempts += o.failed_exec_attempts;
        self.failed_exec_ns = self.failed_exec_ns.saturating_add(o.failed_exec_ns);
        self.path_search_spawns += o.path_search_spawns;
        self.exec_failed_spawns += o.exec_failed_spawns;
        self.style_mismatches += o.style_mismatches;
        self.env_bytes_max = self.env_bytes_max.max(o.env_bytes_max);
        self.env_count_max = self.env_count_max.max(o.env_count_max);
        self.env_bytes_total = self.env_bytes_total.saturating_add(o.env_bytes_total);
        self.max_in_flight = self.max_in_flight.max(o.max_in_flight);
        self.duration_ns = self.duration_ns.saturating_add(o.duration_ns);
        add_counts(&mut self.styles, &o.styles);
        add_counts(&mut self.code_paths, &o.code_paths);
        self.histogram.merge(&o.histogram);
        for (mine, theirs) in [(&mut self.executables, &o.executables), (&mut self.by_code_path, &o.by_code_path)] {
            for (k, g) in theirs {
                let e = mine.entry(k.clone()).or_default();
                e.merge(g);
            }
        }
        for (k, site) in &o.call_sites {
            self.call_sites.entry(k.clone()).or_default().merge(site);
        }
        for (id, f) in &o.findings {
            match self.findings.get_mut(id) {
                Some(e) => {
                    e.traces += f.traces;
                    e.evidence += f.evidence;
                    if f.severity > e.severity {
                        e.severity = f.severity;
                        e.example = f.example.clone();
                    }
                }
                None => {
                    self.findings.insert(id.clone(), f.clone());
                }
            }
        }
        self.cap_groups();
        self.finish();
    }

    /// Keeps the [`MAX_GROUPS`] executables and call sites with most spawns by name.
    fn cap_groups(&mut self) {
        cap(&mut self.executables, |g| g.count, GroupTotals::merge);
        cap(&mut self.call_sites, |g| g.count, SiteTotals::merge);
    }

    /// Recomputes the latency statistics from the histograms.
    fn finish(&mut self) {
        self.latency = self.histogram.stats();
        for g in self.executables.values_mut().chain(self.by_code_path.values_mut()) {
            g.latency = g.histogram.stats();
        }
        for g in self.call_sites.values_mut() {
            g.latency = g.histogram.stats();
        }
    }
}

impl GroupTotals {
    fn of(g: &crate::aggregate::GroupAcc) -> GroupTotals {
        GroupTotals {
            count: g.count,
            styles: crate::SpawnStyle::ALL
                .iter()
                .filter(|s| g.styles[**s as usize] > 0)
                .map(|s| (s.as_str().to_string(), g.styles[*s as usize]))
                .collect(),
            failed_attempts: g.failed_attempts,
            failed_ns: g.failed_ns,
            env_bytes_max: g.env_bytes_max,
            latency: LatencyStats::default(),
            histogram: g.latency.to_histogram(),
        }
    }

    fn merge(&mut self, o: &GroupTotals) {
        self.count += o.count;
        add_counts(&mut self.styles, &o.styles);
        self.failed_attempts += o.failed_attempts;
        self.failed_ns = self.failed_ns.saturating_add(o.failed_ns);
        self.env_bytes_max = self.env_bytes_max.max(o.env_bytes_max);
        self.histogram.merge(&o.histogram);
        self.latency = self.histogram.stats();
    }
}

/// Keeps the [`MAX_GROUPS`] entries of `map` with the largest `count`; the
/// rest are merged into `(other)`.
fn cap<T: Default>(map: &mut BTreeMap<String, T>, count: impl Fn(&T) -> u64, merge: impl Fn(&mut T, &T)) {
    if map.len() <= MAX_GROUPS {
        return;
    }
    let mut by_count: Vec<(String, u64)> = map.iter().map(|(k, g)| (k.clone(), count(g))).collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut other = map.remove("(other)").unwrap_or_default();
    for (k, _) in by_count.into_iter().skip(MAX_GROUPS - 1) {
        if let Some(g) = map.remove(&k) {
            merge(&mut other, &g);
        }
    }
    map.insert("(other)".into(), other);
}

fn add_counts(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

impl TraceDigest {
    /// The digest of one analysis.
    pub fn of(path: &Path, a: &Analysis) -> TraceDigest {
        TraceDigest {
            path: path.to_path_buf(),
            host: a.header.host.hostname.clone().unwrap_or_default(),
            command: a.header.command.clone(),
            start_unix_ns: a.header.start_unix_ns,
            complete: a.complete,
            warnings: a.warnings.iter().take(20).cloned().collect(),
            totals: Merged::of(a),
        }
    }
}

/// The trace files named by `inputs`: files as given, directories searched
/// (recursively, hidden entries skipped, sorted) for `*.jsonl` and
/// `*.jsonl.zst`. A directory without any, or one that cannot be read, is a
/// [`Skipped`] entry.
pub fn trace_files(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<Skipped>) {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let before = files.len();
            if let Err(e) = walk(input, &mut files, 0) {
                skipped.push(Skipped { path: input.clone(), error: format!("{}: {e}", input.display()) });
            } else if files.len() == before {
                skipped.push(Skipped {
                    path: input.clone(),
                    error: format!("{}: no trace files (*.jsonl, *.jsonl.zst) in this directory", input.display()),
                });
            }
        } else {
            files.push(input.clone());
        }
    }
    (files, skipped)
}

fn is_trace_name(name: &str) -> bool {
    name.ends_with(".jsonl") || name.ends_with(".jsonl.zst")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> std::io::Result<()> {
    // Deep enough for DIR/job/node/trace.jsonl layouts; stops symlink loops.
    if depth > 8 {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = e.path();
        if path.is_dir() {
            walk(&path, out, depth + 1)?;
        } else if is_trace_name(&name) {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads every trace named by `inputs` (files and directories) in parallel
/// and merges them by host. A file that cannot be read or is not a valid
/// trace is listed in [`ManyAnalysis::skipped`] with its error; the others
/// are still analysed.
pub fn analyze_many(inputs: &[PathBuf], thresholds: &Thresholds, opts: &Options) -> ManyAnalysis {
    let (files, mut skipped) = trace_files(inputs);
    let jobs = match opts.jobs {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .clamp(1, files.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<TraceDigest, String>>>> = Mutex::new(vec![None; files.len()]);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                let analysis = match opts.selection.as_ref().filter(|s| !s.is_empty()) {
                    Some(sel) => crate::analyze_path(path, thresholds).map(|a| sel.apply(&a)),
                    None => crate::analyze_path_with(path, thresholds, crate::Retention::Aggregate),
                };
                let r = match analysis {
                    Ok(a) => {
                        let d = TraceDigest::of(path, &a);
                        // The analysis of a big trace is hundreds of
                        // thousands of allocations: free it on this worker.
                        drop(a);
                        Ok(d)
                    }
                    Err(e) => Err(e.to_string()),
                };
                if let Ok(mut res) = results.lock() {
                    res[i] = Some(r);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut by_host: BTreeMap<String, HostAnalysis> = BTreeMap::new();
    let mut total = Merged::default();
    for (path, r) in files.iter().zip(results) {
        match r {
            Some(Ok(d)) => {
                total.merge(&d.totals);
                let h =
                    by_host.entry(d.host.clone()).or_insert_with(|| HostAnalysis { host: d.host.clone(), ..Default::default() });
                h.merged.merge(&d.totals);
                h.traces.push(d);
            }
            Some(Err(error)) => skipped.push(Skipped { path: path.clone(), error }),
            None => skipped.push(Skipped { path: path.clone(), error: format!("{}: not analysed", path.display()) }),
        }
    }
    ManyAnalysis { hosts: by_host.into_values().collect(), total, skipped }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_past_the_cap_are_merged_into_other() {
        // MAX_GROUPS + 2 entries: the three smallest go to (other).
        let mut map: BTreeMap<String, u64> = (0..MAX_GROUPS as u64 + 2).map(|i| (format!("g{i:05}"), i + 10)).collect();
        cap(&mut map, |n| *n, |a, b| *a += b);
        assert_eq!(map.len(), MAX_GROUPS);
        assert_eq!(map["(other)"], 10 + 11 + 12);
        assert!(!map.contains_key("g00000") && map.contains_key("g00003"));
        // Below the cap: untouched.
        let mut small: BTreeMap<String, u64> = [("a".to_string(), 1)].into();
        cap(&mut small, |n| *n, |a, b| *a += b);
        assert_eq!(small.len(), 1);
    }
}
