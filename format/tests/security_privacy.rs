//! Keyed environment hashes and redaction of records (issue 16).

use spawnscope_format::*;

fn exec(argv: &[&str], env: &[&str], privacy: &Privacy) -> ExecEvent {
    let sum = EnvSummary::of(env.iter().map(|s| s.as_bytes()));
    ExecEvent {
        pid: 2,
        tid: 2,
        syscall: ExecSyscall::Execve,
        path: argv[0].to_string(),
        dirfd: None,
        at_flags: None,
        argv: argv.iter().map(|s| s.to_string()).collect(),
        argv_truncated: false,
        env_count: sum.count,
        env_bytes: sum.bytes,
        env_hash: privacy.env_hash(&sum),
        env: Some(env.iter().map(|s| s.to_string()).collect()),
        result: 0,
        t_entry: Some(1),
        t_exit: 2,
    }
}

#[test]
fn same_environment_same_hash_within_a_trace_different_across_traces() {
    let env = ["PATH=/usr/bin:/bin", "HOME=/root", "CI=true"];
    let rebuilt = ["PATH=/usr/bin:/bin", "HOME=/root", "CI=true", "EXTRA=1"];
    let one = Privacy::new(EnvKey::random(), Redactor::new());
    let two = Privacy::new(EnvKey::random(), Redactor::new());
    let a1 = exec(&["/bin/true"], &env, &one);
    let a2 = exec(&["/bin/false"], &env, &one);
    let a3 = exec(&["/bin/true"], &rebuilt, &one);
    let b1 = exec(&["/bin/true"], &env, &two);
    assert_eq!(a1.env_hash, a2.env_hash, "equal environments compare equal within a trace");
    assert_ne!(a1.env_hash, a3.env_hash, "a rebuilt environment is still detected");
    assert_ne!(a1.env_hash, b1.env_hash, "another recording has another key");
    assert_eq!(a1.env_hash.len(), 16);
    // A fixed key (tests) gives comparable hashes across recordings.
    let k = EnvKey::from_hex("00112233445566778899aabbccddeeff").unwrap();
    let c1 = exec(&["/bin/true"], &env, &Privacy::new(k.clone(), Redactor::new()));
    let c2 = exec(&["/bin/true"], &env, &Privacy::new(k, Redactor::new()));
    assert_eq!(c1.env_hash, c2.env_hash);
}

#[test]
fn header_names_the_key_id_never_the_key_and_the_rules() {
    let key = EnvKey::from_bytes([0xab; 16]);
    let privacy = Privacy::new(key.clone(), Redactor::new().with_pattern("hunter[0-9]").unwrap());
    let mut rec = Record::Header(Header::new(vec!["prog".into(), "--password".into(), "hunter2".into()], TracerMode::Seccomp));
    privacy.apply(&mut rec);
    let line = serde_json::to_string(&rec).unwrap();
    assert!(!line.contains("hunter2"), "{line}");
    assert!(!line.contains(&"ab".repeat(16)), "{line}");
    let Record::Header(h) = &rec else { unreachable!() };
    assert_eq!(h.command, ["prog", "--password", MASK]);
    assert_eq!(h.env_hash.as_ref().unwrap().key_id, key.id());
    assert_eq!(h.env_hash.as_ref().unwrap().scheme, ENV_HASH_SCHEME);
    let red = h.redaction.as_ref().unwrap();
    assert_eq!(red.rules, BUILTIN_RULES);
    assert_eq!(red.custom_patterns, 1);
    // The pattern itself is not stored: it may contain what it hides.
    assert!(!line.contains("hunter[0-9]"));
}

#[test]
fn password_and_url_credentials_are_masked_in_exec_records() {
    let privacy = Privacy::new(EnvKey::random(), Redactor::new());
    let mut rec = Record::Exec(exec(
        &["prog", "--password", "hunter2", "https://user:pw@host/x"],
        &["GITHUB_TOKEN=ghp_secret", "PATH=/bin"],
        &privacy,
    ));
    let hash_before = match &rec {
        Record::Exec(e) => e.env_hash.clone(),
        _ => unreachable!(),
    };
    assert_eq!(privacy.apply(&mut rec), 3);
    let Record::Exec(e) = &rec else { unreachable!() };
    assert_eq!(e.argv, ["prog", "--password", MASK, &format!("https://user:{MASK}@host/x")]);
    assert_eq!(e.env.as_ref().unwrap(), &[format!("GITHUB_TOKEN={MASK}"), "PATH=/bin".to_string()]);
    // The hash was made from the real values: redaction does not change it.
    assert_eq!(e.env_hash, hash_before);
    let line = serde_json::to_string(&rec).unwrap();
    assert!(!line.contains("hunter2") && !line.contains(":pw@") && !line.contains("ghp_secret"), "{line}");
}

#[test]
fn no_redact_keeps_everything_and_says_so() {
    let privacy = Privacy::new(EnvKey::random(), Redactor::none());
    let mut rec = Record::Exec(exec(&["prog", "--password", "hunter2"], &[], &privacy));
    assert_eq!(privacy.apply(&mut rec), 0);
    let Record::Exec(e) = &rec else { unreachable!() };
    assert_eq!(e.argv[2], "hunter2");
    let mut h = Record::Header(Header::new(vec![], TracerMode::Seccomp));
    privacy.apply(&mut h);
    let Record::Header(h) = h else { unreachable!() };
    assert_eq!(h.redaction.unwrap().rules, Vec::<String>::new());
}

#[test]
fn new_header_fields_round_trip_and_old_traces_still_read() {
    let privacy = Privacy::new(EnvKey::random(), Redactor::new());
    let mut w = TraceWriter::new(Vec::new());
    let mut h = Record::Header(Header::new(vec!["true".into()], TracerMode::Seccomp));
    privacy.apply(&mut h);
    w.write_record(&h).unwrap();
    let bytes = w.finish(5, Some(0)).unwrap();
    let r = TraceReader::new(&bytes[..]).unwrap();
    let Record::Header(written) = h else { unreachable!() };
    assert_eq!(r.header().env_hash, written.env_hash);
    assert_eq!(r.header().redaction, written.redaction);

    let old = concat!(
        r#"{"kind":"header","format":"spawnscope-trace","format_version":"1.0","tool_version":"0","command":["a"],"cwd":"/","start_unix_ns":0,"host":{},"tracer":{"mode":"seccomp"}}"#,
        "\n",
        r#"{"kind":"exec","pid":1,"tid":1,"syscall":"execve","path":"/a","argv":["a"],"env_count":1,"env_bytes":4,"env_hash":"cbf29ce484222325","result":0,"t_entry":1,"t_exit":2}"#,
        "\n",
        r#"{"kind":"end","t":5,"exit_code":0}"#,
        "\n"
    );
    let (header, records, warnings) = read_all(old.as_bytes()).unwrap();
    assert!(header.env_hash.is_none() && header.redaction.is_none());
    assert!(warnings.is_empty());
    assert!(matches!(&records[0], Record::Exec(e) if e.env_hash == "cbf29ce484222325"));
}
