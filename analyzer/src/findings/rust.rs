//! SS002: the Rust std fork+exec fallback and why it happened.
//!
//! Rust's `Command::spawn` on Linux/glibc uses `posix_spawnp` (vfork-style)
//! unless one of these holds, in which case it opens a
//! socketpair(AF_UNIX, SOCK_SEQPACKET) and calls `fork()`
//! (`library/std/src/sys/process/unix/unix.rs`, `Command::posix_spawn`;
//! before 2025 `library/std/src/sys/pal/unix/process/process_unix.rs`):
//!
//! | condition | since / until |
//! |---|---|
//! | glibc older than 2.24, or its version unknown to std | always |
//! | `uid()`, `gid()` (stable), `groups()` (nightly) | always |
//! | a `pre_exec` (`before_exec`) closure | always |
//! | PATH changed on the Command (`env_clear()`, `env("PATH", ..)`, `env_remove("PATH")`) | any program before Rust 1.49; from 1.49 (PR #77455) only with a bare program name |
//! | `current_dir()` | always before Rust 1.34; from 1.34 (PR #58438) only without `posix_spawn_file_actions_addchdir_np` (glibc < 2.29) |
//! | nightly `create_pidfd(true)`, `chroot()` | create_pidfd: unless glibc >= 2.39 has `pidfd_spawnp` (std from 2024) |
//!
//! Before about Rust 1.53 the fallback used a pipe instead of the socketpair,
//! so such binaries show as plain `fork + exec`.
//!
//! The trace shows the host's glibc, the child's environment (count, bytes,
//! hash) and its exec attempts; it does not show closures, credentials or the
//! directory the program set. So a cause is named only when the trace
//! proves it (old glibc); a cause with positive evidence is "likely"; the
//! rest are listed as candidates, each with what would tell it apart, and
//! the causes the trace rules out are said to be ruled out. No advice is
//! given for a ruled-out cause.

use std::collections::{BTreeMap, BTreeSet};

use spawnscope_format::{Header, Nanos};

use super::{finding, fmt_ns, list, ms, Evidence, SpawnCtx};
use crate::model::{Analysis, CodePath, Finding, Severity, Spawn};
use crate::sample::Sampler;
use crate::stats::basename;
use crate::Thresholds;

/// A condition that makes std take its fork fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Cause {
    OldGlibc,
    PreExec,
    PathOnCommand,
    Credentials,
    CurrentDir,
    Nightly,
}

impl Cause {
    /// Candidates in the order they are listed when nothing decides.
    const ORDER: [Cause; 6] =
        [Cause::PreExec, Cause::PathOnCommand, Cause::Credentials, Cause::CurrentDir, Cause::OldGlibc, Cause::Nightly];

    fn what(self) -> &'static str {
        match self {
            Cause::OldGlibc => "glibc older than 2.24",
            Cause::PreExec => "a pre_exec() closure",
            Cause::PathOnCommand => {
                "PATH set on the Command (env(\"PATH\", ..), env_clear() or env_remove(\"PATH\")) with a bare program name"
            }
            Cause::Credentials => "uid(), gid() or groups()",
            Cause::CurrentDir => "current_dir()",
            Cause::Nightly => "nightly-only create_pidfd(true) or chroot()",
        }
    }

    fn fix(self) -> &'static str {
        match self {
            Cause::OldGlibc => {
                "on glibc < 2.24 every Command spawn forks: spawn from a small helper process started early, or run on a newer glibc"
            }
            Cause::PreExec => "do the pre_exec work in the parent before spawning, or in a small wrapper program the child runs",
            Cause::PathOnCommand => "name the program by its full path when the Command changes PATH",
            Cause::Credentials => "start the spawning process as the target user instead of switching in the child",
            Cause::CurrentDir => "avoid current_dir() on this glibc (chdir in a wrapper, e.g. `sh -c 'cd DIR && exec PROG'`)",
            Cause::Nightly => "drop create_pidfd/chroot, or use a glibc with pidfd_spawnp (>= 2.39)",
        }
    }

    /// Key of the per-cause count in the finding's numbers.
    fn key(self) -> &'static str {
        match self {
            Cause::OldGlibc => "old_glibc",
            Cause::PreExec => "pre_exec",
            Cause::PathOnCommand => "path_on_command",
            Cause::Credentials => "credentials",
            Cause::CurrentDir => "current_dir",
            Cause::Nightly => "nightly",
        }
    }
}

/// What the trace says about one cause of one fallback spawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The trace proves it.
    Certain(String),
    /// Positive evidence, not proof.
    Likely(String),
    /// Not visible in the trace; the text says what would tell it apart.
    Possible(String),
    /// The trace rules it out; the text says why.
    Excluded(String),
}

/// What is known about the spawn and the std that made it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Facts {
    /// Host glibc (major, minor).
    pub glibc: Option<(u32, u32)>,
    pub glibc_text: String,
    /// rustc version (major, minor) of the parent's binary (`.comment`), if known.
    pub rustc: Option<(u32, u32)>,
    /// The program was found by a PATH walk of a bare name.
    pub bare_name: bool,
    /// The program was given as a path (argv[0] with a `/`).
    pub program_is_path: bool,
    /// Child environment (count, bytes, hash).
    pub child_env: (u64, u64, Option<u64>),
    /// The parent's own environment (count, bytes, hash), when known.
    pub parent_env: Option<(u64, u64, Option<u64>)>,
}

/// The verdict on every cause for one spawn (pure: unit-tested per version).
pub(crate) fn judge(f: &Facts) -> Vec<(Cause, Verdict)> {
    use Verdict::*;
    let std_at_least = |v: (u32, u32)| f.rustc.is_none_or(|r| r >= v);
    let rustc_note =
        if f.rustc.is_none() { " (assuming a Rust std from 2019 or later; the trace does not say which)" } else { "" };
    let mut out = Vec::new();
    out.push((
        Cause::OldGlibc,
        match f.glibc {
            Some(v) if v < (2, 24) => {
                Certain(format!("host glibc {} is older than 2.24: std never uses posix_spawn there", f.glibc_text))
            }
            Some(_) => Excluded(format!("glibc {} >= 2.24", f.glibc_text)),
            None => Possible(
                "the trace does not record the glibc version; std also forks when it cannot read it (static or non-glibc builds)"
                    .into(),
            ),
        },
    ));
    out.push((Cause::PreExec, Possible("a closure leaves nothing in the trace".into())));
    let path = if f.program_is_path && std_at_least((1, 49)) {
        Excluded(format!("the program was given as a path, and std >= 1.49 keeps posix_spawn then{rustc_note}"))
    } else if !f.bare_name && !f.program_is_path {
        Possible("the trace cannot tell how the program was named".into())
    } else {
        let (cv, cb, ch) = f.child_env;
        match f.parent_env {
            Some((pv, pb, ph)) if ph.is_some() && ph == ch || ph.is_none() && (pv, pb) == (cv, cb) => {
                Excluded("the child got its parent's environment unchanged, so the Command did not set PATH".into())
            }
            Some((pv, _, _)) if cv <= 3 && pv > cv || cv * 2 < pv => Likely(format!(
                "the child's environment has {cv} variables against its parent's {pv}: env_clear() or a short env list built it"
            )),
            None if cv <= 3 => Likely(format!("the child's environment has only {cv} variables, as after env_clear()")),
            Some((pv, pb, _)) => Possible(format!(
                "the child's environment ({cv} variables, {cb} bytes) differs from its parent's ({pv}, {pb}), which a PATH set on the Command and a PATH the program set for itself (std::env::set_var) both explain: look for env(\"PATH\"), env_clear() or env_remove(\"PATH\") on the Command"
            )),
            None => Possible("the parent's environment is not in the trace; look for env(\"PATH\"), env_clear() or env_remove(\"PATH\") on the Command".into()),
        }
    };
    out.push((Cause::PathOnCommand, path));
    out.push((Cause::Credentials, Possible("the trace records no user or group ids".into())));
    let cwd = match (f.glibc, std_at_least((1, 34))) {
        (_, false) => Possible("std before 1.34 always forks for current_dir()".into()),
        (Some(v), true) if v >= (2, 29) => Excluded(format!(
            "glibc {} has posix_spawn_file_actions_addchdir_np, which std >= 1.34 uses{rustc_note}",
            f.glibc_text
        )),
        (Some(_), true) => Possible(format!(
            "glibc {} < 2.29 cannot chdir in posix_spawn; a directory change leaves nothing in the trace",
            f.glibc_text
        )),
        (None, true) => Possible("possible if the host's glibc is older than 2.29 (not recorded)".into()),
    };
    out.push((Cause::CurrentDir, cwd));
    let pidfd_spawnp = f.glibc.is_some_and(|v| v >= (2, 39)) && f.rustc.is_some_and(|r| r >= (1, 81));
    out.push((
        Cause::Nightly,
        if pidfd_spawnp {
            Possible("only chroot() can be the nightly cause: create_pidfd uses pidfd_spawnp here".into())
        } else {
            Possible("nightly-only APIs, invisible in the trace".into())
        },
    ));
    out
}

/// What is kept of one group's verdicts (decided, likely, open, or all).
#[derive(Debug, Clone, Default)]
struct GroupTally {
    spawns: u64,
    causes: BTreeMap<Cause, TallyAcc>,
}

impl GroupTally {
    fn add(&mut self, index: usize, verdicts: &[(Cause, Verdict)]) {
        self.spawns += 1;
        for (c, v) in verdicts {
            self.causes.entry(*c).or_default().add(index, v);
        }
    }

    fn tally(&self) -> BTreeMap<Cause, Tally> {
        self.causes.iter().map(|(c, t)| (*c, t.tally())).collect()
    }
}

/// Per cause, counts of each verdict and the reasons a pass over the spawns
/// in index order would keep: the last likely reason, else the first
/// certain or possible one; the first exclusion.
#[derive(Debug, Clone, Default)]
struct TallyAcc {
    certain: u64,
    likely: u64,
    possible: u64,
    excluded: u64,
    last_likely: Option<(usize, String)>,
    first_other: Option<(usize, String)>,
    first_excluded: Option<(usize, String)>,
}

impl TallyAcc {
    fn add(&mut self, i: usize, v: &Verdict) {
        let first = |slot: &mut Option<(usize, String)>, r: &String| {
            if slot.as_ref().is_none_or(|(j, _)| i < *j) {
                *slot = Some((i, r.clone()));
            }
        };
        match v {
            Verdict::Certain(r) => {
                self.certain += 1;
                first(&mut self.first_other, r);
            }
            Verdict::Likely(r) => {
                self.likely += 1;
                if self.last_likely.as_ref().is_none_or(|(j, _)| i > *j) {
                    self.last_likely = Some((i, r.clone()));
                }
            }
            Verdict::Possible(r) => {
                self.possible += 1;
                first(&mut self.first_other, r);
            }
            Verdict::Excluded(r) => {
                self.excluded += 1;
                first(&mut self.first_excluded, r);
            }
        }
    }

    fn tally(&self) -> Tally {
        Tally {
            certain: self.certain,
            likely: self.likely,
            possible: self.possible,
            excluded: self.excluded,
            reason: self.last_likely.as_ref().or(self.first_other.as_ref()).map(|r| r.1.clone()),
            excluded_reason: self.first_excluded.as_ref().map(|r| r.1.clone()),
        }
    }
}

/// SS002's tally: Rust std fork-fallback spawns, judged one at a time.
#[derive(Debug, Clone)]
pub(crate) struct RustFallback {
    glibc: Option<(u32, u32)>,
    glibc_text: String,
    rss_kib: u64,
    ev: Evidence,
    /// Decided (a cause is certain), likely (one is likely), open.
    groups: [GroupTally; 3],
    everything: GroupTally,
    programs: BTreeSet<String>,
    latency: Nanos,
    clone: Nanos,
    clones: Sampler,
    large: bool,
}

impl RustFallback {
    pub fn new(header: &Header, t: &Thresholds, ev: Evidence) -> RustFallback {
        RustFallback {
            glibc: header.glibc(),
            glibc_text: header.host.glibc_version.clone().unwrap_or_default(),
            rss_kib: t.fork_parent_rss_mib.saturating_mul(1024),
            ev,
            groups: Default::default(),
            everything: GroupTally::default(),
            programs: BTreeSet::new(),
            latency: 0,
            clone: 0,
            clones: Sampler::default(),
            large: false,
        }
    }

    pub fn feed(&mut self, s: &Spawn, ctx: &SpawnCtx) {
        if s.code_path != CodePath::RustStdForkFallback {
            return;
        }
        self.ev.add(s.index as u64, s);
        let verdicts = judge(&facts(self.glibc, &self.glibc_text, s, ctx));
        let certain = verdicts.iter().any(|(_, x)| matches!(x, Verdict::Certain(_)));
        let likely = verdicts.iter().any(|(_, x)| matches!(x, Verdict::Likely(_)));
        let kind = if certain {
            0
        } else if likely {
            1
        } else {
            2
        };
        self.groups[kind].add(s.index, &verdicts);
        self.everything.add(s.index, &verdicts);
        if !self.programs.contains(s.executable()) {
            self.programs.insert(s.executable().to_string());
        }
        self.latency = self.latency.saturating_add(s.latency_ns.unwrap_or(0));
        if let Some(c) = s.clone_ns {
            self.clone = self.clone.saturating_add(c);
            self.clones.add(c, super::RULE_SAMPLES);
        }
        self.large |= s.parent_mem.is_some_and(|m| m.rss_kb >= self.rss_kib);
    }

    /// `baseline`: the upper median of the vfork-style clone times, if any.
    pub fn conclude(&self, _t: &Thresholds, baseline: Option<Nanos>) -> Option<Finding> {
        let n = self.ev.total;
        if n == 0 {
            return None;
        }
        let programs: Vec<String> = self.programs.iter().cloned().collect();
        // Spawns fall in three groups: a cause is proven, one is likely, or
        // the trace cannot tell. Each group's causes are described once.
        let all = |k: u64| if k == n { "all".to_string() } else { format!("{k} of {n}") };
        let mut cause_text = Vec::new();
        let mut advice = Vec::new();
        for (kind, group) in self.groups.iter().enumerate() {
            if group.spawns == 0 {
                continue;
            }
            let t = group.tally();
            match kind {
                0 => {
                    for (c, t) in t.iter().filter(|(_, t)| t.certain > 0) {
                        cause_text.push(format!("{}: {} (certain)", all(t.certain), t.reason.as_deref().unwrap_or("")));
                        advice.push(capitalise(c.fix()) + ".");
                    }
                }
                1 => {
                    let Some((c, lt)) = t.iter().find(|(_, t)| t.likely > 0) else { continue };
                    let others = candidates(&t, Some(*c));
                    cause_text.push(format!(
                        "{}: likely {} ({}); also possible: {}",
                        all(group.spawns),
                        c.what(),
                        lt.reason.as_deref().unwrap_or(""),
                        others.iter().map(|(c, _)| c.what()).collect::<Vec<_>>().join("; ")
                    ));
                    advice.push(format!("Most likely {}: {}.", c.what(), c.fix()));
                }
                _ => {
                    let cands = candidates(&t, None);
                    let items: Vec<String> = cands
                        .iter()
                        .enumerate()
                        .map(|(i, (c, t))| format!("({}) {} ({})", i + 1, c.what(), t.reason.as_deref().unwrap_or("")))
                        .collect();
                    cause_text.push(format!(
                        "{}: the trace cannot tell which of these forced it, most common first: {}",
                        all(group.spawns),
                        items.join("; ")
                    ));
                    let looks: Vec<String> = cands.iter().map(|(c, _)| format!("{} ({})", c.what(), c.fix())).collect();
                    advice.push(format!(
                        "Look in the Command that spawns {} for, in this order: {}.",
                        list(&programs, 3),
                        looks.join("; ")
                    ));
                }
            }
        }
        let everything = self.everything.tally();
        let ruled_out: Vec<String> = everything
            .iter()
            .filter(|(_, t)| t.excluded == n)
            .map(|(c, t)| format!("{} ({})", c.what(), t.excluded_reason.as_deref().unwrap_or("")))
            .collect();
        let [decided, likely, open] = [&self.groups[0], &self.groups[1], &self.groups[2]].map(|g| g.spawns);
        if !ruled_out.is_empty() && decided < n {
            cause_text.push(format!("ruled out: {}", ruled_out.join("; ")));
        }
        let baseline = baseline.unwrap_or(super::cost::VFORK_CLONE_NS);
        let extra: Nanos = self.clones.sum_excess(baseline);
        let message = format!(
            "{n} spawn{} used Rust std's fork+exec fallback instead of posix_spawn (socketpair(AF_UNIX, SOCK_SEQPACKET) then fork; programs: {}), {} from clone entry to exec (measured under tracing). Cause: {}",
            if n == 1 { "" } else { "s" },
            list(&programs, 5),
            fmt_ns(self.latency),
            cause_text.join("; ")
        );
        advice.push("A fork costs in proportion to the parent's memory (see SS001); posix_spawn does not.".to_string());
        let severity = if self.large { Severity::High } else { Severity::Warning };
        let mut f = finding("SS002", severity, message, advice.join(" "));
        let count = |c: Cause, pick: fn(&Tally) -> u64| everything.get(&c).map_or(0, pick) as f64;
        f.numbers = BTreeMap::from([
            ("spawns".to_string(), n as f64),
            ("latency_ms_total".to_string(), ms(self.latency)),
            ("clone_ms_total".to_string(), ms(self.clone)),
            ("cause_old_glibc".to_string(), decided as f64),
            ("cause_path_changed".to_string(), likely as f64),
            ("cause_not_visible".to_string(), open as f64),
        ]);
        for c in Cause::ORDER {
            f.numbers.insert(format!("candidate_{}", c.key()), count(c, |t| t.likely + t.possible));
        }
        self.ev.fill(&mut f);
        // What posix_spawn would have saved: the fork's cost above a vfork-style clone.
        f.savings_ns = Some(extra);
        Some(f)
    }
}

/// Per cause: how many spawns got each verdict, and one reason of each kind.
#[derive(Debug, Default)]
struct Tally {
    certain: u64,
    likely: u64,
    possible: u64,
    excluded: u64,
    reason: Option<String>,
    excluded_reason: Option<String>,
}

/// The causes still open in a group, in the usual order, without `skip`.
fn candidates(t: &BTreeMap<Cause, Tally>, skip: Option<Cause>) -> Vec<(Cause, &Tally)> {
    Cause::ORDER
        .iter()
        .filter(|c| Some(**c) != skip)
        .filter_map(|c| t.get(c).map(|t| (*c, t)))
        .filter(|(_, t)| t.likely + t.possible > 0)
        .collect()
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn facts(glibc: Option<(u32, u32)>, glibc_text: &str, s: &Spawn, ctx: &SpawnCtx) -> Facts {
    let mut f =
        Facts { glibc, glibc_text: glibc_text.to_string(), rustc: ctx.rustc, parent_env: ctx.parent_env, ..Facts::default() };
    let Some(e) = &s.exec else { return f };
    f.child_env = (e.env_count, e.env_bytes, ctx.child_env_hash);
    if let Some(argv0) = e.argv.first().filter(|a| !a.is_empty()) {
        // The first exec of the child: with a bare name execvp tries
        // DIR/NAME for each PATH entry; with a path, the path itself.
        f.program_is_path = argv0.contains('/');
        let first = e.failed_attempts.first().map_or(e.path.as_str(), |x| x.path.as_str());
        f.bare_name = !f.program_is_path && basename(first) == argv0.as_str() && first != argv0.as_str();
    }
    f
}

/// The parent's own environment (count, bytes, hash): its last successful
/// exec, or for the traced command the tracer's environment it inherited.
pub(crate) fn parent_env(a: &Analysis, s: &Spawn) -> Option<(u64, u64, Option<u64>)> {
    let mut cur = s.parent;
    let mut before = s.t_start;
    for _ in 0..64 {
        let p = a.processes.get(cur?)?;
        if let Some(e) = p.execs.iter().rev().find(|e| e.result == 0 && e.t_exit <= before) {
            return Some((e.env_count, e.env_bytes, e.env_hash));
        }
        if p.parent.is_none() {
            let t = &a.header.tracer;
            return (t.attached_pid.is_none() && t.env_count > 0).then_some((t.env_count, t.env_bytes, None));
        }
        before = p.t_start;
        cur = p.parent;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(glibc: (u32, u32), rustc: Option<(u32, u32)>) -> Facts {
        Facts {
            glibc: Some(glibc),
            glibc_text: format!("{}.{}", glibc.0, glibc.1),
            rustc,
            bare_name: true,
            program_is_path: false,
            child_env: (30, 2000, Some(1)),
            parent_env: Some((30, 1900, Some(2))),
        }
    }

    fn verdict(f: &Facts, c: Cause) -> Verdict {
        judge(f).into_iter().find(|(x, _)| *x == c).unwrap().1
    }

    #[test]
    fn old_glibc_is_certain_and_new_glibc_rules_it_out() {
        assert!(matches!(verdict(&facts((2, 17), None), Cause::OldGlibc), Verdict::Certain(_)));
        assert!(matches!(verdict(&facts((2, 36), None), Cause::OldGlibc), Verdict::Excluded(_)));
        let mut f = facts((2, 36), None);
        f.glibc = None;
        assert!(matches!(verdict(&f, Cause::OldGlibc), Verdict::Possible(_)));
    }

    #[test]
    fn current_dir_depends_on_glibc_and_std_version() {
        assert!(matches!(verdict(&facts((2, 36), Some((1, 80))), Cause::CurrentDir), Verdict::Excluded(_)));
        assert!(matches!(verdict(&facts((2, 28), Some((1, 80))), Cause::CurrentDir), Verdict::Possible(_)));
        // Before 1.34 std forked for any current_dir().
        assert!(matches!(verdict(&facts((2, 36), Some((1, 33))), Cause::CurrentDir), Verdict::Possible(_)));
    }

    #[test]
    fn a_path_program_rules_out_a_path_change_from_std_1_49() {
        let mut f = facts((2, 36), Some((1, 49)));
        f.bare_name = false;
        f.program_is_path = true;
        assert!(matches!(verdict(&f, Cause::PathOnCommand), Verdict::Excluded(_)));
        f.rustc = Some((1, 48));
        assert!(matches!(verdict(&f, Cause::PathOnCommand), Verdict::Possible(_)));
    }

    #[test]
    fn the_environment_tells_path_changes_apart() {
        // Same hash: the Command passed the parent's environment on.
        let mut f = facts((2, 36), None);
        f.parent_env = Some((30, 2000, Some(1)));
        assert!(matches!(verdict(&f, Cause::PathOnCommand), Verdict::Excluded(_)));
        // env_clear(): a handful of variables.
        f.child_env = (1, 40, Some(9));
        assert!(matches!(verdict(&f, Cause::PathOnCommand), Verdict::Likely(_)));
        // Same count, other bytes: a PATH set on the Command or by set_var.
        let f = facts((2, 36), None);
        assert!(matches!(verdict(&f, Cause::PathOnCommand), Verdict::Possible(_)));
    }

    #[test]
    fn closures_and_credentials_are_never_decided() {
        for g in [(2, 17), (2, 36)] {
            let f = facts(g, Some((1, 90)));
            assert!(matches!(verdict(&f, Cause::PreExec), Verdict::Possible(_)));
            assert!(matches!(verdict(&f, Cause::Credentials), Verdict::Possible(_)));
        }
    }
}
