//! Bounded reads of tracee memory. A [`MemReader`] lives for one stop and
//! caches the pages it has read, so walking an argv/envp of hundreds of
//! strings costs a handful of process_vm_readv calls, not one per string.
//! Falls back to PTRACE_PEEKDATA where process_vm_readv is refused.
//!
//! Every read is bounded by the caller's limits: a hostile or huge argv never
//! grows the tracer's memory beyond them.

use nix::errno::Errno;
use spawnscope_format::{EnvSummary, MAX_ARGS, MAX_ENV_COUNT, MAX_STRING};

use crate::ptrace::{self, Tid};

const PAGE: u64 = 4096;
/// Pages fetched per process_vm_readv call.
const WINDOW_PAGES: u64 = 4;
/// Cached windows per reader.
const MAX_WINDOWS: usize = 16;
/// Longest environment string walked for the summary (the kernel's own
/// limit, MAX_ARG_STRLEN, is 128 KiB).
const MAX_ENV_STRING: usize = 256 * 1024;

/// Reader of one tracee's memory during one stop.
#[derive(Debug)]
pub struct MemReader {
    tid: Tid,
    /// (window start, bytes valid)
    windows: Vec<(u64, Vec<u8>)>,
    use_peek: bool,
}

/// A string read from the tracee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceeString {
    pub bytes: Vec<u8>,
    /// The string was longer than the limit.
    pub truncated: bool,
}

impl MemReader {
    pub fn new(tid: Tid) -> MemReader {
        MemReader { tid, windows: Vec::new(), use_peek: false }
    }

    /// Bytes available at `addr` (from the window containing it), at least 1,
    /// or an error (EFAULT for unmapped, ESRCH when the tracee is gone).
    fn chunk(&mut self, addr: u64) -> Result<&[u8], Errno> {
        if addr == 0 {
            return Err(Errno::EFAULT);
        }
        let idx = match self.windows.iter().position(|(s, b)| addr >= *s && addr < s + b.len() as u64) {
            Some(i) => i,
            None => {
                let start = addr & !(PAGE - 1);
                let data = self.fetch(start)?;
                if data.is_empty() || addr >= start + data.len() as u64 {
                    return Err(Errno::EFAULT);
                }
                if self.windows.len() == MAX_WINDOWS {
                    self.windows.remove(0);
                }
                self.windows.push((start, data));
                self.windows.len() - 1
            }
        };
        let (s, b) = &self.windows[idx];
        Ok(&b[(addr - s) as usize..])
    }

    fn fetch(&mut self, start: u64) -> Result<Vec<u8>, Errno> {
        if !self.use_peek {
            let mut buf = vec![0u8; (PAGE * WINDOW_PAGES) as usize];
            match ptrace::vm_read(self.tid, start, &mut buf) {
                Ok(n) => {
                    buf.truncate(n);
                    return Ok(buf);
                }
                // Kernels without CONFIG_CROSS_MEMORY_ATTACH, or refused.
                Err(Errno::ENOSYS) | Err(Errno::EPERM) => self.use_peek = true,
                Err(e) => return Err(e),
            }
        }
        // One page word by word.
        let mut buf = Vec::with_capacity(PAGE as usize);
        let mut a = start;
        while a < start + PAGE {
            match ptrace::peek_data(self.tid, a) {
                Ok(w) => buf.extend_from_slice(&w.to_ne_bytes()),
                Err(e) if buf.is_empty() => return Err(e),
                Err(_) => break,
            }
            a += 8;
        }
        Ok(buf)
    }

    /// Reads `N` bytes at `addr`.
    pub fn read_bytes<const N: usize>(&mut self, addr: u64) -> Result<[u8; N], Errno> {
        let mut out = [0u8; N];
        let mut done = 0;
        while done < N {
            let c = self.chunk(addr + done as u64)?;
            let n = c.len().min(N - done);
            out[done..done + n].copy_from_slice(&c[..n]);
            done += n;
        }
        Ok(out)
    }

    /// Reads a pointer-sized word.
    pub fn read_word(&mut self, addr: u64) -> Result<u64, Errno> {
        Ok(u64::from_ne_bytes(self.read_bytes::<8>(addr)?))
    }

    /// Reads up to `len` bytes into a vector (stops early at unmapped memory
    /// only if nothing could be read).
    pub fn read_vec(&mut self, addr: u64, len: usize) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let c = match self.chunk(addr + out.len() as u64) {
                Ok(c) => c,
                Err(e) if out.is_empty() => return Err(e),
                Err(_) => break,
            };
            let n = c.len().min(len - out.len());
            out.extend_from_slice(&c[..n]);
        }
        Ok(out)
    }

    /// Reads a NUL-terminated string of at most `max` bytes.
    pub fn read_cstring(&mut self, addr: u64, max: usize) -> Result<TraceeString, Errno> {
        let mut bytes = Vec::new();
        loop {
            let c = self.chunk(addr + bytes.len() as u64)?;
            let room = max - bytes.len();
            match c.iter().position(|&b| b == 0) {
                Some(z) if z <= room => {
                    bytes.extend_from_slice(&c[..z]);
                    return Ok(TraceeString { bytes, truncated: false });
                }
                _ if c.len() >= room => {
                    bytes.extend_from_slice(&c[..room]);
                    return Ok(TraceeString { bytes, truncated: true });
                }
                _ => {
                    let n = c.len();
                    bytes.extend_from_slice(&c[..n]);
                }
            }
        }
    }

    /// Length of the NUL-terminated string at `addr` and a callback over its
    /// bytes, without keeping it (for environment summaries). Bounded by `max`.
    fn scan_cstring(&mut self, addr: u64, max: usize, buf: &mut Vec<u8>) -> Result<bool, Errno> {
        buf.clear();
        let s = self.read_cstring(addr, max)?;
        buf.extend_from_slice(&s.bytes);
        Ok(s.truncated)
    }

    /// Reads the NULL-terminated pointer array at `addr`, at most `max`
    /// entries; the bool says whether it went on past `max`.
    pub fn read_ptr_array(&mut self, addr: u64, max: usize) -> Result<(Vec<u64>, bool), Errno> {
        let mut out = Vec::new();
        if addr == 0 {
            return Ok((out, false));
        }
        loop {
            let p = self.read_word(addr + 8 * out.len() as u64)?;
            if p == 0 {
                return Ok((out, false));
            }
            if out.len() == max {
                return Ok((out, true));
            }
            out.push(p);
        }
    }

    /// argv: at most [`MAX_ARGS`] strings of [`MAX_STRING`] bytes, lossily
    /// decoded; the bool says whether anything was cut.
    pub fn read_argv(&mut self, addr: u64) -> Result<(Vec<String>, bool), Errno> {
        let (ptrs, mut truncated) = self.read_ptr_array(addr, MAX_ARGS)?;
        let mut argv = Vec::with_capacity(ptrs.len());
        for p in ptrs {
            let s = self.read_cstring(p, MAX_STRING)?;
            truncated |= s.truncated;
            argv.push(String::from_utf8_lossy(&s.bytes).into_owned());
        }
        Ok((argv, truncated))
    }

    /// Walks envp: count, bytes and hash of at most [`MAX_ENV_COUNT`]
    /// strings, and the values themselves when `capture`.
    pub fn read_env(&mut self, addr: u64, capture: bool) -> Result<(EnvSummary, Option<Vec<String>>), Errno> {
        let mut sum = EnvSummary::new();
        let mut values = capture.then(Vec::new);
        if addr == 0 {
            return Ok((sum, values));
        }
        let mut buf = Vec::new();
        for i in 0..MAX_ENV_COUNT as u64 {
            let p = self.read_word(addr + 8 * i)?;
            if p == 0 {
                break;
            }
            self.scan_cstring(p, MAX_ENV_STRING, &mut buf)?;
            sum.add(&buf);
            if let Some(v) = values.as_mut() {
                let cut = &buf[..buf.len().min(MAX_STRING)];
                v.push(String::from_utf8_lossy(cut).into_owned());
            }
        }
        Ok((sum, values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reading our own memory through process_vm_readv exercises the paging.
    #[test]
    fn reads_own_strings_and_arrays() {
        let me = std::process::id() as Tid;
        let s1 = b"hello\0".to_vec();
        let long = vec![b'x'; 10_000].into_iter().chain([0]).collect::<Vec<u8>>();
        let ptrs: Vec<u64> = vec![s1.as_ptr() as u64, long.as_ptr() as u64, 0];
        let mut r = MemReader::new(me);
        let (argv, cut) = r.read_argv(ptrs.as_ptr() as u64).unwrap();
        assert_eq!(argv[0], "hello");
        assert_eq!(argv[1].len(), MAX_STRING);
        assert!(cut);
        let (sum, _) = r.read_env(ptrs.as_ptr() as u64, false).unwrap();
        assert_eq!(sum, EnvSummary::of([&b"hello"[..], &long[..10_000]]));
        assert!(r.read_cstring(0, 10).is_err());
    }
}
