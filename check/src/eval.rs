//! Evaluating a policy against an analysis. Pure: no I/O.

use std::collections::BTreeMap;

use spawnscope_analyzer::{Analysis, CodePath, Finding, Process, Spawn, SpawnStyle};
use spawnscope_format::names::errno_label;
use spawnscope_format::{escape, TracerMode};
use spawnscope_units::{count, counted, duration as format_duration, percentile, plural};

use crate::policy::{Origin, Policy, Rule};
use crate::report::{format_limit, format_value, Bound, CheckReport, Offender, RuleResult, Status, Unit, MAX_OFFENDERS};

/// Checks `analysis` against every rule of `policy`.
///
/// The report has one result per rule (all `require-code-path` rules together
/// make one), preceded by `command-exit` when the command's exit code is known.
pub fn evaluate(policy: &Policy, analysis: &Analysis) -> CheckReport {
    let mut results = Vec::new();
    if let Some(code) = analysis.summary.exit_code {
        results.push(command_exit(code, policy.allow_command_failure));
    }
    let required: Vec<(CodePath, Origin)> = policy
        .rules()
        .iter()
        .filter_map(|r| match r.rule {
            Rule::RequireCodePath(c) => Some((c, r.origin.clone())),
            _ => None,
        })
        .collect();
    let mut required_done = false;
    for pr in policy.rules() {
        let origin = pr.origin.clone();
        let r = match &pr.rule {
            Rule::DenyStyle(style) => {
                let at = policy.at.as_deref();
                crate::scope::scoped_result(deny_style(&crate::scope::spawns_at(analysis, at), *style, origin), at)
            }
            Rule::MaxSpawns { exe, limit } => max_spawns(analysis, exe.as_deref(), *limit, origin),
            Rule::MinSpawns { exe, limit } => min_spawns(analysis, exe.as_deref(), *limit, origin),
            Rule::MaxFailedExecAttempts(limit) => max_failed_exec_attempts(analysis, *limit, origin),
            Rule::MaxEnvBytes(limit) => max_env_bytes(analysis, *limit, origin),
            Rule::DenyFinding(pattern) => deny_finding(analysis, policy, pattern, origin),
            Rule::RequireCodePath(_) if required_done => continue,
            Rule::RequireCodePath(_) => {
                required_done = true;
                require_code_path(analysis, &required)
            }
            Rule::DenyCodePath(c) => {
                let at = policy.at.as_deref();
                crate::scope::scoped_result(deny_code_path(&crate::scope::spawns_at(analysis, at), *c, origin), at)
            }
            Rule::MaxSpawnP99(limit) => max_spawn_p99(analysis, *limit, policy.strict_timing, origin),
        };
        results.push(r);
    }

    let mut warnings: Vec<String> = analysis.warnings.iter().map(|w| escape(w).into_owned()).collect();
    if !analysis.complete && !warnings.iter().any(|w| w.contains("incomplete")) {
        warnings.push("trace is incomplete (no end line): the recording was cut short; counts are lower bounds".into());
    }
    if policy.is_empty() {
        warnings
            .push(format!("no rules to check: give rules as flags (e.g. --deny-style fork) or in {}", crate::POLICY_FILE_NAME));
    }
    CheckReport {
        source: String::new(),
        command: analysis.header.command.clone(),
        complete: analysis.complete,
        warnings,
        spawns: analysis.summary.spawns,
        exit_code: analysis.summary.exit_code,
        policy_file: policy.file.clone(),
        results,
    }
}

/// Builds a result from a count-like measurement.
#[allow(clippy::too_many_arguments)]
fn result(
    rule: &Rule,
    origin: Origin,
    measured: u64,
    limit: u64,
    unit: Unit,
    bound: Bound,
    what: &str,
    offenders: Vec<Offender>,
) -> RuleResult {
    let total = offenders.len();
    result_of(rule, origin, measured, limit, unit, bound, what, (offenders, total))
}

/// The first [`MAX_OFFENDERS`] of `it`, and how many there were: a rule over
/// millions of spawns builds only the offenders it shows.
fn first_offenders(it: impl Iterator<Item = Offender>) -> (Vec<Offender>, usize) {
    let mut shown = Vec::new();
    let mut total = 0;
    for o in it {
        if shown.len() < MAX_OFFENDERS {
            shown.push(o);
        }
        total += 1;
    }
    (shown, total)
}

/// [`result`] with the offenders shown and their total given.
#[allow(clippy::too_many_arguments)]
fn result_of(
    rule: &Rule,
    origin: Origin,
    measured: u64,
    limit: u64,
    unit: Unit,
    bound: Bound,
    what: &str,
    (offenders, total): (Vec<Offender>, usize),
) -> RuleResult {
    let ok = match bound {
        Bound::AtMost => measured <= limit,
        Bound::AtLeast => measured >= limit,
        Bound::Equal => measured == limit,
    };
    let mut offenders = offenders;
    offenders.truncate(MAX_OFFENDERS);
    let measured_text = format_value(measured, unit);
    let message = if what.is_empty() {
        format!("{measured_text} ({})", format_limit(limit, unit, bound))
    } else {
        format!("{measured_text} {what} ({})", format_limit(limit, unit, bound))
    };
    RuleResult {
        rule: rule.name().to_string(),
        title: rule.title(),
        status: if ok { Status::Pass } else { Status::Fail },
        measured,
        limit,
        unit,
        bound,
        message,
        note: None,
        origin,
        offenders: if ok { Vec::new() } else { offenders },
        offenders_total: if ok { 0 } else { total },
    }
}

fn command_exit(code: i32, allowed: bool) -> RuleResult {
    let ok = code == 0;
    RuleResult {
        rule: "command-exit".into(),
        title: "command-exit".into(),
        status: match (ok, allowed) {
            (true, _) => Status::Pass,
            (false, true) => Status::Warn,
            (false, false) => Status::Fail,
        },
        measured: code.max(0) as u64,
        limit: 0,
        unit: Unit::ExitCode,
        bound: Bound::Equal,
        message: if ok { "the command exited 0".into() } else { format!("the command failed with exit code {code}") },
        note: (!ok).then(|| {
            if allowed {
                "allowed by allow-command-failure".into()
            } else {
                "a failing command fails the check; --allow-command-failure allows it".into()
            }
        }),
        origin: Origin::Builtin,
        offenders: Vec::new(),
        offenders_total: 0,
    }
}

/// The offender line for a spawn.
fn spawn_offender(s: &Spawn, detail: String) -> Offender {
    Offender {
        spawn: Some(s.index),
        pid: s.child_pid,
        parent_pid: Some(s.parent_pid),
        exe: s.executable().to_string(),
        argv: s.exec.as_ref().map(|e| e.argv.clone()).unwrap_or_default(),
        detail,
    }
}

fn style_detail(s: &Spawn) -> String {
    let mut d = format!("{} via {}", s.style.as_str(), s.code_path.as_str());
    if let Some(m) = s.parent_mem {
        if s.style == SpawnStyle::Fork && m.rss_kb > 0 {
            d.push_str(&format!(", parent RSS {}", spawnscope_units::bytes(m.rss_kb.saturating_mul(1024))));
        }
    }
    d
}

fn deny_style(a: &Analysis, style: SpawnStyle, origin: Origin) -> RuleResult {
    let bad = first_offenders(
        a.each_spawn().filter(|s| s.style == style).map(|s| spawn_offender(&s, crate::scope::with_site(a, &s, style_detail(&s)))),
    );
    let n = bad.1 as u64;
    let mut r = result_of(&Rule::DenyStyle(style), origin, n, 0, Unit::Spawns, Bound::AtMost, "", bad);
    r.message = format!("{} {}-style {} (at most 0)", count(n), style.as_str(), plural(n, "spawn", "spawns"));
    r
}

/// Whether a spawn ran `exe`: a name without `/` matches the executable's
/// basename, a path matches the exec path exactly.
pub fn exe_matches(s: &Spawn, exe: &str) -> bool {
    if exe.contains('/') {
        s.exec.as_ref().is_some_and(|e| e.path == exe)
    } else {
        s.executable() == exe
    }
}

/// "150 git, 40 sh, 22 cc" for the most spawned executables.
fn breakdown<S: std::ops::Deref<Target = Spawn>>(spawns: impl Iterator<Item = S>) -> String {
    let mut by: BTreeMap<String, u64> = BTreeMap::new();
    for s in spawns {
        match by.get_mut(s.executable()) {
            Some(n) => *n += 1,
            None => {
                by.insert(s.executable().to_string(), 1);
            }
        }
    }
    let mut v: Vec<(String, u64)> = by.into_iter().collect();
    v.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    let shown: Vec<String> = v.iter().take(5).map(|(e, n)| format!("{n} {}", escape(e))).collect();
    let mut s = shown.join(", ");
    if v.len() > 5 {
        s.push_str(&format!(", {} more", counted((v.len() - 5) as u64, "executable", "executables")));
    }
    s
}

fn max_spawns(a: &Analysis, exe: Option<&str>, limit: u64, origin: Origin) -> RuleResult {
    let matching = || a.each_spawn().filter(|s| exe.is_none_or(|e| exe_matches(s, e)));
    let n = matching().count() as u64;
    // The spawns past the limit are the ones that broke it.
    let excess = first_offenders(
        matching()
            .skip(limit.min(usize::MAX as u64) as usize)
            .map(|s| spawn_offender(&s, format!("spawn {} of {n}", s.index + 1))),
    );
    let what = exe.map(|e| format!("of {}", escape(e))).unwrap_or_default();
    let rule = Rule::MaxSpawns { exe: exe.map(String::from), limit };
    let mut r = result_of(&rule, origin, n, limit, Unit::Spawns, Bound::AtMost, &what, excess);
    if r.status == Status::Fail && exe.is_none() {
        r.note = Some(format!("by executable: {}", breakdown(matching())));
    }
    r
}

fn min_spawns(a: &Analysis, exe: Option<&str>, limit: u64, origin: Origin) -> RuleResult {
    let n = a.each_spawn().filter(|s| exe.is_none_or(|e| exe_matches(s, e))).count() as u64;
    let what = exe.map(|e| format!("of {}", escape(e))).unwrap_or_default();
    let rule = Rule::MinSpawns { exe: exe.map(String::from), limit };
    let mut r = result(&rule, origin, n, limit, Unit::Spawns, Bound::AtLeast, &what, Vec::new());
    if r.status == Status::Fail {
        r.note = Some(if a.summary.spawns == 0 {
            "the trace has no spawns at all".into()
        } else {
            format!("spawned: {}", breakdown(a.each_spawn()))
        });
    }
    r
}

/// The exec attempts that count for rules: every process's, except the
/// attempts by which spawnscope itself started the command (the root
/// process's attempts up to its first successful exec).
fn counted_execs(p: &Process) -> &[spawnscope_analyzer::ExecAttempt] {
    if p.spawn.is_none() && p.parent.is_none() {
        match p.execs.iter().position(|e| e.result == 0) {
            Some(i) => &p.execs[i + 1..],
            None => &[],
        }
    } else {
        &p.execs
    }
}

/// The offender for a process: its spawn if it has one.
fn process_offender(a: &Analysis, p: &Process, detail: String) -> Offender {
    match p.spawn.and_then(|i| a.spawn_at(i)) {
        Some(s) => spawn_offender(&s, detail),
        None => Offender {
            spawn: None,
            pid: p.pid,
            parent_pid: p.parent.and_then(|i| a.process_at(i)).map(|q| q.pid),
            exe: p.name.rsplit('/').next().unwrap_or(&p.name).to_string(),
            argv: p.execs.iter().rev().find(|e| e.result == 0).map(|e| e.argv.clone()).unwrap_or_default(),
            detail,
        },
    }
}

fn max_failed_exec_attempts(a: &Analysis, limit: u64, origin: Origin) -> RuleResult {
    let failed_of = |p: &Process| counted_execs(p).iter().filter(|e| e.result != 0).count();
    let mut total = 0u64;
    // (failed attempts, process index): offenders are built for those shown only.
    let mut bad: Vec<(usize, usize)> = Vec::new();
    for p in a.each_process() {
        let n = failed_of(&p);
        if n > 0 {
            total += n as u64;
            bad.push((n, p.index));
        }
    }
    bad.sort_by_key(|x| std::cmp::Reverse(x.0));
    let offender = |i: usize| {
        let p = a.process_at(i)?;
        let failed: Vec<_> = counted_execs(&p).iter().filter(|e| e.result != 0).collect();
        let mut shown: Vec<String> =
            failed.iter().take(3).map(|e| format!("{} ({})", escape(&e.path), errno_label(e.result))).collect();
        if failed.len() > 3 {
            shown.push(format!("{} more", failed.len() - 3));
        }
        let detail = format!("{} failed: {}", failed.len(), shown.join(", "));
        Some(process_offender(a, &p, detail))
    };
    let offenders = (bad.iter().take(MAX_OFFENDERS).filter_map(|&(_, i)| offender(i)).collect(), bad.len());
    let rule = Rule::MaxFailedExecAttempts(limit);
    let mut r = result_of(&rule, origin, total, limit, Unit::Attempts, Bound::AtMost, "", offenders);
    if a.header.tracer.mode == TracerMode::Events {
        r.status = Status::Skip;
        r.message = format!("not measurable from this trace ({})", format_limit(limit, Unit::Attempts, Bound::AtMost));
        r.offenders.clear();
        r.offenders_total = 0;
        r.note = Some(
            "the trace was recorded in events mode, which does not see failed exec attempts; \
             record in seccomp or syscall mode"
                .into(),
        );
    } else if r.status == Status::Fail {
        r.note = Some("failed attempts are usually a PATH search: spawn by absolute path, or keep PATH short".into());
    }
    r
}

fn max_env_bytes(a: &Analysis, limit: u64, origin: Origin) -> RuleResult {
    let biggest = |p: &Process| counted_execs(p).iter().filter(|e| e.result == 0).max_by_key(|e| e.env_bytes).cloned();
    let mut max = 0u64;
    // (bytes, process index): offenders are built for those shown only.
    let mut bad: Vec<(u64, usize)> = Vec::new();
    for p in a.each_process() {
        let Some(big) = biggest(&p) else { continue };
        max = max.max(big.env_bytes);
        if big.env_bytes > limit {
            bad.push((big.env_bytes, p.index));
        }
    }
    bad.sort_by_key(|x| std::cmp::Reverse(x.0));
    let offender = |i: usize| {
        let p = a.process_at(i)?;
        let big = biggest(&p)?;
        let detail =
            format!("{} in {}", counted(big.env_bytes, "byte", "bytes"), counted(big.env_count, "variable", "variables"));
        Some(process_offender(a, &p, detail))
    };
    let offenders = (bad.iter().take(MAX_OFFENDERS).filter_map(|&(_, i)| offender(i)).collect(), bad.len());
    result_of(
        &Rule::MaxEnvBytes(limit),
        origin,
        max,
        limit,
        Unit::Bytes,
        Bound::AtMost,
        "of environment in the largest exec",
        offenders,
    )
}

/// Whether a finding matches a pattern (`all`, its id, or its name).
pub fn finding_matches(f: &Finding, pattern: &str) -> bool {
    pattern == "all" || f.id.eq_ignore_ascii_case(pattern) || f.name == pattern
}

fn deny_finding(a: &Analysis, policy: &Policy, pattern: &str, origin: Origin) -> RuleResult {
    let allowed = |f: &Finding| policy.allowed_findings().iter().any(|(p, _)| finding_matches(f, p));
    let hits: Vec<&Finding> = a.findings.iter().filter(|f| finding_matches(f, pattern) && !allowed(f)).collect();
    // One offender per evidence spawn, naming every denied finding it shows.
    let mut by_spawn: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for f in &hits {
        for &i in &f.evidence {
            by_spawn.entry(i).or_default().push(f.id);
        }
    }
    let offenders = by_spawn
        .into_iter()
        .filter_map(|(i, ids)| a.spawn_at(i).map(|s| spawn_offender(&s, format!("evidence of {}", ids.join(", ")))))
        .collect();
    let rule = Rule::DenyFinding(pattern.to_string());
    let n = hits.len() as u64;
    let mut r = result(&rule, origin, n, 0, Unit::Findings, Bound::AtMost, "", offenders);
    if r.status == Status::Fail {
        let lines: Vec<String> =
            hits.iter().map(|f| format!("{} {} ({}): {}", f.id, f.name, f.severity.as_str(), escape(&f.message))).collect();
        r.note = Some(lines.join("\n"));
    }
    if !policy.allowed_findings().is_empty() {
        let allowed: Vec<&str> = policy.allowed_findings().iter().map(|(p, _)| p.as_str()).collect();
        let n_allowed = a.findings.iter().filter(|f| finding_matches(f, pattern) && allowed_f(f, &allowed)).count();
        if n_allowed > 0 {
            let line = format!("{n_allowed} allowed by allow-finding {}", allowed.join(", "));
            r.note = Some(match r.note.take() {
                Some(n) => format!("{n}\n{line}"),
                None => line,
            });
        }
    }
    r
}

fn allowed_f(f: &Finding, allowed: &[&str]) -> bool {
    allowed.iter().any(|p| finding_matches(f, p))
}

fn require_code_path(a: &Analysis, required: &[(CodePath, Origin)]) -> RuleResult {
    let allowed: Vec<CodePath> = required.iter().map(|(c, _)| *c).collect();
    let bad =
        first_offenders(a.each_spawn().filter(|s| !allowed.contains(&s.code_path)).map(|s| spawn_offender(&s, style_detail(&s))));
    let names: Vec<&str> = allowed.iter().map(|c| c.as_str()).collect();
    let rule = Rule::RequireCodePath(allowed[0]);
    let n = bad.1 as u64;
    let what = format!("not taking {}", names.join(" or "));
    let mut r = result_of(&rule, required[0].1.clone(), n, 0, Unit::Spawns, Bound::AtMost, &what, bad);
    r.title = format!("require-code-path {}", names.join(","));
    r
}

fn deny_code_path(a: &Analysis, c: CodePath, origin: Origin) -> RuleResult {
    let bad = first_offenders(
        a.each_spawn().filter(|s| s.code_path == c).map(|s| spawn_offender(&s, crate::scope::with_site(a, &s, style_detail(&s)))),
    );
    let n = bad.1 as u64;
    let what = format!("via {}", c.as_str());
    result_of(&Rule::DenyCodePath(c), origin, n, 0, Unit::Spawns, Bound::AtMost, &what, bad)
}

fn max_spawn_p99(a: &Analysis, limit: u64, strict: bool, origin: Origin) -> RuleResult {
    let mut lat: Vec<u64> = a.each_spawn().filter_map(|s| s.latency_ns).collect();
    lat.sort_unstable();
    let rule = Rule::MaxSpawnP99(limit);
    let Some(p99) = percentile(&lat, 99) else {
        let mut r = result(&rule, origin, 0, limit, Unit::Nanoseconds, Bound::AtMost, "p99 spawn latency", Vec::new());
        r.status = Status::Skip;
        r.message = format!("no spawn latencies in the trace ({})", format_limit(limit, Unit::Nanoseconds, Bound::AtMost));
        r.note = Some("the trace has no spawns with a measured latency".into());
        return r;
    };
    // Slowest first (ties in index order): the offenders are built from
    // (latency, index) pairs, so only those shown are read again.
    let mut slow: Vec<(u64, usize)> =
        a.each_spawn().filter_map(|s| s.latency_ns.filter(|&l| l > limit).map(|l| (l, s.index))).collect();
    slow.sort_by_key(|&(l, i)| (std::cmp::Reverse(l), i));
    let shown: Vec<Offender> = slow
        .iter()
        .take(MAX_OFFENDERS)
        .filter_map(|&(_, i)| a.spawn_at(i))
        .map(|s| spawn_offender(&s, format!("{} ({})", format_duration(s.latency_ns.unwrap_or(0)), style_detail(&s))))
        .collect();
    let hidden = slow.len().saturating_sub(shown.len());
    let what = format!("p99 spawn latency over {}", counted(lat.len() as u64, "spawn", "spawns"));
    let mut r = result(&rule, origin, p99, limit, Unit::Nanoseconds, Bound::AtMost, &what, shown);
    if r.status == Status::Fail {
        r.offenders_total += hidden;
    }
    if r.status == Status::Fail && !strict {
        r.status = Status::Warn;
        r.note = Some(
            "advisory: latencies are measured under tracing and vary on shared runners; \
             --strict-timing (strict-timing = true) makes this fail"
                .into(),
        );
    }
    if a.each_spawn().any(|s| s.from_event) {
        let line = "events mode: latencies start at the kernel's fork event, so they are lower bounds";
        r.note = Some(match r.note.take() {
            Some(n) => format!("{n}\n{line}"),
            None => line.into(),
        });
    }
    r
}
