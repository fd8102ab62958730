//! Call stacks of spawns (issue 10): capture at the syscall-entry stop,
//! deduplicated `module`/`stack` records, symbolization off the stop.
//!
//! At the entry of every clone/clone3/fork/vfork the calling thread is
//! stopped; [`Stacks::capture`] reads its registers (PTRACE_GETREGS) and
//! 16 KiB of its stack (one process_vm_readv) and walks it ([`unwind`]).
//! Unwind state is built only for processes that spawn: their executable
//! mappings from `/proc/PID/maps`, each file opened once through
//! `/proc/PID/map_files` (or `/proc/PID/root`, so deleted and containerised
//! binaries work) and parsed once per recording, shared by every process
//! that maps it. A walk that reaches an unknown address re-reads the maps
//! once (dlopen). Frames are stored raw, as file offsets; new addresses go
//! to the background [`symbolize`] thread, whose `symbols` records are
//! written as they finish and at the end of the recording.

mod maps;
mod module;
mod symbolize;
mod unwind;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use spawnscope_format::{ModuleRecord, ModuleType, RawFrame, Record, StackEnd, StackRecord, UnwindTables};

use self::module::ModuleFile;
use self::symbolize::{Job, SymStats, Symbolizer};
use self::unwind::{Code, ProcessUnwind, Region, StackMem};
use crate::ptrace::Tid;

/// Most times a process's maps are read again because a walk reached
/// unknown code (each dlopen needs one).
const MAX_REREADS: u32 = 16;

/// Default most frames per stack (`--stack-depth`).
pub const DEFAULT_DEPTH: usize = 64;

/// Where a module's code came from, for its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ModuleKey {
    File { path: String, dev: (u32, u32), inode: u64 },
    Vdso,
    Jit,
}

/// Costs of the capture side, for benchmarks and `Outcome`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StackStats {
    /// Stacks captured (one per clone-family call).
    pub captures: u64,
    /// Distinct stacks written.
    pub distinct: u64,
    /// Time in capture (registers, stack read, walk, dedup), all calls.
    pub capture_time: Duration,
    /// Of which building unwind state for processes (maps, files).
    pub setup_time: Duration,
    /// Symbolization jobs, addresses, time of the first job and in all.
    pub sym_jobs: u64,
    pub sym_addresses: u64,
    pub sym_first: Option<Duration>,
    pub sym_total: Duration,
}

impl StackStats {
    /// One line: captures, distinct stacks, walk cost per spawn (without and
    /// with the per-process set-up), symbolization times.
    pub fn summary(&self) -> String {
        let per = |d: Duration| if self.captures == 0 { 0.0 } else { d.as_secs_f64() * 1e6 / self.captures as f64 };
        format!(
            "{} captures, {} distinct; walk {:.1} us/spawn ({:.1} us with set-up; set-up {:.1} ms in all); symbolization: first job {:.1} ms, {} jobs {:.1} ms for {} addresses",
            self.captures,
            self.distinct,
            per(self.capture_time.saturating_sub(self.setup_time)),
            per(self.capture_time),
            self.setup_time.as_secs_f64() * 1e3,
            self.sym_first.unwrap_or_default().as_secs_f64() * 1e3,
            self.sym_jobs,
            self.sym_total.as_secs_f64() * 1e3,
            self.sym_addresses,
        )
    }
}

/// Stack capture state of one recording.
#[derive(Debug)]
pub(crate) struct Stacks {
    depth: usize,
    files: HashMap<ModuleKey, Option<Arc<ModuleFile>>>,
    procs: HashMap<i32, ProcessUnwind>,
    /// Maps re-read per process because a walk reached unknown code.
    rereads: HashMap<i32, u32>,
    module_ids: HashMap<ModuleKey, u32>,
    module_notes: HashMap<u32, String>,
    module_files: HashMap<u32, Arc<ModuleFile>>,
    stack_ids: HashMap<(Vec<RawFrame>, StackEnd), u32>,
    seen: HashSet<RawFrame>,
    symbolizer: Option<Symbolizer>,
    stats: StackStats,
}

impl Stacks {
    pub fn new(depth: usize) -> Stacks {
        Stacks {
            depth,
            files: HashMap::new(),
            procs: HashMap::new(),
            rereads: HashMap::new(),
            module_ids: HashMap::new(),
            module_notes: HashMap::new(),
            module_files: HashMap::new(),
            stack_ids: HashMap::new(),
            seen: HashSet::new(),
            symbolizer: None,
            stats: StackStats::default(),
        }
    }

    /// The process `pid` exec'd or ended: its address space is gone.
    pub fn forget(&mut self, pid: i32) {
        self.procs.remove(&pid);
        self.rereads.remove(&pid);
    }

    /// Captures the stack of thread `tid` of process `pid`, stopped at the
    /// entry of a clone-family syscall. Returns the records to write before
    /// the spawn (new modules, a new stack, finished symbols) and the id.
    pub fn capture(&mut self, pid: i32, tid: Tid, out: &mut Vec<Record>) -> u32 {
        let t0 = Instant::now();
        self.stats.captures += 1;
        let (frames, end, note) = match unwind::get_regs(tid) {
            Err(e) => (Vec::new(), StackEnd::Failed, Some(format!("registers could not be read: {e}"))),
            Ok(regs) => {
                let mut mem = StackMem::read(tid, regs.sp);
                let mut walk = self.walk(pid, tid, &regs, &mut mem);
                let rereads = self.rereads.entry(pid).or_default();
                if walk.unknown_address && *rereads < MAX_REREADS {
                    // dlopen since the maps were read: once more with fresh maps.
                    *rereads += 1;
                    self.procs.remove(&pid);
                    walk = self.walk(pid, tid, &regs, &mut mem);
                }
                self.raw_frames(pid, walk, out)
            }
        };
        let id = match self.stack_ids.get(&(frames.clone(), end)) {
            Some(&id) => id,
            None => {
                let id = self.stack_ids.len() as u32 + 1;
                self.stack_ids.insert((frames.clone(), end), id);
                self.stats.distinct += 1;
                self.symbolize_new(&frames);
                out.push(Record::Stack(StackRecord { id, frames, end, note }));
                id
            }
        };
        if let Some(s) = &mut self.symbolizer {
            out.extend(s.ready().into_iter().map(Record::Symbols));
        }
        self.stats.capture_time += t0.elapsed();
        id
    }

    fn walk(&mut self, pid: i32, tid: Tid, regs: &unwind::Regs, mem: &mut StackMem) -> unwind::Walk {
        if !self.procs.contains_key(&pid) {
            let t = Instant::now();
            let p = self.process(pid);
            self.procs.insert(pid, p);
            self.stats.setup_time += t.elapsed();
        }
        let depth = self.depth;
        self.procs.get_mut(&pid).expect("inserted above").walk(tid, regs, mem, depth)
    }

    /// Unwind state for `pid` from its maps.
    fn process(&mut self, pid: i32) -> ProcessUnwind {
        let maps = maps::exec_mappings(pid).unwrap_or_default();
        let regions = maps
            .into_iter()
            .map(|m| {
                let code = if m.is_file() {
                    let key = ModuleKey::File { path: m.path.clone(), dev: m.dev, inode: m.inode };
                    let file = self.files.entry(key).or_insert_with(|| {
                        let candidates = [
                            PathBuf::from(format!("/proc/{pid}/map_files/{:x}-{:x}", m.start, m.end)),
                            PathBuf::from(format!("/proc/{pid}/root{}", m.path)),
                            PathBuf::from(&m.path),
                        ];
                        ModuleFile::open(&m.path, &candidates).map(Arc::new)
                    });
                    match file {
                        Some(f) => Code::File(Arc::clone(f)),
                        None => Code::Opaque(m.path.clone()),
                    }
                } else if m.path == "[vdso]" {
                    Code::Vdso
                } else {
                    Code::Jit
                };
                Region { start: m.start, end: m.end, offset: m.offset, dev: m.dev, inode: m.inode, code }
            })
            .collect();
        ProcessUnwind::new(regions)
    }

    /// Addresses to (module id, offset), writing new module records.
    fn raw_frames(&mut self, pid: i32, walk: unwind::Walk, out: &mut Vec<Record>) -> (Vec<RawFrame>, StackEnd, Option<String>) {
        let Some(p) = self.procs.get(&pid) else { return (Vec::new(), StackEnd::Failed, None) };
        let mut frames = Vec::with_capacity(walk.frames.len());
        let mut notes: Vec<String> = Vec::new();
        let located: Vec<(ModuleKey, u64, Code)> = walk
            .frames
            .iter()
            .map_while(|&addr| {
                let r = p.region(addr)?;
                let (key, offset) = match &r.code {
                    Code::File(f) => (ModuleKey::File { path: f.path.clone(), dev: r.dev, inode: r.inode }, r.file_offset(addr)),
                    Code::Opaque(path) => {
                        (ModuleKey::File { path: path.clone(), dev: r.dev, inode: r.inode }, r.file_offset(addr))
                    }
                    Code::Vdso => (ModuleKey::Vdso, addr - r.start),
                    Code::Jit => (ModuleKey::Jit, addr),
                };
                Some((key, offset, r.code.clone()))
            })
            .collect();
        let mut last_module = None;
        for (key, offset, code) in located {
            let id = self.module_id(key, &code, out);
            if let Some(n) = self.module_notes.get(&id) {
                if !notes.contains(n) {
                    notes.push(n.clone());
                }
            }
            last_module = Some(code);
            frames.push(RawFrame(id, offset));
        }
        match (walk.end, &last_module) {
            (StackEnd::NoUnwindInfo, Some(Code::File(f))) => notes.push(format!(
                "walk ended in {}: no unwind entry for this code (built without unwind tables, e.g. musl's libc)",
                f.path
            )),
            (StackEnd::NoUnwindInfo, Some(Code::Opaque(p))) => notes.push(format!("walk ended in {p}: file could not be read")),
            (StackEnd::StackRead, _) => notes.push("walk ended: stack memory could not be read".into()),
            (StackEnd::DepthLimit, _) => notes.push(format!("cut at {} frames (--stack-depth)", self.depth)),
            _ => {}
        }
        if walk.jit {
            notes.push("JIT code (anonymous memory), walked by frame pointer: [jit] frames have no names".into());
        }
        let note = (!notes.is_empty()).then(|| notes.join("; "));
        (frames, walk.end, note)
    }

    /// The id of a module, writing its record the first time.
    fn module_id(&mut self, key: ModuleKey, code: &Code, out: &mut Vec<Record>) -> u32 {
        if let Some(&id) = self.module_ids.get(&key) {
            return id;
        }
        let id = self.module_ids.len() as u32 + 1;
        self.module_ids.insert(key, id);
        let rec = match code {
            Code::File(f) => {
                self.module_files.insert(id, Arc::clone(f));
                let debug_file = f.build_id.as_deref().is_some_and(has_debug_file);
                if f.stripped && !f.debug_lines && !debug_file {
                    self.module_notes.insert(id, format!("{} is stripped: exported names only", f.path));
                }
                if f.unwind == UnwindTables::None {
                    self.module_notes.insert(id, format!("{} has no unwind tables", f.path));
                }
                ModuleRecord {
                    id,
                    path: f.path.clone(),
                    module_type: ModuleType::File,
                    build_id: f.build_id.clone(),
                    stripped: Some(f.stripped),
                    unwind: Some(f.unwind),
                    debug_lines: Some(f.debug_lines),
                    rustc: f.rustc.clone(),
                }
            }
            Code::Opaque(path) => ModuleRecord {
                id,
                path: path.clone(),
                module_type: ModuleType::File,
                build_id: None,
                stripped: None,
                unwind: None,
                debug_lines: None,
                rustc: None,
            },
            Code::Vdso => ModuleRecord {
                id,
                path: "[vdso]".into(),
                module_type: ModuleType::Vdso,
                build_id: None,
                stripped: None,
                unwind: None,
                debug_lines: None,
                rustc: None,
            },
            Code::Jit => ModuleRecord {
                id,
                path: "[jit]".into(),
                module_type: ModuleType::Jit,
                build_id: None,
                stripped: None,
                unwind: None,
                debug_lines: None,
                rustc: None,
            },
        };
        out.push(Record::Module(rec));
        id
    }

    /// Sends the frames not seen before to the symbolizer thread.
    fn symbolize_new(&mut self, frames: &[RawFrame]) {
        let mut by_module: HashMap<u32, Vec<u64>> = HashMap::new();
        for &f in frames {
            if self.seen.insert(f) {
                by_module.entry(f.0).or_default().push(f.1);
            }
        }
        for (module, offsets) in by_module {
            let Some(path) = self.symbol_path(module) else { continue };
            self.symbolizer.get_or_insert_with(Symbolizer::start).send(Job { module, path, offsets });
        }
    }

    /// The file to symbolize a module from (files only).
    fn symbol_path(&self, module: u32) -> Option<PathBuf> {
        self.module_files.get(&module).map(|f| f.open_path.clone())
    }

    /// Waits for the symbolizer and returns the remaining `symbols` records.
    pub fn finish(&mut self) -> Vec<Record> {
        match &mut self.symbolizer {
            Some(s) => s.finish().into_iter().map(Record::Symbols).collect(),
            None => Vec::new(),
        }
    }

    pub fn stats(&self) -> StackStats {
        let sym: SymStats = self.symbolizer.as_ref().map(|s| s.stats).unwrap_or_default();
        StackStats {
            sym_jobs: sym.jobs,
            sym_addresses: sym.addresses,
            sym_first: sym.first_job,
            sym_total: sym.total,
            ..self.stats
        }
    }
}

/// Whether a separate debug file for this build id is installed.
fn has_debug_file(build_id: &str) -> bool {
    if build_id.len() < 3 {
        return false;
    }
    let (dir, rest) = build_id.split_at(2);
    ["/usr/lib/debug", "/lib/debug"].iter().any(|d| std::path::Path::new(&format!("{d}/.build-id/{dir}/{rest}.debug")).exists())
}
