//! The RSS ballast: resident anonymous memory that a fork must copy the page
//! tables of, and the process's memory figures from /proc.

use crate::LabError;

/// Resident, private, anonymous memory, unmapped on drop.
#[derive(Debug)]
pub struct Ballast {
    ptr: *mut libc::c_void,
    len: usize,
}

// SAFETY: the mapping is owned and never accessed after construction.
unsafe impl Send for Ballast {}
unsafe impl Sync for Ballast {}

impl Ballast {
    /// Maps `bytes` of anonymous memory and writes one byte per 4 KiB page so
    /// every page is resident. Transparent huge pages are refused
    /// (MADV_NOHUGEPAGE) so the page tables are those of 4 KiB pages, as with
    /// ordinary heap memory under the common THP=madvise setting; with huge
    /// pages a fork would copy 512 times fewer entries.
    pub fn new(bytes: u64) -> Result<Ballast, LabError> {
        let len = usize::try_from(bytes).map_err(|_| LabError::InvalidArgument(format!("--rss {bytes} too large")))?;
        if len == 0 {
            return Ok(Ballast { ptr: std::ptr::null_mut(), len: 0 });
        }
        // Touching more than is available would summon the OOM killer.
        if let Some(avail) = available_memory() {
            if bytes > avail / 10 * 9 {
                return Err(LabError::InvalidArgument(format!(
                    "--rss {} is more than 90% of the available memory ({})",
                    spawnscope_units::bytes(bytes),
                    spawnscope_units::bytes(avail)
                )));
            }
        }
        // SAFETY: a fresh private anonymous mapping, checked for failure.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(LabError::Ballast { bytes, source: std::io::Error::last_os_error() });
        }
        // SAFETY: advice on our own mapping; failure only means THP may be used.
        unsafe { libc::madvise(ptr, len, libc::MADV_NOHUGEPAGE) };
        let base = ptr.cast::<u8>();
        let mut off = 0;
        while off < len {
            // SAFETY: in bounds of the mapping.
            unsafe { base.add(off).write_volatile(1) };
            off += 4096;
        }
        Ok(Ballast { ptr, len })
    }

    /// Size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the ballast is empty (`--rss 0`).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for Ballast {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: unmapping exactly the mapping we created.
            unsafe { libc::munmap(self.ptr, self.len) };
        }
    }
}

/// MemAvailable from /proc/meminfo in bytes (None when unreadable).
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    status_kib(&text, "MemAvailable:")
}

/// VmRSS and VmPTE of this process in bytes, from /proc/self/status.
pub fn self_memory() -> (Option<u64>, Option<u64>) {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    (status_kib(&text, "VmRSS:"), status_kib(&text, "VmPTE:"))
}

fn status_kib(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kib: u64 = line[key.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_status() {
        let t = "Name:\tx\nVmRSS:\t  1024 kB\nVmPTE:\t      12 kB\n";
        assert_eq!(status_kib(t, "VmRSS:"), Some(1 << 20));
        assert_eq!(status_kib(t, "VmPTE:"), Some(12 * 1024));
        assert_eq!(status_kib(t, "VmSwap:"), None);
    }

    #[test]
    fn ballast_is_resident() {
        let (before, _) = self_memory();
        let b = Ballast::new(64 << 20).unwrap();
        let (after, pte) = self_memory();
        assert_eq!(b.len(), 64 << 20);
        // Other test threads allocate too; the ballast alone adds 64 MiB.
        assert!(after.unwrap() >= before.unwrap() + (60 << 20), "{before:?} -> {after:?}");
        assert!(pte.unwrap() >= 100 * 1024, "page tables of 64 MiB of 4 KiB pages: {pte:?}");
    }
}
