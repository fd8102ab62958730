//! Where the time goes, and the verdict: each side's mean spawn latency split
//! into the parts the trace measures, ranked by how much of the difference
//! each explains, with the likely reason named from the facts.

use crate::{Analysis, CodePath, SpawnStyle};
use spawnscope_format::TracerMode;

use super::rows::{fork_rss, per_spawn};
use super::{FactRow, Factor};
use spawnscope_units as fmt;

/// Mean per spawn of: clone call, failed attempts, successful exec, the rest.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Parts {
    n: u64,
    clone: u64,
    failed: u64,
    exec: u64,
    rest: u64,
    latency: u64,
}

pub(super) fn parts(a: &Analysis) -> Parts {
    if let Some(ag) = &a.aggregate {
        return parts_of(ag.diff.parts, ag.diff.parts_n);
    }
    let mut sum = [0u128; 5];
    let mut n = 0u64;
    for s in &a.spawns {
        let Some(lat) = s.latency_ns else { continue };
        let clone = s.clone_ns.unwrap_or(0).min(lat);
        let failed = s.exec.as_ref().map_or(0, |e| e.failed_ns);
        let exec = s
            .child
            .and_then(|c| a.processes.get(c))
            .and_then(|p| p.execs.iter().find(|e| e.result == 0 && e.t_exit >= s.t_start))
            .map_or(0, |e| crate::attempt_ns(e.t_entry, e.t_exit));
        let rest = lat.saturating_sub(clone.saturating_add(failed).saturating_add(exec));
        for (acc, v) in sum.iter_mut().zip([clone, failed, exec, rest, lat]) {
            *acc += u128::from(v);
        }
        n += 1;
    }
    parts_of(sum, n)
}

fn parts_of(sum: [u128; 5], n: u64) -> Parts {
    if n == 0 {
        return Parts::default();
    }
    let m = |i: usize| (sum[i] / u128::from(n)) as u64;
    Parts { n, clone: m(0), failed: m(1), exec: m(2), rest: m(3), latency: m(4) }
}

/// Fork-style spawns, of how many.
fn forks(an: &Analysis) -> (u64, u64) {
    (an.summary.styles.get(SpawnStyle::Fork.as_str()).copied().unwrap_or(0), an.summary.spawns)
}

/// The share of fork-style spawns, rounded, as "40%".
fn fork_percent(an: &Analysis) -> String {
    let (k, n) = forks(an);
    if n == 0 {
        return "0%".to_string();
    }
    format!("{}%", (k * 100 + n / 2) / n)
}

/// Why a trace has Rust std fallback spawns, from its glibc version.
fn fallback_reason(an: &Analysis) -> Option<String> {
    let g = an.header.host.glibc_version.as_deref()?;
    let v = an.header.glibc()?;
    if v < (2, 24) {
        Some(format!("its glibc {g} < 2.24"))
    } else if v < (2, 29) {
        Some(format!("glibc {g} < 2.29 cannot posix_spawn with a current_dir"))
    } else {
        None
    }
}

fn clone_message(a: &Analysis, b: &Analysis) -> String {
    let (fa, fb) = (fork_percent(a), fork_percent(b));
    let mut m = if fa != fb {
        format!("B spawns fork-style {fb} of the time (A: {fa})")
    } else if fa == "0%" {
        "neither side spawns fork-style: there is no address space to copy".to_string()
    } else {
        format!("both spawn fork-style {fa} of the time")
    };
    let fallback = |an: &Analysis| an.summary.code_paths.get(CodePath::RustStdForkFallback.as_str()).copied().unwrap_or(0);
    let (xa, xb) = (fallback(a), fallback(b));
    if xb > xa {
        m.push_str(" through the Rust std fork+exec fallback");
        if let Some(r) = fallback_reason(b) {
            m.push_str(&format!(" ({r})"));
        }
    }
    let (ra, rb) = (fork_rss(a), fork_rss(b));
    if let Some(max_b) = rb.max {
        m.push_str(&format!(" from a parent with up to {} RSS", fmt::bytes(max_b.saturating_mul(1024))));
        if let Some(max_a) = ra.max {
            m.push_str(&format!(" (A: {})", fmt::bytes(max_a.saturating_mul(1024))));
        }
    }
    m
}

fn fork_share(an: &Analysis) -> f64 {
    let (k, n) = forks(an);
    k as f64 / n.max(1) as f64
}

fn exec_message(a: &Analysis, b: &Analysis, pa: &Parts, pb: &Parts) -> String {
    let mut m = format!("the successful exec takes {} (A: {})", fmt::duration(pb.exec), fmt::duration(pa.exec));
    let (slower, faster, who, s_ns, f_ns) =
        if pb.exec >= pa.exec { (b, a, "B", pb.exec, pa.exec) } else { (a, b, "A", pa.exec, pb.exec) };
    // Only worth saying when the exec really is slower there (by a fifth).
    if let Some(rss) = fork_rss(slower).max.filter(|_| s_ns.saturating_mul(5) > f_ns.saturating_mul(6)) {
        if fork_share(slower) > fork_share(faster) {
            m.push_str(&format!(
                ": in {who}'s fork-style children exec first frees the copy of the parent's address space (up to {} RSS)",
                fmt::bytes(rss.saturating_mul(1024))
            ));
        }
    }
    let (ea, eb) = (a.summary.env_bytes_mean, b.summary.env_bytes_mean);
    if ea.max(eb) > 0 && (eb > ea * 2 || ea > eb * 2) {
        m.push_str(&format!("; B's children get {} of environment (A: {})", fmt::bytes(eb), fmt::bytes(ea)));
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
    // Only a reason where the strace side is the slower one.
    if strace(b) && !strace(a) && pb.rest > pa.rest {
        m.push_str("; B was recorded with strace, which stops every child at every syscall");
    } else if strace(a) && !strace(b) && pa.rest > pb.rest {
        m.push_str("; A was recorded with strace, which stops every child at every syscall");
    }
    m
}

pub(super) fn factors(a: &Analysis, b: &Analysis) -> (Vec<Factor>, Parts, Parts) {
    let (pa, pb) = (parts(a), parts(b));
    let total = pb.latency as i64 - pa.latency as i64;
    let attempts = |an: &Analysis| per_spawn(an.summary.failed_exec_attempts, an.summary.spawns).unwrap_or(0.0);
    let make = |id, title, x: u64, y: u64, message: String| {
        let delta = y as i64 - x as i64;
        // Shares only mean something when the sides really differ (> 10%).
        let r = pb.latency as f64 / pa.latency.max(1) as f64;
        let differ = pa.n > 0 && pb.n > 0 && !(1.0 / 1.1..1.1).contains(&r);
        let share = (differ && delta.signum() == total.signum()).then(|| delta as f64 / total as f64);
        Factor { id, title, a_ns: x, b_ns: y, delta_ns: delta, share, message }
    };
    let mut f = vec![
        make("clone", "clone call", pa.clone, pb.clone, clone_message(a, b)),
        make("path-search", "failed exec attempts", pa.failed, pb.failed, {
            let (xa, xb) = (attempts(a), attempts(b));
            if xa == 0.0 && xb == 0.0 {
                "no failed exec attempts on either side".to_string()
            } else {
                format!(
                    "B makes {xb:.1} failed exec attempts per spawn (A: {xa:.1}): a PATH search; exec absolute paths or put the right directory first in PATH"
                )
            }
        }),
        make("exec", "successful exec", pa.exec, pb.exec, exec_message(a, b, &pa, &pb)),
        make("rest", "child set-up and the rest", pa.rest, pb.rest, rest_message(a, b, &pa, &pb)),
    ];
    // The part that explains most of the difference first.
    f.sort_by_key(|x| std::cmp::Reverse(if total >= 0 { x.delta_ns } else { -x.delta_ns }));
    (f, pa, pb)
}

pub(super) fn verdict(a: &Analysis, b: &Analysis, f: &[Factor], pa: &Parts, pb: &Parts, hosts: &[FactRow]) -> String {
    let mut parts: Vec<String> = Vec::new();
    match (pa.n, pb.n) {
        (0, 0) => parts.push("neither trace has a spawn with a measured latency".into()),
        (0, _) => parts.push("A has no spawn with a measured latency".into()),
        (_, 0) => parts.push("B has no spawn with a measured latency".into()),
        _ => {
            let r = pb.latency as f64 / pa.latency.max(1) as f64;
            let means = format!("mean {} vs {}", fmt::duration(pb.latency), fmt::duration(pa.latency));
            if r >= 1.1 {
                parts.push(format!("B is {} slower per spawn ({means})", fmt::ratio(Some(r))));
            } else if r <= 1.0 / 1.1 {
                parts.push(format!("B is {} faster per spawn ({means})", fmt::ratio(Some(1.0 / r))));
            } else {
                parts.push(format!("B and A spawn about equally fast ({means})"));
            }
            let big: Vec<&Factor> = f.iter().filter(|x| x.share.is_some_and(|s| s >= 0.2)).take(2).collect();
            if r >= 1.1 || r <= 1.0 / 1.1 {
                for x in big {
                    parts.push(x.message.clone());
                }
            }
        }
    }
    let (ca, cb) = (a.summary.spawns, b.summary.spawns);
    if ca > 0 && cb > 0 && cb * 2 >= ca * 3 {
        parts.push(format!("B makes {} as many spawns ({cb} vs {ca})", fmt::ratio(fmt::ratio_of(ca, cb))));
    } else if ca > 0 && cb > 0 && ca * 2 >= cb * 3 {
        parts.push(format!("B makes {} fewer spawns ({cb} vs {ca})", fmt::ratio(fmt::ratio_of(cb, ca))));
    }
    let differ: Vec<String> = hosts
        .iter()
        .filter(|h| h.differs && matches!(h.fact, "glibc" | "kernel" | "cpus"))
        .map(|h| format!("{} {} vs {}", h.fact, h.b.as_deref().unwrap_or("?"), h.a.as_deref().unwrap_or("?")))
        .collect();
    if !differ.is_empty() {
        parts.push(format!("the hosts differ: {}", differ.join(", ")));
    }
    parts.join("; ")
}

pub(super) fn notes(a: &Analysis, b: &Analysis) -> Vec<String> {
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
            n.push(format!(
                "{l} was recorded in events mode: its latencies are lower bounds and failed exec attempts are missing"
            ));
        }
        if !an.complete {
            n.push(format!("{l} is incomplete (the recording was cut short)"));
        }
        if an.header.host.glibc_version.is_none() {
            n.push(format!("{l}'s glibc version is unknown (for an strace import, pass --glibc)"));
        }
    }
    n
}
