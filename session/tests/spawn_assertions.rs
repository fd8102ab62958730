//! Example: asserting how Rust code spawns processes, in its own tests.
//!
//! Copy this into your project's `tests/` with `spawnscope-session` as a
//! dev-dependency. Each `record(|| ...)` re-runs the test in a traced child
//! process, runs the closure there, and hands the analysis back to the test;
//! call it first in the test, since the code before it runs twice.
//! Needs ptrace (root, CAP_SYS_PTRACE or kernel.yama.ptrace_scope=0).

#![cfg(target_os = "linux")]

use std::os::unix::process::CommandExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::Command;

use spawnscope_session::testing::{record, record_command};
use spawnscope_session::{CodePath, Policy, SpawnStyle};

/// The panic message of a failed assertion.
fn failure(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("the assertion should have failed");
    err.downcast_ref::<String>().cloned().unwrap_or_default()
}

#[test]
fn std_command_with_an_absolute_path_uses_posix_spawn() {
    let rec = record(|| {
        Command::new("/bin/true").status().unwrap();
    })
    .unwrap();
    rec.assert_spawn_count(1)
        .assert_all_vfork()
        .assert_no_path_search()
        .assert_code_path(CodePath::GlibcPosixSpawn)
        .assert_spawned("/bin/true");
    // The analysis is there for any other question.
    assert_eq!(rec.spawns[0].exec.as_ref().unwrap().argv, ["/bin/true"]);
    assert!(rec.spawns.iter().all(|s| s.style == SpawnStyle::Vfork));
}

#[test]
fn pre_exec_forces_the_fork_fallback() {
    let rec = record(|| {
        let mut cmd = Command::new("/bin/true");
        // SAFETY: the closure does nothing.
        unsafe { cmd.pre_exec(|| Ok(())) };
        cmd.status().unwrap();
    })
    .unwrap();
    rec.assert_spawn_count(1).assert_code_path(CodePath::RustStdForkFallback);
    let msg = failure(|| {
        rec.assert_all_vfork();
    });
    assert!(msg.starts_with("spawnscope: assert_all_vfork failed: expected every spawn vfork-style"), "{msg}");
    assert!(msg.contains("deny-style fork: 1 fork-style spawn (at most 0)"), "{msg}");
    assert!(msg.contains(": /bin/true: fork via rust-std-fork-fallback"), "{msg}");
}

#[test]
fn bare_name_with_a_changed_path_searches_path() {
    let rec = record(|| {
        // A bare name with PATH set on the Command: std cannot use
        // posix_spawnp (it would search the parent's PATH), so it forks and
        // the child walks the new PATH with execvp.
        Command::new("true").env("PATH", "/nonexistent/a:/nonexistent/b:/usr/bin:/bin").status().unwrap();
    })
    .unwrap();
    let msg = failure(|| {
        rec.assert_no_path_search();
    });
    assert!(msg.contains("max-failed-exec-attempts: 2 failed exec attempts (at most 0)"), "{msg}");
    assert!(msg.contains("/nonexistent/a/true (ENOENT), /nonexistent/b/true (ENOENT)"), "{msg}");
    rec.assert_no_fork_unless_expected();
}

/// Helpers of your own compose with the analysis.
trait Expect {
    fn assert_no_fork_unless_expected(&self);
}

impl Expect for spawnscope_session::Recording {
    fn assert_no_fork_unless_expected(&self) {
        for s in &self.spawns {
            if s.style == SpawnStyle::Fork {
                assert_eq!(s.code_path, CodePath::RustStdForkFallback, "unexpected fork: {s:?}");
            }
        }
    }
}

#[test]
fn a_policy_file_in_a_test() {
    let rec = record(|| {
        for _ in 0..3 {
            Command::new("/bin/true").status().unwrap();
        }
    })
    .unwrap();
    let policy = Policy::from_toml_str(
        "[check]\ndeny-style = [\"fork\"]\nmax-failed-exec-attempts = 0\n[check.exe.true]\nmin-spawns = 3\nmax-spawns = 3\n",
        "inline.toml",
    )
    .unwrap();
    rec.assert_policy(&policy);
    let msg = failure(|| {
        rec.assert_policy(&Policy::new().max_spawns(2));
    });
    assert!(msg.contains("FAIL  max-spawns: 3 spawns (at most 2)"), "{msg}");
}

#[test]
fn recording_a_program() {
    // The traced root is the command: this checks what the program spawns.
    let rec = record_command(Command::new("/bin/sh").args(["-c", "/bin/true && /bin/true"])).unwrap();
    rec.assert_spawn_count(2).assert_all_vfork().assert_code_path(CodePath::VforkSyscall);
    assert_eq!(rec.exit_code, Some(0));
}

#[test]
fn nothing_spawned_is_not_a_vacuous_pass() {
    let rec = record_command(&Command::new("/bin/true")).unwrap();
    let msg = failure(|| {
        rec.assert_all_vfork();
    });
    assert!(msg.contains("no spawns were recorded"), "{msg}");
    rec.assert_spawn_count(0);
}

#[test]
fn record_outside_a_test_thread_is_an_error() {
    let e =
        std::thread::Builder::new().name("main".into()).spawn(|| record(|| {}).map(|_| ())).unwrap().join().unwrap().unwrap_err();
    assert!(e.to_string().contains("must be called from a #[test] function"), "{e}");
}
