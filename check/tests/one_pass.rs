//! All rules go through the spawns together in one pass (and through the
//! processes in another): a rule checked among all the others gives the
//! result it gives alone, offenders included, in the policy's order.

use std::path::Path;

use spawnscope_analyzer::{analyze_path, analyze_path_with, Retention};
use spawnscope_check::{evaluate, CodePath, Policy, SpawnStyle};

/// Each rule on its own, with limits most traces break.
fn singles() -> Vec<Policy> {
    vec![
        Policy::new().deny_style(SpawnStyle::Fork),
        Policy::new().deny_style(SpawnStyle::Vfork),
        Policy::new().max_spawns(3),
        Policy::new().max_spawns_of("cc", 0),
        Policy::new().min_spawns(1000),
        Policy::new().min_spawns_of("sh", 1),
        Policy::new().max_failed_exec_attempts(0),
        Policy::new().max_env_bytes(0),
        Policy::new().require_code_path(CodePath::GlibcPosixSpawn).require_code_path(CodePath::VforkSyscall),
        Policy::new().deny_code_path(CodePath::ForkExec),
        Policy::new().deny_finding("all").unwrap(),
        Policy::new().max_spawn_p99("1us").unwrap(),
    ]
}

fn all() -> Policy {
    Policy::new()
        .max_spawn_p99("1us")
        .unwrap()
        .deny_style(SpawnStyle::Fork)
        .require_code_path(CodePath::GlibcPosixSpawn)
        .max_spawns_of("cc", 0)
        .min_spawns(1000)
        .max_env_bytes(0)
        .deny_style(SpawnStyle::Vfork)
        .min_spawns_of("sh", 1)
        .max_failed_exec_attempts(0)
        .max_spawns(3)
        .deny_code_path(CodePath::ForkExec)
        .deny_finding("all")
        .unwrap()
        .require_code_path(CodePath::VforkSyscall)
}

#[test]
fn a_rule_among_all_the_others_gives_its_result_alone() {
    let mut offenders = 0;
    for path in spawnscope_testkit::fixture_traces() {
        for retention in [Retention::Full, Retention::Stream] {
            let a = match retention {
                Retention::Full => analyze_path(&path, &Default::default()).unwrap(),
                r => analyze_path_with(&path, &Default::default(), r).unwrap(),
            };
            let together = evaluate(&all(), &a);
            let rules: Vec<_> = together.results.iter().filter(|r| r.rule != "command-exit").collect();
            assert_eq!(rules.len(), singles().len(), "{}", path.display());
            for single in singles() {
                let alone = evaluate(&single, &a);
                let want = alone.results.iter().find(|r| r.rule != "command-exit").unwrap();
                // Same rule, same limit: the first result with its title.
                let got = rules.iter().find(|r| r.title == want.title && r.limit == want.limit).unwrap();
                let mut got = (*got).clone();
                // The combined policy's origins are its own.
                got.origin = want.origin.clone();
                assert_eq!(&got, want, "{} ({retention:?}): {}", path.display(), want.title);
                offenders += want.offenders.len();
            }
        }
    }
    assert!(offenders > 100, "{offenders}");
}

/// `--at` scopes deny-style and deny-code-path to code; a streamed analysis
/// (spawns and their origins read back from disk) scopes them the same.
#[test]
fn rules_scoped_to_code_are_the_same_on_a_streamed_analysis() {
    let mut failing = 0;
    for path in spawnscope_testkit::fixture_traces() {
        for at in ["myapp", "sandbox.rs", "myapp::jobs::run", "std::process", "nothing-matches"] {
            let mut policy = Policy::new().deny_style(SpawnStyle::Fork).deny_code_path(CodePath::RustStdForkFallback);
            policy.at = Some(at.into());
            let full = evaluate(&policy, &analyze_path(&path, &Default::default()).unwrap());
            let streamed = evaluate(&policy, &analyze_path_with(&path, &Default::default(), Retention::Stream).unwrap());
            assert_eq!(full, streamed, "{} --at {at}", path.display());
            failing += full.results.iter().filter(|r| !r.offenders.is_empty()).count();
        }
    }
    assert!(failing > 0);
}

/// An analysis in bounded memory without its spawns on disk (Aggregate
/// retention, or a Stream analysis whose temporary file was lost to a full
/// disk) cannot be checked spawn by spawn: those rules fail as not checked
/// instead of passing on nothing; deny-finding still reads the findings.
#[test]
fn rules_over_spawns_fail_when_the_spawns_were_not_kept() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/valid/path-search.jsonl");
    let a = analyze_path_with(&path, &Default::default(), Retention::Aggregate).unwrap();
    assert!(a.aggregate.is_some() && a.spawns.is_empty() && a.summary.spawns > 0);
    let policy =
        Policy::new().max_spawns(1_000_000).deny_style(SpawnStyle::Vm).max_env_bytes(1 << 30).deny_finding("SS008").unwrap();
    let r = evaluate(&policy, &a);
    let by = |name: &str| r.results.iter().find(|x| x.rule == name).unwrap();
    for name in ["max-spawns", "deny-style", "max-env-bytes"] {
        let x = by(name);
        assert_eq!(x.status, spawnscope_check::Status::Fail, "{name}");
        assert!(x.message.starts_with("not checked: the spawns were not kept ("), "{name}: {}", x.message);
        assert!(x.note.as_deref().unwrap().contains("see the warnings"), "{name}");
    }
    assert_eq!(r.exit_code(), 1);
    // The same policy passes on the full analysis, deny-finding alike.
    let full = evaluate(&policy, &analyze_path(&path, &Default::default()).unwrap());
    assert_eq!(full.exit_code(), 0);
    assert_eq!(by("deny-finding"), full.results.iter().find(|x| x.rule == "deny-finding").unwrap());
}
