//! The walk: registers and stack bytes of a stopped thread in, return
//! addresses out. `framehop` does the unwinding over `.eh_frame` (with
//! `.eh_frame_hdr`) or `.debug_frame`, falling back to frame pointers where a
//! module has no table (and in anonymous/JIT code). This file adds what a
//! syscall stop needs on top:
//!
//! - Frame 0 is a `syscall` instruction, often in hand-written assembly
//!   whose unwind entry does not cover it: glibc >= 2.34's `clone3` (and
//!   `clone`) end their FDE *before* the `syscall` (`cfi_endproc`, because
//!   the child runs on a new stack), musl has no tables at all. Where no FDE
//!   covers the stop address, the function has pushed nothing: the return
//!   address is at `[rsp]`.
//! - glibc's and musl's `vfork` and Go's `rawVforkSyscall` pop their return
//!   address into a register before the call (the child would overwrite the
//!   stack slot) and push it back right after: the instruction after the
//!   `syscall` is `push %rdi` / `push %rdx` / `push %r12`, and that register
//!   holds the return address.
//! - Every return address must follow a `call` instruction; an address that
//!   does not ends the walk instead of producing a wrong frame (a frame
//!   pointer walk through code built without frame pointers reads garbage).

use std::ops::Range;
use std::sync::Arc;

use framehop::x86_64::{CacheX86_64, UnwindRegsX86_64, UnwinderX86_64};
use framehop::{FrameAddress, Unwinder};
use spawnscope_format::{StackEnd, UnwindTables};

use super::module::{ModuleFile, SectionBytes};
use crate::ptrace::Tid;

/// Bytes of stack read at the stop (one process_vm_readv).
pub(crate) const STACK_READ: usize = 16 * 1024;
/// Most stack bytes a walk may read in all (deep interpreter stacks).
const STACK_MAX: usize = 512 * 1024;

/// The registers a walk needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Regs {
    pub ip: u64,
    pub sp: u64,
    pub bp: u64,
    pub rdi: u64,
    pub rdx: u64,
    pub r12: u64,
}

/// PTRACE_GETREGS (ptrace(2)): the registers of a stopped thread.
#[cfg(target_arch = "x86_64")]
pub(crate) fn get_regs(tid: Tid) -> Result<Regs, nix::errno::Errno> {
    // SAFETY: user_regs_struct is plain integers; zeroed is valid.
    let mut r: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    // SAFETY: PTRACE_GETREGS writes one user_regs_struct to the pointer.
    let ret = unsafe {
        libc::ptrace(libc::PTRACE_GETREGS, tid, std::ptr::null_mut::<libc::c_void>(), &mut r as *mut libc::user_regs_struct)
    };
    if ret < 0 {
        return Err(nix::errno::Errno::last());
    }
    Ok(Regs { ip: r.rip, sp: r.rsp, bp: r.rbp, rdi: r.rdi, rdx: r.rdx, r12: r.r12 })
}

#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn get_regs(_tid: Tid) -> Result<Regs, nix::errno::Errno> {
    Err(nix::errno::Errno::ENOSYS)
}

/// What code lives in a region.
#[derive(Debug, Clone)]
pub(crate) enum Code {
    File(Arc<ModuleFile>),
    /// A file we could not open or parse (walked by frame pointer).
    Opaque(String),
    Vdso,
    /// Anonymous executable memory: JIT code.
    Jit,
}

/// One executable mapping of the process.
#[derive(Debug, Clone)]
pub(crate) struct Region {
    pub start: u64,
    pub end: u64,
    /// File offset of `start`.
    pub offset: u64,
    pub dev: (u32, u32),
    pub inode: u64,
    pub code: Code,
}

impl Region {
    pub fn file_offset(&self, addr: u64) -> u64 {
        addr - self.start + self.offset
    }

    fn tables(&self) -> UnwindTables {
        match &self.code {
            Code::File(f) => f.unwind,
            _ => UnwindTables::None,
        }
    }
}

/// Stack memory of the stopped thread: 16 KiB read at the stop, more on
/// demand up to [`STACK_MAX`].
#[derive(Debug)]
pub(crate) struct StackMem {
    tid: Tid,
    base: u64,
    buf: Vec<u8>,
    /// The read ran into the end of the mapping: nothing more to fetch.
    exhausted: bool,
    pub reads: u32,
}

impl StackMem {
    pub fn read(tid: Tid, sp: u64) -> StackMem {
        let mut m = StackMem { tid, base: sp, buf: Vec::new(), exhausted: false, reads: 0 };
        m.grow(STACK_READ);
        m
    }

    fn grow(&mut self, want: usize) {
        let want = want.min(STACK_MAX);
        if self.exhausted || want <= self.buf.len() {
            return;
        }
        let have = self.buf.len();
        self.buf.resize(want, 0);
        self.reads += 1;
        let n = crate::ptrace::vm_read(self.tid, self.base + have as u64, &mut self.buf[have..]).unwrap_or(0);
        if have + n < want {
            self.exhausted = true;
        }
        self.buf.truncate(have + n);
    }

    pub fn word(&mut self, addr: u64) -> Result<u64, ()> {
        let off = addr.checked_sub(self.base).ok_or(())? as usize;
        if off + 8 > self.buf.len() {
            self.grow((off + 8).next_multiple_of(STACK_READ));
        }
        let b = self.buf.get(off..off + 8).ok_or(())?;
        Ok(u64::from_le_bytes(b.try_into().map_err(|_| ())?))
    }
}

/// The unwinder of one process (its address space).
pub(crate) struct ProcessUnwind {
    pub regions: Vec<Region>,
    unwinder: UnwinderX86_64<SectionBytes>,
    cache: CacheX86_64,
}

impl std::fmt::Debug for ProcessUnwind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessUnwind").field("regions", &self.regions.len()).finish()
    }
}

/// Outcome of a walk: addresses innermost first, and why it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Walk {
    pub frames: Vec<u64>,
    pub end: StackEnd,
    /// The walk reached an address outside every known region: the caller
    /// re-reads the maps (dlopen) and walks again once.
    pub unknown_address: bool,
    /// A JIT region was walked by frame pointer.
    pub jit: bool,
}

impl ProcessUnwind {
    pub fn new(regions: Vec<Region>) -> ProcessUnwind {
        let mut unwinder = UnwinderX86_64::new();
        for r in &regions {
            if let Code::File(f) = &r.code {
                let bias = f.bias(r.start, r.offset);
                unwinder.add_module(f.unwind_module(r.start..r.end, bias));
            }
        }
        ProcessUnwind { regions, unwinder, cache: CacheX86_64::new() }
    }

    pub fn region(&self, addr: u64) -> Option<&Region> {
        let i = self.regions.partition_point(|r| r.start <= addr);
        let r = self.regions.get(i.checked_sub(1)?)?;
        (addr < r.end).then_some(r)
    }

    /// Code bytes `range` around `addr` (relative to it), from the file or
    /// (JIT) from tracee memory.
    fn code(&self, tid: Tid, addr: u64, range: Range<i64>) -> Option<Vec<u8>> {
        let r = self.region(addr)?;
        let start = addr.checked_add_signed(range.start)?;
        let len = (range.end - range.start) as usize;
        if start < r.start || start + len as u64 > r.end {
            return None;
        }
        match &r.code {
            Code::File(f) => f.bytes_at(r.file_offset(start), len).map(<[u8]>::to_vec),
            _ => {
                let mut b = vec![0; len];
                (crate::ptrace::vm_read(tid, start, &mut b).ok()? == len).then_some(b)
            }
        }
    }

    /// Whether the instruction before `ra` is a call (x86_64: `e8 rel32`, or
    /// `ff /2` with an optional REX prefix, 2 to 7 bytes long).
    fn after_call(&self, tid: Tid, ra: u64) -> bool {
        let Some(b) = self.code(tid, ra, -7..0) else { return false };
        if b[2] == 0xe8 {
            return true;
        }
        (2..=7usize).any(|len| {
            let i = 7 - len;
            let modrm_is_call = |m: u8| (m >> 3) & 7 == 2;
            let plain = b[i] == 0xff && modrm_is_call(b[i + 1]);
            let rex = len >= 3 && (0x40..=0x4f).contains(&b[i]) && b[i + 1] == 0xff && modrm_is_call(b[i + 2]);
            plain || rex
        })
    }

    /// Walks the stack of the stopped thread `tid` (at a syscall stop) up to
    /// `max_depth` frames.
    pub fn walk(&mut self, tid: Tid, regs: &Regs, mem: &mut StackMem, max_depth: usize) -> Walk {
        let mut w = Walk { frames: Vec::new(), end: StackEnd::Unknown, unknown_address: false, jit: false };
        if max_depth == 0 {
            w.end = StackEnd::DepthLimit;
            return w;
        }
        let Some(r0) = self.region(regs.ip).cloned() else {
            w.unknown_address = true;
            w.end = StackEnd::Unmapped;
            return w;
        };
        w.frames.push(regs.ip);
        w.jit |= matches!(r0.code, Code::Jit);
        let mut fr = UnwindRegsX86_64::new(regs.ip, regs.sp, regs.bp);
        let mut read = |a: u64| mem.word(a);

        // Frame 0: the syscall instruction just executed (ip is past it).
        let pushed = self.code(tid, regs.ip, 0..2).and_then(|c| match c[..] {
            [0x57, _] => Some(regs.rdi),
            [0x52, _] => Some(regs.rdx),
            [0x41, 0x54] => Some(regs.r12),
            _ => None,
        });
        let mut next: Option<u64> = None;
        if let Some(ra) = pushed.filter(|&ra| self.region(ra).is_some() && self.after_call(tid, ra)) {
            // vfork-style: the return address was popped into a register;
            // the stack pointer is already the caller's.
            next = Some(ra);
            fr.set_ip(ra);
        } else {
            if !covered(&r0, regs.ip) {
                // Assembly outside any FDE (glibc clone3/clone, musl __clone):
                // nothing pushed, the return address is at [rsp].
                if let Ok(ra) = read(regs.sp) {
                    if self.region(ra).is_some() && self.after_call(tid, ra) {
                        next = Some(ra);
                        fr.set_ip(ra);
                        fr.set_sp(regs.sp + 8);
                    }
                }
            }
            if next.is_none() {
                match self.unwinder.unwind_frame(
                    FrameAddress::from_instruction_pointer(regs.ip),
                    &mut fr,
                    &mut self.cache,
                    &mut read,
                ) {
                    Ok(Some(ra)) => {
                        next = Some(ra);
                        fr.set_ip(ra);
                    }
                    Ok(None) => {
                        w.end = StackEnd::Complete;
                        return w;
                    }
                    Err(e) => {
                        w.end = end_of(e, r0.tables());
                        return w;
                    }
                }
            }
        }

        // Whether the step from the previous frame used an unwind entry
        // (false: frame pointers, a guess in code built without them).
        let mut prev_tables = if covered(&r0, regs.ip) { r0.tables() } else { UnwindTables::None };
        while let Some(ra) = next {
            if ra == 0 {
                w.end = StackEnd::Complete;
                return w;
            }
            if w.frames.len() >= max_depth {
                w.end = StackEnd::DepthLimit;
                return w;
            }
            let Some(r) = self.region(ra).cloned() else {
                // An unwind entry led here: code mapped since the maps were
                // read (dlopen). A frame-pointer guess leading nowhere is not.
                w.unknown_address = prev_tables != UnwindTables::None;
                w.end = if prev_tables == UnwindTables::None { StackEnd::NoUnwindInfo } else { StackEnd::Unmapped };
                return w;
            };
            let jit = matches!(r.code, Code::Jit);
            if !jit && !self.after_call(tid, ra) {
                // Not a return address: the previous step guessed (frame
                // pointers through code built without them).
                w.end = if prev_tables == UnwindTables::None { StackEnd::NoUnwindInfo } else { StackEnd::Unknown };
                return w;
            }
            w.jit |= jit;
            w.frames.push(ra);
            prev_tables = if covered(&r, ra - 1) { r.tables() } else { UnwindTables::None };
            let Some(addr) = FrameAddress::from_return_address(ra) else { break };
            match self.unwinder.unwind_frame(addr, &mut fr, &mut self.cache, &mut read) {
                Ok(Some(n)) => {
                    fr.set_ip(n);
                    next = Some(n);
                }
                Ok(None) if prev_tables == UnwindTables::None => {
                    // A frame pointer chain through code without unwind
                    // entries ended: where the real stack goes is unknown.
                    w.end = StackEnd::NoUnwindInfo;
                    return w;
                }
                Ok(None) => next = None,
                Err(e) => {
                    w.end = end_of(e, prev_tables);
                    return w;
                }
            }
        }
        w.end = StackEnd::Complete;
        w
    }
}

/// Whether an unwind entry covers `addr` (a lookup address) in its region.
fn covered(r: &Region, addr: u64) -> bool {
    match &r.code {
        Code::File(f) => match f.unwind {
            UnwindTables::EhFrame => f.has_fde(addr.wrapping_sub(f.bias(r.start, r.offset))).unwrap_or(true),
            UnwindTables::DebugFrame => true,
            _ => false,
        },
        _ => false,
    }
}

fn end_of(e: framehop::Error, tables: UnwindTables) -> StackEnd {
    match e {
        framehop::Error::CouldNotReadStack(_) => StackEnd::StackRead,
        // A frame pointer guess through code without unwind entries.
        _ if tables == UnwindTables::None => StackEnd::NoUnwindInfo,
        framehop::Error::ReturnAddressIsNull => StackEnd::Complete,
        // A frame pointer chain ending in 0 or looping: the outermost frame.
        framehop::Error::FramepointerUnwindingMovedBackwards | framehop::Error::DidNotAdvance => StackEnd::Complete,
        _ => StackEnd::Unknown,
    }
}
