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

#[test]
fn redact_trace_scrubs_argv_and_env_and_passes_everything_else_through() {
    let text = concat!(
        r#"{"kind":"header","format":"spawnscope-trace","format_version":"1.1","tool_version":"0","command":["sh","-c","deploy --token s3cr3t-tok"],"cwd":"/","start_unix_ns":0,"host":{},"tracer":{"mode":"seccomp","capture_env":true}}"#,
        "\n",
        r#"{"kind":"module","id":0,"path":"/usr/lib/libc.so.6","type":"file","build_id":"ab"}"#,
        "\n",
        r#"{"kind":"stack","id":0,"frames":[[0,1234],[0,5678]],"end":"complete"}"#,
        "\n",
        r#"{"kind":"spawn","pid":1,"tid":1,"child":2,"syscall":"clone3","flags":16640,"exit_signal":17,"ptrace_event":"vfork","thread":false,"t_entry":1,"t_event":2,"t_resume":3,"stack_id":0}"#,
        "\n",
        r#"{"kind":"exec","pid":2,"tid":2,"syscall":"execve","path":"/bin/prog","argv":["prog","--password","hunter2","https://user:pw@host"],"env_count":1,"env_bytes":7,"env_hash":"0123456789abcdef","env":["A_TOKEN=x"],"result":0,"t_entry":4,"t_exit":5}"#,
        "\n",
        r#"{"kind":"future-kind","x":"hunter2"}"#,
        "\n",
        r#"{"kind":"symbols","module":0,"offset":1234,"frames":[{"function":"posix_spawn"}]}"#,
        "\n",
        r#"{"kind":"exit","pid":2,"tid":2,"code":0,"t":6}"#,
        "\n",
        r#"{"kind":"end","t":7,"exit_code":0,"counts":{"exec":1,"exit":1,"module":1,"spawn":1,"stack":1,"symbols":1}}"#,
        "\n",
    );
    let reader = TraceReader::new(text.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let mut w = TraceWriter::new(&mut buf);
    let sum = redact_trace(reader, &mut w, &Redactor::new()).unwrap();
    drop(w);
    assert_eq!((sum.execs_changed, sum.env_dropped, sum.unknown_dropped, sum.complete), (1, 1, 1, true));
    // --token abc in the header's shell string, --password's value, the URL password.
    assert_eq!(sum.masked, 3, "{sum:?}");
    let out = String::from_utf8(buf).unwrap();
    for secret in ["hunter2", "s3cr3t-tok", ":pw@", "A_TOKEN"] {
        assert!(!out.contains(secret), "{secret} in {out}");
    }
    let (h_in, recs_in, _) = read_all(text.as_bytes()).unwrap();
    let (h_out, recs_out, warnings) = read_all(out.as_bytes()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(h_out.command, ["sh", "-c", &format!("deploy --token {MASK}")]);
    let red = h_out.redaction.unwrap();
    assert!(red.after_recording && red.env_values_dropped && !red.argv_dropped);
    assert_eq!(h_out.host, h_in.host);
    assert_eq!(recs_in.len(), recs_out.len());
    for (a, b) in recs_in.iter().zip(&recs_out) {
        match (a, b) {
            (Record::Exec(a), Record::Exec(b)) => {
                assert_eq!(b.argv, ["prog", "--password", MASK, &format!("https://user:{MASK}@host")]);
                assert_eq!(b.env, None);
                assert_eq!((&a.path, &a.env_hash, a.env_count), (&b.path, &b.env_hash, b.env_count));
            }
            (a, b) => assert_eq!(a, b, "passed through unchanged"),
        }
    }

    // --drop-argv keeps program names only; a cut trace stays cut.
    let cut = &text[..text.find(r#"{"kind":"end""#).unwrap()];
    let mut buf = Vec::new();
    let mut w = TraceWriter::new(&mut buf);
    let sum = redact_trace(TraceReader::new(cut.as_bytes()).unwrap(), &mut w, &Redactor::new().drop_argv(true)).unwrap();
    drop(w);
    assert!(!sum.complete);
    let (h, recs, warnings) = read_all(&buf[..]).unwrap();
    assert_eq!(h.command, ["sh"]);
    assert!(recs.iter().any(|r| matches!(r, Record::Exec(e) if e.argv == ["prog"])));
    assert!(matches!(warnings.as_slice(), [ReadWarning::Incomplete { .. }]), "{warnings:?}");
}
