//! Spawns grouped by call site: the "Call sites" table of the report and the
//! view, per-call-site comparison in `diff`, and `--at` scoping in `check`.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use spawnscope_format::Nanos;

use super::{Frame, Origin, Runtime};
use crate::model::{Analysis, LatencyStats, Spawn};

/// Label of the group of spawns that have no stack.
pub const NO_STACK: &str = "(no stack)";

/// The spawns of one call site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallSite {
    /// `myapp::jobs::run (src/jobs.rs:42)`, `(Python code)`, `(no stack)`.
    pub label: String,
    /// The call site frame (None: interpreted caller, unknown, no stack).
    pub frame: Option<Frame>,
    /// Why there is no call site frame (the origin's `call_site_note`).
    pub note: Option<String>,
    pub runtime: Option<Runtime>,
    /// Spawning APIs used from here, most used first.
    pub apis: Vec<String>,
    pub count: u64,
    /// Spawn style → count.
    pub styles: BTreeMap<String, u64>,
    /// Code path (machine name) → count.
    pub code_paths: BTreeMap<String, u64>,
    /// Spawn latency distribution.
    pub latency: LatencyStats,
    /// Sum of the spawn latencies.
    pub total_latency_ns: Nanos,
    /// Indices of the spawns, in order.
    pub spawns: Vec<usize>,
    /// Indices into `Analysis::origins.list` of the distinct stacks that reach it.
    pub origins: Vec<u32>,
}

impl CallSite {
    /// The most common value of a count map ("fork" of {"fork": 3, "vfork": 1}).
    pub fn main_of(map: &BTreeMap<String, u64>) -> Option<&str> {
        map.iter().max_by_key(|(k, v)| (**v, std::cmp::Reverse(k.as_str()))).map(|(k, _)| k.as_str())
    }
}

/// The key spawns are grouped by: the call site frame, or for spawns without
/// one the label and the API (Python code calling `os.fork` and Python code
/// calling `subprocess` are two rows).
fn key_of(o: Option<&Origin>) -> String {
    match o {
        None => NO_STACK.to_string(),
        Some(o) => match &o.call_site {
            Some(f) => format!("{}\u{0}{}\u{0}{}", f.module, f.label(), f.offset),
            None => format!("{}\u{0}{}", o.site_label(), o.api),
        },
    }
}

/// Spawns grouped by call site, most spawns first (then the larger total
/// latency, then the label). Spawns without a stack form one `(no stack)`
/// group; an analysis without any stack gives an empty list.
pub fn call_sites(a: &Analysis) -> Vec<CallSite> {
    if a.origins.list.is_empty() {
        return Vec::new();
    }
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut sites: Vec<CallSite> = Vec::new();
    let mut apis: Vec<HashMap<String, u64>> = Vec::new();
    let mut lat: Vec<Vec<Nanos>> = Vec::new();
    for s in &a.spawns {
        let o = a.origins.of(s);
        let k = key_of(o);
        let i = *index.entry(k).or_insert_with(|| {
            sites.push(new_site(o));
            apis.push(HashMap::new());
            lat.push(Vec::new());
            sites.len() - 1
        });
        add(&mut sites[i], s);
        if let Some(o) = o {
            *apis[i].entry(o.api.clone()).or_default() += 1;
            let oi = s.origin.unwrap_or_default();
            if !sites[i].origins.contains(&oi) {
                sites[i].origins.push(oi);
            }
        }
        if let Some(l) = s.latency_ns {
            lat[i].push(l);
        }
    }
    for ((site, apis), mut lat) in sites.iter_mut().zip(apis).zip(lat) {
        let mut v: Vec<(String, u64)> = apis.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        site.apis = v.into_iter().map(|(k, _)| k).collect();
        site.total_latency_ns = lat.iter().fold(0u64, |acc, &l| acc.saturating_add(l));
        site.latency = LatencyStats::from_values(&mut lat);
    }
    sites.sort_by(|a, b| {
        b.count.cmp(&a.count).then(b.total_latency_ns.cmp(&a.total_latency_ns)).then_with(|| a.label.cmp(&b.label))
    });
    sites
}

fn new_site(o: Option<&Origin>) -> CallSite {
    CallSite {
        label: o.map_or_else(|| NO_STACK.to_string(), Origin::site_label),
        frame: o.and_then(|o| o.call_site.clone()),
        note: o.and_then(|o| o.call_site_note.clone()),
        runtime: o.map(|o| o.runtime),
        apis: Vec::new(),
        count: 0,
        styles: BTreeMap::new(),
        code_paths: BTreeMap::new(),
        latency: LatencyStats::default(),
        total_latency_ns: 0,
        spawns: Vec::new(),
        origins: Vec::new(),
    }
}

fn add(site: &mut CallSite, s: &Spawn) {
    site.count += 1;
    *site.styles.entry(s.style.as_str().to_string()).or_default() += 1;
    *site.code_paths.entry(s.code_path.as_str().to_string()).or_default() += 1;
    site.spawns.push(s.index);
}

/// The call sites of a set of spawns, most spawns first, as labels (for a
/// finding's message: "200 spawns at `myapp::jobs::run (src/jobs.rs:42)`").
/// Empty when the analysis has no stacks.
pub fn sites_of(a: &Analysis, spawns: &[usize]) -> Vec<(String, u64)> {
    if a.origins.list.is_empty() {
        return Vec::new();
    }
    let mut counts: HashMap<String, u64> = HashMap::new();
    for &i in spawns {
        if let Some(s) = a.spawns.get(i) {
            let label = a.origins.of(s).map_or_else(|| NO_STACK.to_string(), Origin::site_label);
            *counts.entry(label).or_default() += 1;
        }
    }
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// One line naming the call sites of some spawns, at most `max` of them:
/// "200 at myapp::jobs::run (src/jobs.rs:42) via std::process::Command::status;
/// 3 at (Python code) via subprocess_fork_exec; 1 more call site". None when
/// the analysis has no stacks.
pub fn describe_sites(a: &Analysis, spawns: &[usize], max: usize) -> Option<String> {
    if a.origins.list.is_empty() || spawns.is_empty() {
        return None;
    }
    let mut groups: Vec<(String, u64, String)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for &i in spawns {
        let Some(s) = a.spawns.get(i) else { continue };
        let o = a.origins.of(s);
        let k = key_of(o);
        let g = *index.entry(k).or_insert_with(|| {
            let label = o.map_or_else(|| NO_STACK.to_string(), Origin::site_label);
            groups.push((label, 0, o.map(|o| o.api.clone()).unwrap_or_default()));
            groups.len() - 1
        });
        groups[g].1 += 1;
    }
    groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut parts: Vec<String> = groups
        .iter()
        .take(max)
        .map(|(label, n, api)| if api.is_empty() { format!("{n} at {label}") } else { format!("{n} at {label} via {api}") })
        .collect();
    if groups.len() > max {
        let rest = groups.len() - max;
        parts.push(format!("{rest} more call site{}", if rest == 1 { "" } else { "s" }));
    }
    Some(parts.join("; "))
}

/// Whether a spawn's code matches an `--at` pattern: the pattern is a
/// substring of the call site's function or `file:line`, or of any caller
/// further out (so `--at myapp::jobs` also takes spawns made through a
/// helper that `myapp::jobs` calls). Runtime frames before the call site do
/// not count: `--at std::` would otherwise match every Rust spawn. A spawn
/// without a call site never matches.
pub fn matches_at(o: Option<&Origin>, pattern: &str) -> bool {
    let Some(o) = o else { return false };
    let Some(start) = o.call_site_index else { return false };
    o.stack[start..].iter().any(|f| f.function.contains(pattern) || f.location().is_some_and(|l| l.contains(pattern)))
}
