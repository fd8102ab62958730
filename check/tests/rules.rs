//! Every rule, passing and failing, on hand-built analyses.

mod common;

use common::trace;
use spawnscope_analyzer::{CodePath, SpawnStyle};
use spawnscope_check::*;
use spawnscope_format::TracerMode;

/// The single rule result of a check with one rule (after command-exit).
fn only(policy: &Policy, a: &Analysis) -> RuleResult {
    let report = evaluate(policy, a);
    let rules: Vec<&RuleResult> = report.results.iter().filter(|r| r.rule != "command-exit").collect();
    assert_eq!(rules.len(), 1, "{:#?}", report.results);
    rules[0].clone()
}

fn mixed() -> Analysis {
    trace()
        .spawn(SpawnStyle::Vfork, CodePath::GlibcPosixSpawn, "/usr/bin/cc", &["cc", "-c", "a.c"])
        .spawn(SpawnStyle::Fork, CodePath::RustStdForkFallback, "/usr/bin/git", &["git", "status"])
        .spawn(SpawnStyle::Vfork, CodePath::VforkSyscall, "/bin/sh", &["sh", "-c", "echo hi"])
        .done()
}

#[test]
fn deny_style_passes_without_that_style() {
    let r = only(&Policy::new().deny_style(SpawnStyle::Vm), &mixed());
    assert_eq!((r.status, r.measured, r.limit), (Status::Pass, 0, 0));
    assert!(r.offenders.is_empty());
}

#[test]
fn deny_style_fails_and_names_the_spawn() {
    let r = only(&Policy::new().deny_style(SpawnStyle::Fork), &mixed());
    assert_eq!((r.status, r.measured), (Status::Fail, 1));
    assert_eq!(r.title, "deny-style fork");
    assert_eq!(r.message, "1 fork-style spawn (at most 0)");
    let o = &r.offenders[0];
    assert_eq!((o.pid, o.parent_pid, o.exe.as_str()), (1001, Some(100), "git"));
    assert_eq!(o.argv, ["git", "status"]);
    assert_eq!(o.detail, "fork via rust-std-fork-fallback, parent RSS 2.0 GiB");
}

#[test]
fn max_spawns_passes_at_the_limit() {
    let r = only(&Policy::new().max_spawns(3), &mixed());
    assert_eq!((r.status, r.measured, r.limit), (Status::Pass, 3, 3));
}

#[test]
fn max_spawns_fails_above_and_lists_the_excess() {
    let r = only(&Policy::new().max_spawns(1), &mixed());
    assert_eq!((r.status, r.measured, r.limit), (Status::Fail, 3, 1));
    assert_eq!(r.offenders_total, 2);
    assert_eq!(r.offenders.iter().map(|o| o.exe.as_str()).collect::<Vec<_>>(), ["git", "sh"]);
    assert_eq!(r.note.as_deref(), Some("by executable: 1 cc, 1 git, 1 sh"));
}

#[test]
fn max_spawns_per_exe_counts_only_that_exe() {
    let a = trace().spawns(3, "/usr/bin/git").spawns(5, "/bin/sh").done();
    assert_eq!(only(&Policy::new().max_spawns_of("git", 3), &a).status, Status::Pass);
    let r = only(&Policy::new().max_spawns_of("sh", 3), &a);
    assert_eq!((r.status, r.measured), (Status::Fail, 5));
    assert_eq!(r.title, "max-spawns sh");
    assert_eq!(r.message, "5 spawns of sh (at most 3)");
    assert_eq!(r.offenders_total, 2);
    // A path matches the exec path exactly, not the basename.
    assert_eq!(only(&Policy::new().max_spawns_of("/bin/sh", 3), &a).measured, 5);
    assert_eq!(only(&Policy::new().max_spawns_of("/usr/bin/sh", 3), &a).measured, 0);
}

#[test]
fn min_spawns_passes_and_fails() {
    assert_eq!(only(&Policy::new().min_spawns(3), &mixed()).status, Status::Pass);
    let r = only(&Policy::new().min_spawns(4), &mixed());
    assert_eq!((r.status, r.measured, r.limit, r.bound), (Status::Fail, 3, 4, Bound::AtLeast));
    assert_eq!(r.message, "3 spawns (at least 4)");
    let r = only(&Policy::new().min_spawns(1), &trace().done());
    assert_eq!(r.note.as_deref(), Some("the trace has no spawns at all"));
}

#[test]
fn min_spawns_per_exe_guards_against_a_vacuous_pass() {
    assert_eq!(only(&Policy::new().min_spawns_of("cc", 1), &mixed()).status, Status::Pass);
    let r = only(&Policy::new().min_spawns_of("rustc", 1), &mixed());
    assert_eq!((r.status, r.measured), (Status::Fail, 0));
    assert_eq!(r.note.as_deref(), Some("spawned: 1 cc, 1 git, 1 sh"));
}

#[test]
fn failed_exec_attempts_pass_when_none() {
    // The root's own PATH search (spawnscope starting `make`) does not count.
    let r = only(&Policy::new().max_failed_exec_attempts(0), &mixed());
    assert_eq!((r.status, r.measured), (Status::Pass, 0));
}

#[test]
fn failed_exec_attempts_fail_with_paths_and_errno() {
    let a = trace()
        .spawns(1, "/usr/bin/cc")
        .spawns(1, "/usr/bin/git")
        .path_search(&["/usr/local/sbin/git", "/usr/local/bin/git", "/usr/sbin/git", "/home/u/bin/git"])
        .spawns(1, "/bin/sh")
        .path_search(&["/usr/local/bin/sh"])
        .done();
    assert_eq!(only(&Policy::new().max_failed_exec_attempts(5), &a).status, Status::Pass);
    let r = only(&Policy::new().max_failed_exec_attempts(4), &a);
    assert_eq!((r.status, r.measured, r.limit), (Status::Fail, 5, 4));
    assert_eq!(r.message, "5 failed exec attempts (at most 4)");
    assert_eq!(r.offenders.len(), 2);
    assert_eq!(r.offenders[0].exe, "git", "worst first");
    assert_eq!(
        r.offenders[0].detail,
        "4 failed: /usr/local/sbin/git (ENOENT), /usr/local/bin/git (ENOENT), /usr/sbin/git (ENOENT), 1 more"
    );
}

#[test]
fn failed_exec_attempts_are_skipped_in_events_mode() {
    let a = trace().spawns(1, "/bin/sh").mode(TracerMode::Events).done();
    let r = only(&Policy::new().max_failed_exec_attempts(0), &a);
    assert_eq!(r.status, Status::Skip);
    assert!(r.note.unwrap().contains("events mode"));
}

#[test]
fn max_env_bytes_passes_and_fails() {
    let a = trace().spawns(1, "/bin/sh").env_bytes(70_000).spawns(1, "/bin/true").env_bytes(2_000).done();
    assert_eq!(only(&Policy::new().max_env_bytes(70_000), &a).status, Status::Pass);
    let r = only(&Policy::new().max_env_bytes(65_536), &a);
    assert_eq!((r.status, r.measured), (Status::Fail, 70_000));
    assert_eq!(r.offenders_total, 1);
    assert_eq!(r.offenders[0].exe, "sh");
    assert_eq!(r.offenders[0].detail, "70,000 bytes in 3,500 variables");
}

#[test]
fn deny_finding_by_id_name_or_all() {
    let a = trace().spawns(2, "/bin/sh").finding("SS003", "path-search", vec![1]).done();
    assert_eq!(only(&Policy::new().deny_finding("SS001").unwrap(), &a).status, Status::Pass);
    for pattern in ["SS003", "ss003", "path-search", "all"] {
        let r = only(&Policy::new().deny_finding(pattern).unwrap(), &a);
        assert_eq!((r.status, r.measured), (Status::Fail, 1), "{pattern}");
        assert_eq!(r.offenders[0].pid, 1001);
        assert_eq!(r.offenders[0].detail, "evidence of SS003");
        assert_eq!(r.note.as_deref(), Some("SS003 path-search (warning): path-search happened"));
    }
}

#[test]
fn allow_finding_exempts_from_deny() {
    let a = trace()
        .spawns(1, "/bin/sh")
        .finding("SS003", "path-search", vec![0])
        .finding("SS001", "fork-large-parent", vec![0])
        .done();
    let p = Policy::new().deny_finding("all").unwrap().allow_finding("path-search").unwrap();
    let r = only(&p, &a);
    assert_eq!((r.status, r.measured), (Status::Fail, 1));
    assert_eq!(r.offenders.len(), 1, "one offender per spawn");
    assert_eq!(r.offenders[0].detail, "evidence of SS001");
    assert_eq!(
        r.note.as_deref(),
        Some("SS001 fork-large-parent (warning): fork-large-parent happened\n1 allowed by allow-finding path-search")
    );
    let p = p.allow_finding("SS001").unwrap();
    assert_eq!(only(&p, &a).status, Status::Pass);
}

#[test]
fn require_code_path_passes_when_every_spawn_takes_one() {
    let p = Policy::new()
        .require_code_path(CodePath::GlibcPosixSpawn)
        .require_code_path(CodePath::RustStdForkFallback)
        .require_code_path(CodePath::VforkSyscall);
    let r = only(&p, &mixed());
    assert_eq!(r.status, Status::Pass);
    assert_eq!(r.title, "require-code-path glibc-posix-spawn,rust-std-fork-fallback,vfork-syscall");
}

#[test]
fn require_code_path_fails_on_other_paths() {
    let r = only(&Policy::new().require_code_path(CodePath::GlibcPosixSpawn), &mixed());
    assert_eq!((r.status, r.measured), (Status::Fail, 2));
    assert_eq!(r.message, "2 spawns not taking glibc-posix-spawn (at most 0)");
    assert_eq!(r.offenders.iter().map(|o| o.exe.as_str()).collect::<Vec<_>>(), ["git", "sh"]);
}

#[test]
fn deny_code_path_passes_and_fails() {
    assert_eq!(only(&Policy::new().deny_code_path(CodePath::ForkNoExec), &mixed()).status, Status::Pass);
    let r = only(&Policy::new().deny_code_path(CodePath::RustStdForkFallback), &mixed());
    assert_eq!((r.status, r.measured), (Status::Fail, 1));
    assert_eq!(r.offenders[0].exe, "git");
}

#[test]
fn p99_passes_under_the_limit() {
    let a = trace().spawns(100, "/bin/true").all_latencies(1_000_000).done();
    let r = only(&Policy::new().max_spawn_p99("5ms").unwrap(), &a);
    assert_eq!((r.status, r.measured, r.limit), (Status::Pass, 1_000_000, 5_000_000));
    assert_eq!(r.message, "1.0 ms p99 spawn latency over 100 spawns (at most 5.0 ms)");
}

#[test]
fn p99_over_the_limit_is_advisory_unless_strict() {
    // 98 fast spawns and 2 slow ones: p99 (nearest rank 99 of 100) is slow.
    let mut b = trace().spawns(98, "/bin/true").all_latencies(1_000_000);
    b = b.spawns(1, "/bin/slow").latency(9_000_000).spawns(1, "/bin/slower").latency(20_000_000);
    let a = b.done();
    let r = only(&Policy::new().max_spawn_p99("5ms").unwrap(), &a);
    assert_eq!((r.status, r.measured), (Status::Warn, 9_000_000));
    assert!(r.note.as_deref().unwrap().starts_with("advisory"));
    assert_eq!(r.offenders.iter().map(|o| o.exe.as_str()).collect::<Vec<_>>(), ["slower", "slow"]);
    assert!(evaluate(&Policy::new().max_spawn_p99("5ms").unwrap(), &a).passed());

    let strict = Policy::new().max_spawn_p99("5ms").unwrap().strict_timing(true);
    assert_eq!(only(&strict, &a).status, Status::Fail);
    assert!(!evaluate(&strict, &a).passed());
}

#[test]
fn p99_from_events_mode_says_it_is_a_lower_bound() {
    let mut a = trace().spawns(2, "/bin/true").all_latencies(1_000).mode(TracerMode::Events).done();
    for s in &mut a.spawns {
        s.from_event = true;
    }
    let r = only(&Policy::new().max_spawn_p99("5ms").unwrap(), &a);
    assert_eq!(r.status, Status::Pass);
    assert!(r.note.unwrap().contains("lower bounds"));
}

#[test]
fn p99_without_latencies_is_skipped() {
    let mut a = trace().spawns(1, "/bin/true").done();
    a.spawns[0].latency_ns = None;
    assert_eq!(only(&Policy::new().max_spawn_p99("5ms").unwrap(), &a).status, Status::Skip);
}

#[test]
fn failing_command_fails_unless_allowed() {
    let a = trace().spawns(1, "/bin/true").exit_code(3).done();
    let report = evaluate(&Policy::new().max_spawns(10), &a);
    let r = &report.results[0];
    assert_eq!((r.rule.as_str(), r.status, r.measured), ("command-exit", Status::Fail, 3));
    assert_eq!(r.message, "the command failed with exit code 3");
    assert_eq!(report.exit_code(), 1);

    let report = evaluate(&Policy::new().max_spawns(10).allow_command_failure(true), &a);
    assert_eq!(report.results[0].status, Status::Warn);
    assert_eq!(report.exit_code(), 0);

    let ok = trace().done();
    let report = evaluate(&Policy::new(), &ok);
    assert_eq!(report.results[0].status, Status::Pass);
}

#[test]
fn incomplete_trace_warns_and_has_no_exit_result() {
    let a = trace().spawns(2, "/bin/true").incomplete().done();
    let report = evaluate(&Policy::new().max_spawns(5), &a);
    assert!(!report.complete);
    assert!(report.warnings.iter().any(|w| w.contains("incomplete")), "{:?}", report.warnings);
    assert!(report.results.iter().all(|r| r.rule != "command-exit"));
    assert!(report.passed());

    // Without a reader warning, the check adds its own.
    let mut a = trace().done();
    a.complete = false;
    let report = evaluate(&Policy::new(), &a);
    assert!(report.warnings.iter().any(|w| w.contains("trace is incomplete")));
}

#[test]
fn an_empty_policy_warns() {
    let report = evaluate(&Policy::new(), &mixed());
    assert!(report.warnings.iter().any(|w| w.starts_with("no rules to check")));
    assert!(report.passed());
}

#[test]
fn offenders_are_capped_but_counted() {
    let a = trace().spawns(50, "/usr/bin/git").done();
    let r = only(&Policy::new().max_spawns(0), &a);
    assert_eq!(r.offenders.len(), MAX_OFFENDERS);
    assert_eq!(r.offenders_total, 50);
}

#[test]
fn exit_code_is_one_on_any_failure() {
    let p = Policy::new().max_spawns(10).deny_style(SpawnStyle::Fork);
    assert_eq!(evaluate(&p, &mixed()).exit_code(), 1);
    let p = Policy::new().max_spawns(10).deny_style(SpawnStyle::Vm);
    assert_eq!(evaluate(&p, &mixed()).exit_code(), 0);
}
