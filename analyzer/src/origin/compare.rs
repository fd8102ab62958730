//! Two traces compared per call site (`spawnscope diff`): "`jobs::run`: 200
//! posix_spawn on A, 200 fork fallback on B".
//!
//! Call sites are matched by their label (function and `file:line`, or the
//! interpreted-code label with its API), which survives a rebuild; an
//! unnamed frame (`app+0x1a2b`) only matches the same binary.

use serde::Serialize;
use spawnscope_format::Nanos;

use super::sites::{call_sites, CallSite};
use crate::model::{Analysis, CodePath};

/// One call site on one side of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteSide {
    pub spawns: u64,
    /// The most common code path (machine name) and style.
    pub code_path: String,
    pub style: String,
    /// The most used API.
    pub api: Option<String>,
    pub p50_ns: Option<Nanos>,
    pub total_latency_ns: Nanos,
}

/// A call site seen in either trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteDiff {
    pub label: String,
    pub a: Option<SiteSide>,
    pub b: Option<SiteSide>,
}

impl SiteDiff {
    /// Whether the two sides differ in what matters: presence, count,
    /// code path or style (latencies on shared runners are not compared).
    pub fn changed(&self) -> bool {
        match (&self.a, &self.b) {
            (Some(a), Some(b)) => a.spawns != b.spawns || a.code_path != b.code_path || a.style != b.style,
            _ => true,
        }
    }

    /// One line: "myapp::jobs::run (src/jobs.rs:42): 200 glibc posix_spawn on A, 200 Rust std fork+exec fallback on B".
    pub fn describe(&self) -> String {
        let side = |s: &Option<SiteSide>, name: &str| match s {
            Some(s) => {
                let label = CodePath::from_name(&s.code_path).map_or(s.code_path.as_str(), |c| c.label());
                format!("{} {label} on {name}", s.spawns)
            }
            None => format!("none on {name}"),
        };
        format!("{}: {}, {}", self.label, side(&self.a, "A"), side(&self.b, "B"))
    }
}

fn side(s: &CallSite) -> SiteSide {
    SiteSide {
        spawns: s.count,
        code_path: CallSite::main_of(&s.code_paths).unwrap_or("unknown").to_string(),
        style: CallSite::main_of(&s.styles).unwrap_or("-").to_string(),
        api: s.apis.first().cloned(),
        p50_ns: (s.latency.count > 0).then_some(s.latency.p50),
        total_latency_ns: s.total_latency_ns,
    }
}

/// Call sites of `a` and `b` side by side: those of `a` in its order (most
/// spawns first), then those only in `b`. Empty when neither has stacks.
pub fn compare_sites(a: &Analysis, b: &Analysis) -> Vec<SiteDiff> {
    let (sa, sb) = (call_sites(a), call_sites(b));
    let mut out: Vec<SiteDiff> = sa.iter().map(|s| SiteDiff { label: s.label.clone(), a: Some(side(s)), b: None }).collect();
    for s in &sb {
        match out.iter_mut().find(|d| d.label == s.label) {
            Some(d) => d.b = Some(side(s)),
            None => out.push(SiteDiff { label: s.label.clone(), a: None, b: Some(side(s)) }),
        }
    }
    out
}
