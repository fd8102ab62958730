//! Imports the checked-in strace logs of fixtures/strace (see its README for
//! how each was recorded) and checks what the analyzer makes of them against
//! what each fixture program is known to do.

use std::path::{Path, PathBuf};

use spawnscope_analyzer::{analyze_reader, Analysis, CodePath, SpawnStyle, Thresholds};
use spawnscope_format::{read_all, EnvSummary, Record, TraceWriter, TracerMode};
use spawnscope_strace::ImportError;
use spawnscope_strace::{import, import_paths, ImportOptions, Imported, LogInput};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/strace").join(name)
}

fn import_fixture(name: &str) -> Imported {
    import_paths(&[fixture(name)], &ImportOptions::default()).unwrap()
}

fn bytes_of(t: &Imported) -> Vec<u8> {
    t.write(TraceWriter::new(Vec::new())).unwrap()
}

fn analyze(t: &Imported) -> Analysis {
    analyze_reader(&bytes_of(t)[..], &Thresholds::default()).unwrap()
}

/// (syscall, style, code path, failed attempts, exec basename) per spawn, in order.
fn shape(a: &Analysis) -> Vec<(String, SpawnStyle, CodePath, usize, String)> {
    a.spawns
        .iter()
        .map(|s| {
            (
                s.syscall.as_str().to_string(),
                s.style,
                s.code_path,
                s.exec.as_ref().map_or(0, |e| e.failed_attempts.len()),
                s.executable().to_string(),
            )
        })
        .collect()
}

fn spawn_all_expected() -> Vec<(String, SpawnStyle, CodePath, usize, String)> {
    use CodePath::*;
    use SpawnStyle::*;
    let r = |sc: &str, st, cp, f, e: &str| (sc.to_string(), st, cp, f, e.to_string());
    vec![
        r("clone3", Vfork, GlibcPosixSpawn, 0, "true"),
        r("clone3", Vfork, GlibcPosixSpawn, 1, "true"),
        r("vfork", Vfork, VforkSyscall, 0, "true"),
        r("clone", Fork, ForkExec, 0, "true"),
        r("clone", Fork, ForkNoExec, 0, "(no exec)"),
        r("clone", Fork, ForkNoExec, 0, "(no exec)"),
        r("clone", Fork, ForkExec, 1, "echo"),
        r("clone", Fork, ForkExec, 0, "true"),
    ]
}

#[test]
fn spawn_all_full_log_gives_every_spawn_shape() {
    let t = import_fixture("spawn_all.log");
    assert!(t.notes.is_empty(), "{:?}", t.notes);
    assert_eq!(t.header.tracer.mode, TracerMode::Imported);
    assert_eq!(t.header.source.as_deref(), Some("strace"));
    assert_eq!(t.header.command, vec!["./spawn_all"]);
    assert!(t.header.start_unix_ns > 1_700_000_000_000_000_000);
    assert_eq!(t.exit_code, Some(0));
    let a = analyze(&t);
    assert_eq!(shape(&a), spawn_all_expected());
    assert_eq!(a.summary.threads, 1);
    assert_eq!(a.summary.spawns, 8);
    assert_eq!(a.summary.failed_exec_attempts, 2);
    assert_eq!(a.summary.exit_code, Some(0));
    // The fork that was killed, and the one that exited 3.
    let exits: Vec<_> = a.processes.iter().filter_map(|p| p.exit).map(|e| (e.code, e.signal)).collect();
    assert!(exits.contains(&(None, Some(9))), "{exits:?}");
    assert!(exits.contains(&(Some(3), None)), "{exits:?}");
    // argv escapes decoded to the real bytes (\377 is not UTF-8: U+FFFD).
    let echo = a.spawns.iter().find(|s| s.executable() == "echo").unwrap();
    assert_eq!(echo.exec.as_ref().unwrap().argv[1], "a\nb\tc\"d\\e\x1b[2J\u{fffd}");
    // Every latency is measured: strace gives entry times.
    assert!(a.spawns.iter().all(|s| s.latency_ns.is_some()));
}

#[test]
fn spawn_all_records_socketpair_pipe_and_execveat() {
    let t = import_fixture("spawn_all.log");
    let sp: Vec<_> = t.records.iter().filter_map(|r| if let Record::Socketpair(s) = r { Some(s) } else { None }).collect();
    assert_eq!(sp.len(), 1);
    assert_eq!((sp[0].domain, sp[0].socket_type, sp[0].protocol, sp[0].fds), (1, 5 | 0o2000000, 0, Some([3, 4])));
    let pipes = t.records.iter().filter(|r| matches!(r, Record::Pipe(p) if p.flags == 0o2000000)).count();
    assert_eq!(pipes, 1);
    let at = t
        .records
        .iter()
        .find_map(|r| match r {
            Record::Exec(e) if e.syscall == spawnscope_format::ExecSyscall::Execveat => Some(e),
            _ => None,
        })
        .unwrap();
    assert_eq!((at.dirfd, at.at_flags, at.result), (Some(-100), Some(0), 0));
}

/// strace prints the vfork parent's return before the child's exec returns
/// (the kernel releases the parent mid-exec); the records keep that order and
/// the analyzer pairs them either way.
#[test]
fn vfork_spawn_times_are_ordered_and_the_event_inferred() {
    let t = import_fixture("spawn_all.log");
    let pos = |pred: &dyn Fn(&Record) -> bool| t.records.iter().position(pred).unwrap();
    let spawn = pos(&|r| matches!(r, Record::Spawn(s) if s.syscall == spawnscope_format::CloneSyscall::Vfork));
    let Record::Spawn(s) = &t.records[spawn] else { unreachable!() };
    let child = s.child.unwrap();
    let exec = pos(&|r| matches!(r, Record::Exec(e) if e.pid == child && e.result == 0));
    let Record::Exec(e) = &t.records[exec] else { unreachable!() };
    assert!(e.t_entry.unwrap() >= s.t_entry.unwrap());
    assert_eq!(s.ptrace_event, Some(spawnscope_format::PtraceEvent::Vfork));
    let (entry, event, resume) = (s.t_entry.unwrap(), s.t_event, s.t_resume.unwrap());
    assert!(entry <= event && event <= resume, "{entry} {event} {resume}");
}

#[test]
fn plain_log_without_timestamps_or_v_keeps_the_spawns_and_says_what_is_missing() {
    let t = import_fixture("spawn_all-plain.log");
    let notes = t.notes.join("\n");
    assert!(notes.contains("no timestamps"), "{notes}");
    assert!(notes.contains("without -v"), "{notes}");
    let a = analyze(&t);
    assert_eq!(shape(&a), spawn_all_expected());
    // Env count is known, bytes are not.
    let e = a.spawns[0].exec.as_ref().unwrap();
    assert_eq!((e.env_count, e.env_bytes), (2, 0));
    // The notes are in the trace too, as warning events.
    let (_, recs, _) = read_all(&bytes_of(&t)[..]).unwrap();
    assert!(recs.iter().any(|r| matches!(r, Record::Warning(w) if w.message.contains("without -v"))));
}

#[test]
fn stderr_log_with_pid_prefixes_and_attach_messages() {
    let t = import_fixture("spawn_all-stderr.log");
    assert!(t.notes.iter().any(|n| n.contains("time-of-day")), "{:?}", t.notes);
    assert!(!t.notes.iter().any(|n| n.contains("pid 0")), "{:?}", t.notes);
    let a = analyze(&t);
    assert_eq!(shape(&a), spawn_all_expected());
    let root = a.roots().next().unwrap();
    assert_ne!(root.pid, 0);
    assert_eq!(a.roots().count(), 1);
}

#[test]
fn process_class_log_for_old_strace_gives_the_same_spawns() {
    let t = import_fixture("spawn_all-process.log");
    assert!(t.notes.is_empty(), "{:?}", t.notes);
    let a = analyze(&t);
    assert_eq!(shape(&a), spawn_all_expected());
    assert_eq!((a.summary.threads, a.summary.failed_exec_attempts), (1, 2));
}

#[test]
fn ff_files_merge_into_one_trace() {
    let t = import_paths(&[fixture("spawn_all-ff/trace")], &ImportOptions::default()).unwrap();
    assert_eq!(t.stats.files, 10);
    let a = analyze(&t);
    assert_eq!(shape(&a), spawn_all_expected());
    assert_eq!(a.roots().count(), 1);
    // Giving the files one by one is the same.
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture("spawn_all-ff")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let t2 = import_paths(&files, &ImportOptions::default()).unwrap();
    assert_eq!(shape(&analyze(&t2)), spawn_all_expected());
}

#[test]
fn rust_std_fallback_is_recognised() {
    let a = analyze(&import_fixture("rust_spawns.log"));
    use CodePath::*;
    let got: Vec<(CodePath, usize)> =
        a.spawns.iter().map(|s| (s.code_path, s.exec.as_ref().map_or(0, |e| e.failed_attempts.len()))).collect();
    assert_eq!(got, vec![(GlibcPosixSpawn, 1), (RustStdForkFallback, 1), (GlibcPosixSpawn, 1), (RustStdForkFallback, 0)]);
    assert!(a.spawns.iter().filter(|s| s.code_path == RustStdForkFallback).all(|s| s.socketpair));
}

#[test]
fn python_subprocess_and_bash() {
    let a = analyze(&import_fixture("python_subprocess.log"));
    assert_eq!(a.spawns.len(), 1);
    assert_eq!((a.spawns[0].code_path, a.spawns[0].style), (CodePath::VforkSyscall, SpawnStyle::Vfork));
    assert_eq!(a.spawns[0].exec.as_ref().unwrap().failed_attempts.len(), 1);

    let a = analyze(&import_fixture("bash_c.log"));
    let paths: Vec<CodePath> = a.spawns.iter().map(|s| s.code_path).collect();
    // /bin/true; the two sides of `echo x | cat` (echo is a builtin: no exec); (exit 3).
    assert_eq!(paths, vec![CodePath::ForkExec, CodePath::ForkNoExec, CodePath::ForkExec, CodePath::ForkNoExec]);
    assert!(a.spawns.iter().all(|s| s.style == SpawnStyle::Fork));
}

#[test]
fn exec_from_a_non_leader_thread() {
    let t = import_fixture("thread_exec.log");
    let execs: Vec<_> = t.records.iter().filter_map(|r| if let Record::Exec(e) = r { Some(e) } else { None }).collect();
    assert_eq!(execs.len(), 2);
    let leader = execs[0].pid;
    assert_eq!(execs[1].pid, leader);
    assert_ne!(execs[1].tid, leader);
    assert_eq!(execs[1].path, "/bin/true");
    let a = analyze(&t);
    assert_eq!(a.summary.spawns, 0);
    assert_eq!(a.summary.threads, 1);
    assert_eq!(a.processes.len(), 1);
}

#[test]
fn cluster_environment_size_matches_the_reference() {
    let key = spawnscope_format::EnvKey::from_bytes([5; 16]);
    let t = import_paths(
        &[fixture("cluster_env.log")],
        // Values as they were: the hash is of the environment before redaction.
        &ImportOptions {
            capture_env: true,
            env_key: Some(key.clone()),
            redact: spawnscope_format::Redactor::none(),
            ..Default::default()
        },
    )
    .unwrap();
    let e = t.records.iter().find_map(|r| if let Record::Exec(e) = r { Some(e) } else { None }).unwrap();
    // The environment file the log was recorded with, shipped in fixtures/env.
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/env/cluster-envs.txt"))
        .expect("fixtures/env/cluster-envs.txt");
    assert_eq!((e.env_count, e.env_bytes), (184, 27_750));
    let vals = e.env.as_ref().unwrap();
    let sum = EnvSummary::of(vals.iter().map(|v| v.as_bytes()));
    assert_eq!(e.env_hash, key.hash(&sum));
    let want = EnvSummary::of(text.lines().map(str::as_bytes));
    assert_eq!(e.env_hash, key.hash(&want));
}

#[test]
fn host_facts_come_from_options() {
    let mut opts = ImportOptions::default();
    opts.host.glibc_version = Some("2.17".into());
    opts.host.cpus = Some(128);
    let t = import_paths(&[fixture("spawn_all.log")], &opts).unwrap();
    assert_eq!(t.header.glibc(), Some((2, 17)));
    assert_eq!(t.header.host.cpus, Some(128));
}

fn import_text(text: &str) -> Result<Imported, ImportError> {
    import(vec![LogInput::from_bytes("test.log", None, text.as_bytes().to_vec())], &ImportOptions::default())
}

#[test]
fn malformed_lines_name_their_line_number() {
    let good = "10 1700000000.000001 fork() = 11 <0.000100>\n";
    let e = import_text(&format!("{good}{good}this is not strace\n")).unwrap_err().to_string();
    assert_eq!(
        e,
        "test.log: line 3: expected a syscall like \"execve(...) = 0\", \"+++ exited with N +++\" or \"<... NAME resumed>\""
    );
    let e = import_text(&format!("{good}10 1700000000.1 execve(\"/bin/x\", [\"x\" = 0\n")).unwrap_err().to_string();
    assert!(e.starts_with("test.log: line 2: execve: "), "{e}");
    let e = import_text("10 1700000000.1 clone(child_stack=NULL, flags=CLONE_NONSENSE) = 5\n").unwrap_err().to_string();
    assert_eq!(e, "test.log: line 1: unknown clone flag \"CLONE_NONSENSE\"");
    let e = import_text("10 1.0 vfork( <unfinished ...>\n10 1.1 <... vfork resumed>) = what\n").unwrap_err().to_string();
    assert_eq!(e, "test.log: line 1: vfork (resumed on line 2): bad result \"what\"");
    let e = import_text("{\"kind\":\"header\",\"format\":\"spawnscope-trace\"}\n").unwrap_err().to_string();
    assert!(e.starts_with("test.log: line 1: "), "{e}");
    let e = import_text("\u{0}\u{1}binary").unwrap_err().to_string();
    assert_eq!(e, "test.log: line 1: binary data (NUL byte): not an strace log");
    let e = import_text("").unwrap_err().to_string();
    assert!(e.starts_with("test.log: no strace output"), "{e}");
}

#[test]
fn unrelated_syscalls_and_signals_are_skipped() {
    let t = import_text(concat!(
        "10 1700000000.000001 openat(AT_FDCWD, \"/etc/x\", O_RDONLY) = 3 <0.000010>\n",
        "10 1700000000.000002 wait4(-1,  <unfinished ...>\n",
        "10 1700000000.000003 <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 11\n",
        "10 1700000000.000004 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---\n",
        "10 1700000000.000005 +++ exited with 0 +++\n",
    ))
    .unwrap();
    let kinds: Vec<&str> = t.records.iter().map(|r| r.kind()).collect();
    assert_eq!(kinds, vec!["exit"]);
    assert_eq!(t.exit_code, Some(0));
    assert_eq!(t.end_t, 4_000);
}

#[test]
fn orphan_resumes_and_cut_logs_are_noted_not_fatal() {
    let t = import_text(concat!(
        "10 1700000000.000001 <... clone resumed>, child_tidptr=0x1) = 12\n",
        "10 1700000000.000002 vfork( <unfinished ...>\n",
    ))
    .unwrap();
    let n = t.notes.join("\n");
    assert!(n.contains("1 \"<... resumed>\""), "{n}");
    assert!(n.contains("1 call never finished"), "{n}");
    assert_eq!(t.exit_code, None);
}

#[test]
fn exit_group_without_exit_line_still_ends_the_process() {
    let t = import_text("10 1700000000.000001 exit_group(7) = ?\n").unwrap();
    assert_eq!(t.exit_code, Some(7));
    assert!(matches!(t.records.last(), Some(Record::Exit(e)) if e.code == Some(7) && e.pid == 10));
}

#[test]
fn failed_clone_has_no_child() {
    let t = import_text(
        "10 1700000000.000001 clone(child_stack=NULL, flags=SIGCHLD) = -1 EAGAIN (Resource temporarily unavailable) <0.000005>\n",
    )
    .unwrap();
    let Record::Spawn(s) = &t.records[0] else { panic!("{:?}", t.records) };
    assert_eq!((s.child, s.result, s.ptrace_event), (None, 11, None));
}

#[test]
fn thread_parent_threads_counted_for_processes_seen_from_start() {
    let t = import_text(concat!(
        "10 1700000000.000001 execve(\"/bin/x\", [\"x\"], []) = 0\n",
        "10 1700000000.000002 clone3({flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, exit_signal=0, stack=0x1000, stack_size=0x100}, 88) = 11\n",
        "11 1700000000.000003 fork() = 12\n",
        "12 1700000000.000004 +++ exited with 0 +++\n",
        "11 1700000000.000005 +++ exited with 0 +++\n",
        "10 1700000000.000006 fork() = 13\n",
    ))
    .unwrap();
    let spawns: Vec<_> = t.records.iter().filter_map(|r| if let Record::Spawn(s) = r { Some(s) } else { None }).collect();
    assert_eq!(spawns.len(), 3);
    assert!(spawns[0].thread);
    // The fork from thread 11 belongs to process 10, which had 2 threads then.
    assert_eq!((spawns[1].pid, spawns[1].tid, spawns[1].parent_threads), (10, 11, Some(2)));
    assert_eq!(spawns[2].parent_threads, Some(1));
    let thread_exit = t.records.iter().find_map(|r| match r {
        Record::Exit(e) if e.tid == 11 => Some(e),
        _ => None,
    });
    assert!(thread_exit.unwrap().thread);
}

/// strace 4.x (RHEL/CentOS 7 ships 4.12): environment as `[/* N vars */]`
/// without -v, a space after `resumed>`, clone's arguments printed only when
/// it returns, `child_stack=0`.
#[test]
fn strace_4_formats() {
    let t = import_text(concat!(
        "4200  1500000000.000001 execve(\"/usr/bin/make\", [\"make\"], [/* 21 vars */]) = 0 <0.000300>\n",
        "4200  1500000000.000100 clone( <unfinished ...>\n",
        "4201  1500000000.000200 execve(\"/usr/local/bin/cc\", [\"cc\", \"-c\", \"x.c\"], [/* 21 vars */]) = -1 ENOENT (No such file or directory) <0.000010>\n",
        "4201  1500000000.000220 execve(\"/usr/bin/cc\", [\"cc\", \"-c\", \"x.c\"], [/* 21 vars */]) = 0 <0.000200>\n",
        "4200  1500000000.000150 <... clone resumed> child_stack=0, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f2a6b0b59d0) = 4201 <0.000050>\n",
        "4200  1500000000.000500 vfork( <unfinished ...>\n",
        "4202  1500000000.000600 execve(\"/bin/sh\", [\"sh\", \"-c\", \"true\"], [/* 21 vars */]) = 0 <0.000100>\n",
        "4200  1500000000.000700 <... vfork resumed> ) = 4202 <0.000200>\n",
        "4201  1500000000.001000 exit_group(0)           = ?\n",
        "4201  1500000000.001100 +++ exited with 0 +++\n",
        "4202  1500000000.001200 +++ exited with 0 +++\n",
        "4200  1500000000.002000 +++ exited with 0 +++\n",
    ))
    .unwrap();
    assert!(t.notes.iter().any(|n| n.starts_with("4 execs show only an environment count")), "{:?}", t.notes);
    let a = analyze(&t);
    let got: Vec<(CodePath, usize, String)> = a
        .spawns
        .iter()
        .map(|s| (s.code_path, s.exec.as_ref().unwrap().failed_attempts.len(), s.executable().to_string()))
        .collect();
    assert_eq!(got, vec![(CodePath::ForkExec, 1, "cc".to_string()), (CodePath::VforkSyscall, 0, "sh".to_string())]);
    assert_eq!(a.spawns[0].exec.as_ref().unwrap().env_count, 21);
    assert_eq!(a.spawns[0].latency_ns, Some(320_000));
}

#[test]
fn multithreaded_exit_group_and_killed_with_core() {
    let t = import_text(concat!(
        "50 1700000000.000001 execve(\"/bin/app\", [\"app\"], []) = 0\n",
        "50 1700000000.000002 clone(child_stack=0x7f00, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=[51], tls=0x7f01, child_tidptr=0x7f02) = 51\n",
        "51 1700000000.000003 fork() = 52\n",
        "52 1700000000.000004 +++ killed by SIGSEGV (core dumped) +++\n",
        "51 1700000000.000005 exit_group(1) = ?\n",
        "51 1700000000.000006 +++ exited with 1 +++\n",
        "50 1700000000.000007 +++ exited with 1 +++\n",
    ))
    .unwrap();
    type ExitRow = (i32, i32, Option<i32>, Option<i32>, bool, bool);
    let exits: Vec<ExitRow> = t
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Exit(e) => Some((e.pid, e.tid, e.code, e.signal, e.core_dumped, e.thread)),
            _ => None,
        })
        .collect();
    assert_eq!(
        exits,
        vec![(52, 52, None, Some(11), true, false), (50, 51, Some(1), None, false, true), (50, 50, Some(1), None, false, false),]
    );
    assert_eq!(t.exit_code, Some(1));
    let a = analyze(&t);
    assert_eq!((a.summary.spawns, a.summary.threads), (1, 1));
    assert_eq!(a.spawns[0].parent_pid, 50);
    assert_eq!(a.spawns[0].parent_tid, 51);
}

#[test]
fn time_of_day_stamps_cross_midnight() {
    let t = import_text(concat!(
        "7 23:59:59.999000 fork() = 8 <0.000100>\n",
        "8 00:00:00.001000 +++ exited with 0 +++\n",
        "7 00:00:00.002000 +++ exited with 0 +++\n",
    ))
    .unwrap();
    assert_eq!(t.end_t, 3_000_000);
    let Record::Exit(e) = &t.records.iter().find(|r| r.kind() == "exit").unwrap() else { unreachable!() };
    assert_eq!(e.t, 2_000_000);
}

#[test]
fn strace_output_to_stderr_without_f_is_pid_0_with_a_note() {
    let t =
        import_text("1700000000.1 execve(\"/bin/true\", [\"true\"], 0x7ffd /* 3 vars */) = 0\n+++ exited with 0 +++\n").unwrap();
    assert!(t.notes.iter().any(|n| n.contains("recorded as pid 0")), "{:?}", t.notes);
    assert_eq!(t.exit_code, Some(0));
    // With `strace -p PID`, the attach message names the process.
    let t = import_text("strace: Process 4321 attached\n1700000000.1 fork() = 4322\n+++ exited with 0 +++\n").unwrap();
    assert!(t.notes.iter().all(|n| !n.contains("pid 0")), "{:?}", t.notes);
    assert!(matches!(&t.records.iter().find(|r| r.kind() == "spawn"), Some(Record::Spawn(s)) if s.pid == 4321));
}

/// The fork event time: a fork-style child exists once the parent returns; a
/// vfork-style one only shows itself by a call before its exec (full logs).
#[test]
fn fork_event_time_is_inferred_per_style() {
    let spawn_of = |text: &str| -> spawnscope_format::SpawnEvent {
        let t = import_text(text).unwrap();
        t.records.into_iter().find_map(|r| if let Record::Spawn(s) = r { Some(s) } else { None }).unwrap()
    };
    // Filtered log: nothing of the vfork child before its exec.
    let s = spawn_of(concat!(
        "1 1700000000.000000 vfork( <unfinished ...>\n",
        "2 1700000000.000900 execve(\"/bin/true\", [\"true\"], []) = 0 <0.000050>\n",
        "1 1700000000.001000 <... vfork resumed>) = 2 <0.001000>\n",
    ));
    assert_eq!((s.t_entry, s.t_event, s.t_resume), (Some(0), 0, Some(1_000_000)));
    // Full log: the child's first call dates its creation.
    let s = spawn_of(concat!(
        "1 1700000000.000000 vfork( <unfinished ...>\n",
        "2 1700000000.000030 rt_sigprocmask(SIG_SETMASK, [], NULL, 8) = 0 <0.000001>\n",
        "2 1700000000.000900 execve(\"/bin/true\", [\"true\"], []) = 0 <0.000050>\n",
        "1 1700000000.001000 <... vfork resumed>) = 2 <0.001000>\n",
    ));
    assert_eq!(s.t_event, 30_000);
    // Fork-style: the parent's return (or an earlier line of the child).
    let s = spawn_of(concat!(
        "1 1700000000.000000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x1) = 2 <0.000400>\n",
        "2 1700000000.000900 execve(\"/bin/true\", [\"true\"], []) = 0 <0.000050>\n",
    ));
    assert_eq!((s.t_event, s.t_resume), (400_000, Some(400_000)));
}

#[test]
fn exec_only_logs_say_the_spawns_are_missing() {
    // strace -f -e trace=execve: children show up only by their exec.
    let t = import_text(concat!(
        "10 1700000000.000001 execve(\"/bin/sh\", [\"sh\"], []) = 0\n",
        "11 1700000000.000002 execve(\"/bin/true\", [\"true\"], []) = 0\n",
        "12 1700000000.000003 execve(\"/bin/true\", [\"true\"], []) = 0\n",
    ))
    .unwrap();
    assert!(t.notes.iter().any(|n| n.starts_with("2 tasks appear without the clone that created them")), "{:?}", t.notes);
    assert_eq!(t.header.command, vec!["sh"]);
}
