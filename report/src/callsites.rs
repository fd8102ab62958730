//! Where in the code (issue 10) in the reports: the "Call sites" table, the
//! call sites a finding's spawns came from, and the JSON views of both.

use serde::Serialize;
use spawnscope_analyzer::origin::{call_sites, describe_finding_sites, CallSite};
use spawnscope_analyzer::{Analysis, CodePath, Finding};
use spawnscope_format::Nanos;

use crate::table::{cut, esc, opt_ns, style_mix, Table};

/// Most call sites named under one finding.
const SITES_PER_FINDING: usize = 3;

/// The "Call sites" table (cells escaped for a terminal), or the sentence
/// that says why there is none. None when the analysis has no spawns, or
/// when the trace was recorded without stack capture (older traces, events
/// mode, imported logs: the JSON report's `call_sites.note` says why; the
/// text reports of those traces stay as they were).
pub(crate) fn section(a: &Analysis, max_rows: usize) -> Option<Result<(Table, usize), String>> {
    if a.summary.spawns == 0 {
        return None;
    }
    let sites = call_sites(a);
    if sites.is_empty() && a.header.tracer.stacks.is_none() {
        return None;
    }
    if sites.is_empty() {
        return Some(Err(a.origins.missing.clone().unwrap_or_else(|| "no call stacks in this trace".to_string())));
    }
    let mut t = Table::new(&[
        ("call site", false),
        ("spawns", true),
        ("style", false),
        ("code path", false),
        ("API", false),
        ("total", true),
        ("p50", true),
    ]);
    for s in sites.iter().take(max_rows) {
        let has = s.latency.count > 0;
        t.row(vec![
            cut(&esc(&s.label), 60),
            s.count.to_string(),
            style_mix(&s.styles),
            code_path_mix(s),
            cut(&esc(&apis(s)), 40),
            opt_ns(has.then_some(s.total_latency_ns)),
            opt_ns(has.then_some(s.latency.p50)),
        ]);
    }
    Some(Ok((t, sites.len())))
}

/// Code path labels, most common first (`glibc posix_spawn` or
/// `fork + exec 3, vfork() syscall 1`).
fn code_path_mix(s: &CallSite) -> String {
    let label = |k: &str| CodePath::from_name(k).map_or(k.to_string(), |c| c.label().to_string());
    if s.code_paths.len() == 1 {
        return s.code_paths.keys().next().map(|k| label(k)).unwrap_or_default();
    }
    let mut v: Vec<(&String, &u64)> = s.code_paths.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    v.iter().map(|(k, n)| format!("{} {n}", label(k))).collect::<Vec<_>>().join(", ")
}

fn apis(s: &CallSite) -> String {
    match s.apis.len() {
        0 => "-".to_string(),
        1 => s.apis[0].clone(),
        n => format!("{} (+{})", s.apis[0], n - 1),
    }
}

/// "200 at myapp::jobs::run (src/jobs.rs:42) via std::process::Command::status"
/// for a finding whose evidence has stacks (unescaped).
pub(crate) fn finding_where(a: &Analysis, f: &Finding) -> Option<String> {
    describe_finding_sites(a, f, SITES_PER_FINDING)
}

/// JSON: the call sites and why there are none.
#[derive(Serialize)]
pub(crate) struct CallSitesJson {
    /// Why spawns have no `origin` (null when every spawn has one).
    note: Option<String>,
    sites: Vec<CallSiteJson>,
}

#[derive(Serialize)]
struct CallSiteJson {
    label: String,
    call_site: Option<spawnscope_analyzer::origin::Frame>,
    call_site_note: Option<String>,
    runtime: Option<&'static str>,
    apis: Vec<String>,
    spawns: u64,
    styles: std::collections::BTreeMap<String, u64>,
    code_paths: std::collections::BTreeMap<String, u64>,
    total_latency_ns: Nanos,
    p50_ns: Option<Nanos>,
    max_ns: Option<Nanos>,
    /// Indices into `spawns`.
    spawn_indices: Vec<usize>,
}

pub(crate) fn json(a: &Analysis) -> CallSitesJson {
    let sites = call_sites(a)
        .into_iter()
        .map(|s| {
            let has = s.latency.count > 0;
            CallSiteJson {
                label: s.label,
                call_site: s.frame,
                call_site_note: s.note,
                runtime: s.runtime.map(|r| r.as_str()),
                apis: s.apis,
                spawns: s.count,
                styles: s.styles,
                code_paths: s.code_paths,
                total_latency_ns: s.total_latency_ns,
                p50_ns: has.then_some(s.latency.p50),
                max_ns: has.then_some(s.latency.max),
                spawn_indices: s.spawns,
            }
        })
        .collect();
    CallSitesJson { note: a.origins.missing.clone(), sites }
}

/// JSON: the call sites of a finding's spawns, most spawns first.
#[derive(Serialize)]
pub(crate) struct FindingSite {
    call_site: String,
    spawns: u64,
}

pub(crate) fn finding_sites(a: &Analysis, f: &Finding) -> Vec<FindingSite> {
    spawnscope_analyzer::origin::finding_sites(a, f)
        .into_iter()
        .map(|(call_site, spawns)| FindingSite { call_site, spawns })
        .collect()
}

/// The text report's "Call sites" section (after "Code paths"); `dim` and
/// `bold` paint the table header and the title.
pub(crate) fn text(s: &mut String, a: &Analysis, max_rows: usize, dim: &dyn Fn(&str) -> String, bold: &dyn Fn(&str) -> String) {
    use std::fmt::Write as _;
    let Some(section) = section(a, max_rows) else { return };
    let _ = writeln!(s, "\n{}", bold("Call sites"));
    match section {
        Ok((t, n)) => {
            s.push_str(&t.text("  ", dim));
            if n > max_rows {
                let _ = writeln!(s, "  … and {} more", n - max_rows);
            }
        }
        Err(why) => {
            let _ = writeln!(s, "  {}", esc(&why));
        }
    }
}

/// The Markdown report's "Call sites" section.
pub(crate) fn markdown(s: &mut String, a: &Analysis, max_rows: usize) {
    use std::fmt::Write as _;
    let Some(section) = section(a, max_rows) else { return };
    let _ = writeln!(s, "\n### Call sites\n");
    match section {
        Ok((t, n)) => {
            s.push_str(&t.map_cells(crate::markdown::md_punct).markdown());
            if n > max_rows {
                let _ = writeln!(s, "\n… and {} more", n - max_rows);
            }
        }
        Err(why) => {
            let _ = writeln!(s, "{}", crate::markdown::md(&why));
        }
    }
}

/// `export chrome`: a spawn's call site and stack for the slice's args (the
/// Perfetto / chrome://tracing details pane shows them as they are). Null
/// without a stack.
#[allow(dead_code)] // called by export::chrome, which lands with the interop split
pub(crate) fn chrome_origin(a: &Analysis, s: &spawnscope_analyzer::Spawn) -> serde_json::Value {
    let Some(o) = a.origins.of(s) else { return serde_json::Value::Null };
    let stack: Vec<String> = o
        .stack
        .iter()
        .map(|f| {
            let loc = f.location().map(|l| format!(" ({l})")).unwrap_or_default();
            let inl = if f.inlined { " [inlined]" } else { "" };
            format!("{}{loc} in {}{inl}", f.function, f.module_name())
        })
        .collect();
    serde_json::json!({
        "call_site": o.site_label(),
        "call_site_note": o.call_site_note,
        "api": o.api,
        "runtime": o.runtime.as_str(),
        "library": o.library,
        "stack": stack,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mixed() -> Analysis {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/stacks/mixed.jsonl");
        spawnscope_analyzer::analyze_path(p, &Default::default()).unwrap()
    }

    #[test]
    fn chrome_args_carry_call_site_and_stack() {
        let a = mixed();
        let v = chrome_origin(&a, &a.spawns[0]);
        assert_eq!(v["call_site"], "myapp::jobs::run (src/jobs.rs:42)");
        assert_eq!(v["api"], "std::process::Command::status");
        let stack: Vec<&str> = v["stack"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
        assert_eq!(stack[0], "clone3 (linux/x86_64/clone3.S:62) in libc.so.6");
        assert!(stack.contains(&"myapp::jobs::run (src/jobs.rs:42) in myapp"), "{stack:?}");
        assert!(stack.iter().any(|f| f.ends_with("[inlined]")));
        // No stack: null.
        assert!(chrome_origin(&a, &a.spawns[6]).is_null());
    }
}
