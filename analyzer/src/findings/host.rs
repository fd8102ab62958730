//! Rules about the host and the trace itself: old glibc, no clone3, a ptrace
//! event that contradicts the flags.

use std::collections::BTreeMap;

use super::finding;
use crate::model::{Analysis, CodePath, Finding, Severity, SpawnStyle};

/// SS006: glibc < 2.24.
pub fn old_glibc(a: &Analysis) -> Option<Finding> {
    let (maj, min) = a.header.glibc()?;
    if (maj, min) >= (2, 24) {
        return None;
    }
    let v = a.header.host.glibc_version.clone().unwrap_or_default();
    let forks: Vec<usize> = a.spawns.iter().filter(|s| s.style == SpawnStyle::Fork).map(|s| s.index).collect();
    let rust = a.spawns.iter().filter(|s| s.code_path == CodePath::RustStdForkFallback).count();
    let message = format!(
        "the host's glibc {v} is older than 2.24: Rust's Command never uses posix_spawn here (every spawn forks), and glibc's own posix_spawn cannot report exec errors; {} fork-style spawn{} in this trace{}",
        forks.len(),
        if forks.len() == 1 { "" } else { "s" },
        if rust > 0 { format!(", {rust} of them Rust's fallback") } else { String::new() },
    );
    let advice = "Spawn from a small helper process started early (its forks are cheap), keep the spawning process small, or run on a host with glibc >= 2.24 (>= 2.29 for Command::current_dir). Reference: the cluster node with glibc 2.17 took 20 s for 25,000 Command spawns that took 2.3 s on a laptop with glibc 2.35.".to_string();
    let mut f = finding("SS006", Severity::Warning, message, advice);
    f.numbers = BTreeMap::from([
        ("glibc_major".to_string(), f64::from(maj)),
        ("glibc_minor".to_string(), f64::from(min)),
        ("fork_spawns".to_string(), forks.len() as f64),
    ]);
    f.evidence = forks;
    Some(f)
}

/// SS007: no clone3.
pub fn no_clone3(a: &Analysis) -> Option<Finding> {
    if a.header.host.clone3 != Some(false) {
        return None;
    }
    let kernel = a.header.host.kernel_release.clone().unwrap_or_else(|| "?".into());
    let message = format!(
        "the kernel ({kernel}) refuses clone3 (Linux < 5.3, or a seccomp filter such as an old container runtime's): glibc >= 2.34 tries clone3 first on every posix_spawn and falls back to clone, and pidfd-based spawning (CLONE_PIDFD, CLONE_INTO_CGROUP) is unavailable"
    );
    let advice = "Usually harmless for speed (one extra failing syscall per spawn); if it is a container's seccomp profile, update the runtime so clone3 returns ENOSYS or is allowed.".to_string();
    Some(finding("SS007", Severity::Info, message, advice))
}

/// SS008: the ptrace event contradicts the flags.
pub fn style_mismatch(a: &Analysis) -> Option<Finding> {
    let ev: Vec<usize> = a.spawns.iter().filter(|s| s.style_mismatch).map(|s| s.index).collect();
    if ev.is_empty() {
        return None;
    }
    let first = &a.spawns[ev[0]];
    let message = format!(
        "{} spawn{} where the kernel's ptrace event disagrees with the recorded clone flags (first: line {}, pid {} → {}); styles here follow the flags, see the warnings for each",
        ev.len(),
        if ev.len() == 1 { "" } else { "s" },
        first.line,
        first.parent_pid,
        first.child_pid,
    );
    let advice = "A tracer decoding error or an unusual kernel: report it with the trace file.".to_string();
    let mut f = finding("SS008", Severity::Warning, message, advice);
    f.numbers = BTreeMap::from([("spawns".to_string(), ev.len() as f64)]);
    f.evidence = ev;
    Some(f)
}
