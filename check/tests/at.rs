//! Rules scoped to code (issue 10): `--at` / `at = "..."` and failures that
//! name the call site, on the hand-made trace with stacks.

use spawnscope_check::{evaluate, Policy, SpawnStyle, Status};

fn mixed() -> spawnscope_check::Analysis {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/stacks/mixed.jsonl");
    spawnscope_analyzer::analyze_path(p, &Default::default()).unwrap()
}

fn deny_fork(at: Option<&str>) -> Policy {
    let mut p = Policy::new().deny_style(SpawnStyle::Fork);
    p.at = at.map(str::to_string);
    p
}

fn rule<'a>(r: &'a spawnscope_check::CheckReport, name: &str) -> &'a spawnscope_check::RuleResult {
    r.results.iter().find(|x| x.rule == name).unwrap()
}

#[test]
fn deny_style_at_scopes_to_code_and_names_the_call_site() {
    let a = mixed();
    // Unscoped: the two fork-fallback spawns fail, and say where they came from.
    let r = evaluate(&deny_fork(None), &a);
    let d = rule(&r, "deny-style");
    assert_eq!((d.status, d.measured), (Status::Fail, 2));
    assert!(
        d.offenders[0].detail.ends_with("at myapp::sandbox::spawn_restricted (src/sandbox.rs:17)"),
        "{}",
        d.offenders[0].detail
    );
    // myapp::jobs::cleanup calls spawn_restricted: in scope.
    let r = evaluate(&deny_fork(Some("myapp::jobs")), &a);
    let d = rule(&r, "deny-style");
    assert_eq!((d.status, d.measured), (Status::Fail, 2));
    assert_eq!(d.title, "deny-style fork --at myapp::jobs");
    assert!(d.message.ends_with("in code matching myapp::jobs"), "{}", d.message);
    // jobs::run only posix_spawns: passes.
    let r = evaluate(&deny_fork(Some("myapp::jobs::run")), &a);
    assert_eq!(rule(&r, "deny-style").status, Status::Pass);
    // Runtime frames never match.
    let r = evaluate(&deny_fork(Some("std::process")), &a);
    assert_eq!(rule(&r, "deny-style").measured, 0);
}

#[test]
fn at_in_the_policy_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spawnscope.toml");
    std::fs::write(&path, "[check]\ndeny-style = [\"fork\"]\nat = \"sandbox.rs\"\n").unwrap();
    let p = Policy::from_toml_file(&path).unwrap();
    assert_eq!(p.at.as_deref(), Some("sandbox.rs"));
    let r = evaluate(&p, &mixed());
    assert_eq!(rule(&r, "deny-style").measured, 2);
    // A flag's --at wins over the file's.
    let mut flags = Policy::new();
    flags.at = Some("myapp::jobs::run".into());
    let r = evaluate(&p.merge(flags), &mixed());
    assert_eq!(rule(&r, "deny-style").status, Status::Pass);
}
