//! What the classifier knows: which modules, function names and source files
//! belong to a language runtime or C library, and which functions are
//! spawning APIs.
//!
//! Names come from real stacks (gdb `bt` at the clone/clone3/fork/vfork
//! entry, see `analyzer/tests/data/stacks/`) and from the sources of each
//! runtime: glibc `posix/spawn.c`, `sysdeps/unix/sysv/linux/spawni.c`,
//! `sysdeps/posix/system.c`, `libio/iopopen.c`, `nptl/pthread_create.c`; musl
//! `src/process/posix_spawn.c`, `src/process/fork.c`; Rust
//! `library/std/src/sys/process/unix/unix.rs`; Go `src/syscall/exec_linux.go`,
//! `src/os/exec/exec.go`, `src/runtime/os_linux.go`; CPython
//! `Modules/_posixsubprocess.c`, `Modules/posixmodule.c`; libuv
//! `src/unix/process.c`; OpenJDK `ProcessImpl_md.c`, `childproc.c`; Perl
//! `pp_sys.c`, `util.c`; Ruby `process.c`, `io.c`; bash `jobs.c`; zsh
//! `exec.c`; dash `jobs.c`.

use super::Runtime;

/// The runtime a module (by path) belongs to, if it is a runtime or C library.
pub(super) fn module_runtime(path: &str) -> Option<Runtime> {
    let base = path.rsplit('/').next().unwrap_or(path);
    if path.contains("musl") {
        return Some(Runtime::Musl);
    }
    let so =
        |prefix: &str| base == prefix || base.starts_with(&format!("{prefix}.so")) || base.starts_with(&format!("{prefix}-"));
    if so("libc") || so("libpthread") || base.starts_with("ld-linux") || so("libdl") {
        return Some(Runtime::Glibc);
    }
    if so("libstdc++") || so("libgcc_s") {
        return Some(Runtime::Cxx);
    }
    if base.starts_with("libpython") || is_versioned(base, "python") || path.contains("/lib-dynload/") {
        return Some(Runtime::Cpython);
    }
    if base == "libjava.so" || base == "libjvm.so" || base == "libjli.so" || base == "java" || base == "jspawnhelper" {
        return Some(Runtime::Java);
    }
    if base == "node" || base == "nodejs" || base.starts_with("libnode.so") {
        return Some(Runtime::Node);
    }
    if base.starts_with("libuv.so") {
        return Some(Runtime::Libuv);
    }
    if is_versioned(base, "perl") || base.starts_with("libperl.so") {
        return Some(Runtime::Perl);
    }
    if is_versioned(base, "ruby") || base.starts_with("libruby") {
        return Some(Runtime::Ruby);
    }
    match base {
        "bash" => Some(Runtime::Bash),
        "zsh" => Some(Runtime::Zsh),
        "dash" | "sh" => Some(Runtime::Dash),
        _ => None,
    }
}

/// `name`, or `name` followed by a version (`python3`, `python3.11`, `perl5.36.0`).
fn is_versioned(base: &str, name: &str) -> bool {
    base.strip_prefix(name).is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.' || c == 'd' || c == 'm'))
}

/// The runtime a function belongs to by its name alone (code linked into the
/// program itself: Rust std, Go, static libc, libuv inside node).
pub(super) fn name_runtime(name: &str) -> Option<Runtime> {
    let path = rust_path(name);
    for (prefix, rt) in [
        ("std::", Runtime::Rust),
        ("core::", Runtime::Rust),
        ("alloc::", Runtime::Rust),
        ("tokio::process::", Runtime::Rust),
        ("async_process::", Runtime::Rust),
    ] {
        if path.starts_with(prefix) {
            return Some(rt);
        }
    }
    // Go: package-qualified names, `os/exec.(*Cmd).Start`, `syscall.forkExec`.
    for prefix in ["syscall.", "os.", "os/exec.", "runtime.", "internal/"] {
        if name.starts_with(prefix) {
            return Some(Runtime::Go);
        }
    }
    if name.starts_with("uv_") || name.starts_with("uv__") {
        return Some(Runtime::Libuv);
    }
    if LIBC_NAMES.contains(&name) {
        return Some(Runtime::Libc);
    }
    None
}

/// The runtime by the function's source file (DWARF): glibc's and Rust std's
/// sources have recognisable paths even when linked statically.
pub(super) fn file_runtime(file: &str) -> Option<Runtime> {
    // `./misc/../sysdeps/unix/sysv/linux/x86_64/clone3.S` (blazesym),
    // `../sysdeps/...` (gdb).
    if file.contains("/sysdeps/") || file.starts_with("./misc/") || file.starts_with("./io/") {
        return Some(Runtime::Glibc);
    }
    for prefix in ["../sysdeps/", "./posix/", "./libio/", "./nptl/", "../nptl/", "./csu/", "../csu/", "./stdlib/"] {
        if file.starts_with(prefix) {
            return Some(Runtime::Glibc);
        }
    }
    if file.starts_with("library/std/") || file.starts_with("library/core/") || file.starts_with("library/alloc/") {
        return Some(Runtime::Rust);
    }
    if file.starts_with("/rustc/") && file.contains("/library/") {
        return Some(Runtime::Rust);
    }
    None
}

/// C library functions on spawn stacks, under the names symbolizers give them
/// (glibc's and musl's), for programs that link libc statically.
const LIBC_NAMES: &[&str] = &[
    "clone",
    "clone3",
    "__clone",
    "__clone_internal",
    "__GI___clone_internal",
    "__spawni",
    "__spawnix",
    "posix_spawn",
    "posix_spawnp",
    "__posix_spawn",
    "__posix_spawnp",
    "__GI___posix_spawn",
    "arch_fork",
    "_Fork",
    "__GI__Fork",
    "__libc_fork",
    "fork",
    "vfork",
    "__vfork",
    "__libc_vfork",
    "system",
    "__libc_system",
    "do_system",
    "popen",
    "_IO_new_popen",
    "_IO_new_proc_open",
    "_IO_proc_open",
    "pthread_create",
    "__pthread_create_2_1",
    "create_thread",
    "start_thread",
    "__libc_start_main",
    "__libc_start_main_impl",
    "__libc_start_call_main",
];

/// Strips what symbolizers add to a Rust name: the `::h0123456789abcdef`
/// hash, the angle brackets of an impl path (`<std::process::Command>::status`
/// as blazesym writes it becomes `std::process::Command::status`; of
/// `<Box<F> as FnOnce<A>>::call_once` the self type is kept:
/// `Box<F>::call_once`) and the generic arguments at the end
/// (`spawn<fn(), ()>`, `catch_unwind::<i32>`).
pub(super) fn rust_path(name: &str) -> std::borrow::Cow<'_, str> {
    let mut s = name;
    if let Some(i) = s.rfind("::h") {
        let hash = &s[i + 3..];
        if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) {
            s = &s[..i];
        }
    }
    if s.ends_with('>') {
        if let Some(i) = generic_start(s) {
            s = s[..i].trim_end_matches("::");
        }
    }
    let Some(inner) = s.strip_prefix('<') else { return std::borrow::Cow::Borrowed(s) };
    // The `>` that closes the leading `<`.
    let mut depth = 1i32;
    let mut close = None;
    for (i, c) in inner.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let Some(j) = close else { return std::borrow::Cow::Borrowed(inner) };
    let (qualified, rest) = (&inner[..j], &inner[j + 1..]);
    let self_type = top_level_as(qualified).map_or(qualified, |k| &qualified[..k]);
    std::borrow::Cow::Owned(format!("{self_type}{rest}"))
}

/// Position of ` as ` outside any angle brackets.
fn top_level_as(s: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ' ' if depth == 0 && s[i..].starts_with(" as ") => return Some(i),
            _ => {}
        }
    }
    None
}

/// Index of the `<` that opens the trailing generic argument list.
fn generic_start(s: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices().rev() {
        match c {
            '>' => depth += 1,
            '<' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// A C library name without glibc's internal prefixes: `__GI___posix_spawn`,
/// `__posix_spawn` → `posix_spawn`; `__libc_fork` → `fork`; `_IO_new_popen`
/// → `popen`; `__pthread_create_2_1` → `pthread_create`; `system@@GLIBC_2.2.5`
/// → `system`.
pub(super) fn c_name(name: &str) -> &str {
    let mut s = name.split('@').next().unwrap_or(name);
    s = s.strip_prefix("__GI_").unwrap_or(s);
    s = s.trim_start_matches('_');
    for prefix in ["libc_", "IO_new_", "IO_"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest;
        }
    }
    s.strip_suffix("_2_1").unwrap_or(s)
}

/// What a spawning API does, as far as code paths and advice care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiKind {
    /// posix_spawn and everything built on it (vfork-style, cheap).
    PosixSpawn,
    /// fork() or a fork-style clone.
    Fork,
    /// vfork().
    Vfork,
    /// A higher-level API whose route depends on the platform (Rust
    /// `Command`, Python `subprocess`, `uv_spawn`, Java `ProcessImpl`, Go
    /// `os/exec`, `system`, `popen`, shells).
    Process,
    /// Thread creation (not a spawn).
    Thread,
}

/// A known spawning API: how it is recognised and what it is.
pub(super) struct Api {
    pub runtime: Runtime,
    pub kind: ApiKind,
}

/// The spawning API a function is, if any. Matches the names as symbolized
/// (demangled Rust, Go package paths, C names with or without glibc's
/// internal prefixes).
pub(super) fn api_of(name: &str) -> Option<Api> {
    let api = |runtime, kind| Some(Api { runtime, kind });
    let path = rust_path(name);
    // Rust std and the async runtimes built on it.
    if let Some(m) = path
        .strip_prefix("std::process::Command::")
        .or_else(|| path.strip_prefix("tokio::process::Command::"))
        .or_else(|| path.strip_prefix("async_process::Command::"))
    {
        if matches!(m, "spawn" | "status" | "output") {
            return api(Runtime::Rust, ApiKind::Process);
        }
    }
    if path.starts_with("std::sys::") && (path.ends_with("Command::spawn") || path.ends_with("Command::posix_spawn")) {
        return api(Runtime::Rust, ApiKind::Process);
    }
    if path.starts_with("std::sys::") && path.ends_with("Command::do_fork") {
        return api(Runtime::Rust, ApiKind::Fork);
    }
    if path.starts_with("std::thread::") && (path.ends_with("::spawn") || path.ends_with("Thread::new")) {
        return api(Runtime::Rust, ApiKind::Thread);
    }
    // Go.
    if name.starts_with("os/exec.(*Cmd).") {
        return api(Runtime::Go, ApiKind::Process);
    }
    match name {
        "os.StartProcess" | "os.startProcess" | "syscall.StartProcess" | "syscall.ForkExec" | "syscall.forkExec" => {
            return api(Runtime::Go, ApiKind::Process)
        }
        "syscall.forkAndExecInChild" | "syscall.forkAndExecInChild1" | "syscall.rawVforkSyscall" => {
            return api(Runtime::Go, ApiKind::Vfork)
        }
        "runtime.newosproc" | "runtime.newm" | "runtime.clone" => return api(Runtime::Go, ApiKind::Thread),
        _ => {}
    }
    // CPython (3.8 - 3.13 names; `_impl` are the Argument Clinic bodies).
    if name.contains("subprocess_fork_exec") || name == "do_fork_exec" {
        return api(Runtime::Cpython, ApiKind::Process);
    }
    match name {
        "os_fork" | "os_fork_impl" | "os_fork1" | "os_fork1_impl" | "os_forkpty" | "os_forkpty_impl" => {
            return api(Runtime::Cpython, ApiKind::Fork)
        }
        "os_posix_spawn" | "os_posix_spawn_impl" | "os_posix_spawnp" | "os_posix_spawnp_impl" | "py_posix_spawn" => {
            return api(Runtime::Cpython, ApiKind::PosixSpawn)
        }
        "os_system" | "os_system_impl" => return api(Runtime::Cpython, ApiKind::Process),
        // libuv (inside node or libuv.so).
        "uv_spawn" => return api(Runtime::Libuv, ApiKind::Process),
        "uv_thread_create" | "uv_thread_create_ex" => return api(Runtime::Libuv, ApiKind::Thread),
        // OpenJDK: the native half of ProcessBuilder.start (all launch
        // mechanisms: POSIX_SPAWN execs jspawnhelper, VFORK, FORK).
        "Java_java_lang_ProcessImpl_forkAndExec" | "Java_java_lang_UNIXProcess_forkAndExec" => {
            return api(Runtime::Java, ApiKind::Process)
        }
        "JVM_StartThread" => return api(Runtime::Java, ApiKind::Thread),
        // Perl.
        "Perl_pp_system" | "Perl_pp_backtick" | "Perl_my_popen" | "Perl_my_popen_list" => {
            return api(Runtime::Perl, ApiKind::Process)
        }
        "Perl_pp_fork" => return api(Runtime::Perl, ApiKind::Fork),
        // Ruby.
        "rb_f_system"
        | "rb_f_spawn"
        | "rb_f_backquote"
        | "rb_io_s_popen"
        | "rb_spawn_process"
        | "rb_fork_async_signal_safe"
        | "pipe_open" => return api(Runtime::Ruby, ApiKind::Process),
        "rb_f_fork" | "rb_fork_ruby" | "rb_proc__fork" => return api(Runtime::Ruby, ApiKind::Fork),
        // Shells: bash's make_child, zsh's zfork, dash's forkshell / vforkexec.
        "make_child" => return api(Runtime::Bash, ApiKind::Fork),
        "zfork" => return api(Runtime::Zsh, ApiKind::Fork),
        "forkshell" => return api(Runtime::Dash, ApiKind::Fork),
        "vforkexec" => return api(Runtime::Dash, ApiKind::Vfork),
        _ => {}
    }
    // C libraries, under any of their internal names.
    let kind = match c_name(name) {
        "posix_spawn" | "posix_spawnp" => ApiKind::PosixSpawn,
        "fork" | "forkpty" => ApiKind::Fork,
        "vfork" => ApiKind::Vfork,
        "system" | "do_system" | "popen" | "wordexp" => ApiKind::Process,
        "pthread_create" => ApiKind::Thread,
        _ => return None,
    };
    api(Runtime::Libc, kind)
}

/// Rust std's fork fallback (`std::sys::..::Command::do_fork`).
pub(super) fn is_rust_do_fork(name: &str) -> bool {
    let p = rust_path(name);
    p.starts_with("std::sys") && p.ends_with("Command::do_fork")
}

/// Frames that run interpreted code: when the leading runtime frames of a
/// stack include one, the real call site is a line of a script, which the
/// native stack does not show.
pub(super) fn is_interpreter(rt: Runtime) -> bool {
    matches!(
        rt,
        Runtime::Cpython
            | Runtime::Node
            | Runtime::Java
            | Runtime::Perl
            | Runtime::Ruby
            | Runtime::Bash
            | Runtime::Zsh
            | Runtime::Dash
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(c_name("__GI___posix_spawn"), "posix_spawn");
        assert_eq!(c_name("__libc_fork"), "fork");
        assert_eq!(c_name("_IO_new_popen"), "popen");
        assert_eq!(c_name("__pthread_create_2_1"), "pthread_create");
        assert_eq!(c_name("system@@GLIBC_2.2.5"), "system");
        assert_eq!(rust_path("std::process::Command::status::h0123456789abcdef"), "std::process::Command::status");
        assert_eq!(rust_path("std::thread::functions::spawn<fn(), ()>"), "std::thread::functions::spawn");
        assert_eq!(
            rust_path("<alloc::boxed::Box<F,A> as core::ops::function::FnOnce<Args>>::call_once"),
            "alloc::boxed::Box<F,A>::call_once"
        );
        // As blazesym demangles them (from a real recording).
        assert_eq!(rust_path("<std::process::Command>::status"), "std::process::Command::status");
        assert_eq!(
            rust_path("<std::sys::process::unix::common::Command>::posix_spawn"),
            "std::sys::process::unix::common::Command::posix_spawn"
        );
        assert_eq!(
            rust_path("std::panicking::catch_unwind::<i32, &dyn core::ops::function::Fn<(), Output = i32>>"),
            "std::panicking::catch_unwind"
        );
        assert_eq!(rust_path("<&dyn core::ops::function::Fn<(), Output = i32> + core::marker::Sync as core::ops::function::FnOnce<()>>::call_once"), "&dyn core::ops::function::Fn<(), Output = i32> + core::marker::Sync::call_once");
        assert_eq!(rust_path("<myapp::Job as core::ops::Drop>::drop"), "myapp::Job::drop");
        assert_eq!(rust_path("myapp::run"), "myapp::run");
    }

    #[test]
    fn modules() {
        assert_eq!(module_runtime("/usr/lib/x86_64-linux-gnu/libc.so.6"), Some(Runtime::Glibc));
        assert_eq!(module_runtime("/lib/ld-musl-x86_64.so.1"), Some(Runtime::Musl));
        assert_eq!(module_runtime("/usr/bin/python3.11"), Some(Runtime::Cpython));
        assert_eq!(module_runtime("/x/lib/libpython3.10.so.1.0"), Some(Runtime::Cpython));
        assert_eq!(module_runtime("/usr/lib/jvm/java-17/lib/libjava.so"), Some(Runtime::Java));
        assert_eq!(module_runtime("/usr/bin/node"), Some(Runtime::Node));
        assert_eq!(module_runtime("/usr/bin/perl"), Some(Runtime::Perl));
        assert_eq!(module_runtime("/usr/bin/bash"), Some(Runtime::Bash));
        assert_eq!(module_runtime("/usr/lib/libuv.so.1"), Some(Runtime::Libuv));
        // Programs whose names merely start like a runtime's are not runtimes.
        assert_eq!(module_runtime("/usr/bin/pythonista"), None);
        assert_eq!(module_runtime("/work/app/target/release/myapp"), None);
        assert_eq!(module_runtime("/usr/lib/libcurl.so.4"), None);
    }

    #[test]
    fn go_prefixes_need_the_dot() {
        assert_eq!(name_runtime("os/exec.(*Cmd).Start"), Some(Runtime::Go));
        assert_eq!(name_runtime("syscall.forkExec"), Some(Runtime::Go));
        assert_eq!(name_runtime("osutil.Run"), None);
        assert_eq!(name_runtime("main.main"), None);
        assert_eq!(name_runtime("os_fork"), None);
    }
}
