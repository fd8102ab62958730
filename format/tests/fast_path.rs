//! The reader's fast path (issue 15) against serde_json, the reference: the
//! same records, the same warnings, the same errors with the same messages,
//! on every fixture trace, on generated events of every shape, and on lines
//! and traces damaged at random.
//!
//! The reference is the reader as it was before the fast path, still in the
//! crate: `TraceReader::serde_only` (serde_json for every line, each line
//! copied out of the input buffer) and `parse_record_serde`.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use spawnscope_format::*;

/// Everything a reader tells about one input: the header (or the error of
/// `new`), then each record with its line and offset, then how it ended.
fn observe<R: Read>(input: R, capacity: usize, serde_only: bool) -> Vec<String> {
    let mut out = Vec::new();
    let r = TraceReader::new(BufReader::with_capacity(capacity, input));
    let mut r = match r {
        Ok(r) if serde_only => r.serde_only(),
        Ok(r) => r,
        Err(e) => return vec![format!("new: {e}")],
    };
    out.push(format!("header {:?}", r.header()));
    loop {
        match r.next_record() {
            Ok(Some((line, rec))) => out.push(format!("{line} @{} {rec:?}", r.line_offset())),
            Ok(None) => {
                out.push("end".into());
                break;
            }
            Err(e) => {
                out.push(format!("error: {e}"));
                // After an error the reader stays done.
                out.push(format!("then {:?}", r.next_record().map(|o| o.is_some()).map_err(|e| e.to_string())));
                break;
            }
        }
    }
    out.push(format!("warnings {:?} complete {}", r.warnings(), r.is_complete()));
    out
}

/// New reader against the reference, with buffers small enough that lines
/// cross their ends, and the usual size.
fn assert_same(bytes: &[u8]) {
    let reference = observe(bytes, 256 * 1024, true);
    for capacity in [1, 7, 64, 300, 4096, 256 * 1024] {
        assert_eq!(observe(bytes, capacity, false), reference, "buffer of {capacity} bytes");
    }
}

/// Every line: `parse_line` (the reader's parser) gives what serde_json gives.
fn assert_lines_same(bytes: &[u8]) {
    for line in bytes.split(|&b| b == b'\n') {
        assert_line_same(line);
    }
}

fn assert_line_same(line: &[u8]) {
    let new = parse_line(line).map_err(|e| e.to_string());
    let reference = parse_record_serde(line).map_err(|e| e.to_string());
    assert_eq!(new, reference, "line {:?}", String::from_utf8_lossy(line));
}

fn fixture_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.to_string_lossy().contains(".jsonl") || p.parent().is_some_and(|d| d.ends_with("invalid")) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures"), &mut out);
    out.sort();
    out
}

#[test]
fn every_fixture_trace_reads_as_with_serde_json() {
    let files = fixture_files();
    assert!(files.len() >= 45, "fixtures not found: {files:?}");
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let bytes = if f.to_string_lossy().ends_with(".zst") { zstd::decode_all(&bytes[..]).unwrap() } else { bytes };
        eprintln!("{}", f.display());
        assert_same(&bytes);
        assert_lines_same(&bytes);
    }
}

#[test]
fn files_and_zstd_files_read_as_with_serde_json() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = TraceWriter::new(Vec::new());
    w.write_header(&Header::new(vec!["make".into()], TracerMode::Seccomp)).unwrap();
    for rec in samples() {
        w.write_record(&rec).unwrap();
    }
    let bytes = w.finish(99, Some(0)).unwrap();
    for name in ["t.jsonl", "t.jsonl.zst"] {
        let path = dir.path().join(name);
        let data = if name.ends_with(".zst") { zstd::encode_all(&bytes[..], 3).unwrap() } else { bytes.clone() };
        std::fs::write(&path, data).unwrap();
        let read = |serde_only: bool| {
            let r = FileReader::open(&path).unwrap();
            let mut r = if serde_only { r.serde_only() } else { r };
            let mut out = Vec::new();
            while let Some((line, rec)) = r.next_record().unwrap() {
                out.push((line, r.line_offset(), rec));
            }
            (out, r.warnings().to_vec())
        };
        let (recs, warnings) = read(false);
        assert_eq!((recs.len(), warnings.len()), (samples().len() + 1, 0));
        assert_eq!((recs, warnings), read(true), "{name}");
    }
}

/// Lines the fast path must leave to serde_json, and lines in which it must
/// find what serde_json finds: each compared on its own and inside a trace.
#[test]
fn edge_lines_read_as_with_serde_json() {
    let lines: &[&str] = &[
        // The writer's shape.
        r#"{"kind":"exit","pid":1,"tid":1,"code":0,"signal":null,"t":5}"#,
        // Whitespace, key order, kind not first, kind twice.
        r#"{"kind":"exit", "pid":1,"tid":1,"code":0,"signal":null,"t":5}"#,
        r#"{ "kind":"exit","pid":1,"tid":1,"code":0,"signal":null,"t":5}"#,
        r#"{"kind":"exit","pid":1,"tid":1,"code":0,"signal":null,"t":5} "#,
        r#"{"pid":1,"kind":"exit","tid":1,"code":0,"signal":null,"t":5}"#,
        r#"{"kind":"exit","pid":1,"tid":1,"code":0,"signal":null,"t":5,"kind":"spawn"}"#,
        r#"{"kind":"exit","kind":"exit","pid":1,"tid":1,"t":5}"#,
        // Missing fields: Option and default ones are fine, others are errors.
        r#"{"kind":"exit","pid":1,"tid":1,"t":5}"#,
        r#"{"kind":"exit","pid":1,"tid":1}"#,
        r#"{"kind":"exit","pid":1,"tid":1,"code":0,"signal":null,"t":5,"core_dumped":true,"thread":true}"#,
        // Duplicate and unknown fields.
        r#"{"kind":"exit","pid":1,"pid":2,"tid":1,"t":5}"#,
        r#"{"kind":"exit","pid":1,"tid":1,"t":5,"later":[1,{"a":null}]}"#,
        // Numbers: signs, zeros, ranges, floats, exponents, overflow.
        r#"{"kind":"exit","pid":-1,"tid":1,"code":-2147483648,"t":5}"#,
        r#"{"kind":"exit","pid":-0,"tid":1,"t":5}"#,
        r#"{"kind":"exit","pid":01,"tid":1,"t":5}"#,
        r#"{"kind":"exit","pid":2147483648,"tid":1,"t":5}"#,
        r#"{"kind":"exit","pid":-2147483649,"tid":1,"t":5}"#,
        r#"{"kind":"exit","pid":1.0,"tid":1,"t":5}"#,
        r#"{"kind":"exit","pid":1e2,"tid":1,"t":5}"#,
        r#"{"kind":"exit","pid":1,"tid":1,"t":18446744073709551615}"#,
        r#"{"kind":"exit","pid":1,"tid":1,"t":18446744073709551616}"#,
        r#"{"kind":"exit","pid":1,"tid":1,"t":-5}"#,
        r#"{"kind":"exit","pid":1,"tid":1,"t":"5"}"#,
        r#"{"kind":"exit","pid":1,"tid":1,"t":null}"#,
        r#"{"kind":"exit","pid":1,"tid":1,"t":5,"thread":1}"#,
        r#"{"kind":"exit","pid":1,"tid":1,"t":5,"thread":nul}"#,
        r#"{"kind":"exit","pid":1,"tid":1,"t":5,"thread":truee}"#,
        // Strings: escapes, control characters, non-ASCII, invalid UTF-8.
        r#"{"kind":"exec","pid":2,"tid":2,"syscall":"execve","path":"/bin/a\"b","argv":["a\\b","\u00e9\n"],"env_count":0,"env_bytes":0,"env_hash":"0","result":0,"t_entry":null,"t_exit":3}"#,
        "{\"kind\":\"exec\",\"pid\":2,\"tid\":2,\"syscall\":\"execve\",\"path\":\"/bin/\u{e9}\u{fffd}\",\"argv\":[\"\u{1f600}\"],\"env_count\":0,\"env_bytes\":0,\"env_hash\":\"0\",\"result\":0,\"t_entry\":null,\"t_exit\":3}",
        "{\"kind\":\"exec\",\"pid\":2,\"tid\":2,\"syscall\":\"execve\",\"path\":\"/bin/\x01\",\"argv\":[],\"env_count\":0,\"env_bytes\":0,\"env_hash\":\"0\",\"result\":0,\"t_entry\":null,\"t_exit\":3}",
        "{\"kind\":\"exec\",\"pid\":2,\"tid\":2,\"syscall\":\"execve\",\"path\":\"/bin/\x7f\",\"argv\":[],\"env_count\":0,\"env_bytes\":0,\"env_hash\":\"0\",\"result\":0,\"t_entry\":null,\"t_exit\":3}",
        // Enums and arrays.
        r#"{"kind":"exec","pid":2,"tid":2,"syscall":"execvex","path":"/x","argv":[],"env_count":0,"env_bytes":0,"env_hash":"0","result":0,"t_exit":3}"#,
        r#"{"kind":"exec","pid":2,"tid":2,"syscall":{"execve":null},"path":"/x","argv":[],"env_count":0,"env_bytes":0,"env_hash":"0","result":0,"t_exit":3}"#,
        r#"{"kind":"exec","pid":2,"tid":2,"syscall":"execveat","path":"/x","dirfd":-100,"at_flags":4096,"argv":["x",],"env_count":0,"env_bytes":0,"env_hash":"0","result":0,"t_exit":3}"#,
        r#"{"kind":"exec","pid":2,"tid":2,"syscall":"execveat","path":"/x","dirfd":-100,"at_flags":4096,"argv":[],"env":["A=1","B="],"env_count":2,"env_bytes":6,"env_hash":"0","result":0,"t_exit":3}"#,
        r#"{"kind":"exec","pid":2,"tid":2,"syscall":"execve","path":"/x","argv":null,"env_count":0,"env_bytes":0,"env_hash":"0","result":0,"t_exit":3}"#,
        r#"{"kind":"pipe","pid":1,"tid":1,"flags":524288,"fds":[3,4],"result":0,"t":9}"#,
        r#"{"kind":"pipe","pid":1,"tid":1,"flags":0,"fds":[3],"result":0,"t":9}"#,
        r#"{"kind":"pipe","pid":1,"tid":1,"flags":0,"fds":[3,4,5],"result":0,"t":9}"#,
        r#"{"kind":"pipe","pid":1,"tid":1,"flags":0,"fds":null,"result":24,"t":9}"#,
        r#"{"kind":"socketpair","pid":1,"tid":1,"domain":1,"socket_type":524289,"protocol":0,"fds":[5,6],"result":0,"t":9}"#,
        r#"{"kind":"spawn","pid":1,"tid":1,"child":2,"syscall":"clone3","flags":16640,"exit_signal":17,"stack":140000,"clone_args":{"flags":16640,"pidfd":0,"child_tid":0,"parent_tid":0,"exit_signal":17,"stack":139000,"stack_size":1000,"tls":0,"set_tid":null,"size":88},"ptrace_event":"vfork","thread":false,"t_entry":1,"t_event":2,"t_resume":3,"parent_mem":{"rss_kb":1,"pte_kb":2},"parent_threads":3,"stack_id":7}"#,
        r#"{"kind":"spawn","pid":1,"tid":1,"child":2,"syscall":"clone3","flags":16640,"exit_signal":17,"clone_args":{"flags":16640,"pidfd":0,"child_tid":0,"parent_tid":0,"exit_signal":17,"stack":139000,"stack_size":1000,"tls":0,"size":64,"size":64},"ptrace_event":"vfork","thread":false,"t_entry":1,"t_event":2,"t_resume":3}"#,
        r#"{"kind":"spawn","pid":1,"tid":1,"child":null,"syscall":"fork","flags":0,"exit_signal":17,"ptrace_event":null,"thread":false,"result":11,"t_entry":null,"t_event":0,"t_resume":null,"parent_mem":{"rss_kb":1}}"#,
        r#"{"kind":"spawn","pid":1,"tid":1,"syscall":"vfork","flags":0,"exit_signal":4294967296,"thread":false,"t_event":0}"#,
        // Other kinds, always serde_json's.
        r#"{"kind":"warning","pid":null,"message":"lost","t":4}"#,
        r#"{"kind":"end","t":5,"exit_code":0}"#,
        r#"{"kind":"header","format":"spawnscope-trace"}"#,
        r#"{"kind":"from-the-future","x":1}"#,
        // Not objects, cut short, empty.
        r#"{"kind":"exit","pid":1,"tid":1,"code":0,"signal":null,"t":5"#,
        r#"{"kind":"exit","pid":1,"tid":1,"#,
        r#"{"kind":"exit","#,
        r#"{"kind":"exit""#,
        r#"{"kind":"#,
        r#"["kind","exit"]"#,
        "",
        "   ",
    ];
    let header = r#"{"kind":"header","format":"spawnscope-trace","format_version":"1.1","tool_version":"0","command":[],"cwd":"/","start_unix_ns":0,"host":{},"tracer":{"mode":"seccomp"}}"#;
    for line in lines {
        assert_line_same(line.as_bytes());
        // Inside a trace: in the middle, then last without a newline.
        let mid = format!("{header}\n{line}\n{}\n", lines[0]);
        assert_same(mid.as_bytes());
        assert_same(format!("{header}\n{line}").as_bytes());
        assert_same(format!("{header}\r\n{line}\r\n").as_bytes());
    }
    // Invalid UTF-8 inside a string.
    let mut bad = br#"{"kind":"exec","pid":2,"tid":2,"syscall":"execve","path":"/x"#.to_vec();
    bad.extend_from_slice(b"\xff\xfe");
    bad.extend_from_slice(br#"","argv":[],"env_count":0,"env_bytes":0,"env_hash":"0","result":0,"t_exit":3}"#);
    assert_line_same(&bad);
    assert_same(&[header.as_bytes(), b"\n", &bad, b"\n"].concat());
}

/// Events of every kind with the values at the edges of their types.
fn samples() -> Vec<Record> {
    let exec = ExecEvent {
        pid: i32::MAX,
        tid: i32::MIN,
        syscall: ExecSyscall::Execveat,
        path: "/usr/bin/\"quoted\" \\ \u{e9}\u{1}".into(),
        dirfd: Some(-100),
        at_flags: Some(u32::MAX),
        argv: vec!["".into(), "a b".into(), "\n\t".into(), "\u{fffd}".into()],
        argv_truncated: true,
        env_count: u64::MAX,
        env_bytes: 0,
        env_hash: "0123456789abcdef".into(),
        env: Some(vec!["A=1".into()]),
        result: -1,
        t_entry: Some(u64::MAX),
        t_exit: 0,
    };
    let spawn = SpawnEvent {
        pid: 1,
        tid: 2,
        child: Some(-3),
        syscall: CloneSyscall::Clone3,
        flags: u64::MAX,
        exit_signal: u32::MAX,
        stack: 1,
        clone_args: Some(CloneArgs { set_tid: Some(0), cgroup: Some(u64::MAX), size: 88, ..Default::default() }),
        ptrace_event: Some(PtraceEvent::Vfork),
        thread: true,
        result: 0,
        t_entry: None,
        t_event: 7,
        t_resume: Some(8),
        parent_mem: Some(MemInfo { rss_kb: 1, pte_kb: 0 }),
        parent_threads: Some(0),
        stack_id: Some(u32::MAX),
    };
    vec![
        Record::Exec(exec.clone()),
        Record::Exec(ExecEvent { dirfd: None, at_flags: None, env: None, argv: vec![], ..exec }),
        Record::Spawn(spawn.clone()),
        Record::Spawn(SpawnEvent {
            child: None,
            clone_args: None,
            ptrace_event: None,
            parent_mem: None,
            parent_threads: None,
            stack_id: None,
            ..spawn
        }),
        Record::Exit(ExitEvent { pid: 1, tid: 1, code: None, signal: Some(9), core_dumped: true, thread: false, t: 3 }),
        Record::Pipe(PipeEvent { pid: 0, tid: 0, flags: i32::MIN, fds: Some([0, i32::MAX]), result: 0, t: 1 }),
        Record::Socketpair(SocketpairEvent {
            pid: 5,
            tid: 5,
            domain: 1,
            socket_type: 524289,
            protocol: 0,
            fds: None,
            result: 24,
            t: 2,
        }),
        Record::Warning(WarningEvent { pid: Some(3), message: "lost \"x\"".into(), t: 4 }),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9/._=-]{0,24}",
        1 => "\\PC{0,12}",
        1 => any::<String>(),
    ]
}

fn num_i32() -> impl Strategy<Value = i32> {
    prop_oneof![3 => -2i32..40_000, 1 => any::<i32>()]
}

fn num_u64() -> impl Strategy<Value = u64> {
    prop_oneof![3 => 0u64..10_000_000, 1 => any::<u64>()]
}

fn exec_event() -> impl Strategy<Value = ExecEvent> {
    (
        (num_i32(), num_i32(), any::<bool>(), text(), proptest::option::of(num_i32()), proptest::option::of(any::<u32>())),
        (proptest::collection::vec(text(), 0..6), any::<bool>(), num_u64(), num_u64(), text()),
        (proptest::option::of(proptest::collection::vec(text(), 0..3)), num_i32(), proptest::option::of(num_u64()), num_u64()),
    )
        .prop_map(
            |(
                (pid, tid, at, path, dirfd, at_flags),
                (argv, argv_truncated, env_count, env_bytes, env_hash),
                (env, result, t_entry, t_exit),
            )| ExecEvent {
                pid,
                tid,
                syscall: if at { ExecSyscall::Execveat } else { ExecSyscall::Execve },
                path,
                dirfd,
                at_flags,
                argv,
                argv_truncated,
                env_count,
                env_bytes,
                env_hash,
                env,
                result,
                t_entry,
                t_exit,
            },
        )
}

fn spawn_event() -> impl Strategy<Value = SpawnEvent> {
    let syscall =
        prop_oneof![Just(CloneSyscall::Clone), Just(CloneSyscall::Clone3), Just(CloneSyscall::Fork), Just(CloneSyscall::Vfork)];
    let ptrace_event =
        proptest::option::of(prop_oneof![Just(PtraceEvent::Fork), Just(PtraceEvent::Vfork), Just(PtraceEvent::Clone)]);
    let clone_args = proptest::option::of(
        (num_u64(), num_u64(), proptest::option::of(num_u64()), proptest::option::of(num_u64()), num_u64()).prop_map(
            |(flags, stack, set_tid, cgroup, size)| CloneArgs {
                flags,
                stack,
                set_tid,
                set_tid_size: set_tid.map(|_| 1),
                cgroup,
                size,
                exit_signal: 17,
                ..Default::default()
            },
        ),
    );
    (
        (num_i32(), num_i32(), proptest::option::of(num_i32()), syscall, num_u64(), any::<u32>(), num_u64()),
        (clone_args, ptrace_event, any::<bool>(), num_i32(), proptest::option::of(num_u64()), num_u64()),
        (
            proptest::option::of(num_u64()),
            proptest::option::of((num_u64(), num_u64())),
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
        ),
    )
        .prop_map(
            |(
                (pid, tid, child, syscall, flags, exit_signal, stack),
                (clone_args, ptrace_event, thread, result, t_entry, t_event),
                (t_resume, mem, parent_threads, stack_id),
            )| SpawnEvent {
                pid,
                tid,
                child,
                syscall,
                flags,
                exit_signal,
                stack,
                clone_args,
                ptrace_event,
                thread,
                result,
                t_entry,
                t_event,
                t_resume,
                parent_mem: mem.map(|(rss_kb, pte_kb)| MemInfo { rss_kb, pte_kb }),
                parent_threads,
                stack_id,
            },
        )
}

fn small_event() -> impl Strategy<Value = Record> {
    let fds = || proptest::option::of((num_i32(), num_i32()).prop_map(|(a, b)| [a, b]));
    prop_oneof![
        (
            num_i32(),
            num_i32(),
            proptest::option::of(num_i32()),
            proptest::option::of(num_i32()),
            any::<bool>(),
            any::<bool>(),
            num_u64()
        )
            .prop_map(|(pid, tid, code, signal, core_dumped, thread, t)| Record::Exit(ExitEvent {
                pid,
                tid,
                code,
                signal,
                core_dumped,
                thread,
                t
            })),
        (num_i32(), num_i32(), num_i32(), fds(), num_i32(), num_u64())
            .prop_map(|(pid, tid, flags, fds, result, t)| Record::Pipe(PipeEvent { pid, tid, flags, fds, result, t })),
        (num_i32(), num_i32(), num_i32(), num_i32(), fds(), num_i32(), num_u64()).prop_map(
            |(pid, tid, domain, socket_type, fds, result, t)| Record::Socketpair(SocketpairEvent {
                pid,
                tid,
                domain,
                socket_type,
                protocol: 0,
                fds,
                result,
                t
            })
        ),
    ]
}

fn event() -> impl Strategy<Value = Record> {
    prop_oneof![
        3 => exec_event().prop_map(Record::Exec),
        3 => spawn_event().prop_map(Record::Spawn),
        2 => small_event(),
    ]
}

/// A byte that matters to JSON, or any byte.
fn damage_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => proptest::sample::select(b"\"\\{}[],:-0123456789.eEnultrfas \t\r\n\x01\x7f\xc3\xa9\xff".to_vec()),
        1 => any::<u8>(),
    ]
}

#[derive(Debug, Clone)]
enum Damage {
    Delete(usize),
    Insert(usize, u8),
    Replace(usize, u8),
    /// Copies a piece of the line elsewhere (repeated keys, values out of place).
    Splice {
        from: usize,
        len: usize,
        to: usize,
    },
    Cut(usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>()).prop_map(Damage::Delete),
        (any::<usize>(), damage_byte()).prop_map(|(i, b)| Damage::Insert(i, b)),
        (any::<usize>(), damage_byte()).prop_map(|(i, b)| Damage::Replace(i, b)),
        (any::<usize>(), 1usize..40, any::<usize>()).prop_map(|(from, len, to)| Damage::Splice { from, len, to }),
        (any::<usize>()).prop_map(Damage::Cut),
    ]
}

fn apply(line: &mut Vec<u8>, d: &Damage) {
    if line.is_empty() {
        return;
    }
    let n = line.len();
    match *d {
        Damage::Delete(i) => {
            line.remove(i % n);
        }
        Damage::Insert(i, b) => line.insert(i % (n + 1), b),
        Damage::Replace(i, b) => line[i % n] = b,
        Damage::Splice { from, len, to } => {
            let from = from % n;
            let piece = line[from..(from + len).min(n)].to_vec();
            let to = to % (n + 1);
            line.splice(to..to, piece);
        }
        Damage::Cut(i) => line.truncate(i % n),
    }
}

/// `{"kind":…,` then the other members sorted by key (not the writer's order).
fn sorted_keys(line: &[u8]) -> Vec<u8> {
    let serde_json::Value::Object(map) = serde_json::from_slice(line).unwrap() else { panic!("not an object") };
    let mut out = format!("{{\"kind\":{}", map["kind"]).into_bytes();
    let mut members: Vec<_> = map.iter().filter(|(k, _)| *k != "kind").collect();
    members.sort_by(|a, b| a.0.cmp(b.0));
    for (k, v) in members {
        out.extend_from_slice(format!(",{}:{}", serde_json::Value::from(k.as_str()), v).as_bytes());
    }
    out.push(b'}');
    out
}

/// The line the writer writes (`TraceWriter` serializes the `Record`).
fn json_line(rec: &Record) -> Vec<u8> {
    serde_json::to_vec(rec).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any event the writer writes reads back as itself, as serde_json reads it.
    #[test]
    fn written_events_read_back_as_with_serde_json(rec in event()) {
        let line = json_line(&rec);
        prop_assert_eq!(parse_line(&line).unwrap(), rec.clone());
        prop_assert_eq!(parse_record_serde(&line).unwrap(), rec.clone());
        // The same members in another order (sorted by key), kind first.
        let line = sorted_keys(&line);
        prop_assert_eq!(parse_line(&line).unwrap(), rec.clone());
        prop_assert_eq!(parse_record_serde(&line).unwrap(), rec);
    }

    /// A written line damaged in a few places: the fast path either steps
    /// aside or finds what serde_json finds.
    #[test]
    fn damaged_lines_read_as_with_serde_json(rec in event(), damages in proptest::collection::vec(damage(), 1..4)) {
        let mut line = json_line(&rec);
        for d in &damages {
            apply(&mut line, d);
        }
        let new = parse_line(&line).map_err(|e| e.to_string());
        let reference = parse_record_serde(&line).map_err(|e| e.to_string());
        prop_assert_eq!(new, reference, "line {:?}", String::from_utf8_lossy(&line));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whole traces with a damaged line somewhere (or a cut end): the same
    /// records, warnings and errors as the reference reader.
    #[test]
    fn damaged_traces_read_as_with_serde_json(
        recs in proptest::collection::vec(event(), 1..12),
        which in any::<usize>(),
        damages in proptest::collection::vec(damage(), 0..3),
        end in any::<bool>(),
        capacity in prop_oneof![Just(1usize), 2usize..600, Just(8192)],
    ) {
        let mut w = TraceWriter::new(Vec::new());
        w.write_header(&Header::new(vec!["x".into()], TracerMode::Syscall)).unwrap();
        for r in &recs {
            w.write_record(r).unwrap();
        }
        let bytes = if end { w.finish(1, Some(0)).unwrap() } else { w.finish(1, Some(0)).map(|mut b| { let n = b.len(); let last = b[..n - 1].iter().rposition(|&c| c == b'\n').unwrap(); b.truncate(last + 1); b }).unwrap() };
        let mut lines: Vec<Vec<u8>> = bytes.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
        // Damage one event line (never the header: its errors are not the fast path's).
        let i = 1 + which % (lines.len() - 1);
        for d in &damages {
            apply(&mut lines[i], d);
        }
        let text = lines.concat();
        prop_assert_eq!(observe(&text[..], capacity, false), observe(&text[..], 256 * 1024, true));
    }
}
