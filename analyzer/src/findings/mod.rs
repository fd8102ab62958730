//! Findings: explained costs with stable ids, like lint codes.
//!
//! Each rule is an observer: a small running tally fed one completed spawn
//! at a time, concluded into at most one [`Finding`] from the tally, the
//! summary and the thresholds; the evidence is a list of spawn indices. The
//! full analysis and the bounded-memory one feed the same observers, so
//! their findings agree by construction. Ids never change meaning; a retired
//! rule keeps its id unused.

mod cost;
mod host;
mod rust;

use std::collections::{BTreeMap, BinaryHeap, HashMap};

use spawnscope_format::{Header, Nanos};

use crate::model::{Analysis, Finding, Severity, Spawn, Summary};
use crate::sample::Sampler;
pub use crate::units::{fmt_bytes, fmt_ns};
use crate::Thresholds;

/// A finding rule as documented in the README's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable id, e.g. `SS001`.
    pub id: &'static str,
    /// Stable slug, e.g. `fork-large-parent`.
    pub name: &'static str,
    /// What it detects, one line.
    pub title: &'static str,
    /// When it fires (thresholds named as in [`crate::Thresholds`]).
    pub fires: &'static str,
}

/// Every rule, in id order.
pub const RULES: &[Rule] = &[
    Rule {
        id: "SS001",
        name: "fork-large-parent",
        title: "fork-style spawns from a parent with a large address space",
        fires: "a fork-style spawn's parent has RSS >= fork_parent_rss_mib (256) or page tables >= fork_parent_pte_kib (1024); high from fork_high_rss_mib (1024)",
    },
    Rule {
        id: "SS002",
        name: "rust-fork-fallback",
        title: "Rust std Command used its fork+exec fallback instead of posix_spawn",
        fires: "any spawn with code path rust-std-fork-fallback; high when such a parent is also large (SS001)",
    },
    Rule {
        id: "SS003",
        name: "path-search",
        title: "failed exec attempts while searching PATH",
        fires: "spawned children made >= path_search_failed (3) failed exec attempts in all; warning from path_search_ms (10 ms)",
    },
    Rule {
        id: "SS004",
        name: "large-env",
        title: "large environment copied into every child",
        fires: "a child exec'd with > env_vars (100) variables or > env_bytes (16384) bytes of environment",
    },
    Rule {
        id: "SS005",
        name: "serial-spawns",
        title: "spawns serialised on one thread",
        fires: "one thread made >= serial_spawns (100) spawns, >= serial_share (0.9) of all, one at a time, busy >= serial_busy (0.2) of the recording",
    },
    Rule {
        id: "SS006",
        name: "old-glibc",
        title: "host glibc older than 2.24",
        fires: "the trace header's glibc version is < 2.24",
    },
    Rule {
        id: "SS007",
        name: "no-clone3",
        title: "the kernel has no clone3",
        fires: "the trace header says clone3 is unavailable",
    },
    Rule {
        id: "SS008",
        name: "style-mismatch",
        title: "the kernel's ptrace event disagrees with the clone flags",
        fires: "any spawn whose FORK/VFORK/CLONE event is not the one its flags imply",
    },
    Rule {
        id: "SS009",
        name: "exec-failed",
        title: "children that tried to exec and never succeeded",
        fires: "any spawn whose child's exec attempts all failed",
    },
];

/// Runs every enabled rule over a whole analysis: feeds every spawn to the
/// rules' [`Observers`] (in index order), then concludes. The bounded-memory
/// analyzer feeds the same observers one completed spawn at a time instead.
pub fn evaluate(a: &Analysis) -> Vec<Finding> {
    let mut obs = Observers::new(&a.header, &a.thresholds, usize::MAX);
    feed_all(&mut obs, a);
    obs.conclude(&a.header, &a.summary, &a.thresholds)
}

/// Feeds every spawn of `a` to `obs`, in index order, with what the rules
/// need to know about its parent and child.
pub(crate) fn feed_all(obs: &mut Observers, a: &Analysis) {
    let mut last: HashMap<(Option<usize>, i32), Option<Nanos>> = HashMap::new();
    for s in &a.spawns {
        let ctx = SpawnCtx {
            parent_name: s.parent.and_then(|p| a.processes.get(p)).map(|p| p.name.as_str()),
            parent_env: rust::parent_env(a, s),
            child_env_hash: s.child.and_then(|c| a.processes.get(c)?.execs.first()?.env_hash),
            ..SpawnCtx::default()
        }
        .with_origin(a.origins.of(s));
        obs.feed(s, &ctx);
        // SS005's "one at a time": each spawn against the thread's previous one.
        let key = (s.parent, s.parent_tid);
        if let Some(prev_done) = last.insert(key, s.t_done) {
            obs.serial_pair(key, prev_done.is_none_or(|d| d > s.t_start));
        }
    }
}

/// What a rule may know about a spawn beyond the spawn itself.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SpawnCtx<'a> {
    /// The parent process's name (its program's path).
    pub parent_name: Option<&'a str>,
    /// The parent's own environment (count, bytes, hash), see [`rust::parent_env`].
    pub parent_env: Option<(u64, u64, Option<u64>)>,
    /// Hash of the environment of the child's first exec.
    pub child_env_hash: Option<u64>,
    /// The runtime of the spawn's call stack, if it has one.
    pub runtime: Option<crate::origin::Runtime>,
    /// The rustc (major, minor) that built the spawning code, from its stack.
    pub rustc: Option<(u32, u32)>,
}

impl<'a> SpawnCtx<'a> {
    /// With what the spawn's call stack says (`origin`: None without one):
    /// its runtime and the rustc that built it.
    pub fn with_origin(mut self, origin: Option<&crate::origin::Origin>) -> Self {
        self.runtime = origin.map(|o| o.runtime);
        self.rustc = origin.and_then(|o| spawnscope_format::parse_version(o.rustc.as_deref()?));
        self
    }
}

/// The running tallies of every rule: fed one completed spawn at a time
/// ([`Observers::feed`]), concluded into findings at the end. Memory grows
/// with what is distinct (programs, spawning threads) and with the evidence
/// kept (`evidence_cap` spawn indices per rule), not with the spawns.
#[derive(Debug, Clone)]
pub(crate) struct Observers {
    /// Clone times of all vfork-style spawns: the baseline fork-style spawns
    /// are compared with.
    vfork_clone: Sampler,
    fork_large: cost::ForkLarge,
    rust: rust::RustFallback,
    path_search: cost::PathSearch,
    large_env: cost::LargeEnv,
    serial: cost::Serial,
    old_glibc: host::OldGlibc,
    mismatch: host::Mismatch,
    exec_failed: cost::ExecFailed,
}

/// Values kept exactly by the rules' distributions (clone times) before
/// they switch to a histogram.
const RULE_SAMPLES: usize = 1 << 16;

impl Observers {
    pub fn new(header: &Header, t: &Thresholds, evidence_cap: usize) -> Observers {
        let ev = || Evidence::new(evidence_cap);
        Observers {
            vfork_clone: Sampler::default(),
            fork_large: cost::ForkLarge::new(t, ev()),
            rust: rust::RustFallback::new(header, t, ev()),
            path_search: cost::PathSearch::new(ev()),
            large_env: cost::LargeEnv::new(t, ev()),
            serial: cost::Serial::new(evidence_cap),
            old_glibc: host::OldGlibc::new(ev()),
            mismatch: host::Mismatch::new(ev()),
            exec_failed: cost::ExecFailed::new(ev()),
        }
    }

    /// Takes one completed spawn (its code path, exec and times final).
    pub fn feed(&mut self, s: &Spawn, ctx: &SpawnCtx) {
        if s.style == crate::SpawnStyle::Vfork {
            if let Some(c) = s.clone_ns {
                self.vfork_clone.add(c, RULE_SAMPLES);
            }
        }
        self.fork_large.feed(s, ctx);
        self.rust.feed(s, ctx);
        self.path_search.feed(s);
        self.large_env.feed(s);
        self.serial.feed(s, ctx);
        self.old_glibc.feed(s);
        self.mismatch.feed(s);
        self.exec_failed.feed(s);
    }

    /// Two consecutive spawns of one thread (`key`: parent process, tid):
    /// whether the second started before the first finished.
    pub fn serial_pair(&mut self, key: (Option<usize>, i32), overlapping: bool) {
        self.serial.pair(key, overlapping);
    }

    /// The parent process `p` is gone: its threads' tallies that can no
    /// longer decide SS005 are dropped.
    pub fn retire_process(&mut self, p: usize, t: &Thresholds) {
        self.serial.retire(p, t);
    }

    /// The findings, with the enabled rules only and severities weighed.
    pub fn conclude(&self, header: &Header, summary: &Summary, t: &Thresholds) -> Vec<Finding> {
        let baseline = self.vfork_clone.upper_median();
        let found = [
            self.fork_large.conclude(t, baseline),
            self.rust.conclude(t, baseline),
            self.path_search.conclude(t),
            self.large_env.conclude(t),
            self.serial.conclude(t, summary),
            self.old_glibc.conclude(header),
            host::no_clone3(header),
            self.mismatch.conclude(),
            self.exec_failed.conclude(),
        ];
        found
            .into_iter()
            .flatten()
            .filter(|f| !t.is_disabled(f.id, f.name))
            .map(|mut f| {
                crate::proportion::weigh(&mut f, summary.recording_ns, t);
                f
            })
            .collect()
    }
}

/// A rule's evidence: the `cap` spawns with the smallest keys (the spawn
/// index, or its start time for SS005), and how many there were in all.
#[derive(Debug, Clone)]
pub(crate) struct Evidence {
    cap: usize,
    heap: BinaryHeap<(u64, usize)>,
    total: u64,
    /// Every spawn added, by origin.
    sites: BTreeMap<Option<u32>, u64>,
}

impl Evidence {
    pub fn new(cap: usize) -> Evidence {
        Evidence { cap, heap: BinaryHeap::new(), total: 0, sites: BTreeMap::new() }
    }

    /// Takes spawn `s` as evidence, ordered by `key`.
    pub fn add(&mut self, key: u64, s: &Spawn) {
        let index = s.index;
        self.total += 1;
        *self.sites.entry(s.origin).or_default() += 1;
        if self.heap.len() < self.cap {
            self.heap.push((key, index));
        } else if self.heap.peek().is_some_and(|top| (key, index) < *top) {
            self.heap.pop();
            self.heap.push((key, index));
        }
    }

    /// Spawn indices by key.
    pub fn sorted(&self) -> Vec<usize> {
        let mut v = self.heap.clone().into_vec();
        v.sort_unstable();
        v.into_iter().map(|(_, i)| i).collect()
    }

    /// Sets a finding's evidence (the kept spawns) and its call sites (all).
    pub fn fill(&self, f: &mut Finding) {
        f.evidence = self.sorted();
        f.evidence_sites = self.sites.iter().map(|(&o, &n)| (o, n)).collect();
    }
}

fn rule(id: &str) -> &'static Rule {
    RULES.iter().find(|r| r.id == id).expect("rule id in RULES")
}

/// A finding of rule `id` with its id and name filled in.
fn finding(id: &str, severity: Severity, message: String, advice: String) -> Finding {
    let r = rule(id);
    Finding {
        id: r.id,
        name: r.name,
        severity,
        message,
        advice,
        numbers: BTreeMap::new(),
        evidence: Vec::new(),
        evidence_sites: Vec::new(),
        savings_ns: None,
    }
}

fn ms(ns: Nanos) -> f64 {
    (ns as f64 / 1e4).round() / 1e2
}

/// "a, b, c and 2 more"
fn list(items: &[String], max: usize) -> String {
    if items.len() <= max {
        return items.join(", ");
    }
    format!("{} and {} more", items[..max].join(", "), items.len() - max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_unique_and_ordered() {
        for w in RULES.windows(2) {
            assert!(w[0].id < w[1].id);
            assert_ne!(w[0].name, w[1].name);
        }
    }

    #[test]
    fn lists() {
        assert_eq!(list(&["a".into(), "b".into(), "c".into()], 2), "a, b and 1 more");
    }
}
