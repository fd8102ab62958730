//! Rules about the host and the trace itself: old glibc, no clone3, a ptrace
//! event that contradicts the flags.

use std::collections::BTreeMap;

use spawnscope_format::Header;

use super::{finding, Evidence};
use crate::model::{CodePath, Finding, Severity, Spawn, SpawnStyle};

/// SS006's tally: the fork-style spawns (they matter when glibc is old).
#[derive(Debug, Clone)]
pub(crate) struct OldGlibc {
    forks: Evidence,
    rust: u64,
}

impl OldGlibc {
    pub fn new(forks: Evidence) -> OldGlibc {
        OldGlibc { forks, rust: 0 }
    }

    pub fn feed(&mut self, s: &Spawn) {
        if s.style == SpawnStyle::Fork {
            self.forks.add(s.index as u64, s);
        }
        if s.code_path == CodePath::RustStdForkFallback {
            self.rust += 1;
        }
    }

    /// SS006: glibc < 2.24.
    pub fn conclude(&self, header: &Header) -> Option<Finding> {
        let (maj, min) = header.glibc()?;
        if (maj, min) >= (2, 24) {
            return None;
        }
        let v = header.host.glibc_version.clone().unwrap_or_default();
        let forks = self.forks.total;
        let rust = self.rust;
        let message = format!(
            "the host's glibc {v} is older than 2.24: Rust's Command never uses posix_spawn here (every spawn forks), and glibc's own posix_spawn cannot report exec errors; {} fork-style spawn{} in this trace{}",
            forks,
            if forks == 1 { "" } else { "s" },
            if rust > 0 { format!(", {rust} of them Rust's fallback") } else { String::new() },
        );
        let advice = "Spawn from a small helper process started early (its forks are cheap), keep the spawning process small, or run on a host with glibc >= 2.24 (>= 2.29 for Command::current_dir). Reference: the cluster node with glibc 2.17 took 20 s for 25,000 Command spawns that took 2.3 s on a laptop with glibc 2.35.".to_string();
        let mut f = finding("SS006", Severity::Warning, message, advice);
        f.numbers = BTreeMap::from([
            ("glibc_major".to_string(), f64::from(maj)),
            ("glibc_minor".to_string(), f64::from(min)),
            ("fork_spawns".to_string(), forks as f64),
        ]);
        self.forks.fill(&mut f);
        Some(f)
    }
}

/// SS007: no clone3.
pub fn no_clone3(header: &Header) -> Option<Finding> {
    if header.host.clone3 != Some(false) {
        return None;
    }
    let kernel = header.host.kernel_release.clone().unwrap_or_else(|| "?".into());
    let message = format!(
        "the kernel ({kernel}) refuses clone3 (Linux < 5.3, or a seccomp filter such as an old container runtime's): glibc >= 2.34 tries clone3 first on every posix_spawn and falls back to clone, and pidfd-based spawning (CLONE_PIDFD, CLONE_INTO_CGROUP) is unavailable"
    );
    let advice = "Usually harmless for speed (one extra failing syscall per spawn); if it is a container's seccomp profile, update the runtime so clone3 returns ENOSYS or is allowed.".to_string();
    Some(finding("SS007", Severity::Info, message, advice))
}

/// SS008's tally: spawns whose ptrace event contradicts the flags.
#[derive(Debug, Clone)]
pub(crate) struct Mismatch {
    ev: Evidence,
    /// (index, line, parent pid, child pid) of the first.
    first: Option<(usize, u64, i32, i32)>,
}

impl Mismatch {
    pub fn new(ev: Evidence) -> Mismatch {
        Mismatch { ev, first: None }
    }

    pub fn feed(&mut self, s: &Spawn) {
        if !s.style_mismatch {
            return;
        }
        self.ev.add(s.index as u64, s);
        if self.first.is_none_or(|f| s.index < f.0) {
            self.first = Some((s.index, s.line, s.parent_pid, s.child_pid));
        }
    }

    /// SS008: the ptrace event contradicts the flags.
    pub fn conclude(&self) -> Option<Finding> {
        let (_, line, ppid, cpid) = self.first?;
        let n = self.ev.total;
        let message = format!(
            "{} spawn{} where the kernel's ptrace event disagrees with the recorded clone flags (first: line {}, pid {} → {}); styles here follow the flags, see the warnings for each",
            n,
            if n == 1 { "" } else { "s" },
            line,
            ppid,
            cpid,
        );
        let advice = "A tracer decoding error or an unusual kernel: report it with the trace file.".to_string();
        let mut f = finding("SS008", Severity::Warning, message, advice);
        f.numbers = BTreeMap::from([("spawns".to_string(), n as f64)]);
        self.ev.fill(&mut f);
        Some(f)
    }
}
