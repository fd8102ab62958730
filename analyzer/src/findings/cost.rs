//! Rules about measurable costs: fork from a large parent, PATH search,
//! large environments, serialised spawning, failed execs.

use std::collections::{BTreeMap, HashMap};

use spawnscope_format::flags::errno_name;
use spawnscope_format::Nanos;

use super::{finding, fmt_bytes, fmt_ns, list, ms, Evidence, SpawnCtx, RULE_SAMPLES};
use crate::model::{CodePath, Finding, Severity, Spawn, SpawnStyle, Summary};
use crate::origin::Runtime;
use crate::sample::Sampler;
use crate::stats::basename;
use crate::Thresholds;

/// Clone cost of a vfork-style spawn when the trace has none to compare with
/// (measured on the reference machine: posix_spawn's clone takes < 0.1 ms).
pub(super) const VFORK_CLONE_NS: Nanos = 100_000;

/// The runtime most spawns went through (ties: the first runtime).
pub(super) fn main_runtime(n: &HashMap<Runtime, usize>) -> Option<Runtime> {
    n.iter().max_by_key(|(r, k)| (**k, std::cmp::Reverse(**r))).map(|(r, _)| *r)
}

/// SS001's tally: fork-style spawns from a large parent.
#[derive(Debug, Clone)]
pub(crate) struct ForkLarge {
    rss_kib: u64,
    pte_kib: u64,
    ms_per_gib: f64,
    ev: Evidence,
    /// Clone times of the spawns that have one.
    clone: Sampler,
    clone_total: Nanos,
    /// Spawns without a clone time, and their estimated extra cost.
    estimated: u64,
    estimated_ns: Nanos,
    rss_max: u64,
    pte_max: u64,
    paths: [bool; CodePath::ALL.len()],
    python: bool,
    runtimes: HashMap<Runtime, usize>,
}

impl ForkLarge {
    pub fn new(t: &Thresholds, ev: Evidence) -> ForkLarge {
        ForkLarge {
            rss_kib: t.fork_parent_rss_mib.saturating_mul(1024),
            pte_kib: t.fork_parent_pte_kib,
            ms_per_gib: t.fork_ms_per_gib,
            ev,
            clone: Sampler::default(),
            clone_total: 0,
            estimated: 0,
            estimated_ns: 0,
            rss_max: 0,
            pte_max: 0,
            paths: [false; CodePath::ALL.len()],
            python: false,
            runtimes: HashMap::new(),
        }
    }

    pub fn feed(&mut self, s: &Spawn, ctx: &SpawnCtx) {
        let large =
            s.style == SpawnStyle::Fork && s.parent_mem.is_some_and(|m| m.rss_kb >= self.rss_kib || m.pte_kb >= self.pte_kib);
        if !large {
            return;
        }
        self.ev.add(s.index as u64, s);
        let m = s.parent_mem.unwrap_or_default();
        self.rss_max = self.rss_max.max(m.rss_kb);
        self.pte_max = self.pte_max.max(m.pte_kb);
        match s.clone_ns {
            Some(c) => {
                self.clone_total = self.clone_total.saturating_add(c);
                self.clone.add(c, RULE_SAMPLES);
            }
            None => {
                self.estimated += 1;
                self.estimated_ns =
                    self.estimated_ns.saturating_add((m.rss_kb as f64 / (1024.0 * 1024.0) * self.ms_per_gib * 1e6) as Nanos);
            }
        }
        self.paths[s.code_path as usize] = true;
        self.python |= ctx.parent_name.is_some_and(|p| basename(p).starts_with("python"));
        if let Some(r) = ctx.runtime {
            *self.runtimes.entry(r).or_default() += 1;
        }
    }

    /// `baseline`: the upper median of the vfork-style clone times, if any.
    pub fn conclude(&self, t: &Thresholds, baseline: Option<Nanos>) -> Option<Finding> {
        let n = self.ev.total;
        if n == 0 {
            return None;
        }
        let has = |c: CodePath| self.paths[c as usize];
        let typical = baseline.is_none();
        let baseline = baseline.unwrap_or(VFORK_CLONE_NS);
        let clone_total = self.clone_total;
        let extra_total = self.clone.sum_excess(baseline).saturating_add(self.estimated_ns);
        let estimated = self.estimated;
        let rss_max = self.rss_max;
        let pte_max = self.pte_max;
        let severity = if rss_max >= t.fork_high_rss_mib.saturating_mul(1024) { Severity::High } else { Severity::Warning };
        let cost = if estimated == n {
            format!(
                "estimated {} of extra kernel time ({} per spawn at {} ms per GiB of RSS; this trace has no clone entry times)",
                fmt_ns(extra_total),
                fmt_ns(extra_total / n),
                t.fork_ms_per_gib
            )
        } else {
            format!(
                "the clone calls alone took {} ({} per spawn, measured under tracing), about {} more than vfork-style spawns ({} each{})",
                fmt_ns(clone_total),
                fmt_ns(clone_total / (n - estimated).max(1)),
                fmt_ns(extra_total),
                fmt_ns(baseline),
                if typical { ", typical" } else { " in this trace" },
            )
        };
        let message = format!(
            "{n} fork-style spawn{} from parents with up to {} RSS and {} of page tables: the kernel copies the page tables on every fork; {cost}",
            plural(n),
            fmt_bytes(rss_max.saturating_mul(1024)),
            fmt_bytes(pte_max.saturating_mul(1024)),
        );
        let mut advice = Vec::new();
        if has(CodePath::RustStdForkFallback) {
            advice.push("Rust's Command took its fork fallback (see SS002): remove what forces it and std spawns with posix_spawn, whose cost does not grow with the parent's memory.".to_string());
        }
        if self.python && has(CodePath::ForkExec) {
            advice.push("Python subprocess forks when preexec_fn is set: drop it (start_new_session=, process_group=, user=, group=, extra_groups= keep the vfork path).".to_string());
        }
        if has(CodePath::ForkExec) || has(CodePath::Unknown) {
            advice.push("Spawn vfork-style instead: posix_spawn(3) (glibc >= 2.24 uses CLONE_VM|CLONE_VFORK), or fork a small helper process early, while the parent is small, and spawn from it.".to_string());
        }
        if let Some(x) = crate::origin::advice::fork_style(main_runtime(&self.runtimes)) {
            advice.push(x.to_string());
        }
        if has(CodePath::ForkNoExec) {
            advice.push(
                "For worker processes that never exec, fork them before the parent grows, or use a spawn/forkserver start method."
                    .to_string(),
            );
        }
        advice.push("Reference: on a 128-core cluster node 10,000 fork-style spawns took 5.9 s from a 1 GiB parent and 25.4 s from 5 GiB, vfork-style ~1.3 s from either.".to_string());
        let mut f = finding("SS001", severity, message, advice.join(" "));
        f.numbers = BTreeMap::from([
            ("spawns".to_string(), n as f64),
            ("parent_rss_mib_max".to_string(), (rss_max as f64 / 1024.0).round()),
            ("parent_pte_kib_max".to_string(), pte_max as f64),
            ("clone_ms_total".to_string(), ms(clone_total)),
            ("extra_ms_estimated".to_string(), ms(extra_total)),
            ("vfork_clone_ms".to_string(), ms(baseline)),
        ]);
        self.ev.fill(&mut f);
        f.savings_ns = Some(extra_total);
        Some(f)
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Per program of SS003: spawns, failed attempts, the directories the
/// first one tried, where the first success found it.
#[derive(Debug, Clone, Default)]
struct SearchedProgram {
    spawns: u64,
    failed: u64,
    dirs: Option<(usize, Vec<String>)>,
    found: Option<(usize, String)>,
}

/// SS003's tally: PATH search.
#[derive(Debug, Clone)]
pub(crate) struct PathSearch {
    ev: Evidence,
    failed: u64,
    failed_ns: Nanos,
    progs: BTreeMap<String, SearchedProgram>,
}

impl PathSearch {
    pub fn new(ev: Evidence) -> PathSearch {
        PathSearch { ev, failed: 0, failed_ns: 0, progs: BTreeMap::new() }
    }

    pub fn feed(&mut self, s: &Spawn) {
        let Some(e) = s.exec.as_ref().filter(|e| !e.failed_attempts.is_empty()) else { return };
        self.ev.add(s.index as u64, s);
        self.failed = self.failed.saturating_add(e.failed_attempts.len() as u64);
        self.failed_ns = self.failed_ns.saturating_add(e.failed_ns);
        let p = self.progs.entry(basename(&e.path).to_string()).or_default();
        p.spawns += 1;
        p.failed += e.failed_attempts.len() as u64;
        if p.dirs.as_ref().is_none_or(|(i, _)| s.index < *i) {
            p.dirs = Some((s.index, e.failed_attempts.iter().map(|x| dir_of(&x.path).to_string()).collect()));
        }
        if e.success && p.found.as_ref().is_none_or(|(i, _)| s.index < *i) {
            p.found = Some((s.index, e.path.clone()));
        }
    }

    pub fn conclude(&self, t: &Thresholds) -> Option<Finding> {
        let failed = self.failed;
        if self.ev.total == 0 || failed < t.path_search_failed {
            return None;
        }
        let failed_ns = self.failed_ns;
        let mut ranked: Vec<(&String, &SearchedProgram)> = self.progs.iter().collect();
        ranked.sort_by(|x, y| y.1.failed.cmp(&x.1.failed).then_with(|| x.0.cmp(y.0)));
        let descr: Vec<String> = ranked
            .iter()
            .map(|(name, p)| {
                let dirs = p.dirs.as_ref().map_or(&[][..], |d| &d.1[..]);
                format!(
                    "{name} ({} spawn{}, {} failed each, tried {})",
                    p.spawns,
                    plural(p.spawns),
                    fmt_avg(p.failed, p.spawns),
                    list(dirs, 4)
                )
            })
            .collect();
        let found: Vec<String> = ranked.iter().filter_map(|(_, p)| p.found.as_ref().map(|f| f.1.clone())).take(3).collect();
        let severity = if failed_ns as f64 >= t.path_search_ms * 1e6 { Severity::Warning } else { Severity::Info };
        let n = self.ev.total;
        let message = format!(
            "{failed} failed exec attempts in {n} spawn{} searching PATH, {} in all (measured under tracing): {}",
            plural(n),
            fmt_ns(failed_ns),
            list(&descr, 5)
        );
        let example = if found.is_empty() { String::new() } else { format!(" (here: {})", found.join(", ")) };
        let advice = format!(
            "Call the programs by absolute path{example}, or put their directory first in PATH: every failed attempt is a full execve() the kernel rejects, and on a vfork-style spawn the parent waits through all of them. Reference: 10,000 spawns of `sleep` took 1.13 s by bare name and 0.69 s as /usr/bin/sleep on a laptop."
        );
        let mut f = finding("SS003", severity, message, advice);
        f.numbers = BTreeMap::from([
            ("spawns".to_string(), n as f64),
            ("failed_attempts".to_string(), failed as f64),
            ("failed_ms".to_string(), ms(failed_ns)),
            ("programs".to_string(), ranked.len() as f64),
        ]);
        self.ev.fill(&mut f);
        // Every failed attempt is time the child (and, vfork-style, its parent)
        // waits before the program starts.
        f.savings_ns = Some(failed_ns);
        Some(f)
    }
}

fn dir_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => ".",
    }
}

fn fmt_avg(total: u64, n: u64) -> String {
    if n == 0 {
        return "0".into();
    }
    if total.is_multiple_of(n) {
        format!("{}", total / n)
    } else {
        format!("{:.1}", total as f64 / n as f64)
    }
}

/// SS004's tally: large environments.
#[derive(Debug, Clone)]
pub(crate) struct LargeEnv {
    vars: u64,
    bytes: u64,
    ev: Evidence,
    count_max: u64,
    bytes_max: u64,
    total: u64,
}

impl LargeEnv {
    pub fn new(t: &Thresholds, ev: Evidence) -> LargeEnv {
        LargeEnv { vars: t.env_vars, bytes: t.env_bytes, ev, count_max: 0, bytes_max: 0, total: 0 }
    }

    pub fn feed(&mut self, s: &Spawn) {
        let Some(e) = s.exec.as_ref().filter(|e| e.success && (e.env_count > self.vars || e.env_bytes > self.bytes)) else {
            return;
        };
        self.ev.add(s.index as u64, s);
        self.count_max = self.count_max.max(e.env_count);
        self.bytes_max = self.bytes_max.max(e.env_bytes);
        self.total = self.total.saturating_add(e.env_bytes);
    }

    pub fn conclude(&self, t: &Thresholds) -> Option<Finding> {
        let n = self.ev.total;
        if n == 0 {
            return None;
        }
        let (count_max, bytes_max, total) = (self.count_max, self.bytes_max, self.total);
        let message = format!(
            "{n} spawn{} passed a large environment to the child: up to {count_max} variables and {} (thresholds: {} variables, {}); {} copied in all",
            plural(n),
            fmt_bytes(bytes_max),
            t.env_vars,
            fmt_bytes(t.env_bytes),
            fmt_bytes(total),
        );
        let advice = "Every exec copies the whole environment into the new process, and a Command with any env change builds a new envp for every spawn. Give children only what they need (Rust: env_clear() plus the needed variables, with an absolute program path so std keeps posix_spawn; Python: env={...}), or unset what the job does not use (module systems such as Lmod leave large _ModuleTable variables) before spawning. A real cluster job environment has 184 variables, 27 KiB; on a cluster node 10,000 spawns took 5.6 s with 51 variables and 8.7 s with 251.".to_string();
        let mut f = finding("SS004", Severity::Info, message, advice);
        f.numbers = BTreeMap::from([
            ("spawns".to_string(), n as f64),
            ("env_vars_max".to_string(), count_max as f64),
            ("env_bytes_max".to_string(), bytes_max as f64),
            ("env_bytes_total".to_string(), total as f64),
        ]);
        self.ev.fill(&mut f);
        Some(f)
    }
}

/// SS005, per spawning thread.
#[derive(Debug, Clone)]
struct ThreadTally {
    spawns: u64,
    /// Consecutive spawns of the thread where the second started before
    /// the first finished.
    overlapping: u64,
    busy: Nanos,
    /// Evidence by start time.
    ev: Evidence,
    /// The parent's name and pid.
    who: Option<(String, i32)>,
    runtimes: HashMap<Runtime, usize>,
}

/// SS005's tally: spawns per thread.
#[derive(Debug, Clone)]
pub(crate) struct Serial {
    cap: usize,
    threads: HashMap<(Option<usize>, i32), ThreadTally>,
    /// Most spawns of any thread so far.
    best: u64,
}

impl Serial {
    pub fn new(cap: usize) -> Serial {
        Serial { cap, threads: HashMap::new(), best: 0 }
    }

    pub fn feed(&mut self, s: &Spawn, ctx: &SpawnCtx) {
        let cap = self.cap;
        let t = self.threads.entry((s.parent, s.parent_tid)).or_insert_with(|| ThreadTally {
            spawns: 0,
            overlapping: 0,
            busy: 0,
            ev: Evidence::new(cap),
            who: None,
            runtimes: HashMap::new(),
        });
        t.spawns += 1;
        t.busy = t.busy.saturating_add(s.latency_ns.unwrap_or(0));
        t.ev.add(s.t_start, s);
        if let Some(name) = ctx.parent_name {
            if t.who.as_ref().is_none_or(|w| w.0 != name) {
                t.who = Some((name.to_string(), s.parent_pid));
            }
        }
        if let Some(r) = ctx.runtime {
            *t.runtimes.entry(r).or_default() += 1;
        }
        self.best = self.best.max(t.spawns);
    }

    pub fn pair(&mut self, key: (Option<usize>, i32), overlapping: bool) {
        if overlapping {
            if let Some(t) = self.threads.get_mut(&key) {
                t.overlapping += 1;
            }
        }
    }

    /// Drops the tallies of process `p`'s threads that can no longer be
    /// the busiest thread with enough spawns.
    pub fn retire(&mut self, p: usize, th: &Thresholds) {
        let best = self.best;
        self.threads.retain(|k, t| k.0 != Some(p) || (t.spawns >= th.serial_spawns && t.spawns >= best));
    }

    pub fn conclude(&self, t: &Thresholds, summary: &Summary) -> Option<Finding> {
        let total = summary.spawns;
        if total == 0 || total < t.serial_spawns {
            return None;
        }
        let (&(_, tid), th) =
            self.threads.iter().max_by_key(|(k, v)| (v.spawns, std::cmp::Reverse(k.1), std::cmp::Reverse(k.0)))?;
        let n = th.spawns;
        if n < t.serial_spawns || (n as f64) < t.serial_share * total as f64 {
            return None;
        }
        // One at a time: a spawn starts after the previous one of this thread finished.
        if th.overlapping * 10 > n {
            return None;
        }
        let busy = th.busy;
        let duration = summary.duration_ns.max(1);
        let share = busy as f64 / duration as f64;
        if share < t.serial_busy {
            return None;
        }
        let who = match &th.who {
            Some((name, pid)) => format!("thread {tid} of {}[{pid}]", basename(name)),
            None => format!("thread {tid}"),
        };
        let message = format!(
            "{n} of {total} spawns came one at a time from {who}: spawning kept it busy {} ({:.0}% of the recording, measured under tracing)",
            fmt_ns(busy),
            share.min(1.0) * 100.0
        );
        // In the runtime's terms when the stacks say which (issue 10).
        let how = crate::origin::advice::concurrent_spawning(main_runtime(&th.runtimes));
        let advice = format!(
            "Spawn from several threads if the work allows ({how}): the kernel work of a spawn runs on the calling thread. Reference: 20,000 Rust Command spawns on a 128-core cluster node took 43 s from one thread and 16.7 s from 4 threads."
        );
        let mut f = finding("SS005", Severity::Warning, message, advice);
        f.numbers = BTreeMap::from([
            ("spawns".to_string(), n as f64),
            ("share_of_spawns".to_string(), (n as f64 / total as f64 * 100.0).round() / 100.0),
            ("busy_ms".to_string(), ms(busy)),
            ("busy_share".to_string(), (share * 100.0).round() / 100.0),
            ("tid".to_string(), f64::from(tid)),
        ]);
        th.ev.fill(&mut f);
        // Measured: 4 threads instead of 1 cut 20,000 Command spawns from 43 s to
        // 16.7 s (61%); assume a similar cut of the busy time.
        f.savings_ns = Some((busy as f64 * 0.6) as Nanos);
        Some(f)
    }
}

/// SS009's tally: children that never managed to exec.
#[derive(Debug, Clone)]
pub(crate) struct ExecFailed {
    ev: Evidence,
    /// Program → (spawns, (index, errno) of the first).
    progs: BTreeMap<String, (u64, (usize, i32))>,
    latency: Nanos,
}

impl ExecFailed {
    pub fn new(ev: Evidence) -> ExecFailed {
        ExecFailed { ev, progs: BTreeMap::new(), latency: 0 }
    }

    pub fn feed(&mut self, s: &Spawn) {
        let Some(e) = s.exec.as_ref().filter(|e| !e.success) else { return };
        self.ev.add(s.index as u64, s);
        let last = e.failed_attempts.last().map_or(0, |x| x.result);
        let entry = self.progs.entry(basename(&e.path).to_string()).or_insert((0, (s.index, last)));
        entry.0 += 1;
        if s.index < entry.1 .0 {
            entry.1 = (s.index, last);
        }
        self.latency = self.latency.saturating_add(s.latency_ns.unwrap_or(0));
    }

    pub fn conclude(&self) -> Option<Finding> {
        let n = self.ev.total;
        if n == 0 {
            return None;
        }
        let descr: Vec<String> = self
            .progs
            .iter()
            .map(|(p, (n, (_, errno)))| {
                let err = errno_name(*errno).map_or_else(|| format!("errno {errno}"), str::to_string);
                format!("{p} ({n}×, {err})")
            })
            .collect();
        let message = format!("{n} spawn{} never exec'd successfully: {}", plural(n), list(&descr, 5));
        let advice =
            "Check the program names and PATH: each failed spawn still pays for the clone and every exec attempt.".to_string();
        let mut f = finding("SS009", Severity::Info, message, advice);
        f.numbers = BTreeMap::from([("spawns".to_string(), n as f64)]);
        self.ev.fill(&mut f);
        // The whole spawn was wasted.
        f.savings_ns = Some(self.latency);
        Some(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirs() {
        assert_eq!(dir_of("/usr/local/bin/ls"), "/usr/local/bin");
        assert_eq!(dir_of("/ls"), "/");
        assert_eq!(dir_of("ls"), ".");
        assert_eq!(fmt_avg(9, 3), "3");
        assert_eq!(fmt_avg(10, 4), "2.5");
    }
}
