//! The side-by-side tables of a diff.

use crate::{group_by, Analysis, CodePath, GroupBy, LatencyStats, SpawnStyle};

use super::{DistRow, FactRow, Side, Unit, ValueRow};
use spawnscope_units as fmt;

pub(super) fn side(label: &str, a: &Analysis) -> Side {
    Side {
        label: label.to_string(),
        command: a.header.command.clone(),
        tracer_mode: a.header.tracer.mode.as_str().to_string(),
        source: a.header.source.clone(),
        complete: a.complete,
    }
}

pub(super) fn hosts(a: &Analysis, b: &Analysis) -> Vec<FactRow> {
    let (ha, hb) = (&a.header.host, &b.header.host);
    let row = |fact, x: Option<String>, y: Option<String>| {
        let differs = x.is_some() && y.is_some() && x != y;
        FactRow { fact, a: x, b: y, differs }
    };
    let recorded = |an: &Analysis| {
        let m = an.header.tracer.mode.as_str();
        Some(match &an.header.source {
            Some(s) => format!("{m} ({s})"),
            None => m.to_string(),
        })
    };
    vec![
        row("hostname", ha.hostname.clone(), hb.hostname.clone()),
        row("glibc", ha.glibc_version.clone(), hb.glibc_version.clone()),
        row("kernel", ha.kernel_release.clone(), hb.kernel_release.clone()),
        row("cpus", ha.cpus.map(|c| c.to_string()), hb.cpus.map(|c| c.to_string())),
        row("memory", ha.memory_bytes.map(fmt::bytes), hb.memory_bytes.map(fmt::bytes)),
        row("arch", ha.arch.clone(), hb.arch.clone()),
        row("clone3", ha.clone3.map(|c| c.to_string()), hb.clone3.map(|c| c.to_string())),
        row("recorded by", recorded(a), recorded(b)),
    ]
}

pub(super) fn count_rows(a: &Analysis, b: &Analysis) -> Vec<ValueRow> {
    let (sa, sb) = (&a.summary, &b.summary);
    let mut rows = vec![
        ValueRow::counts("spawns", sa.spawns, sb.spawns),
        ValueRow::counts("threads", sa.threads, sb.threads),
        ValueRow::counts("processes", sa.processes, sb.processes),
    ];
    if sa.failed_clones + sb.failed_clones > 0 {
        rows.push(ValueRow::counts("failed clone calls", sa.failed_clones, sb.failed_clones));
    }
    let get = |m: &std::collections::BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
    for st in SpawnStyle::ALL {
        rows.push(ValueRow::counts(format!("{}-style", st.as_str()), get(&sa.styles, st.as_str()), get(&sb.styles, st.as_str())));
    }
    for cp in CodePath::ALL {
        let (x, y) = (get(&sa.code_paths, cp.as_str()), get(&sb.code_paths, cp.as_str()));
        if x + y > 0 {
            rows.push(ValueRow::counts(cp.label(), x, y));
        }
    }
    let secs = |s: &crate::Summary| (s.duration_ns > 0).then_some(s.duration_ns as f64);
    rows.push(ValueRow::new("recording length", Unit::Nanos, secs(sa), secs(sb)));
    rows.push(ValueRow::new("spawns per second", Unit::PerSecond, Some(sa.spawn_rate), Some(sb.spawn_rate)));
    rows
}

pub(super) fn latency_rows(a: &Analysis, b: &Analysis) -> Vec<DistRow> {
    let mut rows = vec![DistRow::new("all spawns", Some(a.summary.latency.clone()), Some(b.summary.latency.clone()))];
    for by in [GroupBy::Style, GroupBy::CodePath] {
        let (ga, gb) = (group_by(a, by), group_by(b, by));
        let mut keys: Vec<String> = ga.iter().chain(gb.iter()).map(|g| g.key.clone()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            let find = |gs: &[crate::Group]| gs.iter().find(|g| g.key == k).map(|g| g.latency.clone());
            let name = match by {
                GroupBy::CodePath => CodePath::from_name(&k).map_or(k.clone(), |c| c.label().to_string()),
                _ => format!("{k}-style"),
            };
            rows.push(DistRow::new(name, find(&ga), find(&gb)));
        }
    }
    let (clone_a, blocked_a) = crate::spawn_times(a);
    let (clone_b, blocked_b) = crate::spawn_times(b);
    let some = |l: LatencyStats| (l.count > 0).then_some(l);
    rows.push(DistRow::new("parent blocked", some(blocked_a), some(blocked_b)));
    rows.push(DistRow::new("clone call (entry → event)", some(clone_a), some(clone_b)));
    rows
}

pub(super) fn per_spawn(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

pub(super) fn path_rows(a: &Analysis, b: &Analysis) -> Vec<ValueRow> {
    let (sa, sb) = (&a.summary, &b.summary);
    vec![
        ValueRow::counts("failed exec attempts", sa.failed_exec_attempts, sb.failed_exec_attempts),
        ValueRow::counts("spawns that searched PATH", sa.path_search_spawns, sb.path_search_spawns),
        ValueRow::new(
            "failed attempts per spawn",
            Unit::Fraction,
            per_spawn(sa.failed_exec_attempts, sa.spawns),
            per_spawn(sb.failed_exec_attempts, sb.spawns),
        ),
        ValueRow::new("time in failed attempts", Unit::Nanos, Some(sa.failed_exec_ns as f64), Some(sb.failed_exec_ns as f64)),
    ]
}

pub(super) fn env_rows(a: &Analysis, b: &Analysis) -> Vec<ValueRow> {
    let (sa, sb) = (&a.summary, &b.summary);
    vec![
        ValueRow::counts("variables (max)", sa.env_count_max, sb.env_count_max),
        ValueRow::new("bytes (max)", Unit::Bytes, Some(sa.env_bytes_max as f64), Some(sb.env_bytes_max as f64)),
        ValueRow::new("bytes (mean per exec)", Unit::Bytes, Some(sa.env_bytes_mean as f64), Some(sb.env_bytes_mean as f64)),
        ValueRow::new("bytes copied in total", Unit::Bytes, Some(sa.env_bytes_total as f64), Some(sb.env_bytes_total as f64)),
    ]
}

/// The parent's RSS at fork-style spawns (KiB): how many spawns recorded
/// it, the upper median, the largest; and the largest page tables (bytes).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ForkRss {
    pub count: u64,
    pub median: Option<u64>,
    pub max: Option<u64>,
    pub pte_max: Option<u64>,
}

pub(super) fn fork_rss(a: &Analysis) -> ForkRss {
    if let Some(ag) = &a.aggregate {
        let d = &ag.diff;
        let stats = d.fork_rss.stats();
        return ForkRss {
            count: d.fork_rss.count(),
            median: d.fork_rss.upper_median(),
            max: (stats.count > 0).then_some(stats.max),
            pte_max: d.fork_pte_max,
        };
    }
    let forks = || a.spawns.iter().filter(|s| s.style == SpawnStyle::Fork).filter_map(|s| s.parent_mem);
    let mut v: Vec<u64> = forks().map(|m| m.rss_kb).collect();
    v.sort_unstable();
    ForkRss {
        count: v.len() as u64,
        median: v.get(v.len() / 2).copied(),
        max: v.last().copied(),
        pte_max: forks().map(|m| m.pte_kb.saturating_mul(1024)).max(),
    }
}

pub(super) fn rss_rows(a: &Analysis, b: &Analysis) -> Vec<ValueRow> {
    let (ra, rb) = (fork_rss(a), fork_rss(b));
    let kib = |v: Option<u64>| v.map(|k| k.saturating_mul(1024) as f64);
    vec![
        ValueRow::counts("fork-style spawns with parent RSS", ra.count, rb.count),
        ValueRow::new("parent RSS (median)", Unit::Bytes, kib(ra.median), kib(rb.median)),
        ValueRow::new("parent RSS (max)", Unit::Bytes, kib(ra.max), kib(rb.max)),
        ValueRow::new("parent page tables (max)", Unit::Bytes, ra.pte_max.map(|x| x as f64), rb.pte_max.map(|x| x as f64)),
    ]
}
