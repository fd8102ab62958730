//! Format 1.1 stack records: written and read back, resolved into logical
//! frames, and 1.0 traces (no stacks) still read.

use spawnscope_format::*;

fn spawn(stack_id: Option<u32>) -> SpawnEvent {
    SpawnEvent {
        pid: 10,
        tid: 10,
        child: Some(11),
        syscall: CloneSyscall::Clone3,
        flags: 0x4100,
        exit_signal: 17,
        stack: 0x7f00_0000,
        clone_args: None,
        ptrace_event: Some(PtraceEvent::Vfork),
        thread: false,
        result: 0,
        t_entry: Some(100),
        t_event: 200,
        t_resume: Some(300),
        parent_mem: None,
        parent_threads: Some(1),
        stack_id,
    }
}

fn libc() -> ModuleRecord {
    ModuleRecord {
        id: 1,
        path: "/usr/lib/x86_64-linux-gnu/libc.so.6".into(),
        module_type: ModuleType::File,
        build_id: Some("0123abcd".into()),
        stripped: Some(true),
        unwind: Some(UnwindTables::EhFrame),
        debug_lines: Some(false),
        rustc: None,
    }
}

fn app() -> ModuleRecord {
    ModuleRecord {
        id: 2,
        path: "/tmp/app".into(),
        module_type: ModuleType::File,
        build_id: None,
        stripped: Some(false),
        unwind: Some(UnwindTables::EhFrame),
        debug_lines: Some(true),
        rustc: Some("1.95.0".into()),
    }
}

fn stack() -> StackRecord {
    StackRecord {
        id: 5,
        frames: vec![RawFrame(1, 0xf6e39), RawFrame(1, 0xf6a8d), RawFrame(2, 0x1234), RawFrame(9, 0x42)],
        end: StackEnd::Complete,
        note: None,
    }
}

fn syms(module: u32, offset: u64, frames: Vec<SymbolFrame>) -> SymbolsRecord {
    SymbolsRecord { module, offset, frames }
}

fn f(name: &str, line: Option<u32>, inlined: bool) -> SymbolFrame {
    SymbolFrame { function: Some(name.into()), file: line.map(|_| "app.c".into()), line, column: None, inlined }
}

fn trace() -> Vec<u8> {
    let mut w = TraceWriter::new(Vec::new());
    w.write_header(&Header::new(vec!["app".into()], TracerMode::Seccomp)).unwrap();
    w.write_record(&Record::Module(libc())).unwrap();
    w.write_record(&Record::Module(app())).unwrap();
    w.write_record(&Record::Stack(stack())).unwrap();
    w.write_record(&Record::Spawn(spawn(Some(5)))).unwrap();
    w.write_record(&Record::Symbols(syms(1, 0xf6e39, vec![f("__GI___clone3", None, false)]))).unwrap();
    // Unknown: an address outside every symbol.
    w.write_record(&Record::Symbols(syms(1, 0xf6a8d, vec![]))).unwrap();
    w.write_record(&Record::Symbols(syms(
        2,
        0x1234,
        vec![f("spawn_one", Some(12), true), f("run", Some(30), true), f("main", Some(44), false)],
    )))
    .unwrap();
    w.finish(400, Some(0)).unwrap()
}

#[test]
fn new_traces_are_version_1_1() {
    assert_eq!(FORMAT_VERSION, "1.1");
    let (h, _, _) = read_all(&trace()[..]).unwrap();
    assert_eq!(h.format_version, "1.1");
}

#[test]
fn stack_records_round_trip() {
    let bytes = trace();
    let (_, recs, warnings) = read_all(&bytes[..]).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let kinds: Vec<_> = recs.iter().map(|r| r.kind()).collect();
    assert_eq!(kinds, ["module", "module", "stack", "spawn", "symbols", "symbols", "symbols", "end"]);
    assert_eq!(recs[0], Record::Module(libc()));
    assert_eq!(recs[2], Record::Stack(stack()));
    assert!(matches!(&recs[3], Record::Spawn(s) if s.stack_id == Some(5)));
    match &recs[7] {
        Record::End(e) => {
            assert_eq!(e.counts.get("module"), Some(&2));
            assert_eq!(e.counts.get("stack"), Some(&1));
            assert_eq!(e.counts.get("symbols"), Some(&3));
        }
        r => panic!("{r:?}"),
    }
}

#[test]
fn wire_shape_is_compact_and_documented() {
    let text = String::from_utf8(trace()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[3], r#"{"kind":"stack","id":5,"frames":[[1,1011257],[1,1010317],[2,4660],[9,66]],"end":"complete"}"#);
    assert!(
        lines[1].starts_with(
            r#"{"kind":"module","id":1,"path":"/usr/lib/x86_64-linux-gnu/libc.so.6","type":"file","build_id":"0123abcd""#
        ),
        "{}",
        lines[1]
    );
    assert!(lines[4].ends_with(r#""stack_id":5}"#), "{}", lines[4]);
    assert!(lines[6].contains(r#""frames":[]"#), "{}", lines[6]);
}

#[test]
fn resolve_expands_inlined_frames_innermost_first() {
    let (_, recs, _) = read_all(&trace()[..]).unwrap();
    let mut t = StackTable::new();
    let taken = recs.iter().filter(|r| t.add(r)).count();
    assert_eq!(taken, 6);
    let frames = t.resolve(5).unwrap();
    let shown: Vec<String> = frames
        .iter()
        .map(|f| {
            format!(
                "{}#{} {} {}+{:#x} {}:{}{}",
                f.raw_index,
                f.function_or_unknown(),
                if f.inlined { "inlined" } else { "-" },
                f.module,
                f.offset,
                f.file.as_deref().unwrap_or("?"),
                f.line.map(|l| l.to_string()).unwrap_or("?".into()),
                ""
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            "0#__GI___clone3 - /usr/lib/x86_64-linux-gnu/libc.so.6+0xf6e39 ?:?",
            "1#?? - /usr/lib/x86_64-linux-gnu/libc.so.6+0xf6a8d ?:?",
            "2#spawn_one inlined /tmp/app+0x1234 app.c:12",
            "2#run inlined /tmp/app+0x1234 app.c:30",
            "2#main - /tmp/app+0x1234 app.c:44",
            "3#?? - [unknown module 9]+0x42 ?:?",
        ]
    );
    assert!(t.resolve(6).is_none());
    assert_eq!(t.module(1).unwrap().build_id.as_deref(), Some("0123abcd"));
}

#[test]
fn later_symbols_replace_earlier_ones() {
    let mut t = StackTable::new();
    t.add_module(app());
    t.add_stack(StackRecord { id: 1, frames: vec![RawFrame(2, 8)], end: StackEnd::DepthLimit, note: None });
    t.add_symbols(syms(2, 8, vec![f("old", None, false)]));
    t.add_symbols(syms(2, 8, vec![f("new", Some(3), false)]));
    assert_eq!(t.resolve(1).unwrap()[0].function.as_deref(), Some("new"));
}

#[test]
fn version_1_0_traces_without_stacks_still_read() {
    let text = concat!(
        r#"{"kind":"header","format":"spawnscope-trace","format_version":"1.0","tool_version":"0","command":[],"cwd":"/","start_unix_ns":0,"host":{},"tracer":{"mode":"seccomp"}}"#,
        "\n",
        r#"{"kind":"spawn","pid":1,"tid":1,"child":2,"syscall":"clone","flags":0,"exit_signal":17,"ptrace_event":"fork","thread":false,"t_entry":1,"t_event":2,"t_resume":3}"#,
        "\n",
        r#"{"kind":"end","t":5,"exit_code":0}"#,
        "\n"
    );
    let (h, recs, warnings) = read_all(text.as_bytes()).unwrap();
    assert!(warnings.is_empty());
    assert_eq!(h.tracer.stacks, None);
    assert!(matches!(&recs[0], Record::Spawn(s) if s.stack_id.is_none()));
}

#[test]
fn unknown_enum_values_from_a_newer_minor_version_are_tolerated() {
    let m: Record =
        serde_json::from_str(r#"{"kind":"module","id":3,"path":"x","type":"wasm","unwind":"sframe","future":1}"#).unwrap();
    match m {
        Record::Module(m) => {
            assert_eq!(m.module_type, ModuleType::Other);
            assert_eq!(m.unwind, Some(UnwindTables::Other));
        }
        r => panic!("{r:?}"),
    }
    let s: Record = serde_json::from_str(r#"{"kind":"stack","id":3,"frames":[],"end":"cosmic-ray"}"#).unwrap();
    assert!(matches!(s, Record::Stack(StackRecord { end: StackEnd::Unknown, .. })));
    // A stack line without `end` (minimal writer).
    let s: Record = serde_json::from_str(r#"{"kind":"stack","id":4,"frames":[[1,2]]}"#).unwrap();
    assert!(matches!(s, Record::Stack(StackRecord { end: StackEnd::Unknown, .. })));
}

#[test]
fn header_states_stack_settings() {
    let mut h = Header::new(vec![], TracerMode::Seccomp);
    h.tracer.stacks = Some(StackCapture { max_depth: 64 });
    let line = serde_json::to_string(&Record::Header(h.clone())).unwrap();
    assert!(line.contains(r#""stacks":{"max_depth":64}"#), "{line}");
    let back: Record = serde_json::from_str(&line).unwrap();
    assert_eq!(back, Record::Header(h));
}
