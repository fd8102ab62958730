//! Test helpers for the spawnscope workspace (dev-only, never published):
//! tests that cannot lie.
//!
//! - [`require_tool`]: a test that needs an external tool says
//!   `skipped: needs strace` when run by hand without it, and fails when the
//!   environment variable [`REQUIRE_TOOLS_VAR`] is `1` (CI sets it in
//!   `.ci/run`). Tools are looked up in the system directories
//!   ([`SYSTEM_DIRS`]), never through the developer's PATH (version-manager
//!   shims put their own directories in front of it).
//! - [`Tmux`]: a real terminal for end-to-end tests of the terminal UI.
//! - [`Watchdog`], [`with_timeout`] and [`output_with_timeout`]: every test
//!   that runs a tracee has a time limit; on expiry the processes it started
//!   are killed (by pid and process group) and the test panics instead of
//!   hanging CI.
//!
//! ```
//! use std::time::Duration;
//! if spawnscope_testkit::require_tool("true") {
//!     let mut cmd = std::process::Command::new(spawnscope_testkit::tool("true"));
//!     let out = spawnscope_testkit::output_with_timeout(&mut cmd, Duration::from_secs(10));
//!     assert!(out.status.success());
//! }
//! ```

mod tmux;

pub use tmux::{wait_screen, Tmux};

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// When this variable is `1`, a missing tool fails the test.
pub const REQUIRE_TOOLS_VAR: &str = "SPAWNSCOPE_REQUIRE_TOOLS";

/// Where tools are looked up, in order (not PATH).
pub const SYSTEM_DIRS: &[&str] = &["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/// A PATH value for tracees and tools run by tests: the system directories only.
pub const SYSTEM_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The checked-in traces every analysis must read the same way in each
/// mode: the `*.jsonl` and `*.jsonl.zst` files of `fixtures/traces/valid`
/// and `fixtures/traces/stacks`, sorted by path.
pub fn fixture_traces() -> Vec<PathBuf> {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/traces"));
    let mut v: Vec<PathBuf> = ["valid", "stacks"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).expect("fixtures/traces"))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.to_str().is_some_and(|s| s.ends_with(".jsonl") || s.ends_with(".jsonl.zst")))
        .collect();
    v.sort();
    assert!(v.len() >= 30, "fixture traces found: {}", v.len());
    v
}

/// The full path of `name` in [`SYSTEM_DIRS`], if it is an executable file there.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    SYSTEM_DIRS
        .iter()
        .map(|d| PathBuf::from(d).join(name))
        .find(|p| std::fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false))
}

/// Whether the test can use `name`. Missing: panics with `needs <name>`
/// when [`REQUIRE_TOOLS_VAR`] is `1`, else prints `skipped: needs <name>`
/// to stderr and returns false (the test then returns early).
pub fn require_tool(name: &str) -> bool {
    if find_tool(name).is_some() {
        return true;
    }
    if std::env::var(REQUIRE_TOOLS_VAR).as_deref() == Ok("1") {
        panic!("needs {name} (not found in {}; {REQUIRE_TOOLS_VAR}=1)", SYSTEM_DIRS.join(":"));
    }
    eprintln!("skipped: needs {name}");
    false
}

/// The full path of a tool the test has required; panics if it is missing
/// (call [`require_tool`] first).
pub fn tool(name: &str) -> PathBuf {
    find_tool(name).unwrap_or_else(|| panic!("needs {name}"))
}

/// A time limit for a test. Register the processes the test starts with
/// [`Watchdog::watch`]; if the limit passes before [`Watchdog::finish`] (or
/// drop), each is killed with SIGKILL, together with the process group it
/// leads, and `finish` panics. A test that still does not return 10 s after
/// that kill ends the test process (exit code 101): CI never hangs.
#[derive(Debug)]
pub struct Watchdog {
    what: String,
    pids: Arc<Mutex<Vec<i32>>>,
    fired: Arc<AtomicBool>,
    done: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    /// Starts the clock for `what` (named in the failure message).
    pub fn new(what: impl Into<String>, limit: Duration) -> Watchdog {
        let what = what.into();
        let pids: Arc<Mutex<Vec<i32>>> = Arc::default();
        let fired = Arc::new(AtomicBool::new(false));
        let (done, rx) = mpsc::channel::<()>();
        let (p, f, w) = (Arc::clone(&pids), Arc::clone(&fired), what.clone());
        let thread = std::thread::spawn(move || {
            if rx.recv_timeout(limit) != Err(mpsc::RecvTimeoutError::Timeout) {
                return;
            }
            f.store(true, Ordering::SeqCst);
            let list = p.lock().map(|v| v.clone()).unwrap_or_default();
            eprintln!("watchdog: {w} still running after {limit:?}: killing {list:?}");
            kill_all(&list);
            if rx.recv_timeout(Duration::from_secs(10)) == Err(mpsc::RecvTimeoutError::Timeout) {
                eprintln!("watchdog: {w} did not return after the kill: ending the test process");
                std::process::exit(101);
            }
        });
        Watchdog { what, pids, fired, done: Some(done), thread: Some(thread) }
    }

    /// A process this test started (killed with its process group on expiry).
    pub fn watch(&self, pid: i32) {
        if let Ok(mut v) = self.pids.lock() {
            v.push(pid);
        }
    }

    /// A handle other threads (an observer's `started`) can register pids with.
    pub fn watcher(&self) -> Watcher {
        Watcher { pids: Arc::clone(&self.pids) }
    }

    /// Stops the clock; panics if it had already run out.
    pub fn finish(mut self) {
        self.stop();
        assert!(!self.fired.load(Ordering::SeqCst), "{}: timed out (watchdog)", self.what);
    }

    fn stop(&mut self) {
        self.done.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop();
        if self.fired.load(Ordering::SeqCst) && !std::thread::panicking() {
            panic!("{}: timed out (watchdog)", self.what);
        }
    }
}

/// Registers pids with a [`Watchdog`] from anywhere.
#[derive(Debug, Clone)]
pub struct Watcher {
    pids: Arc<Mutex<Vec<i32>>>,
}

impl Watcher {
    pub fn watch(&self, pid: i32) {
        if let Ok(mut v) = self.pids.lock() {
            v.push(pid);
        }
    }
}

fn kill_all(pids: &[i32]) {
    for &pid in pids {
        if pid <= 1 {
            continue;
        }
        // SAFETY: kill(2) of a process the test registered, and of the
        // process group it leads (no such group: ESRCH, harmless).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// Runs `f` under a [`Watchdog`] of `limit`; `f` registers what it starts.
pub fn with_timeout<T>(what: &str, limit: Duration, f: impl FnOnce(&Watchdog) -> T) -> T {
    let dog = Watchdog::new(what, limit);
    let r = f(&dog);
    dog.finish();
    r
}

/// Runs `cmd` in a process group of its own and collects its output; on
/// expiry of `limit` the group is killed and this panics.
pub fn output_with_timeout(cmd: &mut Command, limit: Duration) -> Output {
    let what = format!("{:?}", cmd.get_program());
    cmd.process_group(0).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let dog = Watchdog::new(what.clone(), limit);
    dog.watch(child.id() as i32);
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{what}: {e}"));
    dog.finish();
    out
}

/// gdb's backtrace at the first clone/clone3/fork/vfork entry of `argv`
/// (run with [`SYSTEM_PATH`], at most two minutes): function names,
/// innermost first, inlined frames included, `_start` last. The caller
/// checks [`require_tool`]`("gdb")` first.
pub fn gdb_backtrace(argv: &[&str]) -> Vec<String> {
    let out = output_with_timeout(
        Command::new(tool("gdb"))
            .args(["-nx", "-batch", "-ex", "set pagination off", "-ex", "catch syscall clone clone3 fork vfork", "-ex", "run"])
            .args(["-ex", "bt", "--args"])
            .args(argv)
            .env("PATH", SYSTEM_PATH),
        Duration::from_secs(120),
    );
    backtrace_names(&String::from_utf8_lossy(&out.stdout))
}

/// The function names of gdb `bt` lines: `#3  0x00005555 in run_fork () at
/// c.c:14` and `#0  clone3 () at ...` (no address for the innermost frame).
fn backtrace_names(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with('#'))
        .filter_map(|l| {
            let rest = l.split_once(' ')?.1.trim_start();
            let rest = match rest.split_once(" in ") {
                Some((addr, r)) if addr.starts_with("0x") => r,
                _ => rest,
            };
            Some(rest.split(" (").next()?.trim().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backtrace_lines_give_function_names() {
        let bt = "Catchpoint 1 (call to syscall clone3)\n#0  clone3 () at ../sysdeps/clone3.S:62\n\
                  #1  0x00007ffff7e5b6b5 in __spawnix (pid=0x7fff) at spawni.c:382\n\
                  #10 0x0000555555555129 in _start ()\n";
        assert_eq!(backtrace_names(bt), ["clone3", "__spawnix", "_start"]);
    }

    #[test]
    fn finds_system_tools_without_path() {
        assert!(find_tool("sh").is_some());
        assert!(find_tool("no-such-tool-xyz").is_none());
        assert!(find_tool("sh").unwrap().is_absolute());
    }

    #[test]
    fn missing_tool_skips_or_fails() {
        // The variable decides; both behaviours in one test (one process env).
        if std::env::var(REQUIRE_TOOLS_VAR).as_deref() == Ok("1") {
            let r = std::panic::catch_unwind(|| require_tool("no-such-tool-xyz"));
            let msg = r.unwrap_err().downcast::<String>().unwrap();
            assert!(msg.starts_with("needs no-such-tool-xyz"), "{msg}");
        } else {
            assert!(!require_tool("no-such-tool-xyz"));
        }
        assert!(require_tool("sh"));
    }

    #[test]
    fn command_within_time() {
        let out = output_with_timeout(Command::new(tool("sh")).args(["-c", "echo hi"]), Duration::from_secs(10));
        assert_eq!(out.stdout, b"hi\n");
    }

    #[test]
    fn command_past_its_time_is_killed_and_fails() {
        let t0 = std::time::Instant::now();
        let r =
            std::panic::catch_unwind(|| output_with_timeout(Command::new(tool("sleep")).arg("30"), Duration::from_millis(200)));
        assert!(r.is_err(), "a timeout is a failure");
        assert!(t0.elapsed() < Duration::from_secs(5), "killed, not waited for");
    }
}
