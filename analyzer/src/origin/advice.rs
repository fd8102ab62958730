//! Advice in the runtime's own terms: a finding about Node spawns speaks of
//! `child_process`, not of tokio; about a C program, of posix_spawn(3).

use std::collections::HashMap;

use super::Runtime;
use crate::model::{Analysis, Spawn};

/// The runtime most of these spawns went through, when the trace has stacks.
pub fn runtime_of<'a>(a: &Analysis, spawns: impl IntoIterator<Item = &'a Spawn>) -> Option<Runtime> {
    let mut n: HashMap<Runtime, usize> = HashMap::new();
    for s in spawns {
        if let Some(o) = a.origins.of(s) {
            *n.entry(o.runtime).or_default() += 1;
        }
    }
    n.into_iter().max_by_key(|(r, k)| (*k, std::cmp::Reverse(*r))).map(|(r, _)| r)
}

/// How to spawn from several threads (or concurrently), in the runtime's terms.
pub fn concurrent_spawning(rt: Option<Runtime>) -> &'static str {
    match rt {
        Some(Runtime::Rust) | None => "e.g. tokio::task::spawn_blocking or a small thread pool",
        Some(Runtime::Cpython) => "e.g. a concurrent.futures.ThreadPoolExecutor, or asyncio.create_subprocess_exec",
        Some(Runtime::Node | Runtime::Libuv) => {
            "e.g. child_process.spawn with callbacks instead of spawnSync/execSync, or worker_threads"
        }
        Some(Runtime::Java) => "e.g. an ExecutorService starting the ProcessBuilders",
        Some(Runtime::Go) => "e.g. one goroutine per exec.Cmd",
        Some(Runtime::Perl | Runtime::Ruby) => "e.g. start the children without waiting (fork/exec or spawn) and reap them later",
        Some(Runtime::Bash | Runtime::Zsh | Runtime::Dash) => {
            "e.g. run independent commands in the background with & and wait, or xargs -P"
        }
        Some(_) => "e.g. a small pool of threads calling posix_spawn",
    }
}

/// What to do about fork-style spawns from a large parent, for runtimes
/// the generic advice (posix_spawn, Rust's fallback, Python's preexec_fn)
/// does not already speak to. None for those.
pub fn fork_style(rt: Option<Runtime>) -> Option<&'static str> {
    Some(match rt? {
        Runtime::Node | Runtime::Libuv => "Node's child_process goes through libuv's uv_spawn, which forks on Linux: spawn from a small helper process started early (a worker that receives commands), not from the large main process.",
        Runtime::Java => "Java: jdk.lang.Process.launchMechanism=POSIX_SPAWN (the default on Linux since JDK 12) or VFORK spawn vfork-style; FORK copies the whole JVM's page tables.",
        Runtime::Perl => "Perl's system, exec and backticks fork the interpreter: start a small helper process early and send it the commands, or keep the parent small.",
        Runtime::Ruby => "Ruby's Process.spawn and system use vfork where they can; fork and Kernel#` with a block fork the interpreter: prefer Process.spawn.",
        Runtime::Bash | Runtime::Zsh | Runtime::Dash => "Shells fork for every command and subshell: keep the shell itself small, or move the loop into a program that spawns with posix_spawn.",
        _ => return None,
    })
}
