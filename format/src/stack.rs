//! Call stacks of spawns: the `module`, `stack` and `symbols` records (format
//! 1.1) and [`StackTable`], which resolves a spawn's stack into logical frames.
//!
//! The tracer unwinds the calling thread at the syscall-entry stop of every
//! clone/clone3/fork/vfork and stores *raw* frames: (module id, file offset).
//! A `module` line names each executable mapping once, a `stack` line stores
//! each distinct stack once (a 10,000-spawn loop stores one), and the spawn
//! refers to it by [`SpawnEvent::stack_id`](crate::SpawnEvent::stack_id).
//! Symbolization happens later, off the stop, and its results are written as
//! `symbols` lines (one per distinct frame address), so the trace can be
//! reported on another machine; the raw frames stay, so a later reader can
//! symbolize again with better debug info.
//!
//! Order in the file: a `module` line comes before the first `stack` that
//! uses it, a `stack` line before the first `spawn` that refers to it;
//! `symbols` lines may come anywhere after their module (usually at the end).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::event::Record;

/// `module`: an executable mapping that stack frames point into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleRecord {
    /// Id used by [`RawFrame::module`], unique within the trace.
    pub id: u32,
    /// The mapped file as `/proc/PID/maps` names it (`/usr/lib/x86_64-linux-gnu/libc.so.6`),
    /// `[vdso]`, or `[jit]` for anonymous executable memory. Lossily decoded UTF-8.
    pub path: String,
    /// What kind of code this is.
    #[serde(rename = "type", default)]
    pub module_type: ModuleType,
    /// GNU build id (`.note.gnu.build-id`) as lowercase hex, if the file has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    /// The file has no `.symtab`: only exported (`.dynsym`) names are known,
    /// so most internal functions have no name. None: not an ELF file or not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripped: Option<bool>,
    /// Unwind tables the file has (None: not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unwind: Option<UnwindTables>,
    /// The file itself carries DWARF line tables (`.debug_line`). A separate
    /// debug file (build id, debuglink) may still provide them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_lines: Option<bool>,
    /// The rustc version that built it (`1.95.0`, from its `.comment`
    /// section): Rust std's spawn rules depend on it. Absent for non-Rust
    /// code and in traces before this field (format 1.1 readers ignore it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rustc: Option<String>,
}

/// Kind of a [`ModuleRecord`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModuleType {
    /// A mapped file (ELF executable or shared library); offsets are file offsets.
    #[default]
    File,
    /// The kernel's vDSO; offsets are relative to its start.
    Vdso,
    /// Anonymous executable memory (JIT compilers: Java, V8, ...); offsets are
    /// absolute addresses in the process that made the spawn.
    Jit,
    /// Written by a newer version.
    #[serde(other)]
    Other,
}

/// Which unwind tables an ELF file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnwindTables {
    /// `.eh_frame` (with or without `.eh_frame_hdr`): the usual case.
    EhFrame,
    /// Only `.debug_frame` (Go binaries).
    DebugFrame,
    /// Neither (musl's libc): the walk through it relies on frame pointers.
    None,
    /// Written by a newer version.
    #[serde(other)]
    Other,
}

/// One raw frame: the module and the file offset of the address. Written as a
/// two-element array `[module, offset]`.
///
/// Frame 0 is the instruction pointer at the syscall stop (the address just
/// after the `syscall` instruction); the others are return addresses. Both
/// point just *after* an instruction, so symbolizers look up `offset - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RawFrame(pub u32, pub u64);

impl RawFrame {
    /// The module id.
    pub fn module(self) -> u32 {
        self.0
    }
    /// The file offset (absolute address for [`ModuleType::Jit`]).
    pub fn offset(self) -> u64 {
        self.1
    }
}

/// `stack`: one distinct native call stack, innermost frame first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackRecord {
    /// Id used by [`SpawnEvent::stack_id`](crate::SpawnEvent::stack_id), unique within the trace.
    pub id: u32,
    /// Raw frames, innermost first. May be empty when the capture failed
    /// (`end` and `note` say why).
    pub frames: Vec<RawFrame>,
    /// Why the walk stopped.
    #[serde(default)]
    pub end: StackEnd,
    /// What is missing, in words, where something is: "walk ended in
    /// /lib/ld-musl-x86_64.so.1: no unwind tables", "stripped: ...", "JIT code".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Why a stack walk stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StackEnd {
    /// Reached the outermost frame (`_start`, a thread's start routine, or a
    /// zero return address / frame pointer).
    Complete,
    /// Stopped at the configured depth (`--stack-depth`).
    DepthLimit,
    /// A module without usable unwind tables, and no frame pointer chain.
    NoUnwindInfo,
    /// The next return address is outside every executable mapping.
    Unmapped,
    /// The walk needed stack memory beyond what was read.
    StackRead,
    /// The capture failed (registers or memory could not be read).
    Failed,
    /// Unknown (older writer or newer version).
    #[default]
    #[serde(other)]
    Unknown,
}

impl StackEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            StackEnd::Complete => "complete",
            StackEnd::DepthLimit => "depth-limit",
            StackEnd::NoUnwindInfo => "no-unwind-info",
            StackEnd::Unmapped => "unmapped",
            StackEnd::StackRead => "stack-read",
            StackEnd::Failed => "failed",
            StackEnd::Unknown => "unknown",
        }
    }
}

/// `symbols`: what one frame address means, found by a symbolizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolsRecord {
    /// Module id.
    pub module: u32,
    /// The raw offset as stored in [`RawFrame`] (the symbolizer looked up `offset - 1`).
    pub offset: u64,
    /// Logical frames at this address, innermost first: the inlined functions
    /// (`inlined: true`), then the function that contains them. Empty when
    /// nothing is known: the address lies outside every symbol's extent.
    pub frames: Vec<SymbolFrame>,
}

/// One logical frame of a [`SymbolsRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolFrame {
    /// Demangled function name (Rust, C++); never a guess: absent when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Source file (absolute when the debug info says so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// An inlined function (its caller is the next frame).
    #[serde(default)]
    pub inlined: bool,
}

/// One logical frame of a resolved stack (see [`StackTable::resolve`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedFrame {
    /// Demangled function name; None when unknown (print `??`).
    pub function: Option<String>,
    /// The module's path (`[jit]`, `[vdso]`, `[unknown module N]` when the
    /// module line is missing).
    pub module: String,
    /// Module id.
    pub module_id: u32,
    /// The raw file offset (absolute address for JIT frames).
    pub offset: u64,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// An inlined function inside the next frame.
    pub inlined: bool,
    /// Index of the raw (physical) frame this logical frame belongs to.
    pub raw_index: usize,
}

impl ResolvedFrame {
    /// The function name, or `??` when unknown.
    pub fn function_or_unknown(&self) -> &str {
        self.function.as_deref().unwrap_or("??")
    }
}

/// Everything the trace says about stacks, collected from its records.
///
/// Feed every record with [`StackTable::add`] (it ignores other kinds), then
/// resolve spawns' stacks. Memory: one entry per distinct module, stack and
/// frame address.
///
/// ```
/// use spawnscope_format::*;
/// let mut t = StackTable::new();
/// for line in [
///     r#"{"kind":"module","id":1,"path":"/usr/bin/app","build_id":"ab12"}"#,
///     r#"{"kind":"stack","id":7,"frames":[[1,4096],[1,8200]],"end":"complete"}"#,
///     r#"{"kind":"symbols","module":1,"offset":8200,"frames":[{"function":"run","file":"app.c","line":12,"inlined":true},{"function":"main","file":"app.c","line":30}]}"#,
/// ] {
///     assert!(t.add(&serde_json::from_str(line).unwrap()));
/// }
/// let frames = t.resolve(7).unwrap();
/// let names: Vec<_> = frames.iter().map(|f| f.function_or_unknown()).collect();
/// assert_eq!(names, ["??", "run", "main"]);
/// assert_eq!((frames[1].line, frames[1].inlined, frames[2].raw_index), (Some(12), true, 1));
/// ```
#[derive(Debug, Clone, Default)]
pub struct StackTable {
    modules: HashMap<u32, ModuleRecord>,
    stacks: HashMap<u32, StackRecord>,
    symbols: HashMap<(u32, u64), Vec<SymbolFrame>>,
}

impl StackTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes a `module`, `stack` or `symbols` record; returns false (and
    /// ignores it) for any other kind. A later line with the same id or
    /// address replaces an earlier one (a re-symbolized trace).
    pub fn add(&mut self, rec: &Record) -> bool {
        match rec {
            Record::Module(m) => self.add_module(m.clone()),
            Record::Stack(s) => self.add_stack(s.clone()),
            Record::Symbols(s) => self.add_symbols(s.clone()),
            _ => return false,
        }
        true
    }

    pub fn add_module(&mut self, m: ModuleRecord) {
        self.modules.insert(m.id, m);
    }

    pub fn add_stack(&mut self, s: StackRecord) {
        self.stacks.insert(s.id, s);
    }

    pub fn add_symbols(&mut self, s: SymbolsRecord) {
        self.symbols.insert((s.module, s.offset), s.frames);
    }

    pub fn module(&self, id: u32) -> Option<&ModuleRecord> {
        self.modules.get(&id)
    }

    pub fn stack(&self, id: u32) -> Option<&StackRecord> {
        self.stacks.get(&id)
    }

    /// Symbolization of one raw frame, if the trace has it.
    pub fn symbols(&self, frame: RawFrame) -> Option<&[SymbolFrame]> {
        self.symbols.get(&(frame.0, frame.1)).map(Vec::as_slice)
    }

    pub fn modules(&self) -> impl Iterator<Item = &ModuleRecord> {
        self.modules.values()
    }

    pub fn stacks(&self) -> impl Iterator<Item = &StackRecord> {
        self.stacks.values()
    }

    /// Whether the trace holds no stack data at all.
    pub fn is_empty(&self) -> bool {
        self.modules.is_empty() && self.stacks.is_empty()
    }

    /// The stack's logical frames, innermost first: each raw frame expands to
    /// its inlined functions followed by the containing function; a raw frame
    /// without symbols (or with an empty symbolization) gives one frame with
    /// `function: None`. None when the trace has no such stack.
    pub fn resolve(&self, stack_id: u32) -> Option<Vec<ResolvedFrame>> {
        let stack = self.stacks.get(&stack_id)?;
        let mut out = Vec::with_capacity(stack.frames.len());
        for (i, &raw) in stack.frames.iter().enumerate() {
            let module = match self.modules.get(&raw.0) {
                Some(m) => m.path.clone(),
                None => format!("[unknown module {}]", raw.0),
            };
            let base = ResolvedFrame {
                function: None,
                module,
                module_id: raw.0,
                offset: raw.1,
                file: None,
                line: None,
                column: None,
                inlined: false,
                raw_index: i,
            };
            match self.symbols(raw) {
                Some(syms) if !syms.is_empty() => {
                    for s in syms {
                        out.push(ResolvedFrame {
                            function: s.function.clone(),
                            file: s.file.clone(),
                            line: s.line,
                            column: s.column,
                            inlined: s.inlined,
                            ..base.clone()
                        });
                    }
                }
                _ => out.push(base),
            }
        }
        Some(out)
    }
}

/// Reads only the stack records (`module`, `stack`, `symbols`) of a trace
/// file (`.zst`: compressed), skipping every other line without parsing it.
///
/// The bounded-memory analysis needs a spawn's call site when it folds the
/// spawn, but `symbols` lines usually come at the end of the recording: it
/// reads them first with this pass (a newline search and a prefix check per
/// line, about a tenth of a full read). Lines the writer did not start with
/// `{"kind":"` are parsed to learn their kind; a line that does not parse is
/// left for the full read to report.
///
/// ```
/// # use spawnscope_format::*;
/// let dir = std::env::temp_dir().join(format!("scan-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("t.jsonl");
/// std::fs::write(&path, concat!(
///     r#"{"kind":"header","format":"spawnscope-trace","format_version":"1.1","tool_version":"0","command":[],"cwd":"/","start_unix_ns":0,"host":{},"tracer":{"mode":"seccomp"}}"#, "\n",
///     r#"{"kind":"module","id":1,"path":"/app"}"#, "\n",
///     r#"{"kind":"stack","id":7,"frames":[[1,64]],"end":"complete"}"#, "\n",
///     r#"{"kind":"exit","pid":1,"tid":1,"code":0,"t":5}"#, "\n",
///     r#"{"kind":"symbols","module":1,"offset":64,"frames":[{"function":"main"}]}"#, "\n",
/// )).unwrap();
/// let t = stack::scan_file(&path).unwrap();
/// assert_eq!(t.resolve(7).unwrap()[0].function.as_deref(), Some("main"));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn scan_file(path: &std::path::Path) -> std::io::Result<StackTable> {
    use std::io::{BufRead, BufReader};
    let file = std::fs::File::open(path)?;
    let inner: Box<dyn BufRead> = if crate::is_zstd_path(path) {
        Box::new(BufReader::with_capacity(256 * 1024, zstd::stream::read::Decoder::new(file)?))
    } else {
        Box::new(BufReader::with_capacity(256 * 1024, file))
    };
    scan(inner)
}

/// Consumes the rest of the current line without keeping it.
fn skip_line(r: &mut impl std::io::BufRead) -> std::io::Result<()> {
    loop {
        let avail = r.fill_buf()?;
        if avail.is_empty() {
            return Ok(());
        }
        match avail.iter().position(|&b| b == b'\n') {
            Some(i) => {
                r.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = avail.len();
                r.consume(n);
            }
        }
    }
}

/// [`scan_file`] over any reader (the header line included).
pub fn scan(mut r: impl std::io::BufRead) -> std::io::Result<StackTable> {
    use std::io::BufRead as _;
    const TAGGED: &[u8] = br#"{"kind":""#;
    const WANTED: [&[u8]; 3] = [b"module\"", b"stack\"", b"symbols\""];
    #[derive(Deserialize)]
    struct Kind<'a> {
        #[serde(borrow)]
        kind: std::borrow::Cow<'a, str>,
    }
    let mut table = StackTable::new();
    let mut buf = Vec::with_capacity(4096);
    loop {
        buf.clear();
        // A damaged file's endless line is never held whole (the full read
        // reports it): past MAX_LINE the rest of the line is skipped.
        if std::io::Read::take(&mut r, crate::MAX_LINE as u64 + 1).read_until(b'\n', &mut buf)? == 0 {
            return Ok(table);
        }
        if buf.len() > crate::MAX_LINE {
            if buf.last() != Some(&b'\n') {
                skip_line(&mut r)?;
            }
            continue;
        }
        let wanted = match buf.strip_prefix(TAGGED) {
            Some(rest) => WANTED.iter().any(|w| rest.starts_with(w)),
            None => serde_json::from_slice::<Kind>(&buf).is_ok_and(|k| matches!(k.kind.as_ref(), "module" | "stack" | "symbols")),
        };
        if wanted {
            if let Ok(rec) = serde_json::from_slice::<Record>(&buf) {
                table.add(&rec);
            }
        }
    }
}
