//! Evaluating a policy against an analysis. Pure: no I/O.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

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
///
/// The rules go through the spawns together, in one pass, and through the
/// processes in another (a bounded analysis reads them back from disk once,
/// not once per rule); each keeps only what its result shows.
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
    let at = policy.at.as_deref();
    let mut required_done = false;
    let mut rules: Vec<Pass> = Vec::new();
    for pr in policy.rules() {
        let origin = pr.origin.clone();
        rules.push(match &pr.rule {
            Rule::DenyStyle(style) => Pass::DenyStyle(*style, origin, First::default()),
            Rule::MaxSpawns { exe, limit } => {
                Pass::MaxSpawns { exe: exe.clone(), limit: *limit, origin, n: 0, excess: First::default() }
            }
            Rule::MinSpawns { exe, limit } => Pass::MinSpawns { exe: exe.clone(), limit: *limit, origin, n: 0 },
            Rule::MaxFailedExecAttempts(limit) => {
                Pass::MaxFailedExecAttempts { limit: *limit, origin, total: 0, worst: Worst::default() }
            }
            Rule::MaxEnvBytes(limit) => Pass::MaxEnvBytes { limit: *limit, origin, max: 0, worst: Worst::default() },
            Rule::DenyFinding(pattern) => Pass::DenyFinding(pattern.clone(), origin),
            Rule::RequireCodePath(_) if required_done => continue,
            Rule::RequireCodePath(_) => {
                required_done = true;
                Pass::RequireCodePath(First::default())
            }
            Rule::DenyCodePath(c) => Pass::DenyCodePath(*c, origin, First::default()),
            Rule::MaxSpawnP99(limit) => Pass::MaxSpawnP99 {
                limit: *limit,
                strict: policy.strict_timing,
                origin,
                latencies: Vec::new(),
                slow: Worst::default(),
                from_event: false,
            },
        });
    }
    let allowed: Vec<CodePath> = required.iter().map(|(c, _)| *c).collect();
    // A bounded analysis without its temporary file (lost to a full disk:
    // the analysis warns) has no spawns to go through; its rules would pass
    // on nothing, so they fail as not checked.
    let lost = analysis.aggregate.as_ref().is_some_and(|ag| ag.spill.is_none());
    let mut executables = (!lost && rules.iter().any(Pass::wants_breakdown)).then(BTreeMap::new);
    if !lost && (executables.is_some() || rules.iter().any(Pass::wants_spawns)) {
        for s in analysis.each_spawn() {
            let in_scope = crate::scope::in_scope(analysis, &s, at);
            for r in &mut rules {
                r.spawn(analysis, &s, in_scope, &allowed);
            }
            if let Some(by) = &mut executables {
                tally(by, s.executable());
            }
        }
    }
    if !lost && rules.iter().any(Pass::wants_processes) {
        for p in analysis.each_process() {
            for r in &mut rules {
                r.process(&p);
            }
        }
    }
    let ctx = Finish { a: analysis, policy, at, required: &required, allowed: &allowed, executables: executables.as_ref() };
    results.extend(rules.into_iter().map(|r| {
        let needs_spawns = r.wants_spawns() || r.wants_processes();
        let result = r.finish(&ctx);
        if lost && needs_spawns {
            not_checked(result)
        } else {
            result
        }
    }));

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

/// A rule that could not go through the spawns: a failure, never a pass.
fn not_checked(mut r: RuleResult) -> RuleResult {
    r.status = Status::Fail;
    r.measured = 0;
    r.message = format!("not checked: the spawns were not kept ({})", format_limit(r.limit, r.unit, r.bound));
    r.offenders.clear();
    r.offenders_total = 0;
    r.note = Some(
        "the analysis kept no list of spawns (bounded memory, and its temporary file could not be written: \
         see the warnings); free space in TMPDIR and check again"
            .into(),
    );
    r
}

/// The first [`MAX_OFFENDERS`] offenders met, and how many there were.
#[derive(Default)]
struct First {
    shown: Vec<Offender>,
    total: usize,
}

impl First {
    /// Counts one more; builds its offender only if it is shown.
    fn add(&mut self, offender: impl FnOnce() -> Offender) {
        if self.shown.len() < MAX_OFFENDERS {
            self.shown.push(offender());
        }
        self.total += 1;
    }

    fn pair(self) -> (Vec<Offender>, usize) {
        (self.shown, self.total)
    }
}

/// The [`MAX_OFFENDERS`] largest measures with the index of their spawn or
/// process (ties: the lowest index first), and how many there were: the
/// order a stable sort, largest first, of all of them would give.
#[derive(Default)]
struct Worst {
    /// Max-heap of (Reverse(measure), index): the top is the first to drop.
    kept: BinaryHeap<(Reverse<u64>, usize)>,
    total: usize,
}

impl Worst {
    fn add(&mut self, measure: u64, index: usize) {
        self.total += 1;
        self.kept.push((Reverse(measure), index));
        if self.kept.len() > MAX_OFFENDERS {
            self.kept.pop();
        }
    }

    /// Largest first.
    fn indices(self) -> impl Iterator<Item = usize> {
        self.kept.into_sorted_vec().into_iter().map(|(_, i)| i)
    }
}

/// A rule while the spawns and processes go by.
enum Pass {
    DenyStyle(SpawnStyle, Origin, First),
    MaxSpawns {
        exe: Option<String>,
        limit: u64,
        origin: Origin,
        n: u64,
        excess: First,
    },
    MinSpawns {
        exe: Option<String>,
        limit: u64,
        origin: Origin,
        n: u64,
    },
    MaxFailedExecAttempts {
        limit: u64,
        origin: Origin,
        total: u64,
        worst: Worst,
    },
    MaxEnvBytes {
        limit: u64,
        origin: Origin,
        max: u64,
        worst: Worst,
    },
    DenyFinding(String, Origin),
    /// All `require-code-path` rules together.
    RequireCodePath(First),
    DenyCodePath(CodePath, Origin, First),
    MaxSpawnP99 {
        limit: u64,
        strict: bool,
        origin: Origin,
        latencies: Vec<u64>,
        slow: Worst,
        from_event: bool,
    },
}

/// What a rule's result needs besides its own tally.
struct Finish<'a> {
    a: &'a Analysis,
    policy: &'a Policy,
    at: Option<&'a str>,
    required: &'a [(CodePath, Origin)],
    allowed: &'a [CodePath],
    /// Spawns by executable (when a rule's note breaks them down).
    executables: Option<&'a BTreeMap<String, u64>>,
}

impl Pass {
    fn wants_spawns(&self) -> bool {
        !matches!(self, Pass::MaxFailedExecAttempts { .. } | Pass::MaxEnvBytes { .. } | Pass::DenyFinding(..))
    }

    fn wants_processes(&self) -> bool {
        matches!(self, Pass::MaxFailedExecAttempts { .. } | Pass::MaxEnvBytes { .. })
    }

    /// The note of a failed `max-spawns` (overall) or `min-spawns` counts
    /// the spawns by executable.
    fn wants_breakdown(&self) -> bool {
        matches!(self, Pass::MaxSpawns { exe: None, .. } | Pass::MinSpawns { .. })
    }

    /// One spawn; `in_scope`: made by code matching `--at` (or no `--at`).
    fn spawn(&mut self, a: &Analysis, s: &Spawn, in_scope: bool, allowed: &[CodePath]) {
        match self {
            Pass::DenyStyle(style, _, bad) => {
                if in_scope && s.style == *style {
                    bad.add(|| spawn_offender(s, crate::scope::with_site(a, s, style_detail(s))));
                }
            }
            Pass::MaxSpawns { exe, limit, n, excess, .. } => {
                if exe.as_deref().is_none_or(|e| exe_matches(s, e)) {
                    // The spawns past the limit are the ones that broke it
                    // (their detail, "spawn i of n", once n is known).
                    if *n >= *limit {
                        excess.add(|| spawn_offender(s, String::new()));
                    }
                    *n += 1;
                }
            }
            Pass::MinSpawns { exe, n, .. } => {
                if exe.as_deref().is_none_or(|e| exe_matches(s, e)) {
                    *n += 1;
                }
            }
            Pass::RequireCodePath(bad) => {
                if !allowed.contains(&s.code_path) {
                    bad.add(|| spawn_offender(s, style_detail(s)));
                }
            }
            Pass::DenyCodePath(c, _, bad) => {
                if in_scope && s.code_path == *c {
                    bad.add(|| spawn_offender(s, crate::scope::with_site(a, s, style_detail(s))));
                }
            }
            Pass::MaxSpawnP99 { limit, latencies, slow, from_event, .. } => {
                if let Some(l) = s.latency_ns {
                    latencies.push(l);
                    if l > *limit {
                        slow.add(l, s.index);
                    }
                }
                *from_event |= s.from_event;
            }
            Pass::MaxFailedExecAttempts { .. } | Pass::MaxEnvBytes { .. } | Pass::DenyFinding(..) => {}
        }
    }

    fn process(&mut self, p: &Process) {
        match self {
            Pass::MaxFailedExecAttempts { total, worst, .. } => {
                let n = failed_of(p).count();
                if n > 0 {
                    *total += n as u64;
                    worst.add(n as u64, p.index);
                }
            }
            Pass::MaxEnvBytes { limit, max, worst, .. } => {
                if let Some(big) = biggest_env(p) {
                    *max = (*max).max(big.env_bytes);
                    if big.env_bytes > *limit {
                        worst.add(big.env_bytes, p.index);
                    }
                }
            }
            _ => {}
        }
    }

    fn finish(self, c: &Finish<'_>) -> RuleResult {
        let a = c.a;
        match self {
            Pass::DenyStyle(style, origin, bad) => crate::scope::scoped_result(deny_style(style, origin, bad), c.at),
            Pass::MaxSpawns { exe, limit, origin, n, mut excess } => {
                for o in &mut excess.shown {
                    o.detail = format!("spawn {} of {n}", o.spawn.unwrap_or(0) + 1);
                }
                let what = exe.as_deref().map(|e| format!("of {}", escape(e))).unwrap_or_default();
                let rule = Rule::MaxSpawns { exe: exe.clone(), limit };
                let mut r = result_of(&rule, origin, n, limit, Unit::Spawns, Bound::AtMost, &what, excess.pair());
                if r.status == Status::Fail && exe.is_none() {
                    r.note = Some(format!("by executable: {}", breakdown(c.executables)));
                }
                r
            }
            Pass::MinSpawns { exe, limit, origin, n } => {
                let what = exe.as_deref().map(|e| format!("of {}", escape(e))).unwrap_or_default();
                let rule = Rule::MinSpawns { exe, limit };
                let mut r = result(&rule, origin, n, limit, Unit::Spawns, Bound::AtLeast, &what, Vec::new());
                if r.status == Status::Fail {
                    r.note = Some(if a.summary.spawns == 0 {
                        "the trace has no spawns at all".into()
                    } else {
                        format!("spawned: {}", breakdown(c.executables))
                    });
                }
                r
            }
            Pass::MaxFailedExecAttempts { limit, origin, total, worst } => {
                max_failed_exec_attempts(a, limit, origin, total, worst)
            }
            Pass::MaxEnvBytes { limit, origin, max, worst } => max_env_bytes(a, limit, origin, max, worst),
            Pass::DenyFinding(pattern, origin) => deny_finding(a, c.policy, &pattern, origin),
            Pass::RequireCodePath(bad) => require_code_path(c.required, c.allowed, bad),
            Pass::DenyCodePath(code_path, origin, bad) => {
                let n = bad.total as u64;
                let what = format!("via {}", code_path.as_str());
                let r = result_of(&Rule::DenyCodePath(code_path), origin, n, 0, Unit::Spawns, Bound::AtMost, &what, bad.pair());
                crate::scope::scoped_result(r, c.at)
            }
            Pass::MaxSpawnP99 { limit, strict, origin, latencies, slow, from_event } => {
                max_spawn_p99(a, limit, strict, origin, latencies, slow, from_event)
            }
        }
    }
}

fn tally(by: &mut BTreeMap<String, u64>, exe: &str) {
    match by.get_mut(exe) {
        Some(n) => *n += 1,
        None => {
            by.insert(exe.to_string(), 1);
        }
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

fn deny_style(style: SpawnStyle, origin: Origin, bad: First) -> RuleResult {
    let n = bad.total as u64;
    let mut r = result_of(&Rule::DenyStyle(style), origin, n, 0, Unit::Spawns, Bound::AtMost, "", bad.pair());
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
fn breakdown(by: Option<&BTreeMap<String, u64>>) -> String {
    let mut v: Vec<(&String, u64)> = by.into_iter().flatten().map(|(e, &n)| (e, n)).collect();
    v.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
    let shown: Vec<String> = v.iter().take(5).map(|(e, n)| format!("{n} {}", escape(e))).collect();
    let mut s = shown.join(", ");
    if v.len() > 5 {
        s.push_str(&format!(", {} more", counted((v.len() - 5) as u64, "executable", "executables")));
    }
    s
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

/// A process's failed exec attempts that count.
fn failed_of(p: &Process) -> impl Iterator<Item = &spawnscope_analyzer::ExecAttempt> {
    counted_execs(p).iter().filter(|e| e.result != 0)
}

/// A process's successful exec with the largest environment.
fn biggest_env(p: &Process) -> Option<&spawnscope_analyzer::ExecAttempt> {
    counted_execs(p).iter().filter(|e| e.result == 0).max_by_key(|e| e.env_bytes)
}

fn max_failed_exec_attempts(a: &Analysis, limit: u64, origin: Origin, total: u64, worst: Worst) -> RuleResult {
    // Offenders are built for those shown only, read back by index.
    let offender = |i: usize| {
        let p = a.process_at(i)?;
        let failed: Vec<_> = failed_of(&p).collect();
        let mut shown: Vec<String> =
            failed.iter().take(3).map(|e| format!("{} ({})", escape(&e.path), errno_label(e.result))).collect();
        if failed.len() > 3 {
            shown.push(format!("{} more", failed.len() - 3));
        }
        let detail = format!("{} failed: {}", failed.len(), shown.join(", "));
        Some(process_offender(a, &p, detail))
    };
    let bad = worst.total;
    let offenders = (worst.indices().filter_map(offender).collect(), bad);
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

fn max_env_bytes(a: &Analysis, limit: u64, origin: Origin, max: u64, worst: Worst) -> RuleResult {
    let offender = |i: usize| {
        let p = a.process_at(i)?;
        let big = biggest_env(&p)?;
        let detail =
            format!("{} in {}", counted(big.env_bytes, "byte", "bytes"), counted(big.env_count, "variable", "variables"));
        Some(process_offender(a, &p, detail))
    };
    let bad = worst.total;
    let offenders = (worst.indices().filter_map(offender).collect(), bad);
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

fn require_code_path(required: &[(CodePath, Origin)], allowed: &[CodePath], bad: First) -> RuleResult {
    let names: Vec<&str> = allowed.iter().map(|c| c.as_str()).collect();
    let rule = Rule::RequireCodePath(allowed[0]);
    let n = bad.total as u64;
    let what = format!("not taking {}", names.join(" or "));
    let mut r = result_of(&rule, required[0].1.clone(), n, 0, Unit::Spawns, Bound::AtMost, &what, bad.pair());
    r.title = format!("require-code-path {}", names.join(","));
    r
}

fn max_spawn_p99(
    a: &Analysis,
    limit: u64,
    strict: bool,
    origin: Origin,
    mut lat: Vec<u64>,
    slow: Worst,
    from_event: bool,
) -> RuleResult {
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
    let slow_total = slow.total;
    let shown: Vec<Offender> = slow
        .indices()
        .filter_map(|i| a.spawn_at(i))
        .map(|s| spawn_offender(&s, format!("{} ({})", format_duration(s.latency_ns.unwrap_or(0)), style_detail(&s))))
        .collect();
    let hidden = slow_total.saturating_sub(shown.len());
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
    if from_event {
        let line = "events mode: latencies start at the kernel's fork event, so they are lower bounds";
        r.note = Some(match r.note.take() {
            Some(n) => format!("{n}\n{line}"),
            None => line.into(),
        });
    }
    r
}
