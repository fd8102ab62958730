//! Spawns grouped by call site: the "Call sites" table of the report and the
//! view, per-call-site comparison in `diff`, and `--at` scoping in `check`.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use spawnscope_format::Nanos;

use super::{Frame, Origin, Runtime};
use crate::model::{Analysis, LatencyStats, Spawn};
use crate::sample::Sampler;

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
    /// Spawns per API, most used first (the counts behind `apis`).
    #[serde(skip)]
    pub api_counts: Vec<(String, u64)>,
    /// The latency distribution as a mergeable histogram (reports over many traces).
    #[serde(skip)]
    pub histogram: crate::sample::Histogram,
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
///
/// A bounded-memory analysis ([`crate::Retention::Aggregate`]) gives the
/// groups it folded as the spawns went by, without spawn indices and with
/// latency percentiles as exact as its other groups; a streamed one
/// ([`crate::Retention::Stream`]) reads its spawns back and gives exactly
/// what a full analysis does.
pub fn call_sites(a: &Analysis) -> Vec<CallSite> {
    if a.origins.list.is_empty() {
        return Vec::new();
    }
    if let Some(ag) = a.aggregate.as_ref().filter(|ag| ag.spill.is_none()) {
        return ag.call_sites.clone();
    }
    let mut acc = SiteAccs::default();
    for s in a.each_spawn() {
        acc.add(&s, &a.origins.list, usize::MAX, true);
    }
    acc.finish(&a.origins.list)
}

/// Call sites being accumulated, one spawn at a time.
#[derive(Debug, Clone, Default)]
pub(crate) struct SiteAccs {
    /// A spawn's origin → its site (most spawns share a few origins: the
    /// site key is made once per origin).
    by_origin: HashMap<Option<u32>, usize>,
    by_key: HashMap<String, usize>,
    sites: Vec<SiteAcc>,
}

#[derive(Debug, Clone)]
struct SiteAcc {
    /// Label, frame, note, runtime, spawn indices.
    site: CallSite,
    styles: [u64; crate::model::SpawnStyle::ALL.len()],
    code_paths: [u64; crate::model::CodePath::ALL.len()],
    /// Spawns by origin, origins in order of first use.
    origins: Vec<(u32, u64)>,
    latency: Sampler,
}

impl SiteAccs {
    /// Adds a spawn (its origin indexes `origins`); its latency goes to an
    /// exact distribution up to `cap` values per site; `indices`: keep its
    /// index.
    pub fn add(&mut self, s: &Spawn, origins: &[Origin], cap: usize, indices: bool) {
        let o = s.origin.and_then(|k| origins.get(k as usize));
        let i = match self.by_origin.get(&s.origin) {
            Some(&i) => i,
            None => {
                let key = key_of(o);
                let i = match self.by_key.get(&key) {
                    Some(&i) => i,
                    None => {
                        self.sites.push(SiteAcc {
                            site: new_site(o),
                            styles: Default::default(),
                            code_paths: Default::default(),
                            origins: Vec::new(),
                            latency: Sampler::default(),
                        });
                        self.by_key.insert(key, self.sites.len() - 1);
                        self.sites.len() - 1
                    }
                };
                self.by_origin.insert(s.origin, i);
                i
            }
        };
        let acc = &mut self.sites[i];
        acc.site.count += 1;
        acc.styles[s.style as usize] += 1;
        acc.code_paths[s.code_path as usize] += 1;
        if indices {
            acc.site.spawns.push(s.index);
        }
        if let (Some(k), Some(_)) = (s.origin, o) {
            match acc.origins.iter_mut().find(|(x, _)| *x == k) {
                Some((_, n)) => *n += 1,
                None => acc.origins.push((k, 1)),
            }
        }
        if let Some(l) = s.latency_ns {
            acc.site.total_latency_ns = acc.site.total_latency_ns.saturating_add(l);
            acc.latency.add(l, cap);
        }
    }

    /// Whether every site's latency distribution is still exact.
    pub fn is_exact(&self) -> bool {
        self.sites.iter().all(|x| x.latency.is_exact())
    }

    /// The call sites, most spawns first (`origins`: the analysis' list).
    pub fn finish(self, origins: &[Origin]) -> Vec<CallSite> {
        let mut sites: Vec<CallSite> = self
            .sites
            .into_iter()
            .map(|acc| {
                let mut site = acc.site;
                let named = |names: &[&'static str], counts: &[u64]| -> BTreeMap<String, u64> {
                    names.iter().zip(counts).filter(|(_, &n)| n > 0).map(|(k, &n)| (k.to_string(), n)).collect()
                };
                site.styles = named(&crate::model::SpawnStyle::ALL.map(|x| x.as_str()), &acc.styles);
                site.code_paths = named(&crate::model::CodePath::ALL.map(|x| x.as_str()), &acc.code_paths);
                let mut apis: HashMap<&str, u64> = HashMap::new();
                for &(k, n) in &acc.origins {
                    if let Some(o) = origins.get(k as usize) {
                        *apis.entry(o.api.as_str()).or_default() += n;
                    }
                }
                let mut v: Vec<(&str, u64)> = apis.into_iter().collect();
                v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
                site.api_counts = v.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
                site.apis = site.api_counts.iter().map(|(k, _)| k.clone()).collect();
                site.origins = acc.origins.iter().map(|&(k, _)| k).collect();
                site.latency = acc.latency.stats();
                site.histogram = acc.latency.to_histogram();
                site
            })
            .collect();
        sites.sort_by(|a, b| {
            b.count.cmp(&a.count).then(b.total_latency_ns.cmp(&a.total_latency_ns)).then_with(|| a.label.cmp(&b.label))
        });
        sites
    }
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
        api_counts: Vec::new(),
        histogram: Default::default(),
    }
}

/// The call sites of a set of spawns, most spawns first, as labels (for a
/// finding's message: "200 spawns at `myapp::jobs::run (src/jobs.rs:42)`").
/// Empty when the analysis has no stacks. The spawns must be in memory
/// (a full analysis); for a finding use [`finding_sites`].
pub fn sites_of(a: &Analysis, spawns: &[usize]) -> Vec<(String, u64)> {
    site_groups(a, tally(a, spawns), true).into_iter().map(|(label, n, _)| (label, n)).collect()
}

/// The call sites of a finding's spawns, most spawns first (label, spawns),
/// counted over all of them, also in a bounded-memory analysis, which keeps
/// only the first evidence spawns. Empty when the analysis has no stacks.
pub fn finding_sites(a: &Analysis, f: &crate::Finding) -> Vec<(String, u64)> {
    site_groups(a, f.evidence_sites.clone(), true).into_iter().map(|(label, n, _)| (label, n)).collect()
}

/// One line naming the call sites of some spawns, at most `max` of them:
/// "200 at myapp::jobs::run (src/jobs.rs:42) via std::process::Command::status;
/// 3 at (Python code) via subprocess_fork_exec; 1 more call site". None when
/// the analysis has no stacks. The spawns must be in memory; for a finding
/// use [`describe_finding_sites`].
pub fn describe_sites(a: &Analysis, spawns: &[usize], max: usize) -> Option<String> {
    describe(site_groups(a, tally(a, spawns), false), max)
}

/// [`describe_sites`] for a finding's spawns (all of them, in any analysis).
pub fn describe_finding_sites(a: &Analysis, f: &crate::Finding, max: usize) -> Option<String> {
    describe(site_groups(a, f.evidence_sites.clone(), false), max)
}

/// Spawns by origin (None: no stack), in memory.
fn tally(a: &Analysis, spawns: &[usize]) -> Vec<(Option<u32>, u64)> {
    let mut counts: BTreeMap<Option<u32>, u64> = BTreeMap::new();
    for &i in spawns {
        if let Some(s) = a.spawns.get(i) {
            *counts.entry(s.origin).or_default() += 1;
        }
    }
    counts.into_iter().collect()
}

/// Origin counts grouped by call site (`by_label`: by its label only, else
/// by frame or label and API as the table groups them): (label, spawns,
/// API), most spawns first, then by label. Empty when the analysis has no
/// stacks.
fn site_groups(a: &Analysis, counts: Vec<(Option<u32>, u64)>, by_label: bool) -> Vec<(String, u64, String)> {
    if a.origins.list.is_empty() {
        return Vec::new();
    }
    let mut groups: Vec<(String, u64, String)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (origin, n) in counts {
        let o = origin.and_then(|k| a.origins.list.get(k as usize));
        let label = o.map_or_else(|| NO_STACK.to_string(), Origin::site_label);
        let key = if by_label { label.clone() } else { key_of(o) };
        let g = *index.entry(key).or_insert_with(|| {
            groups.push((label, 0, o.map(|o| o.api.clone()).unwrap_or_default()));
            groups.len() - 1
        });
        groups[g].1 += n;
    }
    groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    groups
}

fn describe(groups: Vec<(String, u64, String)>, max: usize) -> Option<String> {
    if groups.is_empty() {
        return None;
    }
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
