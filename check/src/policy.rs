//! The policy model: which rules a check applies, and where each came from.

use std::path::PathBuf;

use serde::Serialize;
use spawnscope_analyzer::{CodePath, SpawnStyle, Thresholds};

use crate::Error;
use spawnscope_units::{duration as format_duration, parse_duration};

/// One rule. Counts and styles are exact; [`Rule::MaxSpawnP99`] is a
/// duration measured under tracing, so it is advisory unless
/// [`Policy::strict_timing`] is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// No spawn may use this style.
    DenyStyle(SpawnStyle),
    /// At most `limit` spawns, overall (`exe: None`) or of one executable.
    MaxSpawns { exe: Option<String>, limit: u64 },
    /// At least `limit` spawns, overall or of one executable (guards against a
    /// check that passes because nothing ran).
    MinSpawns { exe: Option<String>, limit: u64 },
    /// At most this many failed exec attempts (PATH search misses and failed
    /// execs) in all traced processes, not counting spawnscope's own start of
    /// the command.
    MaxFailedExecAttempts(u64),
    /// No successful exec may pass a larger environment (bytes of
    /// `KEY=VALUE\0`, summed).
    MaxEnvBytes(u64),
    /// No finding matching this pattern (an id like `SS001`, a name like
    /// `fork-large-parent`, or `all`) unless allowed by an allow-finding.
    DenyFinding(String),
    /// Every spawn must take one of the required code paths (all
    /// `RequireCodePath` rules together form the allowed set).
    RequireCodePath(CodePath),
    /// No spawn may take this code path.
    DenyCodePath(CodePath),
    /// The 99th percentile of spawn latency (clone entry to the child's exec)
    /// must not exceed this many nanoseconds.
    MaxSpawnP99(u64),
}

impl Rule {
    /// The rule's name: its flag without dashes, its key in the policy file.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::DenyStyle(_) => "deny-style",
            Rule::MaxSpawns { exe: None, .. } => "max-spawns",
            Rule::MaxSpawns { exe: Some(_), .. } => "max-spawns-per-exe",
            Rule::MinSpawns { exe: None, .. } => "min-spawns",
            Rule::MinSpawns { exe: Some(_), .. } => "min-spawns-per-exe",
            Rule::MaxFailedExecAttempts(_) => "max-failed-exec-attempts",
            Rule::MaxEnvBytes(_) => "max-env-bytes",
            Rule::DenyFinding(_) => "deny-finding",
            Rule::RequireCodePath(_) => "require-code-path",
            Rule::DenyCodePath(_) => "deny-code-path",
            Rule::MaxSpawnP99(_) => "max-spawn-p99",
        }
    }

    /// Name with its argument, as shown in results: `deny-style fork`,
    /// `max-spawns git`, `max-spawns`.
    pub fn title(&self) -> String {
        match self {
            Rule::DenyStyle(s) => format!("deny-style {}", s.as_str()),
            Rule::MaxSpawns { exe: Some(e), .. } => format!("max-spawns {}", spawnscope_format::escape(e)),
            Rule::MinSpawns { exe: Some(e), .. } => format!("min-spawns {}", spawnscope_format::escape(e)),
            Rule::DenyFinding(p) => format!("deny-finding {p}"),
            Rule::RequireCodePath(_) => "require-code-path".into(),
            Rule::DenyCodePath(c) => format!("deny-code-path {}", c.as_str()),
            r => r.name().into(),
        }
    }

    /// Two rules with the same key cannot both apply: the later replaces the
    /// earlier (a flag overrides the policy file). Set-like rules (deny-style,
    /// deny-finding, code paths) have one key per value and so accumulate.
    fn key(&self) -> String {
        match self {
            Rule::MaxSpawns { exe, .. } => format!("max-spawns/{exe:?}"),
            Rule::MinSpawns { exe, .. } => format!("min-spawns/{exe:?}"),
            Rule::MaxFailedExecAttempts(_) | Rule::MaxEnvBytes(_) | Rule::MaxSpawnP99(_) => self.name().into(),
            Rule::DenyStyle(s) => format!("deny-style/{}", s.as_str()),
            Rule::DenyFinding(p) => format!("deny-finding/{p}"),
            Rule::RequireCodePath(c) => format!("require-code-path/{}", c.as_str()),
            Rule::DenyCodePath(c) => format!("deny-code-path/{}", c.as_str()),
        }
    }

    /// The limit as written by a user (`0`, `5ms`, `fork`).
    pub fn limit_text(&self) -> String {
        match self {
            Rule::DenyStyle(s) => s.as_str().into(),
            Rule::MaxSpawns { limit, .. } | Rule::MinSpawns { limit, .. } => limit.to_string(),
            Rule::MaxFailedExecAttempts(n) | Rule::MaxEnvBytes(n) => n.to_string(),
            Rule::DenyFinding(p) => p.clone(),
            Rule::RequireCodePath(c) | Rule::DenyCodePath(c) => c.as_str().into(),
            Rule::MaxSpawnP99(ns) => format_duration(*ns),
        }
    }
}

/// Where a rule came from; shown next to each result, and GitHub annotations
/// point at the policy file's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Origin {
    /// A command-line flag, e.g. `--max-spawns`.
    Flag { flag: String },
    /// A key in a policy file (1-based line).
    File { path: PathBuf, line: usize },
    /// Built in Rust code through [`Policy`]'s methods.
    Api,
    /// Always checked (the command's exit status).
    Builtin,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag { flag } => f.write_str(flag),
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Api => f.write_str("api"),
            Origin::Builtin => f.write_str("built in"),
        }
    }
}

/// A rule and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    pub rule: Rule,
    pub origin: Origin,
}

/// A set of rules to check a trace against.
///
/// Build one from a policy file ([`Policy::from_toml_file`]), from flags, or
/// in code; [`Policy::merge`] lays one over another (flags over the file).
///
/// ```
/// use spawnscope_check::{Policy, SpawnStyle};
/// let p = Policy::new()
///     .deny_style(SpawnStyle::Fork)
///     .max_spawns(100)
///     .max_spawns_of("git", 10)
///     .max_spawn_p99("5ms").unwrap();
/// assert_eq!(p.rules().len(), 4);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    rules: Vec<PolicyRule>,
    allow_findings: Vec<(String, Origin)>,
    /// Duration rules fail the check (default: they only warn, since a shared
    /// runner's timings vary and tracing adds overhead).
    pub strict_timing: bool,
    /// A failing checked command does not fail the check.
    pub allow_command_failure: bool,
    /// The policy file these rules came from, if any.
    pub file: Option<PathBuf>,
    /// Finding thresholds from the policy file's `[thresholds]` table (None:
    /// the analyzer's defaults). They decide when a finding fires, and so
    /// what deny-finding sees.
    pub thresholds: Option<Thresholds>,
    /// Scope the spawn rules (deny-style, deny-code-path) to code: only spawns
    /// whose call site or a caller matches (`--at 'myapp::'`, issue 10).
    pub at: Option<String>,
}

impl Policy {
    /// An empty policy: no rules.
    pub fn new() -> Policy {
        Policy::default()
    }

    /// The rules in the order they were added.
    pub fn rules(&self) -> &[PolicyRule] {
        &self.rules
    }

    /// Finding patterns exempt from deny-finding rules, with their origin.
    pub fn allowed_findings(&self) -> &[(String, Origin)] {
        &self.allow_findings
    }

    /// Whether the policy has nothing to check.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Adds a rule; a rule with the same key (e.g. an earlier `max-spawns`)
    /// is replaced, a repeated set member (the same denied style) is kept once.
    pub fn add(&mut self, rule: Rule, origin: Origin) {
        let key = rule.key();
        if let Some(existing) = self.rules.iter_mut().find(|r| r.rule.key() == key) {
            *existing = PolicyRule { rule, origin };
        } else {
            self.rules.push(PolicyRule { rule, origin });
        }
    }

    /// Orders rules from a file as they appear in it (stable for one line).
    pub(crate) fn sort_by_origin_line(&mut self) {
        self.rules.sort_by_key(|r| match r.origin {
            Origin::File { line, .. } => line,
            _ => usize::MAX,
        });
    }

    /// Exempts findings matching `pattern` (id or name) from deny-finding.
    pub fn add_allowed_finding(&mut self, pattern: &str, origin: Origin) -> Result<(), Error> {
        let p = parse_finding_pattern(pattern).map_err(|m| Error::rule("allow-finding", m))?;
        if !self.allow_findings.iter().any(|(q, _)| *q == p) {
            self.allow_findings.push((p, origin));
        }
        Ok(())
    }

    /// Lays `over` on top of `self`: its rules replace same-key rules here,
    /// set-like rules and allowed findings accumulate, flags are or-ed.
    pub fn merge(mut self, over: Policy) -> Policy {
        for r in over.rules {
            self.add(r.rule, r.origin);
        }
        for (p, o) in over.allow_findings {
            if !self.allow_findings.iter().any(|(q, _)| *q == p) {
                self.allow_findings.push((p, o));
            }
        }
        self.strict_timing |= over.strict_timing;
        self.allow_command_failure |= over.allow_command_failure;
        self.file = over.file.or(self.file);
        self.thresholds = over.thresholds.or(self.thresholds);
        self.at = over.at.or(self.at);
        self
    }

    // Builder methods for use in code (origin: Api).

    pub fn deny_style(mut self, style: SpawnStyle) -> Self {
        self.add(Rule::DenyStyle(style), Origin::Api);
        self
    }
    pub fn max_spawns(mut self, limit: u64) -> Self {
        self.add(Rule::MaxSpawns { exe: None, limit }, Origin::Api);
        self
    }
    pub fn min_spawns(mut self, limit: u64) -> Self {
        self.add(Rule::MinSpawns { exe: None, limit }, Origin::Api);
        self
    }
    /// At most `limit` spawns of `exe` (a basename like `git`, or a full path).
    pub fn max_spawns_of(mut self, exe: &str, limit: u64) -> Self {
        self.add(Rule::MaxSpawns { exe: Some(exe.into()), limit }, Origin::Api);
        self
    }
    /// At least `limit` spawns of `exe` (a basename like `git`, or a full path).
    pub fn min_spawns_of(mut self, exe: &str, limit: u64) -> Self {
        self.add(Rule::MinSpawns { exe: Some(exe.into()), limit }, Origin::Api);
        self
    }
    pub fn max_failed_exec_attempts(mut self, limit: u64) -> Self {
        self.add(Rule::MaxFailedExecAttempts(limit), Origin::Api);
        self
    }
    pub fn max_env_bytes(mut self, limit: u64) -> Self {
        self.add(Rule::MaxEnvBytes(limit), Origin::Api);
        self
    }
    pub fn require_code_path(mut self, path: CodePath) -> Self {
        self.add(Rule::RequireCodePath(path), Origin::Api);
        self
    }
    pub fn deny_code_path(mut self, path: CodePath) -> Self {
        self.add(Rule::DenyCodePath(path), Origin::Api);
        self
    }
    /// Denies findings matching an id (`SS001`), a name or `all`.
    pub fn deny_finding(mut self, pattern: &str) -> Result<Self, Error> {
        let p = parse_finding_pattern(pattern).map_err(|m| Error::rule("deny-finding", m))?;
        self.add(Rule::DenyFinding(p), Origin::Api);
        Ok(self)
    }
    pub fn allow_finding(mut self, pattern: &str) -> Result<Self, Error> {
        self.add_allowed_finding(pattern, Origin::Api)?;
        Ok(self)
    }
    /// A duration like `"5ms"`.
    pub fn max_spawn_p99(mut self, duration: &str) -> Result<Self, Error> {
        let ns = parse_duration(duration).map_err(|m| Error::rule("max-spawn-p99", m))?;
        self.add(Rule::MaxSpawnP99(ns), Origin::Api);
        Ok(self)
    }
    pub fn strict_timing(mut self, on: bool) -> Self {
        self.strict_timing = on;
        self
    }
    pub fn allow_command_failure(mut self, on: bool) -> Self {
        self.allow_command_failure = on;
        self
    }
}

/// Parses a spawn style name: `fork`, `vfork` or `vm`.
pub fn parse_style(s: &str) -> Result<SpawnStyle, String> {
    SpawnStyle::ALL
        .into_iter()
        .find(|st| st.as_str() == s)
        .ok_or_else(|| format!("unknown spawn style {s:?}: expected one of fork, vfork, vm"))
}

/// Parses a code path name as printed by `spawnscope report` (e.g. `glibc-posix-spawn`).
pub fn parse_code_path(s: &str) -> Result<CodePath, String> {
    CodePath::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = CodePath::ALL.iter().map(|c| c.as_str()).collect();
        format!("unknown code path {s:?}: expected one of {}", names.join(", "))
    })
}

/// Checks a finding pattern: `all`, or the id (`SS001`, any case) or name
/// (`fork-large-parent`) of one of the analyzer's findings
/// ([`spawnscope_analyzer::RULES`]). Returns the canonical form (id upper
/// case, name as is).
pub fn parse_finding_pattern(s: &str) -> Result<String, String> {
    if s == "all" {
        return Ok(s.into());
    }
    if let Some(r) = spawnscope_analyzer::RULES.iter().find(|r| r.id.eq_ignore_ascii_case(s)) {
        return Ok(r.id.into());
    }
    if let Some(r) = spawnscope_analyzer::RULES.iter().find(|r| r.name == s) {
        return Ok(r.name.into());
    }
    let known: Vec<String> = spawnscope_analyzer::RULES.iter().map(|r| format!("{} {}", r.id, r.name)).collect();
    Err(format!("unknown finding \"{}\": expected all or one of {}", spawnscope_format::escape(s), known.join(", ")))
}

/// Parses `EXE=N` (e.g. `git=10`, `/usr/bin/git=10`).
pub fn parse_exe_limit(s: &str) -> Result<(String, u64), String> {
    let (exe, n) =
        s.rsplit_once('=').ok_or_else(|| format!("expected EXE=N (e.g. git=10), got \"{}\"", spawnscope_format::escape(s)))?;
    if exe.is_empty() {
        return Err(format!("expected EXE=N (e.g. git=10), got {:?}: no executable", s));
    }
    let n: u64 = n.trim().parse().map_err(|_| format!("expected EXE=N (e.g. git=10), got {s:?}: {n:?} is not a count"))?;
    Ok((exe.to_string(), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_scalar_rules_replace_earlier_ones() {
        let file = Policy::new().max_spawns(10).max_spawns_of("git", 3).deny_style(SpawnStyle::Fork);
        let flags = Policy::new().max_spawns(20).deny_style(SpawnStyle::Vm);
        let p = file.merge(flags);
        let rules: Vec<&Rule> = p.rules().iter().map(|r| &r.rule).collect();
        assert_eq!(
            rules,
            [
                &Rule::MaxSpawns { exe: None, limit: 20 },
                &Rule::MaxSpawns { exe: Some("git".into()), limit: 3 },
                &Rule::DenyStyle(SpawnStyle::Fork),
                &Rule::DenyStyle(SpawnStyle::Vm),
            ]
        );
    }

    #[test]
    fn repeated_set_members_are_kept_once() {
        let p = Policy::new().deny_style(SpawnStyle::Fork).deny_style(SpawnStyle::Fork);
        assert_eq!(p.rules().len(), 1);
    }

    #[test]
    fn values_are_parsed_or_explained() {
        assert_eq!(parse_style("vfork"), Ok(SpawnStyle::Vfork));
        assert!(parse_style("spawn").unwrap_err().contains("fork, vfork, vm"));
        assert_eq!(parse_code_path("glibc-posix-spawn"), Ok(CodePath::GlibcPosixSpawn));
        assert!(parse_code_path("posix_spawn").unwrap_err().contains("glibc-posix-spawn"));
        assert_eq!(parse_exe_limit("git=10"), Ok(("git".into(), 10)));
        assert_eq!(parse_exe_limit("/usr/bin/a=b=2"), Ok(("/usr/bin/a=b".into(), 2)));
        assert!(parse_exe_limit("git").is_err());
        assert!(parse_exe_limit("=3").is_err());
        assert!(parse_exe_limit("git=-1").is_err());
        assert_eq!(parse_finding_pattern("SS001").as_deref(), Ok("SS001"));
        assert_eq!(parse_finding_pattern("ss003").as_deref(), Ok("SS003"));
        assert_eq!(parse_finding_pattern("fork-large-parent").as_deref(), Ok("fork-large-parent"));
        assert_eq!(parse_finding_pattern("all").as_deref(), Ok("all"));
        let e = parse_finding_pattern("SS999").unwrap_err();
        assert!(e.contains("unknown finding \"SS999\"") && e.contains("SS001 fork-large-parent"), "{e}");
        assert!(parse_finding_pattern("bad\x1bid").unwrap_err().contains("bad\\x1bid"));
        assert!(Policy::new().max_spawn_p99("5").is_err());
    }
}
