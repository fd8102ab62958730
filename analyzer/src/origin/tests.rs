//! The classifier on real stacks: each file in `tests/data/stacks/` is what
//! gdb saw at the clone/clone3/fork/vfork entry of a real program on this
//! machine (Debian 12, glibc 2.36 with libc6-dbg, rustc 1.95, CPython 3.11
//! stripped and 3.10 with debug info, Perl 5.36, bash 5.2, node 20, OpenJDK
//! 17), captured with `frames.py` there. gdb is the reference: `strace -k`
//! misnames glibc's clone3 frame.

use super::*;

#[derive(Deserialize)]
struct Capture {
    frames: Vec<GdbFrame>,
    gdb_bt: Vec<String>,
}

#[derive(Deserialize)]
struct GdbFrame {
    function: Option<String>,
    module: String,
    offset: u64,
    file: Option<String>,
    line: Option<u32>,
    inlined: bool,
}

fn load(name: &str) -> Vec<Frame> {
    let path = format!("{}/tests/data/stacks/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let c: Capture = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(!c.gdb_bt.is_empty(), "{path}: the gdb backtrace is kept for reference");
    c.frames
        .into_iter()
        .map(|f| Frame {
            function: f.function.unwrap_or_else(|| UNKNOWN_FUNCTION.to_string()),
            module: f.module,
            offset: f.offset,
            file: f.file,
            line: f.line,
            inlined: f.inlined,
        })
        .collect()
}

/// (api, runtime, library file name, call site label or None).
fn summary(o: &Origin) -> (&str, &str, &str, Option<String>) {
    let lib = o.library.rsplit('/').next().unwrap();
    (o.api.as_str(), o.runtime.as_str(), lib, o.call_site.as_ref().map(Frame::label))
}

fn check(name: &str, api: &str, runtime: &str, library: &str, call_site: Option<&str>) -> Origin {
    let o = classify(&load(name), None);
    assert_eq!(summary(&o), (api, runtime, library, call_site.map(str::to_string)), "{name}");
    if call_site.is_none() {
        assert!(o.call_site_note.is_some(), "{name}: a missing call site is explained");
    }
    o
}

#[test]
fn c_glibc() {
    let o = check("c_posix_spawn", "__posix_spawnp", "glibc", "libc.so.6", Some("run_posix_spawn (c_spawn.c:11)"));
    assert_eq!(o.api_kind, Some(ApiKind::PosixSpawn));
    assert_eq!(o.call_site_note, None);
    let o = check("c_fork", "__libc_fork", "glibc", "libc.so.6", Some("run_fork (c_spawn.c:14)"));
    assert_eq!(o.api_kind, Some(ApiKind::Fork));
    // run_fork is inlined into main: the call site is the inlined frame.
    assert!(o.call_site.unwrap().inlined);
    let o = check("c_vfork", "__libc_vfork", "glibc", "libc.so.6", Some("run_vfork (c_spawn.c:19)"));
    assert_eq!(o.api_kind, Some(ApiKind::Vfork));
    // system() is built on posix_spawn: the higher-level API is named.
    let o = check("c_system", "__libc_system", "glibc", "libc.so.6", Some("run_system (c_spawn.c:23)"));
    assert_eq!(o.api_kind, Some(ApiKind::Process));
    check("c_popen", "_IO_new_popen", "glibc", "libc.so.6", Some("run_popen (c_spawn.c:24)"));
    // From a worker thread: the call site is in the thread's function.
    check("c_thread", "__posix_spawnp", "glibc", "libc.so.6", Some("run_posix_spawn (c_spawn.c:11)"));
    let o = check("c_thread_create", "__pthread_create_2_1", "glibc", "libc.so.6", Some("main (c_spawn.c:33)"));
    assert_eq!(o.api_kind, Some(ApiKind::Thread));
}

#[test]
fn rust_std() {
    let o =
        check("rs_status", "std::process::Command::status", "rust", "libc.so.6", Some("rs_spawn::run_status (rs_spawn.rs:5)"));
    assert!(o.leading_has("posix_spawnp"));
    assert!(!o.leading_has("do_fork"));
    check("rs_output", "std::process::Command::output", "rust", "libc.so.6", Some("rs_spawn::run_output (rs_spawn.rs:8)"));
    check("rs_spawn", "std::process::Command::spawn", "rust", "libc.so.6", Some("rs_spawn::run_spawn (rs_spawn.rs:11)"));
    // pre_exec forces std's fork fallback: the stack shows do_fork.
    let o = check(
        "rs_pre_exec",
        "std::process::Command::status",
        "rust",
        "libc.so.6",
        Some("rs_spawn::run_pre_exec (rs_spawn.rs:16)"),
    );
    assert!(o.leading_has("do_fork"));
    assert!(o.leading_has("fork"));
    check("rs_thread", "std::process::Command::status", "rust", "libc.so.6", Some("rs_spawn::run_status (rs_spawn.rs:5)"));
    let o =
        check("rs_thread_create", "std::thread::functions::spawn", "rust", "libc.so.6", Some("rs_spawn::main (rs_spawn.rs:24)"));
    assert_eq!(o.api_kind, Some(ApiKind::Thread));
}

#[test]
fn cpython() {
    // Debian's python3.11 is stripped: the interpreter's own frames are
    // unnamed, the libc entry point is the best API known.
    check("py_subprocess", "__libc_vfork", "cpython", "libc.so.6", None);
    check("py_fork", "__libc_fork", "cpython", "libc.so.6", None);
    check("py_posix_spawn", "__GI___posix_spawn", "cpython", "libc.so.6", None);
    check("py_system", "do_system", "cpython", "libc.so.6", None);
    // With debug info the CPython function is the API.
    let o = check("pyenv_subprocess", "subprocess_fork_exec", "cpython", "libc.so.6", None);
    assert!(o.call_site_note.as_deref().unwrap().contains("Python code"), "says the caller is Python code");
    assert_eq!(o.site_label(), "(Python code)");
    check("pyenv_fork", "os_fork", "cpython", "libc.so.6", None);
    check("pyenv_posix_spawn", "os_posix_spawn", "cpython", "libc.so.6", None);
    check("pyenv_system", "os_system", "cpython", "libc.so.6", None);
}

#[test]
fn perl_bash_node_java() {
    check("perl_system", "Perl_pp_system", "perl", "libc.so.6", None);
    check("perl_backtick", "Perl_pp_backtick", "perl", "libc.so.6", None);
    let o = check("perl_fork", "Perl_pp_fork", "perl", "libc.so.6", None);
    assert_eq!(o.api_kind, Some(ApiKind::Fork));
    for name in ["bash_cmd", "bash_pipe", "bash_subshell"] {
        let o = check(name, "make_child", "bash", "libc.so.6", None);
        assert_eq!(o.site_label(), "(a shell script)");
    }
    // libuv is linked into node: named by function, runtime node.
    let o = check("node_spawnsync", "uv_spawn", "node", "libc.so.6", None);
    assert!(o.leading_has("fork"), "node 20's libuv forks");
    for name in ["java_posix_spawn", "java_vfork", "java_fork"] {
        check(name, "Java_java_lang_ProcessImpl_forkAndExec", "java", "libc.so.6", None);
    }
    let o = check("java_posix_spawn_thread", "JVM_StartThread", "java", "libc.so.6", None);
    assert_eq!(o.api_kind, Some(ApiKind::Thread));
}

fn f(function: &str, module: &str) -> Frame {
    Frame::new(function, module, 0x1000)
}

#[test]
fn musl_walk_ends_without_unwind_tables() {
    // musl's libc has no .eh_frame: the walk ends at posix_spawn, and its
    // `__clone` (a size-0 assembly symbol) may come out unnamed.
    let musl = "/lib/ld-musl-x86_64.so.1";
    let o = classify(&[f("??", musl), f("posix_spawn", musl)], Some("no unwind tables"));
    assert_eq!((o.api.as_str(), o.runtime, o.call_site.is_none()), ("posix_spawn", Runtime::Musl, true));
    assert!(o.is_musl());
    assert_eq!(o.call_site_note.as_deref(), Some("the stack ends inside ld-musl-x86_64.so.1: no unwind tables"));
}

#[test]
fn go_os_exec() {
    // Go links everything into the program: recognised by package names.
    let app = "/app/gocmd";
    let o = classify(
        &[
            f("syscall.rawVforkSyscall", app),
            f("syscall.forkAndExecInChild1", app),
            f("syscall.forkAndExecInChild", app),
            f("syscall.forkExec", app),
            f("syscall.StartProcess", app),
            f("os.startProcess", app),
            f("os.StartProcess", app),
            f("os/exec.(*Cmd).Start", app),
            f("os/exec.(*Cmd).Run", app),
            f("main.runJob", app),
            f("main.main", app),
            f("runtime.main", app),
            f("runtime.goexit", app),
        ],
        None,
    );
    assert_eq!((o.api.as_str(), o.runtime, o.library.as_str()), ("os/exec.(*Cmd).Run", Runtime::Go, app));
    assert_eq!(o.call_site.unwrap().function, "main.runJob");
    let t = classify(
        &[
            f("runtime.clone", app),
            f("runtime.newosproc", app),
            f("runtime.newm1", app),
            f("runtime.newm", app),
            f("runtime.startm", app),
            f("runtime.schedule", app),
        ],
        None,
    );
    assert_eq!((t.api.as_str(), t.api_kind), ("runtime.newm", Some(ApiKind::Thread)));
    assert_eq!(t.call_site_note.as_deref(), Some("the stack ends inside gocmd"));
    assert_eq!(t.site_label(), "(stack ends in gocmd)");
}

#[test]
fn ruby_zsh_libuv_static_stripped() {
    let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
    let ruby = "/usr/lib/libruby-3.1.so.3.1";
    let o = classify(
        &[
            f("__libc_vfork", libc),
            f("retry_fork_async_signal_safe", ruby),
            f("rb_fork_async_signal_safe", ruby),
            f("rb_spawn_process", ruby),
            f("rb_f_system", ruby),
            f("vm_call_cfunc_with_frame", ruby),
            f("??", "[jit]"),
        ],
        None,
    );
    assert_eq!((o.api.as_str(), o.runtime, o.site_label().as_str()), ("rb_f_system", Runtime::Ruby, "(Ruby code)"));
    let zsh = "/usr/bin/zsh";
    let o = classify(&[f("__libc_fork", libc), f("zfork", zsh), f("execcmd_exec", zsh), f("main", zsh)], None);
    assert_eq!((o.api.as_str(), o.runtime), ("zfork", Runtime::Zsh));
    // A C program on libuv: libuv.so is the runtime, the caller is the call site.
    let uv = "/usr/lib/x86_64-linux-gnu/libuv.so.1";
    let o = classify(
        &[
            f("__libc_fork", libc),
            f("uv__spawn_and_init_child_fork", uv),
            f("uv_spawn", uv),
            f("start_worker", "/app/srv"),
            f("main", "/app/srv"),
        ],
        None,
    );
    assert_eq!((o.api.as_str(), o.runtime, o.call_site.unwrap().function.as_str()), ("uv_spawn", Runtime::Libuv, "start_worker"));
    // glibc linked statically: recognised by name and source file.
    let app = "/app/static";
    let mut spawni = f("__spawni", app);
    spawni.file = Some("../sysdeps/unix/sysv/linux/spawni.c".into());
    let mut inl = f("spawn_process", app);
    inl.file = Some("./libio/iopopen.c".into());
    inl.inlined = true;
    let o = classify(&[f("clone3", app), spawni, f("__posix_spawn", app), inl, f("_IO_new_popen", app), f("run", app)], None);
    assert_eq!((o.api.as_str(), o.runtime, o.call_site.unwrap().function.as_str()), ("_IO_new_popen", Runtime::Libc, "run"));
    // A stripped program: the call site is a module and offset, and says why.
    let o = classify(
        &[f("__libc_fork", libc), Frame::new("??", "/usr/local/bin/tool", 0x1a2b), f("??", "/usr/local/bin/tool")],
        None,
    );
    assert_eq!(o.call_site.as_ref().map(Frame::label).as_deref(), Some("tool+0x1a2b"));
    assert!(o.call_site_note.unwrap().contains("stripped"));
}

#[test]
fn jit_and_embedded_interpreters() {
    let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
    // A raw clone in JIT code (no runtime frame knows it): say so.
    let o = classify(&[f("??", "[jit]"), f("??", "[jit]")], None);
    assert_eq!((o.api.as_str(), o.runtime, o.call_site.is_none()), ("??", Runtime::Unknown, true));
    assert!(o.call_site_note.as_deref().unwrap().contains("JIT"));
    assert_eq!(o.site_label(), "(JIT code)");
    // Python embedded in a C program: the C `main` below the interpreter is not
    // the call site, the Python code is.
    let py = "/usr/lib/libpython3.11.so.1.0";
    let o = classify(
        &[
            f("__libc_fork", libc),
            f("os_fork_impl", py),
            f("_PyEval_EvalFrameDefault", py),
            f("PyRun_SimpleString", py),
            f("main", "/app/embed"),
        ],
        None,
    );
    assert_eq!((o.api.as_str(), o.runtime, o.call_site.is_none()), ("os_fork_impl", Runtime::Cpython, true));
    // A C extension that forks is the call site, even inside a Python process.
    let o = classify(
        &[
            f("__libc_fork", libc),
            f("ext_run", "/site-packages/ext.cpython-311-x86_64-linux-gnu.so"),
            f("_PyEval_EvalFrameDefault", py),
        ],
        None,
    );
    assert_eq!(o.call_site.unwrap().function, "ext_run");
    // A raw syscall in the program's own code: the program is the API and the call site.
    let o = classify(&[f("my_clone", "/app/raw"), f("main", "/app/raw")], None);
    assert_eq!((o.api.as_str(), o.runtime, o.call_site.unwrap().function.as_str()), ("my_clone", Runtime::Unknown, "my_clone"));
    // Nothing captured.
    let o = classify(&[], Some("registers could not be read"));
    assert_eq!(
        (o.api.as_str(), o.library.as_str(), o.call_site_note.as_deref()),
        ("unknown", "", Some("registers could not be read"))
    );
    assert_eq!(o.site_label(), "(no frames)");
}

#[test]
fn labels() {
    let mut fr = Frame::new("myapp::jobs::run", "/app/myapp", 0x42);
    fr.file = Some("/home/u/src/myapp/src/jobs.rs".into());
    fr.line = Some(42);
    assert_eq!(fr.label(), "myapp::jobs::run (myapp/src/jobs.rs:42)");
    fr.file = Some("jobs.rs".into());
    assert_eq!(fr.label(), "myapp::jobs::run (jobs.rs:42)");
}
