//! Reader behaviour on damaged and hostile inputs (fixtures/traces/invalid),
//! round trips, and property tests: never a panic, never unbounded memory.

use std::io::Write;
use std::path::PathBuf;

use proptest::prelude::*;
use spawnscope_format::*;

fn invalid(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/invalid").join(name)
}

/// Reads a whole file: (records, warnings) or the error's message.
fn read_file(name: &str) -> Result<(Vec<Record>, Vec<String>), String> {
    let mut r = FileReader::open(invalid(name)).map_err(|e| e.to_string())?;
    let mut recs = Vec::new();
    loop {
        match r.next_record() {
            Ok(Some((_, rec))) => recs.push(rec),
            Ok(None) => break,
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok((recs, r.warnings().iter().map(|w| w.to_string()).collect()))
}

#[test]
fn empty_file_is_a_clear_error() {
    assert_eq!(read_file("empty.jsonl").unwrap_err(), "empty file: not a spawnscope trace");
}

#[test]
fn garbage_is_not_a_trace() {
    let err = read_file("garbage.bin").unwrap_err();
    assert!(err.starts_with("line 1: not a spawnscope trace"), "{err}");
}

#[test]
fn missing_header_is_not_a_trace() {
    let err = read_file("no-header.jsonl").unwrap_err();
    assert!(err.starts_with("line 1: not a spawnscope trace"), "{err}");
}

#[test]
fn newer_major_version_is_refused() {
    assert_eq!(
        read_file("future-version.jsonl").unwrap_err(),
        "trace format version 2.3 is newer than this spawnscope reads (1.x): upgrade spawnscope"
    );
}

#[test]
fn truncated_last_line_keeps_everything_before_it() {
    let (recs, warnings) = read_file("truncated.jsonl").unwrap();
    assert_eq!(recs.len(), 1);
    assert!(matches!(recs[0], Record::Exit(ExitEvent { pid: 10, .. })));
    assert_eq!(
        warnings,
        vec![
            "line 3: cut short, ignored (recording interrupted)".to_string(),
            "trace is incomplete (no end line after line 2): the recording was cut short; analysing what is there".to_string(),
        ]
    );
}

#[test]
fn missing_end_line_warns_incomplete() {
    let (recs, warnings) = read_file("no-end.jsonl").unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].starts_with("trace is incomplete"), "{warnings:?}");
}

#[test]
fn unknown_kind_is_skipped_with_line_number() {
    let (recs, warnings) = read_file("unknown-kind.jsonl").unwrap();
    assert_eq!(recs.iter().map(Record::kind).collect::<Vec<_>>(), ["exit", "end"]);
    assert_eq!(warnings, vec!["line 2: unknown event kind, skipped (written by a newer spawnscope?)".to_string()]);
}

#[test]
fn malformed_line_in_the_middle_names_the_line() {
    let err = read_file("malformed-middle.jsonl").unwrap_err();
    assert!(err.starts_with("line 3: malformed event: "), "{err}");
}

#[test]
fn data_after_end_is_ignored_with_warning() {
    let (recs, warnings) = read_file("data-after-end.jsonl").unwrap();
    assert_eq!(recs.iter().map(Record::kind).collect::<Vec<_>>(), ["end"]);
    assert_eq!(warnings, vec!["line 3: data after the end line, ignored".to_string()]);
}

#[test]
fn directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = FileReader::open(dir.path()).unwrap_err().to_string();
    assert!(err.ends_with("is a directory, not a trace file"), "{err}");
}

#[test]
fn missing_file_is_a_clear_error() {
    let err = FileReader::open("/nonexistent/trace.jsonl").unwrap_err().to_string();
    assert_eq!(err, "/nonexistent/trace.jsonl: No such file or directory (os error 2)");
}

#[test]
fn huge_line_is_refused_without_reading_it_into_memory() {
    // A line of MAX_LINE + 1 bytes: the reader must stop at the bound.
    let mut data = Vec::new();
    let mut w = TraceWriter::new(&mut data);
    w.write_header(&Header::new(vec![], TracerMode::Seccomp)).unwrap();
    drop(w);
    data.extend(std::iter::repeat_n(b'x', MAX_LINE + 1));
    data.push(b'\n');
    let mut r = TraceReader::new(&data[..]).unwrap();
    let err = r.next_record().unwrap_err().to_string();
    assert_eq!(err, format!("line 2: longer than {MAX_LINE} bytes; the trace is damaged"));
}

fn sample_records() -> Vec<Record> {
    vec![
        Record::Spawn(SpawnEvent {
            pid: 100,
            tid: 101,
            child: Some(102),
            syscall: CloneSyscall::Clone3,
            flags: flags::CLONE_VM | flags::CLONE_VFORK,
            exit_signal: 17,
            stack: 0x7f00_0000,
            clone_args: Some(CloneArgs {
                flags: flags::CLONE_VM | flags::CLONE_VFORK,
                exit_signal: 17,
                stack: 0x7f00_0000,
                stack_size: 36864,
                size: 88,
                ..Default::default()
            }),
            ptrace_event: Some(PtraceEvent::Vfork),
            thread: false,
            result: 0,
            t_entry: Some(10),
            t_event: 20,
            t_resume: Some(90),
            parent_mem: None,
            parent_threads: Some(2),
            stack_id: None,
        }),
        Record::Exec(ExecEvent {
            pid: 102,
            tid: 102,
            syscall: ExecSyscall::Execve,
            path: "/usr/bin/true".into(),
            dirfd: None,
            at_flags: None,
            argv: vec!["true".into(), "\u{1b}[31mred".into()],
            argv_truncated: false,
            env_count: 2,
            env_bytes: 12,
            env_hash: EnvSummary::of([&b"A=1"[..], b"BB=22"]).hash_hex(),
            env: None,
            result: 0,
            t_entry: Some(30),
            t_exit: 80,
        }),
        Record::Socketpair(SocketpairEvent {
            pid: 100,
            tid: 100,
            domain: flags::AF_UNIX,
            socket_type: flags::SOCK_SEQPACKET | flags::SOCK_CLOEXEC,
            protocol: 0,
            fds: Some([3, 4]),
            result: 0,
            t: 5,
        }),
        Record::Pipe(PipeEvent { pid: 100, tid: 100, flags: 0o2000000, fds: Some([5, 6]), result: 0, t: 6 }),
        Record::Warning(WarningEvent { pid: Some(7), message: "lost".into(), t: 7 }),
        Record::Exit(ExitEvent { pid: 102, tid: 102, code: None, signal: Some(9), core_dumped: false, thread: false, t: 95 }),
    ]
}

#[test]
fn round_trip_through_a_zstd_file_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl.zst");
    let mut w = FileWriter::create(&path).unwrap();
    w.write_header(&Header::new(vec!["a".into()], TracerMode::Syscall)).unwrap();
    for r in sample_records() {
        w.write_record(&r).unwrap();
    }
    drop(w.finish(100, Some(0)).unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let mut r = FileReader::open(&path).unwrap();
    assert_eq!(r.header().tracer.mode, TracerMode::Syscall);
    let mut got = Vec::new();
    while let Some((_, rec)) = r.next_record().unwrap() {
        got.push(rec);
    }
    let end = got.pop().unwrap();
    assert_eq!(got, sample_records());
    let Record::End(end) = end else { panic!("no end line") };
    assert_eq!(end.counts.get("spawn"), Some(&1));
    assert_eq!(end.counts.values().sum::<u64>(), 6);
    assert!(r.warnings().is_empty());
}

#[test]
fn flushed_prefix_of_a_killed_recording_is_readable() {
    // Simulates a tracer killed mid-recording: the file stops mid-line.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    let mut w = FileWriter::create(&path).unwrap();
    w.write_header(&Header::new(vec![], TracerMode::Seccomp)).unwrap();
    for r in sample_records() {
        w.write_record(&r).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(br#"{"kind":"spawn","pid":1"#).unwrap();
    let mut r = FileReader::open(&path).unwrap();
    let n = std::iter::from_fn(|| r.next_record().unwrap()).count();
    assert_eq!(n, sample_records().len());
    assert!(!r.is_complete());
}

#[test]
fn unknown_fields_are_accepted() {
    let text = concat!(
        r#"{"kind":"header","format":"spawnscope-trace","format_version":"1.7","tool_version":"9","command":[],"cwd":"/","start_unix_ns":0,"host":{"gpu":"none"},"tracer":{"mode":"events","future":1},"new_field":true}"#,
        "\n",
        r#"{"kind":"exit","pid":1,"tid":1,"code":0,"signal":null,"t":3,"extra":[1,2]}"#,
        "\n",
        r#"{"kind":"end","t":5,"exit_code":0}"#,
        "\n"
    );
    let (h, recs, warnings) = read_all(text.as_bytes()).unwrap();
    assert_eq!(h.format_version, "1.7");
    assert_eq!(recs.len(), 2);
    assert!(warnings.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes after a valid header never panic the reader.
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut data = Vec::new();
        let mut w = TraceWriter::new(&mut data);
        w.write_header(&Header::new(vec![], TracerMode::Seccomp)).unwrap();
        drop(w);
        data.extend_from_slice(&body);
        let mut r = TraceReader::new(&data[..]).unwrap();
        for _ in 0..10_000 {
            match r.next_record() {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
    }

    /// Arbitrary JSON-ish lines never panic and errors carry a line number.
    #[test]
    fn mutated_events_never_panic(cut in 0usize..400, byte in any::<u8>(), pos in 0usize..400) {
        let mut data = Vec::new();
        let mut w = TraceWriter::new(&mut data);
        w.write_header(&Header::new(vec![], TracerMode::Seccomp)).unwrap();
        let header_len = w.counts().len();
        let _ = header_len;
        for r in sample_records() { w.write_record(&r).unwrap(); }
        drop(w);
        let start = data.iter().position(|&b| b == b'\n').unwrap() + 1;
        let len = data.len() - start;
        let p = start + pos % len;
        data[p] = byte;
        data.truncate(start + cut.min(len));
        let mut r = TraceReader::new(&data[..]).unwrap();
        loop {
            match r.next_record() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => { prop_assert!(e.to_string().starts_with("line ")); break; }
            }
        }
    }

    /// Arbitrary first lines are refused with an error, never a panic.
    #[test]
    fn arbitrary_headers_never_panic(first in "\\PC{0,300}") {
        let _ = TraceReader::new(first.as_bytes());
    }
}
