//! End-to-end tests of `spawnscope record`: the real binary against real
//! programs and the C fixtures (fixtures/c, compiled once per run).

#[path = "../fixtures/c/fixtures.rs"]
mod fixtures;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use spawnscope_format::{read_all, Record, TracerMode};

fn spawnscope() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spawnscope"));
    c.env_remove("SPAWNSCOPE_NO_SYSCALL_INFO");
    c
}

struct Run {
    code: i32,
    stderr: String,
    records: Vec<Record>,
    mode: TracerMode,
    syscall_info: bool,
}

fn record_in(dir: &Path, flags: &[&str], cmd: &[&str]) -> Run {
    let out = dir.join("t.jsonl");
    let o = spawnscope()
        .current_dir(dir)
        .args(["record", "-o"])
        .arg(&out)
        .args(flags)
        .arg("--")
        .args(cmd)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let f = std::fs::File::open(&out).unwrap_or_else(|e| panic!("no trace ({e}); stderr: {stderr}"));
    let (h, records, warnings) = read_all(f).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    Run { code: o.status.code().unwrap(), stderr, records, mode: h.tracer.mode, syscall_info: h.tracer.syscall_info }
}

fn count(records: &[Record], kind: &str) -> usize {
    records.iter().filter(|r| r.kind() == kind).count()
}

fn fixture(name: &str) -> String {
    fixtures::fixture(name).to_string_lossy().into_owned()
}

#[test]
fn records_a_command_with_its_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let r = record_in(dir.path(), &[], &["sh", "-c", "/bin/true; ls / >/dev/null; exit 3"]);
    assert_eq!(r.code, 3);
    assert_eq!(r.mode, TracerMode::Seccomp);
    assert!(r.syscall_info);
    assert_eq!(count(&r.records, "exec"), 3);
    assert!(count(&r.records, "spawn") >= 2);
    let Some(Record::End(end)) = r.records.last() else { panic!("no end line") };
    assert_eq!(end.exit_code, Some(3));
    assert!(r.stderr.contains("2 spawns") && r.stderr.contains("3 exec attempts (0 failed)"), "{}", r.stderr);
    assert!(r.stderr.contains("t.jsonl ("), "summary names the output: {}", r.stderr);
    let mode = std::fs::metadata(dir.path().join("t.jsonl")).map(|m| {
        use std::os::unix::fs::PermissionsExt;
        m.permissions().mode() & 0o777
    });
    assert_eq!(mode.unwrap(), 0o600);
}

#[test]
fn target_keeps_its_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let o = spawnscope()
        .current_dir(dir.path())
        .args(["record", "-q", "-o", "t.jsonl", "--", "sh", "-c", "echo hello-from-target"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "hello-from-target\n");
    assert!(o.stderr.is_empty(), "quiet: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn killed_target_gives_128_plus_signal() {
    let dir = tempfile::tempdir().unwrap();
    let r = record_in(dir.path(), &[], &["sh", "-c", "kill -USR1 $$"]);
    assert_eq!(r.code, 128 + 10);
}

#[test]
fn default_output_name_is_timestamped_and_printed() {
    let dir = tempfile::tempdir().unwrap();
    let child = spawnscope()
        .current_dir(dir.path())
        .args(["record", "--", "true"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let o_pid = child.id();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names.len(), 1);
    let name = &names[0];
    // spawnscope-YYYYMMDD-HHMMSS-PID.jsonl (issue 13: the pid keeps two runs in one second apart)
    let pid = format!("-{}.jsonl", o_pid);
    assert!(
        name.starts_with("spawnscope-") && name.ends_with(&pid) && name.len() == "spawnscope-20261127-081500".len() + pid.len(),
        "{name}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains(name.as_str()));
}

#[test]
fn program_not_found_exits_127_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let o = spawnscope().current_dir(dir.path()).args(["record", "-o", "t.jsonl", "--", "no-such-program-xyz"]).output().unwrap();
    assert_eq!(o.status.code(), Some(127));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no-such-program-xyz: command not found"), "{err}");
    assert!(!dir.path().join("t.jsonl").exists(), "no empty trace left behind");
}

#[test]
fn not_executable_exits_126() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("script"), "echo hi\n").unwrap();
    let o = spawnscope().current_dir(dir.path()).args(["record", "-o", "t.jsonl", "--", "./script"]).output().unwrap();
    assert_eq!(o.status.code(), Some(126));
    assert_eq!(String::from_utf8_lossy(&o.stderr).lines().count(), 1);
}

#[test]
fn an_existing_empty_output_is_never_removed() {
    // Regression: a failed start removed the "empty" output, which as root
    // once deleted /dev/null. Only a file this run created may be removed.
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("keep.jsonl");
    std::fs::write(&keep, "").unwrap();
    let o = spawnscope().args(["record", "-o"]).arg(&keep).args(["--", "no-such-program-xyz"]).output().unwrap();
    assert_eq!(o.status.code(), Some(127));
    assert!(keep.exists());
    let o = spawnscope().args(["record", "-o", "/dev/null", "--", "no-such-program-xyz"]).output().unwrap();
    assert_eq!(o.status.code(), Some(127));
    assert!(std::fs::metadata("/dev/null").is_ok_and(|m| !m.is_file()));
}

#[test]
fn unwritable_output_fails_before_the_target_starts() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker");
    let o = spawnscope().args(["record", "-o", "/nonexistent-dir/t.jsonl", "--", "touch"]).arg(&marker).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("target was not started"));
    assert!(!marker.exists(), "the target must not have run");
}

#[test]
fn control_characters_in_errors_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let o = spawnscope().current_dir(dir.path()).args(["record", "-o", "t.jsonl", "--", "evil\x1b[2Jname"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains('\x1b') && err.contains("\\x1b[2Jname"), "{err}");
}

#[test]
fn modes_and_syscall_info_flags_reach_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let fx = fixture("posix_spawnp_path");
    for (flags, mode, info, execs) in [
        (&["--mode", "seccomp"][..], TracerMode::Seccomp, true, 5),
        (&["--mode", "syscall", "--no-syscall-info"][..], TracerMode::Syscall, false, 5),
        (&["--mode", "events"][..], TracerMode::Events, true, 2),
    ] {
        let r = record_in(dir.path(), flags, &[&fx]);
        assert_eq!((r.mode, r.syscall_info, count(&r.records, "exec")), (mode, info, execs), "{flags:?}");
        assert_eq!(r.code, 0);
    }
    let o = spawnscope()
        .current_dir(dir.path())
        .env("SPAWNSCOPE_NO_SYSCALL_INFO", "1")
        .args(["record", "-q", "-o", "e.jsonl", "--", "true"])
        .status()
        .unwrap();
    assert!(o.success());
    let (h, _, _) = read_all(std::fs::File::open(dir.path().join("e.jsonl")).unwrap()).unwrap();
    assert!(!h.tracer.syscall_info);
}

fn alive(pid: i32) -> bool {
    // A zombie is gone for our purposes; a stopped tracee is not.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn wait_for_exec(trace: &Path, path_end: &str, timeout: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Ok(text) = std::fs::read_to_string(trace) {
            for line in text.lines() {
                if let Ok(Record::Exec(e)) = serde_json::from_str::<Record>(line) {
                    if e.path.ends_with(path_end) && e.result == 0 {
                        return Some(e.pid);
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn wait_timeout(child: &mut std::process::Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Some(st) = child.try_wait().unwrap() {
            return Some(st);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

#[test]
fn ctrl_c_reaches_the_target_and_nothing_is_left_behind() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    // Own process group, like a terminal's foreground job; Ctrl-C = SIGINT to the group.
    let mut child =
        spawnscope().args(["record", "-q", "-o"]).arg(&trace).args(["--", "sleep", "30"]).process_group(0).spawn().unwrap();
    let sleeper = wait_for_exec(&trace, "/sleep", Duration::from_secs(10)).expect("sleep started");
    let pgid = child.id().to_string();
    Command::new("kill").args(["-INT", "--", &format!("-{pgid}")]).status().unwrap();
    let st = wait_timeout(&mut child, Duration::from_secs(10)).expect("tracer finished");
    assert_eq!(st.code(), Some(130), "128 + SIGINT");
    assert!(!alive(sleeper));
    let (_, records, warnings) = read_all(std::fs::File::open(&trace).unwrap()).unwrap();
    assert!(warnings.is_empty());
    assert!(records.iter().any(|r| matches!(r, Record::Exit(e) if e.signal == Some(2))));
}

#[test]
fn sigterm_to_the_tracer_is_forwarded_to_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    let mut child = spawnscope().args(["record", "-q", "-o"]).arg(&trace).args(["--", "sleep", "30"]).spawn().unwrap();
    let sleeper = wait_for_exec(&trace, "/sleep", Duration::from_secs(10)).expect("sleep started");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let st = wait_timeout(&mut child, Duration::from_secs(10)).expect("tracer finished");
    assert_eq!(st.code(), Some(143));
    assert!(!alive(sleeper));
}

#[test]
fn tracer_sigkilled_leaves_a_readable_trace_and_no_stopped_tracee() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    let mut child = spawnscope()
        .args(["record", "-q", "-o"])
        .arg(&trace)
        .args(["--", "sh", "-c", "while :; do /bin/true; done"])
        .spawn()
        .unwrap();
    let sh = wait_for_exec(&trace, "/sh", Duration::from_secs(10)).expect("sh started");
    std::thread::sleep(Duration::from_millis(400));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // PTRACE_O_EXITKILL: the tracees die with the tracer, none stays stopped.
    let start = Instant::now();
    while alive(sh) && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(sh), "the target must not survive stopped");
    let (_, records, warnings) = read_all(std::fs::File::open(&trace).unwrap()).unwrap();
    assert!(!warnings.is_empty(), "missing end line is reported");
    assert!(!records.iter().any(|r| matches!(r, Record::End(_))));
    assert!(count(&records, "exec") > 5, "events up to the kill were flushed: {}", count(&records, "exec"));
}

#[test]
fn fixtures_record_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let r = record_in(dir.path(), &[], &[&fixture("pipes_socketpair")]);
    assert_eq!(r.code, 0);
    assert_eq!(count(&r.records, "socketpair"), 1);
    assert_eq!(count(&r.records, "pipe"), 2);
    assert!(r.stderr.contains("4 exec attempts (2 failed)"), "{}", r.stderr);
    assert!(r.stderr.contains("fork 1"), "{}", r.stderr);
}

#[test]
fn zstd_output_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let st = spawnscope().current_dir(dir.path()).args(["record", "-q", "-o", "t.jsonl.zst", "--", "true"]).status().unwrap();
    assert!(st.success());
    let mut r = spawnscope_format::TraceReader::open(dir.path().join("t.jsonl.zst")).unwrap();
    while r.next_record().unwrap().is_some() {}
    assert!(r.is_complete());
}

fn proc_state(pid: i32) -> Option<(char, i32)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |k: &str| s.lines().find(|l| l.starts_with(k)).map(|l| l[k.len()..].trim().to_string());
    let state = field("State:")?.chars().next()?;
    let tracer = field("TracerPid:")?.parse().ok()?;
    Some((state, tracer))
}

/// A left-over daemon still carries the seccomp filter: detached, it could no
/// longer fork or exec (ENOSYS). So a Ctrl-C after the target exited ends it
/// (SIGTERM, then SIGKILL) and says so, in seccomp mode; in events mode (no
/// filter) it is detached and keeps running.
#[test]
fn daemon_left_running_is_ended_on_ctrl_c_after_the_target_exits_in_seccomp_mode() {
    for (mode, ended) in [("seccomp", true), ("events", false)] {
        let dir = tempfile::tempdir().unwrap();
        let trace = dir.path().join("t.jsonl");
        let mut child = spawnscope()
            .args(["record", "-q", "--mode", mode, "-o"])
            .arg(&trace)
            .args(["--", "sh", "-c", "setsid sleep 30 </dev/null >/dev/null 2>&1 &"])
            .spawn()
            .unwrap();
        let daemon = wait_for_exec(&trace, "/sleep", Duration::from_secs(10)).expect("daemon started");
        // The target (sh) exits at once; the tracer keeps following the daemon.
        std::thread::sleep(Duration::from_millis(300));
        assert!(child.try_wait().unwrap().is_none(), "{mode}: still following the daemon");
        Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
        let st = wait_timeout(&mut child, Duration::from_secs(10)).expect("tracer finished after Ctrl-C");
        assert_eq!(st.code(), Some(0), "{mode}: the target's exit code");
        let (_, records, warnings) = read_all(std::fs::File::open(&trace).unwrap()).unwrap();
        assert!(warnings.is_empty());
        let said = |text: &str| records.iter().any(|r| matches!(r, Record::Warning(w) if w.message.contains(text)));
        match proc_state(daemon) {
            // Ended: gone, or a zombie nobody reaps (pid 1 in some containers).
            None | Some(('Z', _)) => assert!(ended, "{mode}: the daemon was ended"),
            Some((state, tracer)) => {
                assert!(!ended, "{mode}: the daemon still runs ({state})");
                assert_eq!(tracer, 0, "{mode}: detached");
                assert_ne!(state, 't', "{mode}: not left in a tracing stop");
                Command::new("kill").arg(daemon.to_string()).status().unwrap();
            }
        }
        if ended {
            assert!(said("ending 1 process"), "{mode}: {records:?}");
        } else {
            assert!(said("detached from 1 task"), "{mode}: {records:?}");
        }
    }
}

#[test]
fn attach_records_children_and_ctrl_c_detaches_leaving_it_running() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("a.jsonl");
    let mut target = Command::new("sh").args(["-c", "while :; do /bin/true; sleep 0.02; done"]).spawn().unwrap();
    let pid = target.id() as i32;
    let mut child =
        spawnscope().args(["record", "-o"]).arg(&trace).args(["-p", &pid.to_string()]).stderr(Stdio::piped()).spawn().unwrap();
    let start = Instant::now();
    while wait_for_exec(&trace, "/true", Duration::from_millis(100)).is_none() && start.elapsed() < Duration::from_secs(10) {}
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let st = wait_timeout(&mut child, Duration::from_secs(10)).expect("detached and finished");
    assert_eq!(st.code(), Some(0));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("attaching in events mode"), "{err}");
    std::thread::sleep(Duration::from_millis(100));
    let (state, tracer) = proc_state(pid).expect("target still running");
    assert_eq!(tracer, 0);
    assert_ne!(state, 't');
    assert!(target.try_wait().unwrap().is_none(), "the target keeps running");
    target.kill().unwrap();
    target.wait().unwrap();
    let (h, records, warnings) = read_all(std::fs::File::open(&trace).unwrap()).unwrap();
    assert!(warnings.is_empty());
    assert_eq!((h.tracer.attached_pid, h.tracer.mode), (Some(pid), TracerMode::Events));
    assert!(count(&records, "exec") >= 3, "future children recorded");
    let Some(Record::End(end)) = records.last() else { panic!() };
    assert_eq!(end.exit_code, None);
}

#[test]
fn script_without_shebang_runs_through_sh_like_execvp() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("noshebang");
    std::fs::write(&script, "exit 7\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let r = record_in(dir.path(), &[], &[script.to_str().unwrap()]);
    assert_eq!(r.code, 7);
    let results: Vec<(String, i32)> =
        r.records.iter().filter_map(|x| if let Record::Exec(e) = x { Some((e.path.clone(), e.result)) } else { None }).collect();
    assert_eq!(results, vec![(script.display().to_string(), 8), ("/bin/sh".to_string(), 0)], "ENOEXEC, then /bin/sh");
}

#[test]
fn attaching_to_an_already_traced_process_says_so() {
    if Command::new("strace").arg("-V").output().is_err() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("strace.log");
    let mut strace = Command::new("strace").arg("-o").arg(&log).args(["sleep", "20"]).spawn().unwrap();
    // The traced sleep is strace's child.
    let start = Instant::now();
    let sleeper = loop {
        let out = Command::new("pgrep").args(["-P", &strace.id().to_string()]).output().unwrap();
        if let Some(p) = String::from_utf8_lossy(&out.stdout).split_whitespace().next().and_then(|p| p.parse::<i32>().ok()) {
            break p;
        }
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    };
    let o = spawnscope().current_dir(dir.path()).args(["record", "-o", "a.jsonl", "-p", &sleeper.to_string()]).output().unwrap();
    let _ = strace.kill();
    let _ = strace.wait();
    Command::new("kill").args(["-9", &sleeper.to_string()]).status().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("already traced by pid"), "{err}");
    assert_eq!(err.lines().filter(|l| l.contains("error")).count(), 1, "{err}");
}
