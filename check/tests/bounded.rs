//! `check` reads the spawns of a bounded-memory analysis back from disk
//! (`Retention::Stream`, what `check_trace` uses): every rule gives the same
//! result, offenders included, as on the full analysis.

use spawnscope_analyzer::{analyze_path, analyze_path_with, Retention};
use spawnscope_check::{evaluate, CodePath, Policy, SpawnStyle};

/// Every rule, with limits most traces break (so offenders are listed).
fn strict() -> Policy {
    Policy::new()
        .deny_style(SpawnStyle::Fork)
        .max_spawns(0)
        .max_spawns_of("cc", 0)
        .min_spawns(1000)
        .min_spawns_of("sh", 1)
        .max_failed_exec_attempts(0)
        .max_env_bytes(0)
        .require_code_path(CodePath::GlibcPosixSpawn)
        .deny_code_path(CodePath::ForkExec)
        .deny_finding("all")
        .unwrap()
        .max_spawn_p99("1us")
        .unwrap()
}

#[test]
fn every_rule_gives_the_same_result_on_spawns_read_back_from_disk() {
    let mut streamed = 0;
    for path in spawnscope_testkit::fixture_traces() {
        for policy in [strict(), strict().strict_timing(true), Policy::new().max_spawns(1_000_000)] {
            let t = policy.thresholds.clone().unwrap_or_default();
            let full = analyze_path(&path, &t).unwrap();
            let bounded = analyze_path_with(&path, &t, Retention::Stream).unwrap();
            if bounded.aggregate.is_some() {
                assert!(bounded.spawns.is_empty());
                streamed += 1;
            }
            let (f, b) = (evaluate(&policy, &full), evaluate(&policy, &bounded));
            assert_eq!(f, b, "{}", path.display());
        }
    }
    assert!(streamed >= 25 * 3, "{streamed}");
    // The strict policy does list offenders somewhere (the comparison covers them).
    let a = analyze_path(
        spawnscope_testkit::fixture_traces().iter().find(|p| p.ends_with("fork-4gib.jsonl")).unwrap(),
        &Default::default(),
    )
    .unwrap();
    assert!(evaluate(&strict(), &a).results.iter().any(|r| r.offenders.len() > 1));
}
