//! The event list held as rows and as an index of the file: the same rows,
//! order and filter results.

use super::*;
use spawnscope_format::{ExitEvent, WarningEvent};

#[test]
fn filter_is_case_insensitive_and_narrows() {
    let mut log = EventLog::default();
    log.push(
        2,
        &Record::Exit(ExitEvent { pid: 7, tid: 7, code: Some(3), signal: None, core_dumped: false, thread: false, t: 5 }),
    );
    log.push(3, &Record::Warning(WarningEvent { pid: Some(8), message: "Lost \x1b[31mTask".into(), t: 6 }));
    assert_eq!(log.row(1).unwrap().text.as_ref(), "Lost \\x1b[31mTask");
    let all = || 0..log.len() as u32;
    assert_eq!(log.filter("LOST", all()), vec![1]);
    assert_eq!(log.filter("exit", all()), vec![0]);
    assert_eq!(log.filter("7", all()), vec![0]);
    let first = log.filter("t", all());
    assert_eq!(log.filter("ta", first.into_iter()), vec![1]);
}

fn exec(pid: i32, path: &str, t: u64) -> Record {
    Record::Exec(spawnscope_format::ExecEvent {
        pid,
        tid: pid,
        syscall: spawnscope_format::ExecSyscall::Execve,
        path: path.into(),
        dirfd: None,
        at_flags: None,
        argv: vec![],
        argv_truncated: false,
        env_count: 0,
        env_bytes: 0,
        env_hash: String::new(),
        env: None,
        result: 0,
        t_entry: Some(t),
        t_exit: t + 1,
    })
}

fn exit(pid: i32, t: u64) -> Record {
    Record::Exit(ExitEvent { pid, tid: pid, code: Some(0), signal: None, core_dumped: false, thread: false, t })
}

#[test]
fn typing_a_pid_keeps_its_exec_and_exit_lines() {
    // Regression (issue 12): each keystroke narrowed the previous
    // matches, and "1" then "12" then "1234" lost pid 1234's own lines.
    let mut log = EventLog::default();
    log.push(2, &exec(1234, "/bin/true", 10));
    log.push(3, &exec(99, "/bin/sh", 20));
    log.push(4, &exit(1234, 30));
    let mut m: Vec<u32> = (0..log.len() as u32).collect();
    for n in ["1", "12", "123", "1234"] {
        m = log.filter(n, m.into_iter());
    }
    assert_eq!(m, vec![0, 2]);
    // A prefix matches the pids that start with it.
    assert_eq!(log.filter("12", 0..3), vec![0, 2]);
    assert_eq!(log.filter("9", 0..3), vec![1]);
}

#[test]
fn rows_are_in_time_order() {
    // A vfork-style spawn line is written after the child's exec.
    let mut log = EventLog::default();
    log.push(2, &exec(11, "/bin/true", 500));
    assert_eq!(log.take_changed(), None);
    log.push(3, &exit(11, 900));
    // Parsed from the line the tracer writes (optional fields default).
    let text = concat!(
        r#"{"kind":"header","format":"spawnscope-trace","format_version":"1.0","tool_version":"0","command":[],"cwd":"/","start_unix_ns":0,"host":{},"tracer":{"mode":"seccomp"}}"#,
        "\n",
        r#"{"kind":"spawn","pid":10,"tid":10,"child":11,"syscall":"clone3","flags":16640,"exit_signal":17,"stack":1,"ptrace_event":"vfork","thread":false,"result":0,"t_entry":100,"t_event":150,"t_resume":600}"#,
        "\n"
    );
    let spawn = spawnscope_format::read_all(text.as_bytes()).unwrap().1.remove(0);
    log.push(4, &spawn);
    assert_eq!((0..3).map(|i| log.line(i).unwrap()).collect::<Vec<_>>(), vec![4, 2, 3]);
    assert_eq!(log.take_changed(), Some(0));
    // The spawn line is found by its new process's pid too.
    assert_eq!(log.filter("11", 0..3), vec![0, 1, 2]);
}

/// A trace file of the sample workload, read into a rows log and an
/// indexed log the way the loader does.
fn both(dir: &Path, events: usize) -> (EventLog, EventLog) {
    let path = dir.join("t.jsonl");
    crate::sample::write_large(std::fs::File::create(&path).unwrap(), events).unwrap();
    let mut rows = EventLog::default();
    let mut index = EventLog::indexed(&path).unwrap();
    let mut r = spawnscope_format::FileReader::open(&path).unwrap();
    while let Some((line, rec)) = r.next_record().unwrap() {
        rows.push(line, &rec);
        index.push_at(r.line_offset(), line, &rec);
    }
    assert!(index.is_indexed() && !rows.is_indexed());
    (rows, index)
}

#[test]
fn an_index_of_the_file_shows_the_same_rows() {
    let dir = tempfile_dir("index");
    let (rows, index) = both(&dir, 5_000);
    assert!(rows.len() > 4_000);
    assert_eq!(index.len(), rows.len());
    let all = rows.rows();
    assert_eq!(index.rows(), all, "same rows in the same (time) order");
    // Rows were moved into time order on the way (vfork spawns come late).
    assert!(all.windows(2).any(|w| w[0].line > w[1].line));
    for i in [0, 1, 17, rows.len() / 2, rows.len() - 1] {
        assert_eq!(index.row(i).unwrap().as_ref(), &all[i]);
        assert_eq!(index.line(i), Some(all[i].line));
    }
    assert!(index.row(rows.len()).is_none());
    for needle in ["gcc", "CLONE_VM", "enoent", "1", "exit code"] {
        let want = rows.filter(needle, 0..rows.len() as u32);
        assert!(!want.is_empty(), "{needle}");
        assert_eq!(index.filter(needle, 0..index.len() as u32), want, "{needle}");
    }
    let (mut r2, mut i2) = (rows.clone(), index.clone());
    r2.retain(|r| r.kind == "exec" && r.pid % 3 == 0);
    i2.retain(|r| r.kind == "exec" && r.pid % 3 == 0);
    assert!(r2.len() > 10 && r2.len() < rows.len() / 2);
    assert_eq!(i2.rows(), r2.rows());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_line_that_changed_under_the_index_shows_why() {
    let dir = tempfile_dir("changed");
    let (_, index) = both(&dir, 100);
    std::fs::write(dir.join("t.jsonl"), "{\"kind\":\"exec\",\n").unwrap();
    let r = index.row(3).unwrap();
    assert_eq!(r.kind, "?");
    assert!(r.text.starts_with("cannot read this line again"), "{}", r.text);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("spawnscope-tui-eventlog-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
