//! Traces that are safe to write as root and safe to share (issue 16), and
//! trace names that never lose a trace (issue 13): the real binary.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use spawnscope_format::{read_all, ExecEvent, Header, Record, MASK};

/// A command with a watchdog: a run that takes longer than a minute is
/// killed (by its pid) and fails the test instead of hanging it.
fn run(cmd: &mut Command) -> Output {
    run_pid(cmd).1
}

/// [`run`], also giving the pid of the spawnscope process.
fn run_pid(cmd: &mut Command) -> (u32, Output) {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).map(|_| v)
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).map(|_| v)
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("watchdog: {cmd:?} still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (pid, Output { status, stdout: t_out.join().unwrap().unwrap(), stderr: t_err.join().unwrap().unwrap() })
}

fn spawnscope(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spawnscope"));
    c.current_dir(dir).env_remove("SPAWNSCOPE_ENV_KEY").env_remove("SPAWNSCOPE_NO_SYSCALL_INFO");
    c
}

fn ok(o: &Output) -> &Output {
    assert!(o.status.success(), "exit {:?}; stderr: {}", o.status, String::from_utf8_lossy(&o.stderr));
    o
}

fn read_trace(p: &Path) -> (Header, Vec<Record>) {
    let (h, recs, warnings) = read_all(std::fs::File::open(p).unwrap()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    (h, recs)
}

fn execs(recs: &[Record]) -> Vec<&ExecEvent> {
    recs.iter()
        .filter_map(|r| match r {
            Record::Exec(e) => Some(e),
            _ => None,
        })
        .collect()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn symlinked_output_is_refused_and_its_target_unchanged() {
    let d = tempfile::tempdir().unwrap();
    let victim = d.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    std::os::unix::fs::symlink(&victim, d.path().join("x.jsonl")).unwrap();
    let marker = d.path().join("started");
    let o = run(spawnscope(d.path()).args(["record", "-o", "x.jsonl", "--", "/usr/bin/touch"]).arg(&marker));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("x.jsonl: is a symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!marker.exists(), "the target must not run when the trace cannot be written");
    for cmd in [&["export", "t.jsonl", "-o", "x.jsonl"][..], &["redact", "t.jsonl", "-o", "x.jsonl"]] {
        ok(&run(spawnscope(d.path()).args(["record", "-q", "-o", "t.jsonl", "--", "/bin/true"])));
        let o = run(spawnscope(d.path()).args(cmd));
        assert_eq!(o.status.code(), Some(2), "{cmd:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("symbolic link"), "{cmd:?}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    }
}

#[test]
fn existing_0644_file_becomes_a_0600_trace_and_exports_are_0600() {
    let d = tempfile::tempdir().unwrap();
    let t = d.path().join("t.jsonl");
    std::fs::write(&t, "old").unwrap();
    std::fs::set_permissions(&t, std::fs::Permissions::from_mode(0o644)).unwrap();
    ok(&run(spawnscope(d.path()).args(["record", "-q", "-o", "t.jsonl", "--", "/bin/true"])));
    assert_eq!(mode(&t), 0o600);
    read_trace(&t);
    let pre = d.path().join("pre.csv");
    std::fs::write(&pre, "old").unwrap();
    std::fs::set_permissions(&pre, std::fs::Permissions::from_mode(0o644)).unwrap();
    for (fmt, name) in [("chrome", "x.json"), ("csv", "x.csv"), ("csv", "pre.csv")] {
        ok(&run(spawnscope(d.path()).args(["export", "t.jsonl", "--format", fmt, "-o", name])));
        assert_eq!(mode(&d.path().join(name)), 0o600, "{name}");
    }
    assert!(!std::fs::read_to_string(&pre).unwrap().contains("old"));
    ok(&run(spawnscope(d.path()).args(["redact", "t.jsonl", "-o", "r.jsonl"])));
    assert_eq!(mode(&d.path().join("r.jsonl")), 0o600);
}

#[test]
fn run_writes_the_target_output_0600() {
    let d = tempfile::tempdir().unwrap();
    // stdout is not a terminal: `run` records, then prints the report.
    let o = ok(&run(spawnscope(d.path()).args(["run", "-o", "t.jsonl", "--", "/bin/echo", "from-the-target"]))).clone();
    let out = d.path().join("t.jsonl.out");
    assert_eq!(mode(&out), 0o600);
    assert_eq!(mode(&d.path().join("t.jsonl")), 0o600);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "from-the-target\n");
    // The report names the command, but the target's output line is not in it.
    assert!(!String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == "from-the-target"));
}

/// Records `sh -c` running /bin/true with the inherited environment and
/// with a rebuilt one; returns the env hashes of the two /bin/true execs.
fn hashes(d: &Path, name: &str, key: Option<&str>) -> (String, String) {
    let mut c = spawnscope(d);
    if let Some(k) = key {
        c.env("SPAWNSCOPE_ENV_KEY", k);
    }
    c.args(["record", "-q", "-o", name, "--", "/bin/sh", "-c", "/bin/true; /usr/bin/env -i A=1 /bin/true; /bin/true"]);
    ok(&run(&mut c));
    let (h, recs) = read_trace(&d.join(name));
    assert_eq!(h.env_hash.as_ref().unwrap().scheme, "siphash13-keyed");
    let trues: Vec<&ExecEvent> = execs(&recs).into_iter().filter(|e| e.path == "/bin/true" && e.result == 0).collect();
    assert_eq!(trues.len(), 3, "{trues:?}");
    assert_eq!(trues[0].env_hash, trues[2].env_hash, "the same environment within one trace");
    assert_ne!(trues[0].env_hash, trues[1].env_hash, "a rebuilt environment is detected");
    (trues[0].env_hash.clone(), trues[1].env_hash.clone())
}

#[test]
fn env_hashes_differ_across_recordings_unless_the_key_is_fixed() {
    let d = tempfile::tempdir().unwrap();
    let a = hashes(d.path(), "a.jsonl", None);
    let b = hashes(d.path(), "b.jsonl", None);
    assert_ne!(a.0, b.0);
    assert_ne!(a.1, b.1);
    let (ha, _) = read_trace(&d.path().join("a.jsonl"));
    let (hb, _) = read_trace(&d.path().join("b.jsonl"));
    assert_ne!(ha.env_hash.unwrap().key_id, hb.env_hash.unwrap().key_id);
    // Tests that compare hashes across recordings fix the key.
    let key = "0123456789abcdef0123456789abcdef";
    assert_eq!(hashes(d.path(), "c.jsonl", Some(key)), hashes(d.path(), "d.jsonl", Some(key)));
    let o =
        run(spawnscope(d.path()).env("SPAWNSCOPE_ENV_KEY", "short").args(["record", "-q", "-o", "e.jsonl", "--", "/bin/true"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("SPAWNSCOPE_ENV_KEY"));
}

#[test]
fn secrets_are_masked_in_exec_records_and_the_header_command() {
    let d = tempfile::tempdir().unwrap();
    let argv = ["/bin/echo", "--password", "hunter2", "https://user:pw@host/x", "plain"];
    ok(&run(spawnscope(d.path()).args(["record", "-q", "-o", "t.jsonl", "--"]).args(argv)));
    let text = std::fs::read_to_string(d.path().join("t.jsonl")).unwrap();
    assert!(!text.contains("hunter2") && !text.contains(":pw@"), "{text}");
    let (h, recs) = read_trace(&d.path().join("t.jsonl"));
    let want = ["/bin/echo", "--password", MASK, &format!("https://user:{MASK}@host/x"), "plain"];
    assert_eq!(h.command, want);
    assert_eq!(execs(&recs)[0].argv, want);
    assert_eq!(h.redaction.unwrap().rules.len(), 4);

    // --no-redact keeps everything; --redact adds patterns.
    ok(&run(spawnscope(d.path()).args(["record", "-q", "--no-redact", "-o", "n.jsonl", "--"]).args(argv)));
    let (h, recs) = read_trace(&d.path().join("n.jsonl"));
    assert_eq!(h.command, argv);
    assert_eq!(execs(&recs)[0].argv, argv);
    assert!(h.redaction.unwrap().rules.is_empty());
    ok(&run(spawnscope(d.path()).args(["record", "-q", "--redact", "pla(in)", "-o", "p.jsonl", "--"]).args(argv)));
    let (_, recs) = read_trace(&d.path().join("p.jsonl"));
    assert_eq!(execs(&recs)[0].argv[4], format!("pla{MASK}"));
}

fn report_json(d: &Path, trace: &str) -> serde_json::Value {
    let o = run(spawnscope(d).args(["report", "--format", "json", trace]));
    serde_json::from_slice(&ok(&o).stdout).unwrap()
}

#[test]
fn redacted_trace_reports_the_same_summary() {
    let d = tempfile::tempdir().unwrap();
    let script = "/bin/true --token abc; /bin/echo x >/dev/null & wait; ( /bin/true ); /usr/bin/env X_SECRET=1 /bin/true";
    ok(&run(spawnscope(d.path()).args(["record", "-q", "--no-redact", "-o", "t.jsonl", "--", "/bin/sh", "-c", script])));
    let o = ok(&run(spawnscope(d.path()).args(["redact", "t.jsonl", "-o", "r.jsonl"]))).clone();
    assert!(String::from_utf8_lossy(&o.stderr).contains("masked"), "{}", String::from_utf8_lossy(&o.stderr));
    ok(&run(spawnscope(d.path()).args(["redact", "t.jsonl", "--drop-argv", "-o", "dropped.jsonl.zst"])));
    let text = std::fs::read_to_string(d.path().join("r.jsonl")).unwrap();
    assert!(!text.contains("--token abc") && !text.contains("X_SECRET=1"), "{text}");
    let a = report_json(d.path(), "t.jsonl");
    for other in ["r.jsonl", "dropped.jsonl.zst"] {
        let b = report_json(d.path(), other);
        for key in ["summary", "groups"] {
            assert_eq!(a[key], b[key], "{key} of {other}");
        }
        let ids = |v: &serde_json::Value| v["findings"].as_array().unwrap().iter().map(|f| f["id"].clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
    }
    let (h, _) = read_trace(&d.path().join("r.jsonl"));
    assert!(h.redaction.unwrap().after_recording);
    // Scrubbing in place would destroy the input.
    let o = run(spawnscope(d.path()).args(["redact", "t.jsonl", "-o", "./t.jsonl"]));
    assert_eq!(o.status.code(), Some(2));
    read_trace(&d.path().join("t.jsonl"));
}

#[test]
fn two_records_without_o_leave_two_files() {
    let d = tempfile::tempdir().unwrap();
    let record = || run(spawnscope(d.path()).args(["record", "-q", "--", "/bin/true"]));
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(record);
        let b = s.spawn(record);
        (a.join().unwrap(), b.join().unwrap())
    });
    ok(&a);
    ok(&b);
    let names: Vec<String> =
        std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    for n in &names {
        assert!(n.starts_with("spawnscope-") && n.ends_with(".jsonl"), "{n}");
        read_trace(&d.path().join(n));
        assert_eq!(mode(&d.path().join(n)), 0o600);
    }
}

#[test]
fn output_placeholders_expand() {
    let d = tempfile::tempdir().unwrap();
    let (pid, o) = run_pid(spawnscope(d.path()).args(["record", "-q", "-o", "x-%h-%p-100%%.jsonl", "--", "/bin/true"]));
    ok(&o);
    let host = spawnscope_format::hostname();
    let want = d.path().join(format!("x-{host}-{pid}-100%.jsonl"));
    assert!(want.exists(), "{want:?} in {:?}", std::fs::read_dir(d.path()).unwrap().collect::<Vec<_>>());
    let o = run(spawnscope(d.path()).args(["record", "-q", "-o", "x-%q.jsonl", "--", "/bin/true"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown placeholder %q"));
}

#[test]
fn dash_is_stdout_for_record_and_stdin_for_report() {
    let d = tempfile::tempdir().unwrap();
    let o = ok(&run(spawnscope(d.path()).args(["record", "-q", "-o", "-", "--", "/bin/echo", "target-says-hi"]))).clone();
    assert!(std::fs::read_dir(d.path()).unwrap().next().is_none(), "no file called -");
    let (h, recs, warnings) = read_all(&o.stdout[..]).unwrap();
    assert!(warnings.is_empty());
    assert_eq!(h.command[0], "/bin/echo");
    assert_eq!(execs(&recs).len(), 1);
    // The target's own output went to stderr, not into the trace.
    assert!(String::from_utf8_lossy(&o.stderr).contains("target-says-hi"));
    let mut c = spawnscope(d.path());
    c.args(["report", "-"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let bytes = o.stdout.clone();
    let w = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &bytes));
    let r = child.wait_with_output().unwrap();
    w.join().unwrap().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stdout).contains("/bin/echo"), "{}", String::from_utf8_lossy(&r.stdout));
}
