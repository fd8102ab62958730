//! Findings: explained costs with stable ids, like lint codes.
//!
//! Each rule is a function from an [`Analysis`] (spawns, processes, summary
//! and thresholds complete) to at most one [`Finding`]; the evidence is the
//! list of spawn indices. Ids never change meaning; a retired rule keeps its
//! id unused.

mod cost;
mod host;
mod rust;

use std::collections::BTreeMap;

use spawnscope_format::Nanos;

use crate::model::{Analysis, Finding, Severity};
pub use crate::units::{fmt_bytes, fmt_ns};

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

/// Runs every enabled rule.
pub fn evaluate(a: &Analysis) -> Vec<Finding> {
    let rules: [fn(&Analysis) -> Option<Finding>; 9] = [
        cost::fork_large_parent,
        rust::rust_fork_fallback,
        cost::path_search,
        cost::large_env,
        cost::serial_spawns,
        host::old_glibc,
        host::no_clone3,
        host::style_mismatch,
        cost::exec_failed,
    ];
    rules
        .iter()
        .filter_map(|r| r(a))
        .filter(|f| !a.thresholds.is_disabled(f.id, f.name))
        .map(|mut f| {
            crate::proportion::weigh(&mut f, a.summary.recording_ns, &a.thresholds);
            f
        })
        .collect()
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
