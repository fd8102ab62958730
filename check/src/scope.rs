//! Rules scoped to code (issue 10): `--at PATTERN` / `at = "..."` limits the
//! spawn rules (deny-style, deny-code-path) to spawns whose call site, or a
//! caller further out, matches (see
//! [`spawnscope_analyzer::origin::matches_at`]); failures name the call site.

use spawnscope_analyzer::origin::matches_at;
use spawnscope_analyzer::{Analysis, Spawn};

use crate::report::RuleResult;

/// Whether a spawn was made by code matching `at` (every spawn without a
/// pattern). A bounded analysis reads its spawns, origins included, back
/// from disk: the same test applies.
pub(crate) fn in_scope(a: &Analysis, s: &Spawn, at: Option<&str>) -> bool {
    at.is_none_or(|at| matches_at(a.origins.of(s), at))
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
