//! Rules about measurable costs: fork from a large parent, PATH search,
//! large environments, serialised spawning, failed execs.

use std::collections::{BTreeMap, HashMap};

use spawnscope_format::flags::errno_name;
use spawnscope_format::Nanos;

use super::{finding, fmt_bytes, fmt_ns, list, ms};
use crate::model::{Analysis, CodePath, Finding, Severity, Spawn, SpawnStyle};
use crate::stats::{basename, sat_sum};

/// Clone cost of a vfork-style spawn when the trace has none to compare with
/// (measured on the reference machine: posix_spawn's clone takes < 0.1 ms).
const VFORK_CLONE_NS: Nanos = 100_000;

/// SS001: fork-style spawns from a large parent.
pub fn fork_large_parent(a: &Analysis) -> Option<Finding> {
    let t = &a.thresholds;
    let large = |s: &&Spawn| {
        s.style == SpawnStyle::Fork
            && s.parent_mem
                .is_some_and(|m| m.rss_kb >= t.fork_parent_rss_mib.saturating_mul(1024) || m.pte_kb >= t.fork_parent_pte_kib)
    };
    let ev: Vec<&Spawn> = a.spawns.iter().filter(large).collect();
    if ev.is_empty() {
        return None;
    }
    // What a vfork-style spawn costs here, if the trace has some.
    let mut vf: Vec<Nanos> = a.spawns.iter().filter(|s| s.style == SpawnStyle::Vfork).filter_map(|s| s.clone_ns).collect();
    vf.sort_unstable();
    let baseline = vf.get(vf.len() / 2).copied().unwrap_or(VFORK_CLONE_NS);
    let mut clone_total: Nanos = 0;
    let mut extra_total: Nanos = 0;
    let mut estimated = 0u64;
    let (mut rss_max, mut pte_max) = (0u64, 0u64);
    for s in &ev {
        let m = s.parent_mem.unwrap_or_default();
        rss_max = rss_max.max(m.rss_kb);
        pte_max = pte_max.max(m.pte_kb);
        match s.clone_ns {
            Some(c) => {
                clone_total = clone_total.saturating_add(c);
                extra_total = extra_total.saturating_add(c.saturating_sub(baseline));
            }
            None => {
                estimated += 1;
                extra_total =
                    extra_total.saturating_add((m.rss_kb as f64 / (1024.0 * 1024.0) * t.fork_ms_per_gib * 1e6) as Nanos);
            }
        }
    }
    let n = ev.len() as u64;
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
            if vf.is_empty() { ", typical" } else { " in this trace" },
        )
    };
    let message = format!(
        "{n} fork-style spawn{} from parents with up to {} RSS and {} of page tables: the kernel copies the page tables on every fork; {cost}",
        plural(n),
        fmt_bytes(rss_max.saturating_mul(1024)),
        fmt_bytes(pte_max.saturating_mul(1024)),
    );
    let mut advice = Vec::new();
    let paths: Vec<CodePath> = ev.iter().map(|s| s.code_path).collect();
    if paths.contains(&CodePath::RustStdForkFallback) {
        advice.push("Rust's Command took its fork fallback (see SS002): remove what forces it and std spawns with posix_spawn, whose cost does not grow with the parent's memory.".to_string());
    }
    let python = ev.iter().any(|s| parent_is(a, s, "python"));
    if python && paths.contains(&CodePath::ForkExec) {
        advice.push("Python subprocess forks when preexec_fn is set: drop it (start_new_session=, process_group=, user=, group=, extra_groups= keep the vfork path).".to_string());
    }
    if paths.iter().any(|p| matches!(p, CodePath::ForkExec | CodePath::Unknown)) {
        advice.push("Spawn vfork-style instead: posix_spawn(3) (glibc >= 2.24 uses CLONE_VM|CLONE_VFORK), or fork a small helper process early, while the parent is small, and spawn from it.".to_string());
    }
    if let Some(x) = crate::origin::advice::fork_style(crate::origin::advice::runtime_of(a, ev.iter().copied())) {
        advice.push(x.to_string());
    }
    if paths.contains(&CodePath::ForkNoExec) {
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
    f.evidence = ev.iter().map(|s| s.index).collect();
    f.savings_ns = Some(extra_total);
    Some(f)
}

fn parent_is(a: &Analysis, s: &Spawn, prefix: &str) -> bool {
    s.parent.and_then(|p| a.processes.get(p)).is_some_and(|p| basename(&p.name).starts_with(prefix))
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// SS003: PATH search.
pub fn path_search(a: &Analysis) -> Option<Finding> {
    let t = &a.thresholds;
    let ev: Vec<&Spawn> = a.spawns.iter().filter(|s| s.exec.as_ref().is_some_and(|e| !e.failed_attempts.is_empty())).collect();
    let failed: u64 = sat_sum(ev.iter().map(|s| failed_of(s)));
    if ev.is_empty() || failed < t.path_search_failed {
        return None;
    }
    let failed_ns: Nanos = sat_sum(ev.iter().filter_map(|s| s.exec.as_ref()).map(|e| e.failed_ns));
    // Per program: spawns, failed attempts, directories tried, where it was found.
    let mut progs: BTreeMap<String, (u64, u64, Vec<String>, Option<String>)> = BTreeMap::new();
    for s in &ev {
        let e = s.exec.as_ref().expect("filtered above");
        let entry = progs.entry(basename(&e.path).to_string()).or_default();
        entry.0 += 1;
        entry.1 += e.failed_attempts.len() as u64;
        if entry.2.is_empty() {
            entry.2 = e.failed_attempts.iter().map(|x| dir_of(&x.path).to_string()).collect();
        }
        if e.success && entry.3.is_none() {
            entry.3 = Some(e.path.clone());
        }
    }
    let mut ranked: Vec<_> = progs.into_iter().collect();
    ranked.sort_by(|x, y| y.1 .1.cmp(&x.1 .1).then_with(|| x.0.cmp(&y.0)));
    let descr: Vec<String> = ranked
        .iter()
        .map(|(name, (n, f, dirs, _))| {
            format!("{name} ({n} spawn{}, {} failed each, tried {})", plural(*n), fmt_avg(*f, *n), list(dirs, 4))
        })
        .collect();
    let found: Vec<String> = ranked.iter().filter_map(|(_, v)| v.3.clone()).take(3).collect();
    let severity = if failed_ns as f64 >= t.path_search_ms * 1e6 { Severity::Warning } else { Severity::Info };
    let n = ev.len() as u64;
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
    f.evidence = ev.iter().map(|s| s.index).collect();
    // Every failed attempt is time the child (and, vfork-style, its parent)
    // waits before the program starts.
    f.savings_ns = Some(failed_ns);
    Some(f)
}

fn failed_of(s: &Spawn) -> u64 {
    s.exec.as_ref().map_or(0, |e| e.failed_attempts.len() as u64)
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

/// SS004: large environment.
pub fn large_env(a: &Analysis) -> Option<Finding> {
    let t = &a.thresholds;
    let ev: Vec<&Spawn> = a
        .spawns
        .iter()
        .filter(|s| s.exec.as_ref().is_some_and(|e| e.success && (e.env_count > t.env_vars || e.env_bytes > t.env_bytes)))
        .collect();
    if ev.is_empty() {
        return None;
    }
    let execs = || ev.iter().filter_map(|s| s.exec.as_ref());
    let count_max = execs().map(|e| e.env_count).max().unwrap_or(0);
    let bytes_max = execs().map(|e| e.env_bytes).max().unwrap_or(0);
    let total: u64 = sat_sum(execs().map(|e| e.env_bytes));
    let n = ev.len() as u64;
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
    f.evidence = ev.iter().map(|s| s.index).collect();
    Some(f)
}

/// SS005: many spawns, one at a time, from one thread.
pub fn serial_spawns(a: &Analysis) -> Option<Finding> {
    let t = &a.thresholds;
    let total = a.spawns.len() as u64;
    if total == 0 || total < t.serial_spawns {
        return None;
    }
    let mut by_thread: HashMap<(Option<usize>, i32), Vec<&Spawn>> = HashMap::new();
    for s in &a.spawns {
        by_thread.entry((s.parent, s.parent_tid)).or_default().push(s);
    }
    let ((parent, tid), spawns) = by_thread.into_iter().max_by_key(|(k, v)| (v.len(), std::cmp::Reverse(k.1)))?;
    let n = spawns.len() as u64;
    if n < t.serial_spawns || (n as f64) < t.serial_share * total as f64 {
        return None;
    }
    // One at a time: a spawn starts after the previous one of this thread finished.
    let mut sorted = spawns.clone();
    sorted.sort_by_key(|s| s.t_start);
    let overlapping = sorted.windows(2).filter(|w| w[0].t_done.is_none_or(|d| d > w[1].t_start)).count() as u64;
    if overlapping * 10 > n {
        return None;
    }
    let busy: Nanos = sat_sum(spawns.iter().filter_map(|s| s.latency_ns));
    let duration = a.summary.duration_ns.max(1);
    let share = busy as f64 / duration as f64;
    if share < t.serial_busy {
        return None;
    }
    let who = match parent.and_then(|p| a.processes.get(p)) {
        Some(p) => format!("thread {tid} of {}[{}]", basename(&p.name), p.pid),
        None => format!("thread {tid}"),
    };
    let message = format!(
        "{n} of {total} spawns came one at a time from {who}: spawning kept it busy {} ({:.0}% of the recording, measured under tracing)",
        fmt_ns(busy),
        share.min(1.0) * 100.0
    );
    // In the runtime's terms when the stacks say which (issue 10).
    let how = crate::origin::advice::concurrent_spawning(crate::origin::advice::runtime_of(a, sorted.iter().copied()));
    let advice = format!("Spawn from several threads if the work allows ({how}): the kernel work of a spawn runs on the calling thread. Reference: 20,000 Rust Command spawns on a 128-core cluster node took 43 s from one thread and 16.7 s from 4 threads.");
    let mut f = finding("SS005", Severity::Warning, message, advice);
    f.numbers = BTreeMap::from([
        ("spawns".to_string(), n as f64),
        ("share_of_spawns".to_string(), (n as f64 / total as f64 * 100.0).round() / 100.0),
        ("busy_ms".to_string(), ms(busy)),
        ("busy_share".to_string(), (share * 100.0).round() / 100.0),
        ("tid".to_string(), f64::from(tid)),
    ]);
    f.evidence = sorted.iter().map(|s| s.index).collect();
    // Measured: 4 threads instead of 1 cut 20,000 Command spawns from 43 s to
    // 16.7 s (61%); assume a similar cut of the busy time.
    f.savings_ns = Some((busy as f64 * 0.6) as Nanos);
    Some(f)
}

/// SS009: children that never managed to exec.
pub fn exec_failed(a: &Analysis) -> Option<Finding> {
    let ev: Vec<&Spawn> = a.spawns.iter().filter(|s| s.exec.as_ref().is_some_and(|e| !e.success)).collect();
    if ev.is_empty() {
        return None;
    }
    let mut progs: BTreeMap<String, (u64, i32)> = BTreeMap::new();
    for s in &ev {
        let e = s.exec.as_ref().expect("filtered above");
        let last = e.failed_attempts.last().map_or(0, |x| x.result);
        let entry = progs.entry(basename(&e.path).to_string()).or_insert((0, last));
        entry.0 += 1;
    }
    let descr: Vec<String> = progs
        .iter()
        .map(|(p, (n, errno))| {
            let err = errno_name(*errno).map_or_else(|| format!("errno {errno}"), str::to_string);
            format!("{p} ({n}×, {err})")
        })
        .collect();
    let n = ev.len() as u64;
    let message = format!("{n} spawn{} never exec'd successfully: {}", plural(n), list(&descr, 5));
    let advice =
        "Check the program names and PATH: each failed spawn still pays for the clone and every exec attempt.".to_string();
    let mut f = finding("SS009", Severity::Info, message, advice);
    f.numbers = BTreeMap::from([("spawns".to_string(), n as f64)]);
    f.evidence = ev.iter().map(|s| s.index).collect();
    // The whole spawn was wasted.
    f.savings_ns = Some(sat_sum(ev.iter().filter_map(|s| s.latency_ns)));
    Some(f)
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
