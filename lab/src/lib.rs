//! Spawn workloads: start N children of `true` by a chosen method and measure
//! how long the parent is blocked per spawn.
//!
//! This is the library behind `spawnscope lab` and the workload that
//! `spawnscope demo` records. It reproduces the experiments of the study
//! "Process spawning performance in Rust" (Kobzol/rust-cmd-spawn-bench): fork
//! from a parent with a large RSS versus posix_spawn/vfork, PATH search versus
//! an absolute path, a large environment, one versus several spawning threads.
//!
//! The numbers measure the machine, not tracing: run the lab untraced to
//! measure, and under `spawnscope record` to see how each method looks in a
//! trace ([`demo_scenarios`]).
//!
//! # Methods
//!
//! | [`Method`] | call | spawn style seen by a tracer |
//! |---|---|---|
//! | `posix-spawn` | glibc `posix_spawn` / `posix_spawnp` | clone3(CLONE_VM\|CLONE_VFORK) with its own stack |
//! | `fork` | `fork()` then execve in the child | clone(CHILD_SETTID\|CHILD_CLEARTID\|SIGCHLD): fork style |
//! | `vfork` | the vfork(2) syscall (inline asm, see `spawn.rs`) | vfork |
//! | `rust-std` | `std::process::Command::spawn` | like posix-spawn; with `pre_exec`: socketpair + fork |
//!
//! # Example
//!
//! ```
//! use spawnscope_lab::{LabConfig, Method};
//! let config = LabConfig { method: Method::PosixSpawn, count: 3, ..LabConfig::default() };
//! let report = spawnscope_lab::run(&config).unwrap();
//! assert_eq!(report.spawn_call.count, 3);
//! assert!(report.total_ns > 0);
//! ```
//!
//! A scenario as a command line for `spawnscope lab`:
//!
//! ```
//! let s = spawnscope_lab::scenario("fork-large-parent").unwrap();
//! assert_eq!(s.args(), ["--method", "fork", "--count", "20", "--rss", "512M"]);
//! ```

mod ballast;
mod env;
mod render;
mod scenario;
mod size;
mod spawn;
mod stats;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use ballast::{self_memory, Ballast};
pub use env::{env_size, install as install_env, parse_env_text, read_env_file, synthetic_vars, EnvSource, SYNTHETIC_VALUE_LEN};
pub use render::{scenarios_json, to_json, tracer_pid, write_scenarios, write_text};
pub use scenario::{demo_scenarios, scenario, Scenario};
pub use size::{parse_size, size_arg};
pub use stats::Stats;

/// How a child is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Method {
    /// glibc posix_spawn (absolute path) or posix_spawnp (PATH search).
    #[default]
    PosixSpawn,
    /// fork() then execve in the child (execvp-like PATH walk when searching).
    Fork,
    /// A real vfork(2) then execve (x86_64 only).
    Vfork,
    /// `std::process::Command::spawn`.
    RustStd,
}

impl Method {
    /// Every method, in the order of the docs.
    pub const ALL: [Method; 4] = [Method::PosixSpawn, Method::Fork, Method::Vfork, Method::RustStd];

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Method::PosixSpawn => "posix-spawn",
            Method::Fork => "fork",
            Method::Vfork => "vfork",
            Method::RustStd => "rust-std",
        }
    }

    /// Parses a command-line name.
    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == s)
    }

    /// What the method calls, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Method::PosixSpawn => "glibc posix_spawn",
            Method::Fork => "fork + execve",
            Method::Vfork => "vfork syscall + execve",
            Method::RustStd => "std::process::Command::spawn",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One lab run: what to spawn, how, and from what kind of parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabConfig {
    pub method: Method,
    /// Children in total (split over the threads).
    pub count: u64,
    /// Bytes of resident ballast in the parent (0 = none).
    pub rss_bytes: u64,
    /// The children's environment.
    pub env: EnvSource,
    /// rust-std only: pass the environment with `Command::envs` on every
    /// spawn (`env_clear` first for a file) instead of installing it in the
    /// process. The study's "env set" experiment.
    pub env_per_command: bool,
    /// Run `true` by bare name (PATH search) instead of its absolute path.
    pub path_search: bool,
    /// Directories that do not exist, put in front of PATH (implies nothing
    /// without `path_search`): each costs one failed execve per spawn.
    pub path_prepend: usize,
    /// Spawning threads.
    pub threads: usize,
    /// rust-std only: add an empty `pre_exec` closure (forces std's fork+exec).
    pub pre_exec: bool,
}

impl Default for LabConfig {
    fn default() -> Self {
        LabConfig {
            method: Method::PosixSpawn,
            count: 1000,
            rss_bytes: 0,
            env: EnvSource::Inherit,
            env_per_command: false,
            path_search: false,
            path_prepend: 0,
            threads: 1,
            pre_exec: false,
        }
    }
}

/// Largest `count` accepted.
pub const MAX_COUNT: u64 = 10_000_000;
/// Most threads accepted.
pub const MAX_THREADS: usize = 1024;
/// Most synthetic variables or prepended PATH entries accepted.
pub const MAX_ENV_VARS: usize = 100_000;

impl LabConfig {
    /// Checks the combination of options; the error is one line for the user.
    pub fn validate(&self) -> Result<(), LabError> {
        let bad = |m: &str| Err(LabError::InvalidArgument(m.to_string()));
        if self.count == 0 || self.count > MAX_COUNT {
            return bad(&format!("--count must be between 1 and {MAX_COUNT}"));
        }
        if self.threads == 0 || self.threads > MAX_THREADS {
            return bad(&format!("--threads must be between 1 and {MAX_THREADS}"));
        }
        if self.threads as u64 > self.count {
            return bad("--threads must not exceed --count");
        }
        if self.pre_exec && self.method != Method::RustStd {
            return bad("--pre-exec needs --method rust-std");
        }
        if self.env_per_command && self.method != Method::RustStd {
            return bad("--env-per-command needs --method rust-std");
        }
        if self.env_per_command && self.env == EnvSource::Inherit {
            return bad("--env-per-command needs --env-file or --env-vars");
        }
        if self.path_prepend > 0 && !self.path_search {
            return bad("--path-prepend needs --path-search");
        }
        if self.path_prepend > MAX_ENV_VARS {
            return bad(&format!("--path-prepend must be at most {MAX_ENV_VARS}"));
        }
        if matches!(self.env, EnvSource::Synthetic(n) if n > MAX_ENV_VARS) {
            return bad(&format!("--env-vars must be at most {MAX_ENV_VARS}"));
        }
        if self.method == Method::Vfork && !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            return Err(LabError::Unsupported("--method vfork is implemented for x86_64 Linux only".into()));
        }
        Ok(())
    }

    /// The `spawnscope lab` arguments that reproduce this configuration
    /// (defaults left out; `--count` always given).
    pub fn to_args(&self) -> Vec<String> {
        let mut a: Vec<String> = vec!["--method".into(), self.method.name().into(), "--count".into(), self.count.to_string()];
        let mut push = |k: &str, v: Option<String>| {
            a.push(k.to_string());
            a.extend(v);
        };
        if self.rss_bytes > 0 {
            push("--rss", Some(size_arg(self.rss_bytes)));
        }
        match &self.env {
            EnvSource::Inherit => {}
            EnvSource::File(p) => push("--env-file", Some(p.to_string_lossy().into_owned())),
            EnvSource::Synthetic(n) => push("--env-vars", Some(n.to_string())),
        }
        if self.env_per_command {
            push("--env-per-command", None);
        }
        if self.path_search {
            push("--path-search", None);
        }
        if self.path_prepend > 0 {
            push("--path-prepend", Some(self.path_prepend.to_string()));
        }
        if self.threads != 1 {
            push("--threads", Some(self.threads.to_string()));
        }
        if self.pre_exec {
            push("--pre-exec", None);
        }
        a
    }
}

/// What a run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct LabReport {
    pub config: LabConfig,
    /// The program as given to the spawn call (bare name or absolute path).
    pub program: String,
    /// Where it was found (absolute path).
    pub resolved_path: String,
    /// Failed execve attempts each spawn makes before the one that works
    /// (PATH entries before the one holding the program).
    pub failed_attempts_per_spawn: usize,
    /// Variables and bytes (`KEY=VALUE` + NUL) of each child's environment.
    pub env_vars: usize,
    pub env_bytes: usize,
    /// The parent's VmRSS and VmPTE just before the first spawn (Linux).
    pub vm_rss_bytes: Option<u64>,
    pub vm_pte_bytes: Option<u64>,
    /// Time to build and touch the ballast (not part of `total_ns`).
    pub ballast_ns: u64,
    /// Wall time of all spawns, waits included, threads started and joined.
    pub total_ns: u64,
    /// Time the parent was blocked in each spawn call.
    pub spawn_call: Stats,
}

impl LabReport {
    /// Spawns per second over the whole run.
    pub fn spawns_per_second(&self) -> f64 {
        if self.total_ns == 0 {
            return 0.0;
        }
        self.config.count as f64 / (self.total_ns as f64 / 1e9)
    }

    /// Wall time per spawn, including the child's run and reaping.
    pub fn wall_per_spawn_ns(&self) -> u64 {
        self.total_ns / self.config.count.max(1)
    }
}

/// Errors of the lab. Each message is one line that says what to change.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}:{line}: {msg} (the file needs one KEY=VALUE per line)", path.display())]
    EnvFile { path: PathBuf, line: usize, msg: String },
    #[error("no executable `true` in PATH ({path}); set PATH or drop --env-file's PATH")]
    ProgramNotFound { path: String },
    #[error("cannot map {} of ballast: {source} (try a smaller --rss)", spawnscope_units::bytes(*bytes))]
    Ballast { bytes: u64, source: std::io::Error },
    #[error("{method} spawn failed: {source}")]
    Spawn { method: Method, source: std::io::Error },
    #[error("child {pid} ({program}) failed: {status}")]
    ChildFailed { pid: i32, program: String, status: String },
}

/// The program every lab run spawns.
pub const PROGRAM: &str = "true";

/// Runs the experiment.
///
/// Installs the configured environment (and PATH) as the process's own
/// environment unless `env_per_command` is set: this changes process-global
/// state, so call it while no other thread reads the environment (the CLI
/// does so at start-up). With [`EnvSource::Inherit`] and no `path_prepend`
/// nothing is changed.
pub fn run(config: &LabConfig) -> Result<LabReport, LabError> {
    config.validate()?;
    let children = prepare_children(config)?;
    let t0 = Instant::now();
    let ballast = Ballast::new(config.rss_bytes)?;
    let ballast_ns = t0.elapsed().as_nanos() as u64;
    let (vm_rss_bytes, vm_pte_bytes) = self_memory();
    let start = Instant::now();
    let results = spawn_on_threads(config, &children.spec);
    let total_ns = start.elapsed().as_nanos() as u64;
    drop(ballast);
    let mut all = Vec::with_capacity(config.count as usize);
    for r in results {
        all.extend(r?);
    }
    Ok(LabReport {
        config: config.clone(),
        program: children.spec.program.clone(),
        resolved_path: children.resolved_path,
        failed_attempts_per_spawn: children.failed_attempts,
        env_vars: children.env_vars,
        env_bytes: children.env_bytes,
        vm_rss_bytes,
        vm_pte_bytes,
        ballast_ns,
        total_ns,
        spawn_call: Stats::from_durations(&all),
    })
}

/// What every child gets: its environment, how it is found, what it runs.
struct Children {
    spec: spawn::TargetSpec,
    resolved_path: String,
    failed_attempts: usize,
    env_vars: usize,
    env_bytes: usize,
}

/// Sets up the children's environment (installed in this process, or kept
/// for each command) and resolves the program on their PATH.
fn prepare_children(config: &LabConfig) -> Result<Children, LabError> {
    let mut vars = env::resolve(&config.env)?;
    if config.path_prepend > 0 {
        prepend_path(&mut vars, config.path_prepend);
    }
    let path = vars.iter().rev().find(|(k, _)| k == "PATH").map(|(_, v)| v.clone()).unwrap_or_else(|| DEFAULT_PATH.to_string());
    let changes_process_env = config.env != EnvSource::Inherit || config.path_prepend > 0;
    let command_env = if config.env_per_command {
        Some((matches!(config.env, EnvSource::File(_)), vars.clone()))
    } else {
        if changes_process_env {
            env::install(&vars);
        }
        None
    };
    // The children's environment: the process's, or (per command) the file's
    // or the process's plus the synthetic ones.
    let (env_vars, env_bytes) = match &command_env {
        Some((_, v)) => env::env_size(v),
        None => env::env_size(&env::resolve(&EnvSource::Inherit)?),
    };
    let dirs: Vec<&str> = path.split(':').map(|d| if d.is_empty() { "." } else { d }).collect();
    let Some(found) = dirs.iter().position(|d| is_executable(&format!("{d}/{PROGRAM}"))) else {
        return Err(LabError::ProgramNotFound { path });
    };
    let resolved_path = format!("{}/{PROGRAM}", dirs[found]);
    let spec = if config.path_search {
        spawn::TargetSpec {
            program: PROGRAM.to_string(),
            bare: true,
            candidates: dirs.iter().map(|d| format!("{d}/{PROGRAM}")).collect(),
            command_env,
            pre_exec: config.pre_exec,
        }
    } else {
        spawn::TargetSpec {
            program: resolved_path.clone(),
            bare: false,
            candidates: vec![resolved_path.clone()],
            command_env,
            pre_exec: config.pre_exec,
        }
    };
    let failed_attempts = if config.path_search { found } else { 0 };
    Ok(Children { spec, resolved_path, failed_attempts, env_vars, env_bytes })
}

/// Spawns `config.count` children split over `config.threads` threads; the
/// spawn call times of each thread.
fn spawn_on_threads(config: &LabConfig, spec: &spawn::TargetSpec) -> Vec<Result<Vec<Duration>, LabError>> {
    let threads = config.threads as u64;
    let per_thread: Vec<u64> = (0..threads).map(|i| config.count / threads + u64::from(i < config.count % threads)).collect();
    if config.threads == 1 {
        return vec![spawn_many(config.method, spec, per_thread[0])];
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = per_thread.iter().map(|&n| s.spawn(move || spawn_many(config.method, spec, n))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(LabError::Unsupported("a spawning thread panicked".into()))))
            .collect()
    })
}

/// glibc's search path when PATH is unset (confstr(_CS_PATH)).
const DEFAULT_PATH: &str = "/bin:/usr/bin";

fn spawn_many(method: Method, spec: &spawn::TargetSpec, n: u64) -> Result<Vec<Duration>, LabError> {
    let target = spec.prepare()?;
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        out.push(spawn::spawn_one(method, &target)?);
    }
    Ok(out)
}

/// Puts `n` directories that do not exist in front of PATH, like the many
/// module directories of an HPC job's PATH.
fn prepend_path(vars: &mut Vec<(String, String)>, n: usize) {
    let extra: Vec<String> = (0..n).map(|i| format!("/nonexistent/spawnscope-lab/{i}")).collect();
    let extra = extra.join(":");
    match vars.iter_mut().rev().find(|(k, _)| k == "PATH") {
        Some((_, v)) => *v = format!("{extra}:{v}"),
        None => vars.push(("PATH".into(), format!("{extra}:{DEFAULT_PATH}"))),
    }
}

fn is_executable(path: &str) -> bool {
    let Ok(c) = std::ffi::CString::new(path) else {
        return false;
    };
    // SAFETY: access(2) on a NUL-terminated path.
    let ok = unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0;
    ok && std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

#[cfg(test)]
mod tests;
