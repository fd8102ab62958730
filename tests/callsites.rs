//! Where in the code (issue 10), end to end: the real `spawnscope record`
//! on real programs, then `spawnscope report -f json`; each spawn's
//! `origin` must name the API, the library that made the syscall and the
//! call site (function, file and line for programs with line tables), the
//! same frame gdb's `bt` shows at the clone/fork entry. Interpreted callers
//! (Python, Perl, bash) have no native call site and say so.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

/// A tool from the system directories, never PATH; None (skipped by hand, a
/// failure in CI) when missing.
fn tool(name: &str) -> Option<PathBuf> {
    spawnscope_testkit::require_tool(name).then(|| spawnscope_testkit::tool(name))
}

/// Runs `cmd` with a time limit (a stuck tracee fails the test, never hangs it).
fn run(cmd: &mut Command) -> Output {
    spawnscope_testkit::output_with_timeout(cmd, Duration::from_secs(120))
}

fn spawnscope() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spawnscope"));
    c.env("PATH", spawnscope_testkit::SYSTEM_PATH).env_remove("NO_COLOR");
    c
}

/// Records `argv` and returns the JSON report's spawns.
fn record(dir: &Path, name: &str, argv: &[&str]) -> Vec<Value> {
    let out = dir.join(format!("{name}.jsonl"));
    let o = run(spawnscope().args(["record", "-q", "-o"]).arg(&out).arg("--").args(argv));
    assert_eq!(o.status.code(), Some(0), "record {argv:?}: {}", String::from_utf8_lossy(&o.stderr));
    let o = run(spawnscope().arg("report").arg(&out).args(["-f", "json"]));
    assert_eq!(o.status.code(), Some(0), "report: {}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["spawns"].as_array().unwrap().clone()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/stacks").join(name)
}

/// The line of the `SITE what` marker in a fixture source.
fn site_line(file: &str, what: &str) -> u64 {
    let text = std::fs::read_to_string(fixture(file)).unwrap();
    let marker = format!("SITE {what}");
    let i = text.lines().position(|l| l.contains(&format!("/* {marker} */")) || l.trim_end().ends_with(&format!("// {marker}")));
    i.unwrap_or_else(|| panic!("no {marker} in {file}")) as u64 + 1
}

/// gdb's backtrace at the first clone/clone3/fork/vfork entry: function
/// names, innermost first; None when gdb is missing (a failure in CI).
fn gdb_bt(argv: &[&str]) -> Option<Vec<String>> {
    tool("gdb")?;
    let names = spawnscope_testkit::gdb_backtrace(argv);
    assert!(!names.is_empty(), "gdb gave no backtrace for {argv:?}");
    Some(names)
}

/// Asserts one spawn's origin: API (substring), runtime, library file name,
/// call site function, and file:line when given.
fn assert_origin(s: &Value, api: &str, runtime: &str, library: &str, site: Option<(&str, &str, u64)>) {
    let o = &s["origin"];
    assert!(o.is_object(), "no origin: {s:#}");
    assert!(o["api"].as_str().unwrap().contains(api), "api {} lacks {api}", o["api"]);
    assert_eq!(o["runtime"], runtime, "{o:#}");
    assert!(o["library"].as_str().unwrap().rsplit('/').next().unwrap().starts_with(library), "library {}", o["library"]);
    match site {
        Some((function, file, line)) => {
            let cs = &o["call_site"];
            assert_eq!(cs["function"], function, "{o:#}");
            assert!(cs["file"].as_str().is_some_and(|f| f.ends_with(file)), "{cs:#}");
            assert_eq!(cs["line"], line, "{cs:#}");
        }
        None => {
            assert!(o["call_site"].is_null(), "{o:#}");
            assert!(o["call_site_note"].is_string(), "a missing call site is explained: {o:#}");
        }
    }
}

/// The first frame of gdb's backtrace outside the C library: the call site
/// gdb would name.
fn gdb_call_site(bt: &[String]) -> Option<&str> {
    let libc = |f: &str| {
        let f = f.trim_start_matches('_');
        [
            "clone",
            "clone3",
            "GI",
            "spawn",
            "posix_spawn",
            "libc_",
            "arch_fork",
            "Fork",
            "do_system",
            "IO_",
            "spawn_process",
            "vfork",
            "fork",
            "system",
            "popen",
        ]
        .iter()
        .any(|p| f.starts_with(p))
    };
    bt.iter().map(String::as_str).find(|f| !libc(f))
}

#[test]
fn c_programs_name_api_library_and_line() {
    let Some(gcc) = tool("gcc") else { return };
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("c_spawns");
    let o =
        run(Command::new(gcc).args(["-O2", "-g", "-fomit-frame-pointer", "-pthread", "-o"]).arg(&bin).arg(fixture("c_spawns.c")));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let b = bin.to_str().unwrap();
    for (mode, api, site, code_path) in [
        ("posix_spawn", "posix_spawn", "via_posix_spawn", "glibc-posix-spawn"),
        ("fork", "fork", "via_fork", "fork-exec"),
        ("vfork", "vfork", "via_vfork", "vfork-syscall"),
        ("system", "system", "via_system", "glibc-posix-spawn"),
        ("popen", "popen", "via_popen", "glibc-posix-spawn"),
        ("thread", "posix_spawn", "via_posix_spawn", "glibc-posix-spawn"),
    ] {
        let spawns = record(dir.path(), mode, &[b, mode]);
        let s = &spawns[0];
        let marker = if mode == "thread" { "posix_spawn" } else { mode };
        assert_origin(s, api, "glibc", "libc.so", Some((site, "c_spawns.c", site_line("c_spawns.c", marker))));
        assert_eq!(s["code_path"], code_path, "{mode}");
        // gdb names the same call site.
        // (With a worker thread gdb stops first at the thread's clone3.)
        if let Some(bt) = gdb_bt(&[b, mode]).filter(|_| mode != "thread") {
            assert_eq!(gdb_call_site(&bt), Some(site), "{mode}: gdb bt {bt:?}");
        }
    }
}

#[test]
fn rust_command_with_and_without_pre_exec() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("rust_spawns");
    let rustc = Path::new(env!("CARGO")).with_file_name("rustc");
    let o = run(Command::new(rustc).args(["-O", "-g", "--edition", "2021", "-o"]).arg(&bin).arg(fixture("rust_spawns.rs")));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let b = bin.to_str().unwrap();
    for (mode, site, code_path) in [
        ("status", "rust_spawns::spawn_status", "glibc-posix-spawn"),
        ("pre_exec", "rust_spawns::spawn_pre_exec", "rust-std-fork-fallback"),
        ("thread", "rust_spawns::spawn_status", "glibc-posix-spawn"),
    ] {
        let spawns = record(dir.path(), mode, &[b, mode]);
        let marker = if mode == "thread" { "status" } else { mode };
        assert_origin(
            &spawns[0],
            "std::process::Command::status",
            "rust",
            "libc.so",
            Some((site, "rust_spawns.rs", site_line("rust_spawns.rs", marker))),
        );
        assert_eq!(spawns[0]["code_path"], code_path, "{mode}");
    }
}

#[test]
fn interpreters_have_no_native_call_site() {
    let dir = tempfile::tempdir().unwrap();
    if let Some(py) = tool("python3") {
        let spawns = record(dir.path(), "py", &[py.to_str().unwrap(), "-c", "import subprocess; subprocess.run(['/bin/true'])"]);
        assert_origin(&spawns[0], "", "cpython", "libc.so", None);
        assert!(spawns[0]["origin"]["call_site_note"].as_str().unwrap().contains("Python code"));
    }
    if let Some(perl) = tool("perl") {
        let spawns = record(dir.path(), "perl", &[perl.to_str().unwrap(), "-e", "system('/bin/true')"]);
        assert_origin(&spawns[0], "", "perl", "libc.so", None);
    }
    if let Some(bash) = tool("bash") {
        let spawns = record(dir.path(), "bash", &[bash.to_str().unwrap(), "-c", "/bin/true; /bin/true"]);
        assert_origin(&spawns[0], "make_child", "bash", "libc.so", None);
        assert!(spawns[0]["origin"]["call_site_note"].as_str().unwrap().contains("shell script"));
    }
}
