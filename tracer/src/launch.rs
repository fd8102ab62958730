//! Starting the target: resolve the program like execvp, prepare everything
//! the child needs (the child of a fork in a multi-threaded process may only
//! make async-signal-safe calls: no allocation), fork, and let the child wait
//! on a pipe until the tracer has seized it.

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use crate::seccomp::Filter;
use crate::{RecordOptions, TargetIo, TraceError};

/// Where the child failed, written to the error pipe with the errno.
pub const STAGE_IO: u8 = 1;
pub const STAGE_CHDIR: u8 = 2;
pub const STAGE_SECCOMP: u8 = 3;
pub const STAGE_EXEC: u8 = 4;

/// Everything the child needs, built before fork.
#[derive(Debug)]
pub struct Prepared {
    pub program: String,
    path: CString,
    _argv: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    /// execvp's fallback for ENOEXEC (a script without `#!`): /bin/sh PATH ARGS...
    sh_path: CString,
    sh_argv_ptrs: Vec<*const libc::c_char>,
    _envp: Vec<CString>,
    envp_ptrs: Vec<*const libc::c_char>,
    cwd: Option<CString>,
    /// (fd to dup2 onto, target fd); owned fds are kept alive here.
    io: Vec<(RawFd, RawFd)>,
    _owned: Vec<OwnedFd>,
    filter: Option<Filter>,
}

fn cstring(b: &[u8]) -> Result<CString, TraceError> {
    CString::new(b).map_err(|_| TraceError::Sys { what: "argument with a NUL byte", errno: crate::Errno(libc::EINVAL) })
}

/// The environment the target gets.
fn target_env(opts: &RecordOptions) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = if opts.env_clear { Vec::new() } else { std::env::vars_os().collect() };
    for (k, v) in &opts.env {
        env.retain(|(ek, _)| ek != k);
        if let Some(v) = v {
            env.push((k.clone(), v.clone()));
        }
    }
    env
}

fn is_executable(p: &Path) -> bool {
    let Ok(c) = CString::new(p.as_os_str().as_bytes()) else { return false };
    // SAFETY: valid C string.
    unsafe { libc::access(c.as_ptr(), libc::X_OK) == 0 }
}

/// Resolves `program` like execvp: a name with a slash is used as is,
/// otherwise PATH is searched (the target's PATH).
pub fn resolve(program: &OsStr, path_var: Option<&OsStr>) -> Result<PathBuf, TraceError> {
    let name = program.to_string_lossy().into_owned();
    let check = |p: &Path| -> Result<bool, TraceError> {
        match std::fs::metadata(p) {
            Ok(m) if m.is_file() && is_executable(p) => Ok(true),
            Ok(_) => Err(TraceError::NotExecutable { program: name.clone() }),
            Err(_) => Ok(false),
        }
    };
    if program.is_empty() {
        return Err(TraceError::NotFound { program: name });
    }
    if program.as_bytes().contains(&b'/') {
        let p = PathBuf::from(program);
        return if check(&p)? { Ok(p) } else { Err(TraceError::NotFound { program: name }) };
    }
    let path_var = path_var.map(|p| p.to_owned()).unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
    let mut denied = false;
    for dir in std::env::split_paths(&path_var) {
        let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
        let cand = dir.join(program);
        match check(&cand) {
            Ok(true) => return Ok(cand),
            Ok(false) => {}
            Err(_) => denied = true,
        }
    }
    if denied {
        Err(TraceError::NotExecutable { program: name })
    } else {
        Err(TraceError::NotFound { program: name })
    }
}

fn open_io(io: &TargetIo, target: RawFd, write: bool, owned: &mut Vec<OwnedFd>) -> Result<Option<RawFd>, TraceError> {
    let path = match io {
        TargetIo::Inherit => return Ok(None),
        TargetIo::Fd(fd) => return Ok(Some(fd.as_raw_fd())),
        TargetIo::Null => Path::new("/dev/null"),
        TargetIo::Path(p) => p.as_path(),
    };
    let mut o = std::fs::OpenOptions::new();
    if write && target != 0 {
        o.write(true).create(true).truncate(true);
    } else {
        o.read(true);
    }
    let f = o.open(path).map_err(|source| TraceError::TargetIo { path: path.display().to_string(), source })?;
    let fd: OwnedFd = f.into();
    let raw = fd.as_raw_fd();
    owned.push(fd);
    Ok(Some(raw))
}

/// Builds everything the child needs.
pub fn prepare(opts: &RecordOptions, seccomp: bool) -> Result<Prepared, TraceError> {
    let program = opts.command.first().ok_or(TraceError::NoCommand)?;
    let env = target_env(opts);
    let path_var = env.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v.as_os_str());
    let resolved = resolve(program, path_var)?;
    let argv: Vec<CString> = opts.command.iter().map(|a| cstring(a.as_bytes())).collect::<Result<_, _>>()?;
    let envp: Vec<CString> = env
        .into_iter()
        .map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend(v.into_vec());
            cstring(&kv)
        })
        .collect::<Result<_, _>>()?;
    let mut argv_ptrs: Vec<_> = argv.iter().map(|c| c.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let path = cstring(resolved.as_os_str().as_bytes())?;
    let sh_path = cstring(b"/bin/sh")?;
    let mut sh_argv_ptrs = vec![sh_path.as_ptr(), path.as_ptr()];
    sh_argv_ptrs.extend(argv.iter().skip(1).map(|c| c.as_ptr()));
    sh_argv_ptrs.push(std::ptr::null());
    let mut envp_ptrs: Vec<_> = envp.iter().map(|c| c.as_ptr()).collect();
    envp_ptrs.push(std::ptr::null());
    let mut owned = Vec::new();
    let mut io = Vec::new();
    for (t, target, write) in [(&opts.stdin, 0, false), (&opts.stdout, 1, true), (&opts.stderr, 2, true)] {
        if let Some(fd) = open_io(t, target, write, &mut owned)? {
            io.push((fd, target));
        }
    }
    Ok(Prepared {
        program: program.to_string_lossy().into_owned(),
        path,
        _argv: argv,
        argv_ptrs,
        sh_path,
        sh_argv_ptrs,
        _envp: envp,
        envp_ptrs,
        cwd: opts.cwd.as_ref().map(|c| cstring(c.as_os_str().as_bytes())).transpose()?,
        io,
        _owned: owned,
        filter: seccomp.then(Filter::new),
    })
}

/// A forked target waiting for [`Child::release`].
#[derive(Debug)]
pub struct Child {
    pub pid: i32,
    sync_wr: Option<OwnedFd>,
    err_rd: OwnedFd,
}

fn pipe() -> Result<(OwnedFd, OwnedFd), TraceError> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid int[2].
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(TraceError::Sys { what: "pipe2", errno: crate::Errno::of(Errno::last()) });
    }
    // SAFETY: fresh descriptors we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Forks the child; it blocks until [`Child::release`].
pub fn fork(p: &Prepared) -> Result<Child, TraceError> {
    let (sync_rd, sync_wr) = pipe()?;
    let (err_rd, err_wr) = pipe()?;
    // SAFETY: the child runs only async-signal-safe code on prepared data.
    match unsafe { libc::fork() } {
        -1 => Err(TraceError::Sys { what: "fork", errno: crate::Errno::of(Errno::last()) }),
        0 => {
            // SAFETY: in the child; see child().
            unsafe { child(p, sync_rd.as_raw_fd(), sync_wr.as_raw_fd(), err_wr.as_raw_fd()) }
        }
        pid => {
            drop(sync_rd);
            drop(err_wr);
            Ok(Child { pid, sync_wr: Some(sync_wr), err_rd })
        }
    }
}

unsafe fn fail(err_wr: RawFd, stage: u8, errno: i32) -> ! {
    let mut msg = [0u8; 5];
    msg[0] = stage;
    msg[1..].copy_from_slice(&errno.to_ne_bytes());
    // SAFETY: write and _exit are async-signal-safe.
    unsafe {
        libc::write(err_wr, msg.as_ptr() as *const libc::c_void, msg.len());
        libc::_exit(if stage == STAGE_EXEC && errno == libc::ENOENT { 127 } else { 126 })
    }
}

fn errno() -> i32 {
    Errno::last_raw()
}

/// The forked child: stdio, wait for the tracer, signals, cwd, seccomp, exec.
unsafe fn child(p: &Prepared, sync_rd: RawFd, sync_wr: RawFd, err_wr: RawFd) -> ! {
    // SAFETY (whole function): only async-signal-safe libc calls on data
    // prepared before fork.
    unsafe {
        libc::close(sync_wr);
        for &(fd, target) in &p.io {
            if fd == target {
                libc::fcntl(fd, libc::F_SETFD, 0);
            } else if libc::dup2(fd, target) < 0 {
                fail(err_wr, STAGE_IO, errno());
            }
        }
        let mut b = 0u8;
        loop {
            let r = libc::read(sync_rd, &mut b as *mut u8 as *mut libc::c_void, 1);
            if r == 1 {
                break;
            }
            if r == -1 && errno() == libc::EINTR {
                continue;
            }
            // The tracer gave up before releasing us.
            libc::_exit(127);
        }
        // As without the tracer: empty signal mask, default SIGPIPE (Rust
        // programs ignore it; the target must not inherit that).
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        if let Some(cwd) = &p.cwd {
            if libc::chdir(cwd.as_ptr()) != 0 {
                fail(err_wr, STAGE_CHDIR, errno());
            }
        }
        if let Some(f) = &p.filter {
            if let Err(e) = f.install() {
                fail(err_wr, STAGE_SECCOMP, e);
            }
        }
        libc::execve(p.path.as_ptr(), p.argv_ptrs.as_ptr(), p.envp_ptrs.as_ptr());
        let e = errno();
        if e == libc::ENOEXEC {
            libc::execve(p.sh_path.as_ptr(), p.sh_argv_ptrs.as_ptr(), p.envp_ptrs.as_ptr());
        }
        fail(err_wr, STAGE_EXEC, e)
    }
}

impl Child {
    /// Lets the child go on to exec.
    pub fn release(&mut self) {
        if let Some(fd) = self.sync_wr.take() {
            // SAFETY: writing one byte from a valid buffer.
            unsafe { libc::write(fd.as_raw_fd(), b"g".as_ptr() as *const libc::c_void, 1) };
        }
    }

    /// Abandons the child before release: it exits at once (127).
    pub fn abandon(&mut self) {
        self.sync_wr = None;
    }

    /// What the child reported before exec, if it failed: (stage, errno).
    /// Call once the child has exec'd or exited (the pipe is then closed).
    pub fn failure(&self) -> Option<(u8, i32)> {
        let mut msg = [0u8; 5];
        // SAFETY: reading into a valid buffer.
        let n = unsafe { libc::read(self.err_rd.as_raw_fd(), msg.as_mut_ptr() as *mut libc::c_void, 5) };
        (n == 5).then(|| (msg[0], i32::from_ne_bytes(msg[1..].try_into().unwrap_or([0; 4]))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_like_execvp() {
        assert!(resolve(OsStr::new("sh"), Some(OsStr::new("/nonexistent:/bin:/usr/bin"))).is_ok());
        assert!(matches!(resolve(OsStr::new("no-such-program-xyz"), None), Err(TraceError::NotFound { .. })));
        assert!(matches!(resolve(OsStr::new("/etc/passwd"), None), Err(TraceError::NotExecutable { .. })));
        assert!(matches!(resolve(OsStr::new("/"), None), Err(TraceError::NotExecutable { .. })));
        assert!(matches!(resolve(OsStr::new("/no/such"), None), Err(TraceError::NotFound { .. })));
    }
}
