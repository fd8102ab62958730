//! Unit tests that spawn for real (small counts; no environment changes,
//! since the test harness runs tests on several threads).

use super::*;

fn quick(method: Method) -> LabConfig {
    LabConfig { method, count: 5, ..LabConfig::default() }
}

#[test]
fn every_method_spawns_and_reaps() {
    for m in Method::ALL {
        let r = run(&quick(m)).unwrap_or_else(|e| panic!("{m}: {e}"));
        assert_eq!(r.spawn_call.count, 5, "{m}");
        assert!(r.spawn_call.min_ns > 0 && r.spawn_call.min_ns <= r.spawn_call.max_ns, "{m}");
        assert!(r.total_ns >= r.spawn_call.mean_ns * 5, "{m}: total covers every call");
        assert!(r.resolved_path.ends_with("/true"), "{m}: {}", r.resolved_path);
        assert_eq!(r.failed_attempts_per_spawn, 0);
    }
}

#[test]
fn path_search_counts_the_entries_before_true() {
    for m in Method::ALL {
        let r = run(&LabConfig { path_search: true, ..quick(m) }).unwrap();
        assert_eq!(r.program, "true", "{m}");
        let path = std::env::var("PATH").unwrap();
        let dirs: Vec<&str> = path.split(':').collect();
        let expected = dirs.iter().position(|d| std::path::Path::new(&format!("{d}/true")).is_file()).unwrap();
        assert_eq!(r.failed_attempts_per_spawn, expected, "{m}");
    }
}

#[test]
fn threads_share_the_count() {
    let r = run(&LabConfig { threads: 3, count: 10, ..quick(Method::Vfork) }).unwrap();
    assert_eq!(r.spawn_call.count, 10);
    let r = run(&LabConfig { threads: 2, count: 4, ..quick(Method::Fork) }).unwrap();
    assert_eq!(r.spawn_call.count, 4);
}

#[test]
fn rust_std_pre_exec_and_ballast() {
    let r = run(&LabConfig { pre_exec: true, rss_bytes: 32 << 20, ..quick(Method::RustStd) }).unwrap();
    assert_eq!(r.spawn_call.count, 5);
    assert!(r.vm_rss_bytes.unwrap() >= 32 << 20);
}

#[test]
fn bad_combinations_are_refused_with_one_line() {
    let cases = [
        (LabConfig { count: 0, ..quick(Method::Fork) }, "--count"),
        (LabConfig { threads: 0, ..quick(Method::Fork) }, "--threads"),
        (LabConfig { threads: 9, ..quick(Method::Fork) }, "--threads must not exceed --count"),
        (LabConfig { pre_exec: true, ..quick(Method::Fork) }, "--pre-exec needs --method rust-std"),
        (LabConfig { path_prepend: 3, ..quick(Method::Fork) }, "--path-prepend needs --path-search"),
        (LabConfig { env_per_command: true, ..quick(Method::RustStd) }, "--env-per-command needs"),
        (LabConfig { env: EnvSource::Synthetic(MAX_ENV_VARS + 1), ..quick(Method::Fork) }, "--env-vars"),
    ];
    for (c, want) in cases {
        let e = run(&c).unwrap_err().to_string();
        assert!(e.contains(want) && !e.contains('\n'), "{e:?} lacks {want:?}");
    }
}

#[test]
fn missing_env_file_names_the_path() {
    let c = LabConfig { env: EnvSource::File("/nonexistent/envs.txt".into()), ..quick(Method::Fork) };
    let e = run(&c).unwrap_err().to_string();
    assert!(e.starts_with("cannot read /nonexistent/envs.txt:"), "{e}");
}

#[test]
fn args_round_trip_through_names() {
    let c = LabConfig {
        method: Method::RustStd,
        count: 7,
        rss_bytes: 1 << 30,
        env: EnvSource::Synthetic(184),
        env_per_command: true,
        path_search: true,
        path_prepend: 4,
        threads: 2,
        pre_exec: true,
    };
    assert_eq!(
        c.to_args().join(" "),
        "--method rust-std --count 7 --rss 1G --env-vars 184 --env-per-command --path-search --path-prepend 4 --threads 2 --pre-exec"
    );
    for m in Method::ALL {
        assert_eq!(Method::parse(m.name()), Some(m));
    }
    assert_eq!(Method::parse("spawn"), None);
}

#[test]
fn scenarios_are_valid_and_unique() {
    let all = demo_scenarios();
    assert!(all.len() >= 6);
    for s in &all {
        s.config.validate().unwrap_or_else(|e| panic!("{}: {e}", s.id));
        assert_eq!(all.iter().filter(|o| o.id == s.id).count(), 1, "{}", s.id);
        if let Some(other) = s.compare_with {
            assert!(scenario(other).is_some(), "{} compares with unknown {other}", s.id);
        }
        assert_eq!(s.args()[..2], ["--method".to_string(), s.config.method.name().to_string()]);
    }
    assert!(scenario("nope").is_none());
}

#[test]
fn prepend_path_adds_missing_dirs() {
    let mut v = vec![("PATH".to_string(), "/usr/bin".to_string())];
    prepend_path(&mut v, 2);
    assert_eq!(v[0].1, "/nonexistent/spawnscope-lab/0:/nonexistent/spawnscope-lab/1:/usr/bin");
    let mut v = vec![];
    prepend_path(&mut v, 1);
    assert_eq!(v[0], ("PATH".to_string(), "/nonexistent/spawnscope-lab/0:/bin:/usr/bin".to_string()));
}

fn missing_target(bare: bool) -> spawn::TargetSpec {
    spawn::TargetSpec {
        program: if bare { "spawnscope-lab-missing".into() } else { "/nonexistent/spawnscope-lab/true".into() },
        bare,
        candidates: vec!["/nonexistent/spawnscope-lab/a/true".into(), "/nonexistent/spawnscope-lab/true".into()],
        command_env: None,
        pre_exec: false,
    }
}

#[test]
fn failed_execs_are_reported_per_method() {
    let t = missing_target(false).prepare().unwrap();
    // vfork: the child stores execve's errno where the parent reads it.
    let e = spawn::spawn_one(Method::Vfork, &t).unwrap_err().to_string();
    assert!(e.contains("exit status 127 (exec failed: No such file or directory"), "{e}");
    // fork: the child can only exit 127.
    let e = spawn::spawn_one(Method::Fork, &t).unwrap_err().to_string();
    assert!(e.ends_with("failed: exit status 127 (exec failed)"), "{e}");
    // posix_spawn and std report the error from the spawn call itself.
    let e = spawn::spawn_one(Method::PosixSpawn, &t).unwrap_err().to_string();
    assert!(e.starts_with("posix-spawn spawn failed: No such file or directory"), "{e}");
    let e = spawn::spawn_one(Method::RustStd, &t).unwrap_err().to_string();
    assert!(e.starts_with("rust-std spawn failed:"), "{e}");
}
