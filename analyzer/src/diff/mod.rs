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

mod rows;
mod verdict;

use crate::{Analysis, LatencyStats};
use serde::Serialize;

use spawnscope_units as fmt;

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
        ValueRow { name: name.into(), unit, a, b, ratio }
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
    /// Per call site (issue 10; empty when neither trace has stacks).
    pub call_sites: Vec<crate::origin::SiteDiff>,
}

/// Compares two analyses; `labels` name them in the output (e.g. file names).
pub fn diff(a: &Analysis, b: &Analysis, labels: (&str, &str)) -> Diff {
    let hosts = rows::hosts(a, b);
    let (factors, pa, pb) = verdict::factors(a, b);
    let verdict = verdict::verdict(a, b, &factors, &pa, &pb, &hosts);
    Diff {
        a: rows::side(labels.0, a),
        b: rows::side(labels.1, b),
        verdict,
        factors,
        counts: rows::count_rows(a, b),
        latency: rows::latency_rows(a, b),
        path_search: rows::path_rows(a, b),
        env: rows::env_rows(a, b),
        parent_rss: rows::rss_rows(a, b),
        notes: verdict::notes(a, b),
        call_sites: crate::origin::compare_sites(a, b),
        hosts,
    }
}
