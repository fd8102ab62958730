//! Host facts for the trace header: a diff between two machines needs them.

use spawnscope_format::HostFacts;

/// Facts about this machine: hostname, kernel release, glibc version,
/// architecture, CPU count, memory, clone3 availability. Missing facts are
/// None; this never fails.
pub fn host_facts() -> HostFacts {
    let uname = nix::sys::utsname::uname().ok();
    HostFacts {
        hostname: nix::unistd::gethostname().ok().map(|h| h.to_string_lossy().into_owned()),
        kernel_release: uname.as_ref().map(|u| u.release().to_string_lossy().into_owned()),
        glibc_version: glibc_version(),
        arch: Some(std::env::consts::ARCH.to_string()),
        cpus: std::thread::available_parallelism().ok().map(|n| n.get() as u32),
        memory_bytes: mem_total(),
        clone3: Some(has_clone3()),
    }
}

#[cfg(target_env = "gnu")]
fn glibc_version() -> Option<String> {
    extern "C" {
        fn gnu_get_libc_version() -> *const libc::c_char;
    }
    // SAFETY: returns a pointer to a static NUL-terminated string.
    let p = unsafe { gnu_get_libc_version() };
    if p.is_null() {
        return None;
    }
    // SAFETY: non-null, static, NUL-terminated.
    Some(unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

#[cfg(not(target_env = "gnu"))]
fn glibc_version() -> Option<String> {
    None
}

fn mem_total() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Whether the kernel implements clone3: a call with size 0 fails with
/// EINVAL when it exists and ENOSYS when it does not; it never creates a task.
pub fn has_clone3() -> bool {
    // SAFETY: clone3(NULL, 0) is rejected before anything is created.
    let r = unsafe { libc::syscall(435, std::ptr::null_mut::<libc::c_void>(), 0usize) };
    r == -1 && std::io::Error::last_os_error().raw_os_error() != Some(libc::ENOSYS)
}

/// Count and bytes (`KEY=VALUE` plus NUL each) of this process's environment.
pub fn own_env_size() -> (u64, u64) {
    use std::os::unix::ffi::OsStrExt;
    let mut count = 0;
    let mut bytes = 0;
    for (k, v) in std::env::vars_os() {
        count += 1;
        bytes += (k.as_bytes().len() + 1 + v.as_bytes().len() + 1) as u64;
    }
    (count, bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn facts_of_this_machine() {
        let h = super::host_facts();
        assert!(h.kernel_release.is_some());
        assert!(h.cpus.unwrap() >= 1);
        assert!(h.memory_bytes.unwrap() > 0);
        #[cfg(target_env = "gnu")]
        assert!(spawnscope_format::parse_version(h.glibc_version.as_deref().unwrap()).is_some());
    }
}
