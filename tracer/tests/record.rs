//! The tracer against real programs: one C fixture per spawn shape
//! (fixtures/c), exact event assertions, in seccomp and syscall mode, with
//! PTRACE_GET_SYSCALL_INFO and with the register-read fallback. Every known
//! ptrace trap has a test named after it.

mod common;

use common::*;
use spawnscope_format::flags::{CLONE_THREAD, CLONE_VFORK, CLONE_VM};
use spawnscope_format::*;
use spawnscope_tracer::ModeRequest;

const SIGCHLD: u32 = 17;

#[test]
fn fork_exec_is_one_fork_style_spawn_and_one_exec() {
    need!("gcc");
    for &(mode, info) in CONFIGS {
        let t = run(mode, info, "fork_exec", &[]);
        let l = &t.label;
        assert_eq!(t.outcome.exit_code, Some(0), "{l}");
        let sp = t.processes();
        assert_eq!(sp.len(), 1, "{l}");
        let s = sp[0];
        assert_eq!(s.syscall, CloneSyscall::Clone, "{l}: glibc fork() is clone");
        assert_eq!(s.flags & (CLONE_VM | CLONE_VFORK), 0, "{l}");
        assert_eq!(s.exit_signal, SIGCHLD, "{l}");
        assert_eq!(s.ptrace_event, Some(PtraceEvent::Fork), "{l}");
        assert_eq!(s.stack, 0, "{l}");
        let mem = s.parent_mem.expect("parent memory for a fork-style clone");
        assert!(mem.rss_kb > 0 && mem.pte_kb > 0, "{l}: {mem:?}");
        assert_eq!(s.parent_threads, Some(1), "{l}");
        let (te, tv, tr) = (s.t_entry.unwrap(), s.t_event, s.t_resume.unwrap());
        assert!(te <= tv && tv <= tr, "{l}: entry {te} <= event {tv} <= resume {tr}");
        let ex = t.child_execs();
        assert_eq!(ex.len(), 1, "{l}");
        assert_eq!(ex[0].pid, s.child.unwrap(), "{l}");
        assert_eq!((ex[0].path.as_str(), ex[0].argv.clone(), ex[0].result), ("/bin/true", vec!["true".to_string()], 0));
        assert!(ex[0].env_count > 0 && ex[0].env_bytes > ex[0].env_count, "{l}");
        assert_eq!(t.exits().len(), 2, "{l}");
    }
}

#[test]
fn vfork_exec_is_one_vfork_style_spawn() {
    need!("gcc");
    for &(mode, info) in CONFIGS {
        let t = run(mode, info, "vfork_exec", &[]);
        let l = &t.label;
        let sp = t.processes();
        assert_eq!(sp.len(), 1, "{l}");
        assert_eq!(sp[0].syscall, CloneSyscall::Vfork, "{l}");
        assert_eq!(sp[0].flags, CLONE_VM | CLONE_VFORK, "{l}");
        assert_eq!(sp[0].ptrace_event, Some(PtraceEvent::Vfork), "{l}");
        assert_eq!(sp[0].parent_mem, None, "{l}: no memory read for CLONE_VM");
        assert_eq!(t.child_execs().len(), 1, "{l}");
    }
}

#[test]
fn vfork_parent_blocked_until_child_execs() {
    need!("gcc");
    // The child sleeps 100 ms before exec: the parent must not run again
    // (t_resume, from PTRACE_EVENT_VFORK_DONE) before the exec happened.
    for &(mode, info) in &[(ModeRequest::Seccomp, true), (ModeRequest::Syscall, false)] {
        let t = run(mode, info, "vfork_exec", &["100"]);
        let l = &t.label;
        let s = t.processes()[0];
        let exec = t.child_execs()[0];
        assert_eq!(exec.result, 0, "{l}");
        let resume = s.t_resume.unwrap();
        assert!(resume >= s.t_event + 100_000_000, "{l}: parent blocked 100 ms ({} ns)", resume - s.t_event);
        let exec_start = exec.t_entry.unwrap();
        assert!(resume >= exec_start, "{l}: parent resumed {resume} after exec started {exec_start}");
    }
}

#[test]
fn posix_spawn_is_clone3_vfork_with_own_stack() {
    need!("gcc");
    for &(mode, info) in CONFIGS {
        let t = run(mode, info, "posix_spawn", &["3"]);
        let l = &t.label;
        let sp = t.processes();
        assert_eq!(sp.len(), 3, "{l}");
        for s in sp {
            assert_eq!(s.syscall, CloneSyscall::Clone3, "{l}: glibc 2.34+ posix_spawn uses clone3");
            assert_eq!(s.flags & (CLONE_VM | CLONE_VFORK), CLONE_VM | CLONE_VFORK, "{l}");
            assert_ne!(s.stack, 0, "{l}: its own stack");
            let ca = s.clone_args.as_ref().expect("clone_args read from the tracee");
            assert_eq!((ca.exit_signal, ca.size), (u64::from(SIGCHLD), 88), "{l}");
            assert!(ca.stack_size > 0, "{l}");
            assert_eq!(s.ptrace_event, Some(PtraceEvent::Vfork), "{l}");
        }
        assert_eq!(t.child_execs().len(), 3, "{l}");
    }
}

#[test]
fn posix_spawnp_path_search_records_every_failed_attempt() {
    need!("gcc");
    for &(mode, info) in CONFIGS {
        let t = run(mode, info, "posix_spawnp_path", &[]);
        let l = &t.label;
        let ex = t.child_execs();
        let got: Vec<(&str, i32)> = ex.iter().map(|e| (e.path.as_str(), e.result)).collect();
        assert_eq!(
            got,
            vec![("/nonexistent/a/true", 2), ("/nonexistent/b/true", 2), ("/nonexistent/c/true", 2), ("/usr/bin/true", 0)],
            "{l}"
        );
        assert!(ex.iter().all(|e| e.pid == ex[0].pid && e.t_exit >= e.t_entry.unwrap()), "{l}");
        assert_eq!(t.outcome.exec_failed, 3, "{l}");
    }
}

#[test]
fn raw_clone3_vfork_reads_clone_args_from_tracee() {
    need!("gcc");
    for &(mode, info) in CONFIGS {
        let t = run(mode, info, "clone3_vfork", &[]);
        let l = &t.label;
        assert_eq!(t.outcome.exit_code, Some(0), "{l}");
        let s = t.processes()[0];
        assert_eq!(s.syscall, CloneSyscall::Clone3, "{l}");
        let ca = s.clone_args.as_ref().unwrap();
        assert_eq!(ca.flags, CLONE_VM | CLONE_VFORK, "{l}");
        assert_eq!(ca.stack_size, 64 * 1024, "{l}");
        assert_eq!(s.stack, ca.stack, "{l}");
        assert_eq!(t.child_execs()[0].argv, vec!["true"], "{l}");
    }
}

#[test]
fn fork_without_exec_has_spawns_and_no_child_exec() {
    need!("gcc");
    for &(mode, info) in CONFIGS {
        let t = run(mode, info, "fork_no_exec", &["5"]);
        let l = &t.label;
        assert_eq!(t.processes().len(), 5, "{l}");
        assert!(t.child_execs().is_empty(), "{l}");
        let codes: Vec<_> = t.exits().iter().filter(|e| e.pid != t.outcome.root_pid).map(|e| e.code).collect();
        assert_eq!(codes, vec![Some(7); 5], "{l}");
    }
}

#[test]
fn exec_of_missing_program_is_one_failed_attempt() {
    need!("gcc");
    for &(mode, info) in CONFIGS {
        let t = run(mode, info, "exec_missing", &[]);
        let l = &t.label;
        let ex = t.child_execs();
        assert_eq!(ex.len(), 1, "{l}");
        assert_eq!((ex[0].path.as_str(), ex[0].result), ("/nonexistent/missing-program", 2), "{l}");
        assert_eq!(t.outcome.exit_code, Some(0), "{l}");
    }
}

#[test]
fn multi_threaded_spawner_counts_every_spawn_and_thread() {
    need!("gcc");
    for &(mode, info) in CONFIGS {
        let t = run(mode, info, "threads_spawner", &["4", "5"]);
        let l = &t.label;
        assert_eq!(t.outcome.exit_code, Some(0), "{l}");
        let threads = t.spawns().into_iter().filter(|s| s.thread).count();
        assert_eq!(threads, 4, "{l}");
        assert_eq!(t.processes().len(), 20, "{l}");
        assert_eq!(t.child_execs().len(), 20, "{l}");
        // Spawns come from the worker threads, not the main thread.
        let root = t.outcome.root_pid;
        assert!(t.processes().iter().all(|s| s.pid == root && s.tid != root), "{l}");
        assert!(t.processes().iter().all(|s| s.parent_threads.unwrap() >= 2), "{l}");
        let thread_exits = t.exits().iter().filter(|e| e.thread).count();
        assert_eq!(thread_exits, 4, "{l}");
    }
}

#[test]
fn exec_from_non_leader_thread_changes_tid() {
    need!("gcc");
    for &(mode, info) in CONFIGS {
        let t = run(mode, info, "exec_from_thread", &[]);
        let l = &t.label;
        let root = t.outcome.root_pid;
        let thread = t.spawns().into_iter().find(|s| s.thread).expect("thread creation").child.unwrap();
        let ex = t.execs().into_iter().find(|e| e.argv.get(1).map(String::as_str) == Some("from-thread")).unwrap();
        assert_eq!((ex.pid, ex.tid, ex.result), (root, thread, 0), "{l}: pid is the process, tid the old thread id");
        assert_eq!(t.outcome.exit_code, Some(0), "{l}: /bin/true's exit code");
        let last = t.exits().last().copied().unwrap();
        assert_eq!((last.pid, last.tid, last.thread), (root, root, false), "{l}");
    }
}

#[test]
fn socketpair_and_pipes_recorded_with_fds() {
    need!("gcc");
    for &(mode, info) in CONFIGS {
        let t = run(mode, info, "pipes_socketpair", &[]);
        let l = &t.label;
        let sp: Vec<_> = t.records.iter().filter_map(|r| if let Record::Socketpair(s) = r { Some(s) } else { None }).collect();
        assert_eq!(sp.len(), 1, "{l}");
        assert_eq!((sp[0].domain, sp[0].socket_type, sp[0].protocol), (1, 5 | flags::SOCK_CLOEXEC, 0), "{l}");
        let fds = sp[0].fds.unwrap();
        assert!(fds[0] >= 3 && fds[1] == fds[0] + 1, "{l}: {fds:?}");
        let pipes: Vec<_> = t.records.iter().filter_map(|r| if let Record::Pipe(p) = r { Some(p) } else { None }).collect();
        assert_eq!(pipes.len(), 2, "{l}");
        assert_eq!(pipes[0].flags, 0o2000000, "{l}: pipe2(O_CLOEXEC)");
        assert_eq!(pipes[1].flags, 0, "{l}: pipe()");
        assert!(pipes.iter().all(|p| p.fds.is_some() && p.result == 0), "{l}");
        // The fork+exec fallback's PATH walk after it.
        let results: Vec<i32> = t.child_execs().iter().map(|e| e.result).collect();
        assert_eq!(results, vec![2, 2, 0], "{l}");
    }
}

#[test]
fn seccomp_and_syscall_modes_give_the_same_events() {
    need!("gcc");
    for (name, args) in [
        ("fork_exec", &["2"][..]),
        ("vfork_exec", &[]),
        ("posix_spawn", &["2"]),
        ("posix_spawnp_path", &[]),
        ("clone3_vfork", &[]),
        ("exec_missing", &[]),
        ("threads_spawner", &["3", "2"]),
        ("exec_from_thread", &[]),
        ("pipes_socketpair", &[]),
    ] {
        let base = run(ModeRequest::Seccomp, true, name, args).canonical();
        for &(mode, info) in &CONFIGS[1..] {
            let other = run(mode, info, name, args).canonical();
            assert_eq!(base, other, "{name}: seccomp/info vs {mode:?}/info={info}");
        }
    }
}

#[test]
fn events_mode_sees_spawns_and_successful_execs_only() {
    need!("gcc");
    let t = run(ModeRequest::Events, true, "posix_spawnp_path", &[]);
    assert_eq!(t.outcome.mode, TracerMode::Events);
    let ex = t.child_execs();
    assert_eq!(ex.len(), 1, "failed attempts are invisible without syscall stops");
    assert_eq!((ex[0].path.as_str(), ex[0].argv.clone(), ex[0].t_entry), ("/usr/bin/true", vec!["true".to_string()], None));
    let s = t.processes()[0];
    assert_eq!((s.syscall, s.flags & CLONE_VFORK, s.t_entry), (CloneSyscall::Clone3, CLONE_VFORK, None));
    assert!(s.clone_args.is_some());
    let t = run(ModeRequest::Events, true, "pipes_socketpair", &[]);
    assert!(t.records.iter().all(|r| !matches!(r, Record::Socketpair(_) | Record::Pipe(_))));
    let t = run(ModeRequest::Events, true, "exec_from_thread", &[]);
    let ex = t.execs().into_iter().find(|e| e.argv.get(1).map(String::as_str) == Some("from-thread")).unwrap();
    assert_ne!(ex.pid, ex.tid);
    let env = t.execs()[0];
    assert!(env.env_count > 0);
}

#[test]
fn child_first_stop_before_parent_fork_event() {
    need!("gcc");
    // New tracees go to the head of the tracer's list, so when parent and
    // child are both stopped, waitpid reports the child's first stop before
    // the parent's fork event. Eight threads spawning at once make that
    // happen every run here; whichever comes first, every exec must be
    // attributed to the right process and every spawn must know its child.
    let mut early = 0;
    for _ in 0..10 {
        let t = run(ModeRequest::Seccomp, true, "threads_spawner", &["8", "5"]);
        early += t.outcome.early_child_stops;
        let mut children: Vec<i32> = t.processes().iter().map(|s| s.child.unwrap()).collect();
        children.sort_unstable();
        let mut exec_pids: Vec<i32> = t.child_execs().iter().map(|e| e.pid).collect();
        exec_pids.sort_unstable();
        assert_eq!(children.len(), 40);
        assert_eq!(children, exec_pids, "one exec per child, attributed to it");
        assert!(t.child_execs().iter().all(|e| e.tid == e.pid));
        if early > 0 {
            break;
        }
    }
    assert!(early > 0, "the early-stop ordering never happened: the test did not test it");
}

#[test]
fn group_stop_with_sigstop_and_sigcont_does_not_hang() {
    need!("gcc");
    for &(mode, info) in CONFIGS {
        let t = run(mode, info, "signals", &["stop"]);
        assert_eq!(t.outcome.exit_code, Some(0), "{}: the parent saw the stop and the exit", t.label);
    }
}

#[test]
fn sigusr1_is_reinjected() {
    need!("gcc");
    for &(mode, info) in CONFIGS {
        assert_eq!(run(mode, info, "signals", &["usr1"]).outcome.exit_code, Some(0), "{mode:?}");
    }
}

#[test]
fn sigchld_is_reinjected() {
    need!("gcc");
    for &(mode, info) in CONFIGS {
        assert_eq!(run(mode, info, "signals", &["chld"]).outcome.exit_code, Some(0), "{mode:?}");
    }
}

#[test]
fn realtime_signal_is_reinjected_with_its_value() {
    need!("gcc");
    for &(mode, info) in CONFIGS {
        assert_eq!(run(mode, info, "signals", &["rt"]).outcome.exit_code, Some(0), "{mode:?}");
    }
}

#[test]
fn killed_by_signal_gives_128_plus_n() {
    need!("gcc");
    let t = run(ModeRequest::Seccomp, true, "signals", &["kill"]);
    assert_eq!(t.outcome.exit_code, Some(137));
    let e = t.exits()[0];
    assert_eq!((e.code, e.signal), (None, Some(9)));
}

#[test]
fn tracee_killed_while_memory_is_read() {
    need!("gcc");
    // Each round a thread execs with 20,000 environment strings while the
    // process exits: the tracer must not hang, crash or lose the end line.
    for &(mode, info) in &[(ModeRequest::Seccomp, true), (ModeRequest::Syscall, false)] {
        let t = run(mode, info, "killed_while_read", &["20000", "6"]);
        assert_eq!(t.outcome.exit_code, Some(0), "{}", t.label);
        assert_eq!(t.processes().len(), 6);
        let root = t.outcome.root_pid;
        let child_exits = t.exits().iter().filter(|e| e.pid != root && !e.thread).count();
        assert_eq!(child_exits, 6, "{}: every child's end is recorded", t.label);
    }
}

#[test]
fn exit_code_is_the_targets() {
    let t = run_cmd(ModeRequest::Seccomp, true, &["/bin/sh", "-c", "exit 42"]);
    assert_eq!(t.outcome.exit_code, Some(42));
}

#[test]
fn huge_argv_is_bounded() {
    let big = "y".repeat(5000);
    let mut argv = vec!["/bin/true"];
    argv.extend(std::iter::repeat_n(big.as_str(), 300));
    let t = run_cmd(ModeRequest::Seccomp, true, &argv);
    let e = t.execs()[0];
    assert_eq!(e.argv.len(), MAX_ARGS);
    assert!(e.argv_truncated);
    assert!(e.argv[1..].iter().all(|a| a.len() == MAX_STRING));
}

#[test]
fn deep_fork_chain_is_followed() {
    need!("gcc");
    let t = run(ModeRequest::Seccomp, true, "fork_chain", &["50"]);
    assert_eq!(t.outcome.exit_code, Some(0));
    assert_eq!(t.processes().len(), 50);
    assert_eq!(t.child_execs().len(), 1);
}

#[test]
fn capture_env_stores_values_only_when_asked() {
    let mut o = opts(ModeRequest::Seccomp, true, &["/bin/true"]);
    o.env = vec![("SPAWNSCOPE_TEST_VAR".into(), Some("value-123".into()))];
    let (_, recs) = record_vec(&o).unwrap();
    let Some(Record::Exec(e)) = recs.get(1) else { panic!("exec expected") };
    assert!(e.env.is_none());
    o.capture_env = true;
    // Compare the stored hash with one made from the values: a known key,
    // and no masking of secret-looking values.
    let key = spawnscope_format::EnvKey::from_bytes([3; 16]);
    o.env_key = Some(key.clone());
    o.redact = spawnscope_format::Redactor::none();
    let (_, recs) = record_vec(&o).unwrap();
    let Some(Record::Exec(e)) = recs.get(1) else { panic!("exec expected") };
    let env = e.env.as_ref().unwrap();
    assert!(env.contains(&"SPAWNSCOPE_TEST_VAR=value-123".to_string()));
    let sum = EnvSummary::of(env.iter().map(|s| s.as_bytes()));
    assert_eq!((sum.count, sum.bytes, key.hash(&sum)), (e.env_count, e.env_bytes, e.env_hash.clone()));
}

#[test]
fn thread_flag_matches_clone_thread() {
    need!("gcc");
    let t = run(ModeRequest::Seccomp, true, "threads_spawner", &["2", "1"]);
    for s in t.spawns() {
        assert_eq!(s.thread, s.flags & CLONE_THREAD != 0);
        if s.thread {
            assert_eq!(s.ptrace_event, Some(PtraceEvent::Clone));
            assert_eq!(s.exit_signal, 0);
        }
    }
}

#[test]
fn i386_syscalls_of_a_64_bit_process_are_reported_not_misdecoded() {
    need!("gcc");
    // `int $0x80` makes i386 syscalls whose numbers mean fork and execve on
    // x86_64. Only PTRACE_GET_SYSCALL_INFO tells them apart (registers
    // cannot: the code segment is the 64-bit one), so this runs with it.
    if !cfg!(target_arch = "x86_64") {
        return;
    }
    for mode in [ModeRequest::Syscall, ModeRequest::Seccomp] {
        let t = run(mode, true, "int80_compat", &[]);
        if t.outcome.exit_code == Some(3) {
            eprintln!("skipped: this kernel has no i386 emulation");
            return;
        }
        let l = &t.label;
        assert_eq!(t.outcome.exit_code, Some(0), "{l}");
        assert!(t.spawns().is_empty(), "{l}: no fork recorded: {:?}", t.spawns());
        assert_eq!(t.execs().len(), 1, "{l}: only the fixture's own exec");
        let warned = t.warnings().iter().any(|w| w.message.contains("i386"));
        // The filter lets a foreign ABI through without a stop: nothing to say.
        assert_eq!(warned, mode == ModeRequest::Syscall, "{l}: {:?}", t.warnings());
    }
}

#[test]
fn seccomp_stop_order_forced_to_before_entry_corrects_itself_here() {
    need!("gcc");
    // This kernel (>= 4.8) replaces the entry stop by the seccomp stop.
    // Forced to expect the pre-4.8 order, the decoder must notice from the
    // stop itself (syscall info, or the x86_64 entry marker) that no entry
    // stop follows, and record the same events; and it says which order it
    // was told.
    use spawnscope_tracer::StopOrder;
    for info in [true, false] {
        if !info && !cfg!(target_arch = "x86_64") {
            continue;
        }
        for (name, args) in [("fork_exec", &[][..]), ("posix_spawnp_path", &[]), ("pipes_socketpair", &[])] {
            let base = run(ModeRequest::Seccomp, info, name, args);
            let path = fixture(name);
            let mut argv = vec![path.to_str().unwrap()];
            argv.extend_from_slice(args);
            let mut o = opts(ModeRequest::Seccomp, info, &argv);
            o.seccomp_stop_order = Some(StopOrder::SeccompBeforeEntry);
            let (outcome, records) = record_vec(&o).unwrap();
            let forced = Trace { outcome, records, label: format!("forced/info={info}") };
            assert_eq!(base.canonical(), forced.canonical(), "{name} info={info}");
            assert!(forced.warnings().iter().any(|w| w.message.contains("before syscall-entry stops")));
        }
    }
}
