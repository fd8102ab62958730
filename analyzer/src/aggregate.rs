//! Bounded-memory aggregation: what [`crate::Retention::Aggregate`] keeps
//! of the spawns and processes it has let go.
//!
//! The analyzer folds each spawn into a [`Fold`] once it is final (its child
//! exited, or exec'd and then made a spawn of its own, or the trace ended)
//! and then forgets it; a process is folded and forgotten once it exited and
//! its spawns are final. What stays grows with what is distinct (programs,
//! parents, spawning threads, processes alive at once) and not with events:
//!
//! - counts, sums, minima and maxima are exact;
//! - distributions ([`Sampler`]) keep exact values up to a cap (per group
//!   [`crate::sample::EXACT_SAMPLES`], for the whole trace
//!   [`SUMMARY_SAMPLES`]) and then a log-linear histogram: percentiles within
//!   3.2% of the exact nearest-rank value; count, min, max, mean and the
//!   log-2 buckets stay exact;
//! - the timeline is exact (counts at a resolution that divides the final bucket);
//! - `max_in_flight` and `spawn_blocked_ns` are exact as long as spawns
//!   arrive within a window of [`SWEEP_WINDOW`] start/end times of each
//!   other (always, for traces of fewer spawns than that), else close;
//! - findings come from the same observers as the full analysis; each keeps
//!   at most [`EVIDENCE_CAP`] evidence spawns (the first ones).

use std::collections::{BTreeMap, HashMap};

use spawnscope_format::Nanos;

use crate::findings::{Observers, SpawnCtx};
use crate::lifetimes::FailedExits;
use crate::model::{CodePath, Group, LatencyStats, Process, Spawn, SpawnStyle, Summary};
use crate::sample::{Sampler, EXACT_SAMPLES};
use crate::stats::{basename, ExecTotals, GroupBy};

/// Values of the whole trace's latency distribution kept exactly.
pub const SUMMARY_SAMPLES: usize = 1 << 16;
/// Start/end times (and blocked intervals) held for exact sweeps.
pub const SWEEP_WINDOW: usize = 1 << 16;
/// Evidence spawns kept per finding in bounded-memory mode.
pub const EVIDENCE_CAP: usize = 1000;
/// Longest processes kept.
pub const LONGEST_KEPT: usize = 50;

/// What a bounded-memory analysis carries instead of every spawn and
/// process: the groups, the failures and the longest processes, computed
/// while the spawns went by. [`crate::group_by`], [`crate::failed_children`],
/// [`crate::longest_processes`] and [`crate::spawn_times`] read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregated {
    /// By [`GroupBy`] (style, code path, executable, parent): key and
    /// tally; [`Aggregated::groups`] turns them into groups.
    pub(crate) accs: [Vec<(String, GroupAcc)>; 4],
    pub failed_children: Vec<FailedExits>,
    /// Indices into `Analysis::processes` (which holds only these), longest first.
    pub longest: Vec<usize>,
    /// Clone call times (entry → event) of all spawns.
    pub clone: LatencyStats,
    /// Parent blocked times of all spawns.
    pub parent_blocked: LatencyStats,
    /// Whether every latency distribution is still exact (small traces).
    pub exact: bool,
    /// The distribution of all spawns' latencies (mergeable, for reports
    /// over many traces).
    pub(crate) latency_samples: Sampler,
    /// For `diff`.
    pub(crate) diff: DiffTally,
    /// [`crate::Retention::Stream`]: every spawn and process, on disk.
    pub spill: Option<SpillHandle>,
    /// The call sites (traces with stacks), without spawn indices:
    /// [`crate::origin::call_sites`] gives them.
    pub(crate) call_sites: Vec<crate::origin::CallSite>,
}

/// The spilled spawns and processes of a [`crate::Retention::Stream`]
/// analysis (shared by clones of the analysis; equal when the same).
#[derive(Debug, Clone)]
pub struct SpillHandle(pub std::sync::Arc<crate::spill::Spilled>);

impl PartialEq for SpillHandle {
    fn eq(&self, o: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &o.0)
    }
}

impl crate::model::Analysis {
    /// Every spawn in index order, from memory or, for a
    /// [`crate::Retention::Stream`] analysis, read back from disk (a read
    /// error ends the iteration early).
    pub fn each_spawn(&self) -> Box<dyn Iterator<Item = std::borrow::Cow<'_, Spawn>> + '_> {
        match self.aggregate.as_ref().and_then(|ag| ag.spawns()) {
            Some(it) => Box::new(it.map_while(Result::ok).map(std::borrow::Cow::Owned)),
            None => Box::new(self.spawns.iter().map(std::borrow::Cow::Borrowed)),
        }
    }

    /// Every process in index order (see [`Analysis::each_spawn`]).
    pub fn each_process(&self) -> Box<dyn Iterator<Item = std::borrow::Cow<'_, Process>> + '_> {
        match self.aggregate.as_ref().and_then(|ag| ag.processes()) {
            Some(it) => Box::new(it.map_while(Result::ok).map(std::borrow::Cow::Owned)),
            None => Box::new(self.processes.iter().map(std::borrow::Cow::Borrowed)),
        }
    }

    /// Every spawn in index order, as [`Analysis::each_spawn`], with a read
    /// error of the temporary file as the last item instead of a silent end:
    /// for output that must be whole or fail (a Parquet table).
    pub fn try_each_spawn(&self) -> Box<dyn Iterator<Item = std::io::Result<std::borrow::Cow<'_, Spawn>>> + '_> {
        match self.aggregate.as_ref().and_then(|ag| ag.spawns()) {
            Some(it) => Box::new(until_error(it).map(|r| r.map(std::borrow::Cow::Owned))),
            None => Box::new(self.spawns.iter().map(|s| Ok(std::borrow::Cow::Borrowed(s)))),
        }
    }

    /// Every process in index order (see [`Analysis::try_each_spawn`]).
    pub fn try_each_process(&self) -> Box<dyn Iterator<Item = std::io::Result<std::borrow::Cow<'_, Process>>> + '_> {
        match self.aggregate.as_ref().and_then(|ag| ag.processes()) {
            Some(it) => Box::new(until_error(it).map(|r| r.map(std::borrow::Cow::Owned))),
            None => Box::new(self.processes.iter().map(|p| Ok(std::borrow::Cow::Borrowed(p)))),
        }
    }

    /// Spawn `i`, from memory or from disk.
    pub fn spawn_at(&self, i: usize) -> Option<std::borrow::Cow<'_, Spawn>> {
        match self.aggregate.as_ref().and_then(|ag| ag.spill.as_ref()) {
            Some(sp) => sp.0.spawn(i)?.ok().map(std::borrow::Cow::Owned),
            None => self.spawns.get(i).map(std::borrow::Cow::Borrowed),
        }
    }

    /// Process `i`, from memory or from disk.
    pub fn process_at(&self, i: usize) -> Option<std::borrow::Cow<'_, Process>> {
        match self.aggregate.as_ref().and_then(|ag| ag.spill.as_ref()) {
            Some(sp) => sp.0.process(i)?.ok().map(std::borrow::Cow::Owned),
            None => self.processes.get(i).map(std::borrow::Cow::Borrowed),
        }
    }
}

/// The items of `it` up to and including its first error.
fn until_error<T>(it: impl Iterator<Item = std::io::Result<T>>) -> impl Iterator<Item = std::io::Result<T>> {
    let mut failed = false;
    it.take_while(move |r| !std::mem::replace(&mut failed, r.is_err()))
}

impl Aggregated {
    /// The groups by `by`, largest first (ties by key), without `spawns`.
    pub fn groups(&self, by: GroupBy) -> Vec<Group> {
        sorted_groups(self.accs[by.slot()].iter().map(|(k, g)| (k.clone(), g)))
    }

    /// Every spawn in index order, read back from disk
    /// ([`crate::Retention::Stream`] only; None otherwise).
    pub fn spawns(&self) -> Option<crate::spill::SpillIter<Spawn>> {
        self.spill.as_ref().map(|s| s.0.spawns())
    }

    /// Every process in index order ([`crate::Retention::Stream`] only).
    pub fn processes(&self) -> Option<crate::spill::SpillIter<Process>> {
        self.spill.as_ref().map(|s| s.0.processes())
    }
}

/// What `diff` needs beyond the summary and the groups: where the spawn
/// latency goes on average, and the parents' memory at fork-style spawns.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct DiffTally {
    /// Sums of (clone, failed execs, the successful exec, the rest, latency)
    /// over the spawns with a latency, and how many.
    pub parts: [u128; 5],
    pub parts_n: u64,
    /// Parent RSS (KiB) at fork-style spawns that recorded it.
    pub fork_rss: Sampler,
    pub fork_pte_max: Option<u64>,
}

impl DiffTally {
    fn add(&mut self, s: &Spawn, child_exec_ns: u64) {
        if let Some(lat) = s.latency_ns {
            let clone = s.clone_ns.unwrap_or(0).min(lat);
            let failed = s.exec.as_ref().map_or(0, |e| e.failed_ns);
            let rest = lat.saturating_sub(clone.saturating_add(failed).saturating_add(child_exec_ns));
            for (acc, v) in self.parts.iter_mut().zip([clone, failed, child_exec_ns, rest, lat]) {
                *acc += u128::from(v);
            }
            self.parts_n += 1;
        }
        if s.style == SpawnStyle::Fork {
            if let Some(m) = s.parent_mem {
                self.fork_rss.add(m.rss_kb, SUMMARY_SAMPLES);
                let pte = m.pte_kb.saturating_mul(1024);
                self.fork_pte_max = Some(self.fork_pte_max.map_or(pte, |x| x.max(pte)));
            }
        }
    }
}

/// A group being accumulated.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct GroupAcc {
    pub count: u64,
    pub styles: [u64; 3],
    pub failed_attempts: u64,
    pub failed_ns: Nanos,
    pub env_bytes_max: u64,
    pub latency: Sampler,
}

impl GroupAcc {
    pub fn add(&mut self, s: &Spawn) {
        self.count += 1;
        self.styles[s.style as usize] += 1;
        if let Some(e) = &s.exec {
            self.failed_attempts += e.failed_attempts.len() as u64;
            self.failed_ns = self.failed_ns.saturating_add(e.failed_ns);
            self.env_bytes_max = self.env_bytes_max.max(e.env_bytes);
        }
        if let Some(l) = s.latency_ns {
            self.latency.add(l, EXACT_SAMPLES);
        }
    }

    pub fn merge(&mut self, o: &GroupAcc) {
        self.count += o.count;
        for (a, b) in self.styles.iter_mut().zip(o.styles) {
            *a += b;
        }
        self.failed_attempts += o.failed_attempts;
        self.failed_ns = self.failed_ns.saturating_add(o.failed_ns);
        self.env_bytes_max = self.env_bytes_max.max(o.env_bytes_max);
        self.latency.merge(&o.latency, EXACT_SAMPLES);
    }

    pub fn group(&self, key: String) -> Group {
        Group {
            key,
            count: self.count,
            styles: SpawnStyle::ALL.iter().map(|s| (s.as_str().to_string(), self.styles[*s as usize])).collect(),
            failed_attempts: self.failed_attempts,
            failed_ns: self.failed_ns,
            env_bytes_max: self.env_bytes_max,
            latency: self.latency.stats(),
            spawns: Vec::new(),
        }
    }
}

fn sorted_groups<'a>(it: impl Iterator<Item = (String, &'a GroupAcc)>) -> Vec<Group> {
    let mut v: Vec<Group> = it.filter(|(_, g)| g.count > 0).map(|(k, g)| g.group(k)).collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    v
}

/// Spawns started per time bucket at a resolution (1 ms × 10^k) that grows
/// as the recording does, so the final 1-2-5 bucket is a multiple of it.
#[derive(Debug, Clone)]
struct Timeline {
    res: Nanos,
    counts: Vec<u64>,
    last_start: Nanos,
}

/// Most counts a [`Timeline`] holds before it coarsens by 10.
const TIMELINE_SLOTS: u64 = 12_000;

impl Timeline {
    fn new() -> Timeline {
        Timeline { res: 1_000_000, counts: Vec::new(), last_start: 0 }
    }

    fn add(&mut self, t: Nanos) {
        self.last_start = self.last_start.max(t);
        while t / self.res >= TIMELINE_SLOTS {
            let res = self.res.saturating_mul(10);
            let mut c = vec![0u64; self.counts.len().div_ceil(10)];
            for (i, n) in self.counts.iter().enumerate() {
                c[i / 10] += n;
            }
            self.counts = c;
            self.res = res;
        }
        let i = (t / self.res) as usize;
        if self.counts.len() <= i {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += 1;
    }

    /// The bucket and counts `stats::timeline` gives for the same starts.
    fn finish(&self, duration_ns: Nanos) -> (Nanos, Vec<u64>) {
        let last = self.last_start.max(duration_ns);
        let bucket = crate::stats::timeline_bucket(last);
        let mut counts = vec![0u64; (last / bucket) as usize + 1];
        let per = (bucket / self.res).max(1) as usize;
        for (i, &n) in self.counts.iter().enumerate() {
            let j = (i / per).min(counts.len() - 1);
            counts[j] += n;
        }
        (bucket, counts)
    }
}

/// Most spawns in flight at once, by a sweep over start (+1) and end (-1)
/// times; the oldest times are folded once more than [`SWEEP_WINDOW`] are held.
#[derive(Debug, Clone, Default)]
struct InFlight {
    /// (time, 0 = end / 1 = start) → count.
    pending: BTreeMap<(Nanos, u8), i64>,
    starts: i64,
    ends: i64,
    max: i64,
    folded_to: Option<(Nanos, u8)>,
}

impl InFlight {
    fn add(&mut self, t: Nanos, start: bool, n: i64) {
        let key = (t, u8::from(start));
        if self.folded_to.is_some_and(|f| key <= f) {
            self.apply(key, n);
            return;
        }
        *self.pending.entry(key).or_default() += n;
        if self.pending.len() > SWEEP_WINDOW {
            for _ in 0..SWEEP_WINDOW / 2 {
                if let Some((k, n)) = self.pending.pop_first() {
                    self.apply(k, n);
                    self.folded_to = Some(k);
                }
            }
        }
    }

    fn apply(&mut self, key: (Nanos, u8), n: i64) {
        if key.1 == 1 {
            self.starts += n;
            if n > 0 {
                self.max = self.max.max((self.starts - self.ends).max(1));
            }
        } else {
            self.ends += n;
        }
    }

    fn finish(mut self) -> u32 {
        while let Some((k, n)) = self.pending.pop_first() {
            self.apply(k, n);
        }
        self.max.max(0) as u32
    }
}

/// The union of the spawns' blocked intervals, merged as they come; the
/// oldest are counted and dropped once more than [`SWEEP_WINDOW`] are held.
#[derive(Debug, Clone, Default)]
struct Union {
    /// start → end, disjoint.
    iv: BTreeMap<Nanos, Nanos>,
    done: Nanos,
    /// Everything before it is counted in `done`.
    watermark: Nanos,
}

impl Union {
    fn add(&mut self, a: Nanos, b: Nanos) {
        let (mut a, mut b) = (a.max(self.watermark), b);
        if b <= a {
            return;
        }
        // Merge with every interval that touches [a, b].
        let touching: Vec<(Nanos, Nanos)> =
            self.iv.range(..=b).rev().take_while(|(_, &e)| e >= a).map(|(&s, &e)| (s, e)).collect();
        for (s, e) in touching {
            self.iv.remove(&s);
            a = a.min(s);
            b = b.max(e);
        }
        self.iv.insert(a, b);
        if self.iv.len() > SWEEP_WINDOW {
            for _ in 0..SWEEP_WINDOW / 2 {
                if let Some((s, e)) = self.iv.pop_first() {
                    self.done = self.done.saturating_add(e - s);
                    self.watermark = e;
                }
            }
        }
    }

    fn total(&self) -> Nanos {
        self.iv.iter().fold(self.done, |acc, (s, e)| acc.saturating_add(e - s))
    }
}

/// Failed processes of one (program, outcome): how many, and the (index,
/// pid) of the first five.
type FailedTally = (u64, Vec<(usize, i32)>);

/// Everything a bounded-memory analysis accumulates.
#[derive(Debug)]
pub(crate) struct Fold {
    pub observers: Observers,
    spawns: u64,
    styles: [GroupAcc; 3],
    code_paths: [GroupAcc; CodePath::ALL.len()],
    executables: HashMap<String, GroupAcc>,
    parents: HashMap<String, GroupAcc>,
    latency: Sampler,
    clone: Sampler,
    blocked: Sampler,
    style_mismatches: u64,
    path_search_spawns: u64,
    env_execs: u64,
    env_bytes_total: u64,
    env_bytes_max: u64,
    env_count_max: u64,
    exec_failed_spawns: u64,
    timeline: Timeline,
    in_flight: InFlight,
    union: Union,
    blocked_total: Nanos,
    failed_processes: u64,
    failed: BTreeMap<(String, String), FailedTally>,
    /// (duration, index) → the process, longest first by `(Reverse(duration), index)`.
    longest: BTreeMap<(std::cmp::Reverse<Nanos>, usize), Process>,
    diff: DiffTally,
    sites: crate::origin::SiteAccs,
}

impl Fold {
    pub fn new(observers: Observers) -> Fold {
        Fold {
            observers,
            spawns: 0,
            styles: Default::default(),
            code_paths: Default::default(),
            executables: HashMap::new(),
            parents: HashMap::new(),
            latency: Sampler::default(),
            clone: Sampler::default(),
            blocked: Sampler::default(),
            style_mismatches: 0,
            path_search_spawns: 0,
            env_execs: 0,
            env_bytes_total: 0,
            env_bytes_max: 0,
            env_count_max: 0,
            exec_failed_spawns: 0,
            timeline: Timeline::new(),
            in_flight: InFlight::default(),
            union: Union::default(),
            blocked_total: 0,
            failed_processes: 0,
            failed: BTreeMap::new(),
            longest: BTreeMap::new(),
            diff: DiffTally::default(),
            sites: Default::default(),
        }
    }

    /// A spawn started (its spawn line arrived).
    pub fn started(&mut self, t: Nanos) {
        self.in_flight.add(t, true, 1);
    }

    /// A spawn's end time (child exec'd or exited) moved from `old` to `new`.
    pub fn ended(&mut self, old: Option<Nanos>, new: Nanos) {
        if let Some(o) = old {
            self.in_flight.add(o, false, -1);
        }
        self.in_flight.add(new, false, 1);
    }

    /// Folds a final spawn; `parent_acc` is its parent's pending group
    /// (keyed by the parent's final name when the parent is folded);
    /// `origins` is the analysis' list its origin indexes (`stacks`: the
    /// trace has call stacks, so its spawns are grouped by call site).
    pub fn spawn(
        &mut self,
        s: &Spawn,
        ctx: &SpawnCtx,
        parent_acc: &mut GroupAcc,
        child_exec_ns: u64,
        origins: &[crate::origin::Origin],
        stacks: bool,
    ) {
        self.spawns += 1;
        if stacks {
            self.sites.add(s, origins, EXACT_SAMPLES, false);
        }
        self.diff.add(s, child_exec_ns);
        self.styles[s.style as usize].add(s);
        self.code_paths[s.code_path as usize].add(s);
        let exe = s.exec.as_ref().map_or("(no exec)", |e| e.path.as_str());
        match self.executables.get_mut(exe) {
            Some(g) => g.add(s),
            None => {
                let mut g = GroupAcc::default();
                g.add(s);
                self.executables.insert(exe.to_string(), g);
            }
        }
        parent_acc.add(s);
        if let Some(l) = s.latency_ns {
            self.latency.add(l, SUMMARY_SAMPLES);
        }
        if let Some(c) = s.clone_ns {
            self.clone.add(c, SUMMARY_SAMPLES);
        }
        if let Some(b) = s.parent_blocked_ns {
            self.blocked.add(b, SUMMARY_SAMPLES);
        }
        if s.style_mismatch {
            self.style_mismatches += 1;
        }
        if let Some(e) = &s.exec {
            if !e.failed_attempts.is_empty() {
                self.path_search_spawns += 1;
            }
            if e.success {
                self.env_execs += 1;
                self.env_bytes_total = self.env_bytes_total.saturating_add(e.env_bytes);
                self.env_bytes_max = self.env_bytes_max.max(e.env_bytes);
                self.env_count_max = self.env_count_max.max(e.env_count);
            } else {
                self.exec_failed_spawns += 1;
            }
        }
        self.timeline.add(s.t_start);
        if let Some(b) = crate::proportion::blocked_ns(s) {
            let end = s.t_start.saturating_add(b);
            self.union.add(s.t_start, end);
            self.blocked_total = self.blocked_total.saturating_add(end - s.t_start);
        }
        self.observers.feed(s, ctx);
    }

    /// Folds a process that is done (or the trace ended): `name` is its
    /// final name, `end` the end of the recording, `spawned` its spawns' group.
    pub fn process(&mut self, p: Process, name: String, end: Nanos, spawned: Option<GroupAcc>) {
        if let Some(g) = spawned.filter(|g| g.count > 0) {
            let key = format!("{}[{}]", basename(&name), p.pid);
            match self.parents.get_mut(&key) {
                Some(x) => x.merge(&g),
                None => {
                    self.parents.insert(key, g);
                }
            }
        }
        if let Some(e) = p.exit.filter(|e| e.failed()) {
            self.failed_processes += 1;
            let outcome = match (e.code, e.signal) {
                (_, Some(s)) => Some(spawnscope_format::names::signal_label(s)),
                (Some(c), None) => Some(format!("exit {c}")),
                (None, None) => None,
            };
            if let (Some(outcome), true) = (outcome, p.parent.is_some()) {
                let entry = self.failed.entry((basename(&name).to_string(), outcome)).or_default();
                entry.0 += 1;
                entry.1.push((p.index, p.pid));
                entry.1.sort_unstable();
                entry.1.truncate(5);
            }
        }
        let key = (std::cmp::Reverse(p.duration_ns(end)), p.index);
        if self.longest.len() < LONGEST_KEPT || self.longest.last_key_value().is_some_and(|(k, _)| key < *k) {
            let mut p = p;
            p.name = name;
            p.children = Vec::new();
            self.longest.insert(key, p);
            if self.longest.len() > LONGEST_KEPT {
                self.longest.pop_last();
            }
        }
    }

    /// The summary, the kept processes and the aggregates (`origins`: the
    /// analysis' list, for the call sites).
    pub fn finish(self, counts: Counts, origins: &[crate::origin::Origin]) -> (Summary, Vec<Process>, Aggregated, Observers) {
        let mut s = Summary {
            spawns: self.spawns,
            threads: counts.threads,
            processes: counts.processes,
            duration_ns: counts.duration_ns,
            exit_code: counts.exit_code,
            failed_clones: counts.failed_clones,
            exec_attempts: counts.execs.attempts,
            failed_exec_attempts: counts.execs.failed,
            failed_exec_ns: counts.execs.failed_ns,
            style_mismatches: self.style_mismatches,
            path_search_spawns: self.path_search_spawns,
            env_bytes_total: self.env_bytes_total,
            env_bytes_max: self.env_bytes_max,
            env_count_max: self.env_count_max,
            exec_failed_spawns: self.exec_failed_spawns,
            ..Summary::default()
        };
        s.styles = SpawnStyle::ALL.iter().map(|st| (st.as_str().to_string(), self.styles[*st as usize].count)).collect();
        s.code_paths = CodePath::ALL.iter().map(|c| (c.as_str().to_string(), self.code_paths[*c as usize].count)).collect();
        s.env_bytes_mean = s.env_bytes_total.checked_div(self.env_execs).unwrap_or(0);
        s.latency = self.latency.stats();
        if s.duration_ns > 0 {
            s.spawn_rate = s.spawns as f64 / (s.duration_ns as f64 / 1e9);
        }
        (s.timeline_bucket_ns, s.timeline) = self.timeline.finish(s.duration_ns);
        s.max_in_flight = self.in_flight.finish();
        s.recording_ns = s.duration_ns;
        let blocked = self.union.total();
        s.spawn_blocked_ns = if s.recording_ns > 0 { blocked.min(s.recording_ns) } else { blocked };
        s.spawn_blocked_total_ns = self.blocked_total;
        s.failed_processes = self.failed_processes;
        let exact = self.latency.is_exact()
            && [&self.styles[..], &self.code_paths[..]].iter().all(|g| g.iter().all(|g| g.latency.is_exact()))
            && self.executables.values().chain(self.parents.values()).all(|g| g.latency.is_exact())
            && self.sites.is_exact();
        let styles = SpawnStyle::ALL.iter().map(|st| (st.as_str().to_string(), self.styles[*st as usize].clone()));
        let paths = CodePath::ALL.iter().map(|c| (c.as_str().to_string(), self.code_paths[*c as usize].clone()));
        let accs = [
            styles.filter(|(_, g)| g.count > 0).collect(),
            paths.filter(|(_, g)| g.count > 0).collect(),
            self.executables.into_iter().collect(),
            self.parents.into_iter().collect(),
        ];
        let mut failed: Vec<FailedExits> = self
            .failed
            .into_iter()
            .map(|((program, outcome), (count, pids))| FailedExits {
                program,
                outcome,
                count,
                pids: pids.into_iter().map(|(_, p)| p).collect(),
            })
            .collect();
        failed.sort_by(|x, y| y.count.cmp(&x.count).then_with(|| x.program.cmp(&y.program)));
        let processes: Vec<Process> = self.longest.into_values().collect();
        let agg = Aggregated {
            accs,
            failed_children: failed,
            longest: (0..processes.len()).collect(),
            clone: self.clone.stats(),
            parent_blocked: self.blocked.stats(),
            exact,
            latency_samples: self.latency,
            diff: self.diff,
            spill: None,
            call_sites: self.sites.finish(origins),
        };
        (s, processes, agg, self.observers)
    }
}

/// Totals the analyzer counts itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counts {
    pub threads: u64,
    pub processes: u64,
    pub failed_clones: u64,
    pub execs: ExecTotals,
    pub duration_ns: Nanos,
    pub exit_code: Option<i32>,
}

impl GroupBy {
    pub(crate) fn slot(self) -> usize {
        match self {
            GroupBy::Style => 0,
            GroupBy::CodePath => 1,
            GroupBy::Executable => 2,
            GroupBy::Parent => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeline_matches_the_exact_one_at_any_length() {
        for (n, step) in [(10u64, 7_000_000u64), (500, 3_100_000_000), (2000, 97_000_000_000)] {
            let starts: Vec<Nanos> = (0..n).map(|i| i * step + i % 3).collect();
            let mut t = Timeline::new();
            for &s in &starts {
                t.add(s);
            }
            let duration = starts.last().copied().unwrap_or(0) + 5;
            let bucket = crate::stats::timeline_bucket(duration);
            let mut want = vec![0u64; (duration / bucket) as usize + 1];
            for &s in &starts {
                let i = ((s / bucket) as usize).min(want.len() - 1);
                want[i] += 1;
            }
            assert_eq!(t.finish(duration), (bucket, want), "n {n} step {step}");
        }
    }

    #[test]
    fn in_flight_and_union_sweep_like_the_exact_ones() {
        let mut f = InFlight::default();
        // [0, 10), [5, 20), [10, 12), [30, 40): at most 2 at once (the end
        // at 10 comes before the start at 10).
        for (a, b) in [(0, 10), (5, 20), (10, 12), (30, 40)] {
            f.add(a, true, 1);
            f.add(b, false, 1);
        }
        assert_eq!(f.finish(), 2);
        let mut u = Union::default();
        for (a, b) in [(30, 40), (0, 10), (5, 20)] {
            u.add(a, b);
        }
        assert_eq!(u.total(), 30);
    }
}
