//! The four ways to start a child. Each is timed around the call that blocks
//! the parent (`posix_spawn`, `fork`, `vfork`, `Command::spawn`); reaping the
//! child is not timed.
//!
//! All `unsafe` code of the lab lives here. Everything a child needs (paths,
//! argv, envp) is built before the fork, so the child only calls execve and
//! `_exit`, which are async-signal-safe (fork(2) in a threaded parent).

use std::ffi::{c_char, CString};
use std::time::{Duration, Instant};

use crate::{LabError, Method};

#[allow(non_upper_case_globals)]
extern "C" {
    /// The process environment (environ(7)); read at each spawn.
    static mut environ: *const *const c_char;
}

fn current_environ() -> *const *const c_char {
    // SAFETY: reading the pointer value; nothing here changes the environment
    // while spawning (it is installed before the threads start).
    unsafe { std::ptr::addr_of!(environ).read() }
}

/// What to run, prepared once per spawning thread (raw pointers: not Send).
#[derive(Debug)]
pub(crate) struct Target {
    /// The name given to posix_spawnp / Command (bare) or the absolute path.
    program: CString,
    bare: bool,
    /// The paths execve is tried on, in order (one when `program` is absolute),
    /// as execvp would: each PATH directory joined with the name.
    candidates: Vec<CString>,
    candidate_ptrs: Vec<*const c_char>,
    argv0: CString,
    argv_ptrs: Vec<*const c_char>,
    /// Variables for `Command::envs` (rust-std with per-command env), and
    /// whether to clear the inherited ones first.
    command_env: Option<(bool, Vec<(String, String)>)>,
    pre_exec: bool,
}

/// The parts of a [`Target`] that can cross threads.
#[derive(Debug, Clone)]
pub(crate) struct TargetSpec {
    pub program: String,
    pub bare: bool,
    pub candidates: Vec<String>,
    pub command_env: Option<(bool, Vec<(String, String)>)>,
    pub pre_exec: bool,
}

impl TargetSpec {
    pub(crate) fn prepare(&self) -> Result<Target, LabError> {
        let cs = |s: &str| CString::new(s).map_err(|_| LabError::InvalidArgument(format!("NUL byte in {s:?}")));
        let candidates: Vec<CString> = self.candidates.iter().map(|c| cs(c)).collect::<Result<_, _>>()?;
        let mut candidate_ptrs: Vec<*const c_char> = candidates.iter().map(|c| c.as_ptr()).collect();
        candidate_ptrs.push(std::ptr::null());
        let argv0 = cs(&self.program)?;
        let argv_ptrs = vec![argv0.as_ptr(), std::ptr::null()];
        Ok(Target {
            program: cs(&self.program)?,
            bare: self.bare,
            candidates,
            candidate_ptrs,
            argv0,
            argv_ptrs,
            command_env: self.command_env.clone(),
            pre_exec: self.pre_exec,
        })
    }
}

/// Starts one child by `method`, waits for it, and returns how long the
/// parent was blocked in the spawn call.
pub(crate) fn spawn_one(method: Method, t: &Target) -> Result<Duration, LabError> {
    debug_assert!(!t.candidates.is_empty() && !t.argv0.as_bytes().is_empty());
    match method {
        Method::PosixSpawn => posix_spawn(t),
        Method::Fork => fork_exec(t),
        Method::Vfork => vfork_exec(t),
        Method::RustStd => rust_std(t),
    }
}

fn posix_spawn(t: &Target) -> Result<Duration, LabError> {
    let mut pid: libc::pid_t = 0;
    let argv = t.argv_ptrs.as_ptr() as *const *mut c_char;
    let envp = current_environ() as *const *mut c_char;
    let start = Instant::now();
    // SAFETY: program, argv and envp are NUL-terminated and outlive the call;
    // NULL file actions and attributes are allowed (posix_spawn(3)).
    // posix_spawnp searches PATH for a bare name; both take the same arguments.
    let spawn = if t.bare { libc::posix_spawnp } else { libc::posix_spawn };
    let rc = unsafe { spawn(&mut pid, t.program.as_ptr(), std::ptr::null(), std::ptr::null(), argv, envp) };
    let took = start.elapsed();
    if rc != 0 {
        return Err(LabError::Spawn { method: Method::PosixSpawn, source: std::io::Error::from_raw_os_error(rc) });
    }
    wait(pid, None, t)?;
    Ok(took)
}

fn fork_exec(t: &Target) -> Result<Duration, LabError> {
    let envp = current_environ();
    let start = Instant::now();
    // SAFETY: fork(2); the child below only calls execve and _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // Child: try each candidate like execvp, then give up with 127.
        for p in &t.candidates {
            // SAFETY: NUL-terminated strings and arrays built before the fork.
            unsafe { libc::execve(p.as_ptr(), t.argv_ptrs.as_ptr(), envp) };
        }
        // SAFETY: _exit is async-signal-safe and never returns.
        unsafe { libc::_exit(127) }
    }
    let took = start.elapsed();
    if pid < 0 {
        return Err(LabError::Spawn { method: Method::Fork, source: std::io::Error::last_os_error() });
    }
    wait(pid, None, t)?;
    Ok(took)
}

/// A real vfork(2) system call, written so that Rust never returns twice.
///
/// Calling `libc::vfork()` from Rust is unsound: the child returns into the
/// parent's stack frame and any Rust code it runs may overwrite what the
/// suspended parent needs. Here the whole child side is one `asm!` block: the
/// child only loads registers, calls execve on each candidate path (as execvp
/// would), stores the last errno in a slot the parent reads, and calls
/// exit_group(127). It touches no stack. The parent resumes after the block
/// once the child has exec'd or exited. This gives the `vfork` syscall
/// fingerprint (as CPython's subprocess or dash have), distinct from glibc
/// posix_spawn's clone3(CLONE_VM|CLONE_VFORK) with its own stack.
/// Signals are not blocked around it (glibc's posix_spawn does); the lab
/// installs no handlers that could run in the child.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn vfork_exec(t: &Target) -> Result<Duration, LabError> {
    let envp = current_environ();
    let mut child_errno: i32 = 0;
    let ret: isize;
    let start = Instant::now();
    // SAFETY: see above. Inputs are valid pointers built before the call;
    // rcx and r11 are clobbered by `syscall` and declared so (not as late
    // outputs, so no input is placed in them). The child never leaves the block.
    unsafe {
        std::arch::asm!(
            "syscall",                 // rax = vfork()
            "test rax, rax",
            "jnz 3f",
            "2:",                      // child: r8 walks the NULL-terminated candidates
            "mov rdi, qword ptr [r8]",
            "test rdi, rdi",
            "jz 4f",
            "mov eax, 59",             // execve(rdi, rsi = argv, rdx = envp)
            "syscall",
            "add r8, 8",
            "jmp 2b",
            "4:",
            "neg eax",                 // last execve result -errno -> errno
            "mov dword ptr [r9], eax",
            "mov edi, 127",
            "mov eax, 231",            // exit_group(127)
            "syscall",
            "ud2",
            "3:",
            inlateout("rax") libc::SYS_vfork as isize => ret,
            in("r8") t.candidate_ptrs.as_ptr(),
            in("r9") std::ptr::addr_of_mut!(child_errno),
            in("rsi") t.argv_ptrs.as_ptr(),
            in("rdx") envp,
            out("rdi") _,
            out("rcx") _,
            out("r11") _,
            options(nostack),
        );
    }
    let took = start.elapsed();
    if ret < 0 {
        return Err(LabError::Spawn { method: Method::Vfork, source: std::io::Error::from_raw_os_error(-ret as i32) });
    }
    wait(ret as libc::pid_t, Some(child_errno), t)?;
    Ok(took)
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn vfork_exec(_t: &Target) -> Result<Duration, LabError> {
    Err(LabError::Unsupported("--method vfork is implemented for x86_64 Linux only".into()))
}

fn rust_std(t: &Target) -> Result<Duration, LabError> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::CommandExt;
    let program = std::ffi::OsStr::from_bytes(t.program.as_bytes());
    let start = Instant::now();
    let mut cmd = std::process::Command::new(program);
    if let Some((clear, vars)) = &t.command_env {
        if *clear {
            cmd.env_clear();
        }
        cmd.envs(vars.iter().map(|(k, v)| (k, v)));
    }
    if t.pre_exec {
        // SAFETY: the closure does nothing, which is async-signal-safe. Its only
        // purpose is to force std's fork+exec path.
        unsafe { cmd.pre_exec(|| Ok(())) };
    }
    let spawned = cmd.spawn();
    let took = start.elapsed();
    let mut child = spawned.map_err(|source| LabError::Spawn { method: Method::RustStd, source })?;
    let status = child.wait().map_err(|source| LabError::Spawn { method: Method::RustStd, source })?;
    if !status.success() {
        return Err(LabError::ChildFailed { pid: child.id() as i32, program: name(t), status: status.to_string() });
    }
    Ok(took)
}

fn name(t: &Target) -> String {
    t.program.to_string_lossy().into_owned()
}

/// Reaps `pid`; a child that did not exit 0 is an error (127: no exec worked).
fn wait(pid: libc::pid_t, child_errno: Option<i32>, t: &Target) -> Result<(), LabError> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid on our own child with a valid status pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(LabError::ChildFailed { pid, program: name(t), status: format!("waitpid failed: {e}") });
        }
    }
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        return Ok(());
    }
    let status = if libc::WIFEXITED(status) {
        let code = libc::WEXITSTATUS(status);
        match child_errno {
            Some(e) if code == 127 && e != 0 => {
                format!("exit status 127 (exec failed: {})", std::io::Error::from_raw_os_error(e))
            }
            _ if code == 127 => "exit status 127 (exec failed)".to_string(),
            _ => format!("exit status {code}"),
        }
    } else if libc::WIFSIGNALED(status) {
        format!("killed by signal {}", libc::WTERMSIG(status))
    } else {
        format!("wait status {status:#x}")
    };
    Err(LabError::ChildFailed { pid, program: name(t), status })
}
