//! One executable file (ELF) as the unwinder needs it: its unwind sections,
//! load segments, build id and what it lacks (symbols, unwind tables, line
//! tables). Parsed once per file with `object` over a `memmap2` mapping and
//! shared by every process that maps it.

use std::fs::File;
use std::ops::{Deref, Range};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use object::{Object, ObjectSection, ObjectSegment, SegmentFlags};
use spawnscope_format::UnwindTables;

/// Bytes of one section: a slice of the file mapping, or an owned copy when
/// the section was compressed. Cheap to clone (an `Arc`).
#[derive(Clone)]
pub(crate) enum SectionBytes {
    Map { map: Arc<memmap2::Mmap>, range: Range<usize> },
    Owned(Arc<Vec<u8>>),
}

impl Default for SectionBytes {
    fn default() -> Self {
        SectionBytes::Owned(Arc::new(Vec::new()))
    }
}

impl std::fmt::Debug for SectionBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SectionBytes({} bytes)", self.len())
    }
}

impl Deref for SectionBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            SectionBytes::Map { map, range } => &map[range.clone()],
            SectionBytes::Owned(v) => v,
        }
    }
}

/// A section's stated address range and its bytes.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    pub svma: Range<u64>,
    pub bytes: SectionBytes,
}

/// A PT_LOAD segment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Load {
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub exec: bool,
}

/// A parsed ELF file.
#[derive(Debug)]
pub(crate) struct ModuleFile {
    /// The path as /proc/PID/maps names it.
    pub path: String,
    /// A path this process can open the same file by (for the symbolizer):
    /// the original path when it is still that file, else `/proc/self/fd/N`
    /// of `_file`, which stays valid for a deleted or foreign-root binary.
    pub open_path: PathBuf,
    _file: File,
    map: Arc<memmap2::Mmap>,
    pub build_id: Option<String>,
    pub stripped: bool,
    pub unwind: UnwindTables,
    pub debug_lines: bool,
    /// The rustc that built it (`.comment`), for Rust binaries.
    pub rustc: Option<String>,
    pub loads: Vec<Load>,
    pub text: Option<Range<u64>>,
    pub got: Option<Range<u64>>,
    pub eh_frame: Option<Section>,
    pub eh_frame_hdr: Option<Section>,
    pub debug_frame: Option<Section>,
}

impl ModuleFile {
    /// Opens and parses `candidates` in order (map_files, the process's root,
    /// the plain path); `path` is the name to record.
    pub(crate) fn open(path: &str, candidates: &[PathBuf]) -> Option<ModuleFile> {
        let (file, opened) = candidates.iter().find_map(|p| File::open(p).ok().map(|f| (f, p.clone())))?;
        // SAFETY: the mapping is read-only and private. A file truncated
        // while mapped could fault on access (SIGBUS); executables and
        // libraries in use are not truncated in place (the kernel refuses
        // writes to a running executable with ETXTBSY, and package managers
        // replace files by rename).
        let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
        let map = Arc::new(map);
        let obj = object::File::parse(&map[..]).ok()?;
        if obj.format() != object::BinaryFormat::Elf {
            return None;
        }
        let section = |name: &str| -> Option<Section> {
            let s = obj.section_by_name(name)?;
            let svma = s.address()..s.address() + s.size();
            let bytes = match s.compressed_file_range().ok()? {
                r if r.format == object::CompressionFormat::None => {
                    let (off, len) = s.file_range()?;
                    SectionBytes::Map { map: Arc::clone(&map), range: off as usize..(off + len) as usize }
                }
                _ => SectionBytes::Owned(Arc::new(s.uncompressed_data().ok()?.into_owned())),
            };
            Some(Section { svma, bytes })
        };
        let eh_frame = section(".eh_frame").filter(|s| !s.bytes.is_empty());
        let eh_frame_hdr = section(".eh_frame_hdr").filter(|s| !s.bytes.is_empty());
        let debug_frame = section(".debug_frame").filter(|s| !s.bytes.is_empty());
        let unwind = match (&eh_frame, &debug_frame) {
            (Some(_), _) => UnwindTables::EhFrame,
            (None, Some(_)) => UnwindTables::DebugFrame,
            (None, None) => UnwindTables::None,
        };
        let loads = obj
            .segments()
            .map(|seg| {
                let (offset, filesz) = seg.file_range();
                let exec = matches!(seg.flags(), SegmentFlags::Elf { p_flags } if p_flags & object::elf::PF_X != 0);
                Load { offset, vaddr: seg.address(), filesz, exec }
            })
            .collect();
        let build_id = obj.build_id().ok().flatten().map(hex);
        let stripped = obj.section_by_name(".symtab").is_none();
        let debug_lines = obj.section_by_name(".debug_line").is_some() || obj.section_by_name(".zdebug_line").is_some();
        let rustc = crate::exe_info::rustc_of(&obj);
        let range = |name: &str| obj.section_by_name(name).map(|s| s.address()..s.address() + s.size());
        let text = range(".text");
        let got = range(".got");
        let eh_frame_svma = eh_frame.clone();
        drop(obj);
        let open_path = if same_file(&file, Path::new(path)) { PathBuf::from(path) } else { fd_path(&file).unwrap_or(opened) };
        Some(ModuleFile {
            path: path.to_string(),
            open_path,
            _file: file,
            map,
            build_id,
            stripped,
            unwind,
            debug_lines,
            rustc,
            loads,
            text,
            got,
            eh_frame: eh_frame_svma,
            eh_frame_hdr,
            debug_frame,
        })
    }

    /// The load bias of a mapping of this file at `start` with file offset
    /// `offset`: the address minus the stated (ELF) address.
    pub(crate) fn bias(&self, start: u64, offset: u64) -> u64 {
        let seg = self
            .loads
            .iter()
            .find(|l| l.exec && offset >= l.offset & !0xfff && offset < l.offset + l.filesz)
            .or_else(|| self.loads.iter().find(|l| offset >= l.offset & !0xfff && offset < l.offset + l.filesz));
        match seg {
            Some(l) => start.wrapping_sub(offset.wrapping_add(l.vaddr.wrapping_sub(l.offset))),
            None => start.wrapping_sub(offset),
        }
    }

    /// `len` bytes of the file at `offset` (code bytes for instruction checks).
    pub(crate) fn bytes_at(&self, offset: u64, len: usize) -> Option<&[u8]> {
        let start = usize::try_from(offset).ok()?;
        self.map.get(start..start.checked_add(len)?)
    }

    /// Whether `.eh_frame_hdr`/`.eh_frame` have an FDE covering the stated
    /// address `svma`: None when there is no usable table to ask.
    pub(crate) fn has_fde(&self, svma: u64) -> Option<bool> {
        use gimli::{BaseAddresses, EhFrame, EhFrameHdr, LittleEndian, UnwindSection};
        let eh = self.eh_frame.as_ref()?;
        let mut bases = BaseAddresses::default().set_eh_frame(eh.svma.start);
        if let Some(t) = &self.text {
            bases = bases.set_text(t.start);
        }
        if let Some(g) = &self.got {
            bases = bases.set_got(g.start);
        }
        let eh_frame = EhFrame::new(&eh.bytes[..], LittleEndian);
        if let Some(hdr) = &self.eh_frame_hdr {
            let bases = bases.clone().set_eh_frame_hdr(hdr.svma.start);
            if let Some(table) = EhFrameHdr::new(&hdr.bytes[..], LittleEndian)
                .parse(&bases, 8)
                .ok()
                .and_then(|p| p.table().map(|t| t.fde_for_address(&eh_frame, &bases, svma, EhFrame::cie_from_offset).is_ok()))
            {
                return Some(table);
            }
        }
        // No search table: scan the FDEs (small files: static and musl binaries).
        Some(eh_frame.fde_for_address(&bases, svma, EhFrame::cie_from_offset).is_ok())
    }

    /// The framehop module for a mapping of this file.
    pub(crate) fn unwind_module(&self, avma: Range<u64>, bias: u64) -> framehop::Module<SectionBytes> {
        let info = framehop::ExplicitModuleSectionInfo {
            base_svma: 0,
            text_svma: self.text.clone(),
            got_svma: self.got.clone(),
            eh_frame_svma: self.eh_frame.as_ref().map(|s| s.svma.clone()),
            eh_frame: self.eh_frame.as_ref().map(|s| s.bytes.clone()),
            eh_frame_hdr_svma: self.eh_frame_hdr.as_ref().map(|s| s.svma.clone()),
            eh_frame_hdr: self.eh_frame_hdr.as_ref().map(|s| s.bytes.clone()),
            debug_frame: self.debug_frame.as_ref().map(|s| s.bytes.clone()),
            ..Default::default()
        };
        framehop::Module::new(self.path.clone(), avma, bias, info)
    }
}

fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// Whether `path` names the open file `f` (same device and inode).
fn same_file(f: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// `/proc/self/fd/N` for an open file.
fn fd_path(f: &File) -> Option<PathBuf> {
    use std::os::fd::AsRawFd;
    let p = PathBuf::from(format!("/proc/self/fd/{}", f.as_raw_fd()));
    Path::new(&p).exists().then_some(p)
}
