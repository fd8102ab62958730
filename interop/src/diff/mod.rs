//! Comparison of two analysed traces: the same workload on two machines, or
//! before and after a change.
//!
//! Besides side-by-side numbers, the diff splits each spawn's latency into
//! parts the trace measures: the clone call itself (entry to the kernel's
//! fork event: the copy of the parent's address space for fork-style
//! spawns), the failed exec attempts of a PATH search, the successful exec,
//! and the rest (child set-up before exec, scheduling, tracer stops). The
//! verdict ranks those parts by how much of the difference in mean latency
//! each explains, and names the likely reason from the facts (spawn style,
//! code path, glibc version, parent RSS, environment size).

mod render;

use serde::Serialize;
use spawnscope_analyzer::{group_by, Analysis, CodePath, GroupBy, LatencyStats, Spawn, SpawnStyle};
use spawnscope_format::TracerMode;

use crate::fmt;

pub use render::{render_markdown, render_text};

/// One side of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// What the user called it (the file name).
    pub label: String,
    pub command: Vec<String>,
    pub tracer_mode: String,
    pub source: Option<String>,
    pub complete: bool,
}

/// A host fact on both sides.
#[derive(Debug, Clone, Serialize)]
pub struct FactRow {
    pub fact: &'static str,
    pub a: Option<String>,
    pub b: Option<String>,
    pub differs: bool,
}

/// How a value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    Count,
    Nanos,
    Bytes,
    /// A ratio such as attempts per spawn.
    Fraction,
    PerSecond,
}

/// A number on both sides.
#[derive(Debug, Clone, Serialize)]
pub struct ValueRow {
    pub name: String,
    pub unit: Unit,
    pub a: Option<f64>,
    pub b: Option<f64>,
    /// b / a when both are positive.
    pub ratio: Option<f64>,
}

impl ValueRow {
    fn new(name: impl Into<String>, unit: Unit, a: Option<f64>, b: Option<f64>) -> ValueRow {
        let ratio = match (a, b) {
            (Some(a), Some(b)) if a > 0.0 && b > 0.0 => Some(b / a),
            _ => None,
        };
        ValueRow {
            name: name.into(),
            unit,
            a,
            b,
            ratio,
        }
    }
    fn counts(name: impl Into<String>, a: u64, b: u64) -> ValueRow {
        ValueRow::new(name, Unit::Count, Some(a as f64), Some(b as f64))
    }
}

/// A latency distribution on both sides.
#[derive(Debug, Clone, Serialize)]
pub struct DistRow {
    pub name: String,
    pub a: Option<LatencyStats>,
    pub b: Option<LatencyStats>,
    pub ratio_p50: Option<f64>,
    pub ratio_p90: Option<f64>,
    pub ratio_p99: Option<f64>,
    pub ratio_mean: Option<f64>,
}

impl DistRow {
    fn new(name: impl Into<String>, a: Option<LatencyStats>, b: Option<LatencyStats>) -> DistRow {
        let a = a.filter(|s| s.count > 0);
        let b = b.filter(|s| s.count > 0);
        let r = |f: fn(&LatencyStats) -> u64| match (&a, &b) {
            (Some(x), Some(y)) => fmt::ratio_of(f(x), f(y)),
            _ => None,
        };
        DistRow {
            name: name.into(),
            ratio_p50: r(|s| s.p50),
            ratio_p90: r(|s| s.p90),
            ratio_p99: r(|s| s.p99),
            ratio_mean: r(|s| s.mean),
            a,
            b,
        }
    }
}

/// One part of the per-spawn latency, on both sides.
#[derive(Debug, Clone, Serialize)]
pub struct Factor {
    /// Stable id: `clone`, `path-search`, `exec`, `rest`.
    pub id: &'static str,
    pub title: &'static str,
    /// Mean ns per spawn.
    pub a_ns: u64,
    pub b_ns: u64,
    /// b - a.
    pub delta_ns: i64,
    /// Share of the difference in mean latency this part explains (same sign only).
    pub share: Option<f64>,
    /// Why, from the facts of both traces.
    pub message: String,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub a: Side,
    pub b: Side,
    /// One sentence: how much slower or faster B is and why.
    pub verdict: String,
    /// Latency parts, the one explaining most of the difference first.
    pub factors: Vec<Factor>,
    pub hosts: Vec<FactRow>,
    pub counts: Vec<ValueRow>,
    pub latency: Vec<DistRow>,
    pub path_search: Vec<ValueRow>,
    pub env: Vec<ValueRow>,
    pub parent_rss: Vec<ValueRow>,
    /// Caveats (different recording methods, missing facts).
    pub notes: Vec<String>,
}

fn side(label: &str, a: &Analysis) -> Side {
    Side {
        label: label.to_string(),
        command: a.header.command.clone(),
        tracer_mode: a.header.tracer.mode.as_str().to_string(),
        source: a.header.source.clone(),
        complete: a.complete,
    }
}

fn hosts(a: &Analysis, b: &Analysis) -> Vec<FactRow> {
    let (ha, hb) = (&a.header.host, &b.header.host);
    let row = |fact, x: Option<String>, y: Option<String>| {
        let differs = x.is_some() && y.is_some() && x != y;
        FactRow {
            fact,
            a: x,
            b: y,
            differs,
        }
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
        row(
            "kernel",
            ha.kernel_release.clone(),
            hb.kernel_release.clone(),
        ),
        row(
            "cpus",
            ha.cpus.map(|c| c.to_string()),
            hb.cpus.map(|c| c.to_string()),
        ),
        row(
            "memory",
            ha.memory_bytes.map(fmt::bytes),
            hb.memory_bytes.map(fmt::bytes),
        ),
        row("arch", ha.arch.clone(), hb.arch.clone()),
        row(
            "clone3",
            ha.clone3.map(|c| c.to_string()),
            hb.clone3.map(|c| c.to_string()),
        ),
        row("recorded by", recorded(a), recorded(b)),
    ]
}

fn count_rows(a: &Analysis, b: &Analysis) -> Vec<ValueRow> {
    let (sa, sb) = (&a.summary, &b.summary);
    let mut rows = vec![
        ValueRow::counts("spawns", sa.spawns, sb.spawns),
        ValueRow::counts("threads", sa.threads, sb.threads),
        ValueRow::counts("processes", sa.processes, sb.processes),
    ];
    if sa.failed_clones + sb.failed_clones > 0 {
        rows.push(ValueRow::counts(
            "failed clone calls",
            sa.failed_clones,
            sb.failed_clones,
        ));
    }
    let get = |m: &std::collections::BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
    for st in SpawnStyle::ALL {
        rows.push(ValueRow::counts(
            format!("{}-style", st.as_str()),
            get(&sa.styles, st.as_str()),
            get(&sb.styles, st.as_str()),
        ));
    }
    for cp in CodePath::ALL {
        let (x, y) = (
            get(&sa.code_paths, cp.as_str()),
            get(&sb.code_paths, cp.as_str()),
        );
        if x + y > 0 {
            rows.push(ValueRow::counts(cp.label(), x, y));
        }
    }
    let secs =
        |s: &spawnscope_analyzer::Summary| (s.duration_ns > 0).then_some(s.duration_ns as f64);
    rows.push(ValueRow::new(
        "recording length",
        Unit::Nanos,
        secs(sa),
        secs(sb),
    ));
    rows.push(ValueRow::new(
        "spawns per second",
        Unit::PerSecond,
        Some(sa.spawn_rate),
        Some(sb.spawn_rate),
    ));
    rows
}

fn latency_rows(a: &Analysis, b: &Analysis) -> Vec<DistRow> {
    let mut rows = vec![DistRow::new(
        "all spawns",
        Some(a.summary.latency.clone()),
        Some(b.summary.latency.clone()),
    )];
    for by in [GroupBy::Style, GroupBy::CodePath] {
        let (ga, gb) = (group_by(a, by), group_by(b, by));
        let mut keys: Vec<String> = ga.iter().chain(gb.iter()).map(|g| g.key.clone()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            let find = |gs: &[spawnscope_analyzer::Group]| {
                gs.iter().find(|g| g.key == k).map(|g| g.latency.clone())
            };
            let name = match by {
                GroupBy::CodePath => {
                    CodePath::from_name(&k).map_or(k.clone(), |c| c.label().to_string())
                }
                _ => format!("{k}-style"),
            };
            rows.push(DistRow::new(name, find(&ga), find(&gb)));
        }
    }
    let dist = |an: &Analysis, f: fn(&Spawn) -> Option<u64>| {
        let mut v: Vec<u64> = an.spawns.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| LatencyStats::from_values(&mut v))
    };
    rows.push(DistRow::new(
        "parent blocked",
        dist(a, |s| s.parent_blocked_ns),
        dist(b, |s| s.parent_blocked_ns),
    ));
    rows.push(DistRow::new(
        "clone call (entry → event)",
        dist(a, |s| s.clone_ns),
        dist(b, |s| s.clone_ns),
    ));
    rows
}

fn per_spawn(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

fn path_rows(a: &Analysis, b: &Analysis) -> Vec<ValueRow> {
    let (sa, sb) = (&a.summary, &b.summary);
    vec![
        ValueRow::counts(
            "failed exec attempts",
            sa.failed_exec_attempts,
            sb.failed_exec_attempts,
        ),
        ValueRow::counts(
            "spawns that searched PATH",
            sa.path_search_spawns,
            sb.path_search_spawns,
        ),
        ValueRow::new(
            "failed attempts per spawn",
            Unit::Fraction,
            per_spawn(sa.failed_exec_attempts, sa.spawns),
            per_spawn(sb.failed_exec_attempts, sb.spawns),
        ),
        ValueRow::new(
            "time in failed attempts",
            Unit::Nanos,
            Some(sa.failed_exec_ns as f64),
            Some(sb.failed_exec_ns as f64),
        ),
    ]
}

fn env_rows(a: &Analysis, b: &Analysis) -> Vec<ValueRow> {
    let (sa, sb) = (&a.summary, &b.summary);
    vec![
        ValueRow::counts("variables (max)", sa.env_count_max, sb.env_count_max),
        ValueRow::new(
            "bytes (max)",
            Unit::Bytes,
            Some(sa.env_bytes_max as f64),
            Some(sb.env_bytes_max as f64),
        ),
        ValueRow::new(
            "bytes (mean per exec)",
            Unit::Bytes,
            Some(sa.env_bytes_mean as f64),
            Some(sb.env_bytes_mean as f64),
        ),
        ValueRow::new(
            "bytes copied in total",
            Unit::Bytes,
            Some(sa.env_bytes_total as f64),
            Some(sb.env_bytes_total as f64),
        ),
    ]
}

/// RSS of the parent at fork-style spawns, KiB.
fn fork_rss(a: &Analysis) -> Vec<u64> {
    let mut v: Vec<u64> = a
        .spawns
        .iter()
        .filter(|s| s.style == SpawnStyle::Fork)
        .filter_map(|s| s.parent_mem.map(|m| m.rss_kb))
        .collect();
    v.sort_unstable();
    v
}

fn rss_rows(a: &Analysis, b: &Analysis) -> Vec<ValueRow> {
    let (ra, rb) = (fork_rss(a), fork_rss(b));
    let kib = |v: &[u64], f: fn(&[u64]) -> u64| (!v.is_empty()).then(|| (f(v) * 1024) as f64);
    let pte = |an: &Analysis| {
        an.spawns
            .iter()
            .filter(|s| s.style == SpawnStyle::Fork)
            .filter_map(|s| s.parent_mem.map(|m| m.pte_kb * 1024))
            .max()
    };
    vec![
        ValueRow::counts(
            "fork-style spawns with parent RSS",
            ra.len() as u64,
            rb.len() as u64,
        ),
        ValueRow::new(
            "parent RSS (median)",
            Unit::Bytes,
            kib(&ra, |v| v[v.len() / 2]),
            kib(&rb, |v| v[v.len() / 2]),
        ),
        ValueRow::new(
            "parent RSS (max)",
            Unit::Bytes,
            kib(&ra, |v| v[v.len() - 1]),
            kib(&rb, |v| v[v.len() - 1]),
        ),
        ValueRow::new(
            "parent page tables (max)",
            Unit::Bytes,
            pte(a).map(|x| x as f64),
            pte(b).map(|x| x as f64),
        ),
    ]
}

/// Mean per spawn of: clone call, failed attempts, successful exec, the rest.
#[derive(Debug, Default, Clone, Copy)]
struct Parts {
    n: u64,
    clone: u64,
    failed: u64,
    exec: u64,
    rest: u64,
    latency: u64,
}

fn parts(a: &Analysis) -> Parts {
    let mut sum = [0u128; 5];
    let mut n = 0u64;
    for s in &a.spawns {
        let Some(lat) = s.latency_ns else { continue };
        let clone = s.clone_ns.unwrap_or(0).min(lat);
        let failed = s.exec.as_ref().map_or(0, |e| e.failed_ns);
        let exec = s
            .child
            .and_then(|c| a.processes.get(c))
            .and_then(|p| {
                p.execs
                    .iter()
                    .find(|e| e.result == 0 && e.t_exit >= s.t_start)
            })
            .map_or(0, |e| spawnscope_analyzer::attempt_ns(e.t_entry, e.t_exit));
        let rest = lat.saturating_sub(clone + failed + exec);
        for (acc, v) in sum.iter_mut().zip([clone, failed, exec, rest, lat]) {
            *acc += u128::from(v);
        }
        n += 1;
    }
    if n == 0 {
        return Parts::default();
    }
    let m = |i: usize| (sum[i] / u128::from(n)) as u64;
    Parts {
        n,
        clone: m(0),
        failed: m(1),
        exec: m(2),
        rest: m(3),
        latency: m(4),
    }
}

fn share_of(an: &Analysis, pred: impl Fn(&Spawn) -> bool) -> String {
    let n = an.spawns.len();
    if n == 0 {
        return "0%".to_string();
    }
    let k = an.spawns.iter().filter(|s| pred(s)).count();
    format!("{}%", (k * 100 + n / 2) / n)
}

/// Why a trace has Rust std fallback spawns, from its glibc version.
fn fallback_reason(an: &Analysis) -> Option<String> {
    let g = an.header.host.glibc_version.as_deref()?;
    let v = an.header.glibc()?;
    if v < (2, 24) {
        Some(format!("its glibc {g} < 2.24"))
    } else if v < (2, 29) {
        Some(format!(
            "glibc {g} < 2.29 cannot posix_spawn with a current_dir"
        ))
    } else {
        None
    }
}

fn clone_message(a: &Analysis, b: &Analysis) -> String {
    let fork = |s: &Spawn| s.style == SpawnStyle::Fork;
    let (fa, fb) = (share_of(a, fork), share_of(b, fork));
    let mut m = if fa != fb {
        format!("B spawns fork-style {fb} of the time (A: {fa})")
    } else if fa == "0%" {
        "neither side spawns fork-style: there is no address space to copy".to_string()
    } else {
        format!("both spawn fork-style {fa} of the time")
    };
    let fallback = |an: &Analysis| {
        an.spawns
            .iter()
            .filter(|s| s.code_path == CodePath::RustStdForkFallback)
            .count()
    };
    let (xa, xb) = (fallback(a), fallback(b));
    if xb > xa {
        m.push_str(" through the Rust std fork+exec fallback");
        if let Some(r) = fallback_reason(b) {
            m.push_str(&format!(" ({r})"));
        }
    }
    let (ra, rb) = (fork_rss(a), fork_rss(b));
    if let Some(&max_b) = rb.last() {
        m.push_str(&format!(
            " from a parent with up to {} RSS",
            fmt::bytes(max_b * 1024)
        ));
        if let Some(&max_a) = ra.last() {
            m.push_str(&format!(" (A: {})", fmt::bytes(max_a * 1024)));
        }
    }
    m
}

fn fork_share(an: &Analysis) -> f64 {
    let n = an.spawns.len().max(1) as f64;
    an.spawns
        .iter()
        .filter(|s| s.style == SpawnStyle::Fork)
        .count() as f64
        / n
}

fn exec_message(a: &Analysis, b: &Analysis, pa: &Parts, pb: &Parts) -> String {
    let mut m = format!(
        "the successful exec takes {} (A: {})",
        fmt::duration(pb.exec),
        fmt::duration(pa.exec)
    );
    let (slower, faster, who) = if pb.exec >= pa.exec {
        (b, a, "B")
    } else {
        (a, b, "A")
    };
    if let Some(&rss) = fork_rss(slower).last() {
        if fork_share(slower) > fork_share(faster) {
            m.push_str(&format!(
                ": in {who}'s fork-style children exec first frees the copy of the parent's address space (up to {} RSS)",
                fmt::bytes(rss * 1024)
            ));
        }
    }
    let (ea, eb) = (a.summary.env_bytes_mean, b.summary.env_bytes_mean);
    if ea.max(eb) > 0 && (eb > ea * 2 || ea > eb * 2) {
        m.push_str(&format!(
            "; B's children get {} of environment (A: {})",
            fmt::bytes(eb),
            fmt::bytes(ea)
        ));
    }
    m
}

fn rest_message(a: &Analysis, b: &Analysis, pa: &Parts, pb: &Parts) -> String {
    let mut m = format!(
        "child set-up before exec, scheduling and tracer stops take {} (A: {})",
        fmt::duration(pb.rest),
        fmt::duration(pa.rest)
    );
    let strace = |an: &Analysis| an.header.source.as_deref() == Some("strace");
    if strace(b) && !strace(a) {
        m.push_str("; B was recorded with strace, which stops every child at every syscall");
    } else if strace(a) && !strace(b) {
        m.push_str("; A was recorded with strace, which stops every child at every syscall");
    }
    m
}

fn factors(a: &Analysis, b: &Analysis) -> (Vec<Factor>, Parts, Parts) {
    let (pa, pb) = (parts(a), parts(b));
    let total = pb.latency as i64 - pa.latency as i64;
    let attempts = |an: &Analysis| {
        per_spawn(an.summary.failed_exec_attempts, an.summary.spawns).unwrap_or(0.0)
    };
    let make = |id, title, x: u64, y: u64, message: String| {
        let delta = y as i64 - x as i64;
        // Shares only mean something when the sides really differ (> 10%).
        let r = pb.latency as f64 / pa.latency.max(1) as f64;
        let differ = pa.n > 0 && pb.n > 0 && !(1.0 / 1.1..1.1).contains(&r);
        let share =
            (differ && delta.signum() == total.signum()).then(|| delta as f64 / total as f64);
        Factor {
            id,
            title,
            a_ns: x,
            b_ns: y,
            delta_ns: delta,
            share,
            message,
        }
    };
    let mut f = vec![
        make(
            "clone",
            "clone call",
            pa.clone,
            pb.clone,
            clone_message(a, b),
        ),
        make(
            "path-search",
            "failed exec attempts",
            pa.failed,
            pb.failed,
            {
                let (xa, xb) = (attempts(a), attempts(b));
                if xa == 0.0 && xb == 0.0 {
                    "no failed exec attempts on either side".to_string()
                } else {
                    format!(
                    "B makes {xb:.1} failed exec attempts per spawn (A: {xa:.1}): a PATH search; exec absolute paths or put the right directory first in PATH"
                )
                }
            },
        ),
        make(
            "exec",
            "successful exec",
            pa.exec,
            pb.exec,
            exec_message(a, b, &pa, &pb),
        ),
        make(
            "rest",
            "child set-up and the rest",
            pa.rest,
            pb.rest,
            rest_message(a, b, &pa, &pb),
        ),
    ];
    // The part that explains most of the difference first.
    f.sort_by_key(|x| std::cmp::Reverse(if total >= 0 { x.delta_ns } else { -x.delta_ns }));
    (f, pa, pb)
}

fn verdict(
    a: &Analysis,
    b: &Analysis,
    f: &[Factor],
    pa: &Parts,
    pb: &Parts,
    hosts: &[FactRow],
) -> String {
    let mut parts: Vec<String> = Vec::new();
    match (pa.n, pb.n) {
        (0, 0) => parts.push("neither trace has a spawn with a measured latency".into()),
        (0, _) => parts.push("A has no spawn with a measured latency".into()),
        (_, 0) => parts.push("B has no spawn with a measured latency".into()),
        _ => {
            let r = pb.latency as f64 / pa.latency.max(1) as f64;
            let means = format!(
                "mean {} vs {}",
                fmt::duration(pb.latency),
                fmt::duration(pa.latency)
            );
            if r >= 1.1 {
                parts.push(format!(
                    "B is {} slower per spawn ({means})",
                    fmt::ratio(Some(r))
                ));
            } else if r <= 1.0 / 1.1 {
                parts.push(format!(
                    "B is {} faster per spawn ({means})",
                    fmt::ratio(Some(1.0 / r))
                ));
            } else {
                parts.push(format!("B and A spawn about equally fast ({means})"));
            }
            let big: Vec<&Factor> = f
                .iter()
                .filter(|x| x.share.is_some_and(|s| s >= 0.2))
                .take(2)
                .collect();
            if r >= 1.1 || r <= 1.0 / 1.1 {
                for x in big {
                    parts.push(x.message.clone());
                }
            }
        }
    }
    let (ca, cb) = (a.summary.spawns, b.summary.spawns);
    if ca > 0 && cb > 0 && cb * 2 >= ca * 3 {
        parts.push(format!(
            "B makes {} as many spawns ({cb} vs {ca})",
            fmt::ratio(fmt::ratio_of(ca, cb))
        ));
    } else if ca > 0 && cb > 0 && ca * 2 >= cb * 3 {
        parts.push(format!(
            "B makes {} fewer spawns ({cb} vs {ca})",
            fmt::ratio(fmt::ratio_of(cb, ca))
        ));
    }
    let differ: Vec<String> = hosts
        .iter()
        .filter(|h| h.differs && matches!(h.fact, "glibc" | "kernel" | "cpus"))
        .map(|h| {
            format!(
                "{} {} vs {}",
                h.fact,
                h.b.as_deref().unwrap_or("?"),
                h.a.as_deref().unwrap_or("?")
            )
        })
        .collect();
    if !differ.is_empty() {
        parts.push(format!("the hosts differ: {}", differ.join(", ")));
    }
    parts.join("; ")
}

fn notes(a: &Analysis, b: &Analysis) -> Vec<String> {
    let mut n = Vec::new();
    let how = |an: &Analysis| match &an.header.source {
        Some(s) => format!("imported from {s}"),
        None => format!("recorded in {} mode", an.header.tracer.mode.as_str()),
    };
    if a.header.tracer.mode != b.header.tracer.mode || a.header.source != b.header.source {
        n.push(format!(
            "A was {} and B {}: tracer overhead differs, so compare latencies with care (record both the same way)",
            how(a),
            how(b)
        ));
    }
    for (l, an) in [("A", a), ("B", b)] {
        if an.header.tracer.mode == TracerMode::Events {
            n.push(format!("{l} was recorded in events mode: its latencies are lower bounds and failed exec attempts are missing"));
        }
        if !an.complete {
            n.push(format!("{l} is incomplete (the recording was cut short)"));
        }
        if an.header.host.glibc_version.is_none() {
            n.push(format!(
                "{l}'s glibc version is unknown (for an strace import, pass --glibc)"
            ));
        }
    }
    n
}

/// Compares two analyses; `labels` name them in the output (e.g. file names).
pub fn diff(a: &Analysis, b: &Analysis, labels: (&str, &str)) -> Diff {
    let hosts = hosts(a, b);
    let (factors, pa, pb) = factors(a, b);
    let verdict = verdict(a, b, &factors, &pa, &pb, &hosts);
    Diff {
        a: side(labels.0, a),
        b: side(labels.1, b),
        verdict,
        factors,
        counts: count_rows(a, b),
        latency: latency_rows(a, b),
        path_search: path_rows(a, b),
        env: env_rows(a, b),
        parent_rss: rss_rows(a, b),
        notes: notes(a, b),
        hosts,
    }
}
