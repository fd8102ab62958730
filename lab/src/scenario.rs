//! The demo scenarios: short lab runs that, recorded side by side, show the
//! differences a user should see in a trace.

use crate::{EnvSource, LabConfig, Method};

/// One demo scenario: a lab configuration with a name and what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Stable id, usable as `spawnscope lab --scenario ID`.
    pub id: &'static str,
    /// One-line title.
    pub title: &'static str,
    /// What to look at in the trace.
    pub shows: &'static str,
    /// The scenario this one should be compared with, if any.
    pub compare_with: Option<&'static str>,
    pub config: LabConfig,
}

impl Scenario {
    /// The `spawnscope lab` arguments (without `spawnscope lab`) that run it.
    pub fn args(&self) -> Vec<String> {
        self.config.to_args()
    }
}

/// The scenarios `spawnscope demo` records, in order. On the 2-core
/// reference machine (busy) they took 3-5 s together untraced and about 7 s
/// under `spawnscope record` (seccomp mode); most of it is touching the
/// 512 MiB ballast twice and the 20 forks from it.
pub fn demo_scenarios() -> Vec<Scenario> {
    let c = |method, count| LabConfig { method, count, ..LabConfig::default() };
    vec![
        Scenario {
            id: "baseline",
            title: "posix_spawn of /usr/bin/true, small parent",
            shows: "the fast path: vfork-style clone3, one exec attempt per spawn",
            compare_with: None,
            config: c(Method::PosixSpawn, 200),
        },
        Scenario {
            id: "fork-large-parent",
            title: "fork + exec from a parent with 512 MiB resident",
            shows: "fork-style spawns whose clone alone takes milliseconds: the page tables of 512 MiB are copied each time",
            compare_with: Some("posix-spawn-large-parent"),
            config: LabConfig { rss_bytes: 512 << 20, ..c(Method::Fork, 20) },
        },
        Scenario {
            id: "posix-spawn-large-parent",
            title: "posix_spawn from the same 512 MiB parent",
            shows: "vfork-style spawns cost the same as from a small parent: nothing is copied",
            compare_with: Some("fork-large-parent"),
            config: LabConfig { rss_bytes: 512 << 20, ..c(Method::PosixSpawn, 20) },
        },
        Scenario {
            id: "path-search",
            title: "posix_spawnp of bare `true` with 16 missing directories in front of PATH",
            shows: "failed exec attempts (ENOENT) before each successful one: a PATH search",
            compare_with: Some("baseline"),
            config: LabConfig { path_search: true, path_prepend: 16, ..c(Method::PosixSpawn, 100) },
        },
        Scenario {
            id: "large-env",
            title: "posix_spawn with 184 extra variables (about 30 KB, like an HPC job)",
            shows: "every exec copies the large environment",
            compare_with: Some("baseline"),
            config: LabConfig { env: EnvSource::Synthetic(184), ..c(Method::PosixSpawn, 200) },
        },
        Scenario {
            id: "rust-std",
            title: "std::process::Command::spawn",
            shows: "Rust's default path: glibc posix_spawn, no socketpair",
            compare_with: Some("rust-std-pre-exec"),
            config: c(Method::RustStd, 200),
        },
        Scenario {
            id: "rust-std-pre-exec",
            title: "std::process::Command::spawn with pre_exec",
            shows: "Rust's fork fallback: socketpair(AF_UNIX, SOCK_SEQPACKET), then a fork-style clone",
            compare_with: Some("rust-std"),
            config: LabConfig { pre_exec: true, ..c(Method::RustStd, 200) },
        },
        Scenario {
            id: "vfork",
            title: "the vfork syscall + execve",
            shows: "a vfork-style spawn by the vfork syscall (as CPython or dash), not by clone3",
            compare_with: Some("baseline"),
            config: c(Method::Vfork, 200),
        },
    ]
}

/// The demo scenario with this id.
pub fn scenario(id: &str) -> Option<Scenario> {
    demo_scenarios().into_iter().find(|s| s.id == id)
}
