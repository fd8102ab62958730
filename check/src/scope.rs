//! Rules scoped to code (issue 10): `--at PATTERN` / `at = "..."` limits the
//! spawn rules (deny-style, deny-code-path) to spawns whose call site, or a
//! caller further out, matches (see
//! [`spawnscope_analyzer::origin::matches_at`]); failures name the call site.

use std::borrow::Cow;

use spawnscope_analyzer::origin::matches_at;
use spawnscope_analyzer::{Analysis, Spawn};

use crate::report::RuleResult;

/// The analysis with only the spawns made by code matching `at` (all of
/// them without a pattern). Spawn indices are kept, so offenders still
/// point into the full trace.
pub(crate) fn spawns_at<'a>(a: &'a Analysis, at: Option<&str>) -> Cow<'a, Analysis> {
    let Some(at) = at else { return Cow::Borrowed(a) };
    let mut scoped = a.clone();
    if scoped.aggregate.take().is_some() {
        // A bounded analysis has no stacks (a trace with stacks is kept
        // whole): no spawn matches a pattern.
        scoped.spawns.clear();
    }
    scoped.spawns.retain(|s| matches_at(a.origins.of(s), at));
    Cow::Owned(scoped)
}

/// A rule's result says which code it was scoped to.
pub(crate) fn scoped_result(mut r: RuleResult, at: Option<&str>) -> RuleResult {
    if let Some(at) = at {
        let at = spawnscope_format::escape(at);
        r.title = format!("{} --at {at}", r.title);
        r.message = format!("{} in code matching {at}", r.message);
    }
    r
}

/// An offender's detail with the spawn's call site, when the trace has stacks:
/// `fork via rust-std-fork-fallback at myapp::sandbox::spawn_restricted (src/sandbox.rs:17)`.
pub(crate) fn with_site(a: &Analysis, s: &Spawn, detail: String) -> String {
    match a.origins.of(s) {
        Some(o) => format!("{detail} at {}", spawnscope_format::escape(&o.site_label())),
        None => detail,
    }
}
