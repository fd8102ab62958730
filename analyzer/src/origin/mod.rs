//! Where in the code a spawn came from: the spawning API, the runtime, the
//! library that made the syscall and the **call site**, from the spawn's
//! symbolized native stack.
//!
//! A spawn stack, innermost first, starts with frames of a C library and a
//! language runtime (glibc's `clone3` ← `__spawni` ← `posix_spawnp` ← Rust's
//! `std::process::Command::status`) and then reaches the program's own code.
//! [`classify`] walks those *leading* runtime frames, recognised by module
//! (libc, ld-musl, libpython, libjava/libjvm, libuv, node, ruby, perl, the
//! shells), by name (`std::`, `core::`, `alloc::`, Go's `syscall.`, `os.`,
//! `os/exec.`, `runtime.`, `internal/`, libuv's `uv_`) or by source file
//! (glibc's `sysdeps/`, Rust's `library/std/`); the first frame after them
//! is the call site. The highest-level known spawning API among the leading
//! frames is the `api`.
//!
//! When the leading frames include an interpreter (CPython, Perl, bash, the
//! JVM, node), the real call site is a line of a script or JIT-compiled code
//! that the native stack cannot name: `call_site` is then `None` and
//! `call_site_note` says so, rather than calling an interpreter frame the
//! call site.
//!
//! ```
//! use spawnscope_analyzer::origin::{classify, Frame};
//! let f = |function: &str, module: &str| Frame::new(function, module, 0);
//! let o = classify(&[
//!     f("clone3", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
//!     f("__spawni", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
//!     f("__posix_spawnp", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
//!     f("std::process::Command::status", "/app/myapp"),
//!     f("myapp::jobs::run", "/app/myapp"),
//!     f("myapp::main", "/app/myapp"),
//! ], None);
//! assert_eq!(o.api, "std::process::Command::status");
//! assert_eq!(o.runtime.as_str(), "rust");
//! assert_eq!(o.library, "/usr/lib/x86_64-linux-gnu/libc.so.6");
//! assert_eq!(o.call_site.unwrap().function, "myapp::jobs::run");
//! ```

pub mod advice;
mod compare;
mod rules;
mod sites;
mod table;

use serde::{Deserialize, Serialize};

use crate::model::CodePath;

pub use compare::{compare_sites, SiteDiff, SiteSide};
pub use rules::ApiKind;
pub(crate) use sites::SiteAccs;
pub use sites::{call_sites, describe_finding_sites, describe_sites, finding_sites, matches_at, sites_of, CallSite, NO_STACK};
pub use table::{missing_reason, OriginTable, Origins};

/// One logical frame of a spawn's stack, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Frame {
    /// Demangled function name; `??` when unknown (stripped, JIT, no symbol
    /// covers the address).
    pub function: String,
    /// The module's path (`[jit]` for anonymous executable memory).
    pub module: String,
    /// File offset in the module (absolute address for `[jit]`).
    pub offset: u64,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// An inlined function: its caller is the next frame, at the same address.
    pub inlined: bool,
}

/// The name of an unknown function.
pub const UNKNOWN_FUNCTION: &str = "??";

impl Frame {
    /// A frame without source information.
    pub fn new(function: &str, module: &str, offset: u64) -> Frame {
        Frame { function: function.to_string(), module: module.to_string(), offset, file: None, line: None, inlined: false }
    }

    /// Whether the function name is known.
    pub fn is_named(&self) -> bool {
        self.function != UNKNOWN_FUNCTION && !self.function.is_empty()
    }

    /// The module's file name (`libc.so.6`).
    pub fn module_name(&self) -> &str {
        self.module.rsplit('/').next().unwrap_or(&self.module)
    }

    /// `file:line` (the last three path components), if known.
    pub fn location(&self) -> Option<String> {
        let file = self.file.as_deref()?;
        let short = short_path(file);
        Some(match self.line {
            Some(l) => format!("{short}:{l}"),
            None => short.to_string(),
        })
    }

    /// How the frame reads in a table: `myapp::jobs::run (src/jobs.rs:42)`,
    /// `run_job (jobs.c:42)`, `myapp+0x1a2b` when the name is unknown.
    pub fn label(&self) -> String {
        if !self.is_named() {
            return format!("{}+{:#x}", self.module_name(), self.offset);
        }
        match self.location() {
            Some(loc) => format!("{} ({loc})", self.function),
            None => self.function.clone(),
        }
    }
}

/// The last three components of a path (`/home/u/app/src/jobs.rs` →
/// `app/src/jobs.rs`): enough to find the file, short enough for a table.
fn short_path(path: &str) -> &str {
    let mut cut = path.len();
    for _ in 0..3 {
        match path[..cut].rfind('/') {
            Some(i) => cut = i,
            None => return path,
        }
    }
    &path[cut + 1..]
}

/// The language runtime or C library a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Runtime {
    Glibc,
    Musl,
    /// A C library linked into the program (static): glibc or musl, not told apart.
    Libc,
    /// libstdc++ / libgcc_s.
    #[serde(rename = "c++")]
    Cxx,
    Rust,
    Go,
    Cpython,
    Node,
    Libuv,
    Java,
    Perl,
    Ruby,
    Bash,
    Zsh,
    Dash,
    /// Nothing recognised (a raw syscall in the program's own code, an empty stack).
    Unknown,
}

impl Runtime {
    /// Stable name (JSON `origin.runtime`).
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Glibc => "glibc",
            Runtime::Musl => "musl",
            Runtime::Libc => "libc",
            Runtime::Cxx => "c++",
            Runtime::Rust => "rust",
            Runtime::Go => "go",
            Runtime::Cpython => "cpython",
            Runtime::Node => "node",
            Runtime::Libuv => "libuv",
            Runtime::Java => "java",
            Runtime::Perl => "perl",
            Runtime::Ruby => "ruby",
            Runtime::Bash => "bash",
            Runtime::Zsh => "zsh",
            Runtime::Dash => "dash",
            Runtime::Unknown => "unknown",
        }
    }

    /// A C library (or C++ support library) rather than a language runtime.
    pub fn is_libc(self) -> bool {
        matches!(self, Runtime::Glibc | Runtime::Musl | Runtime::Libc | Runtime::Cxx)
    }

    /// The runtime runs scripts or bytecode: the program's call site is not
    /// a native frame.
    pub fn is_interpreter(self) -> bool {
        rules::is_interpreter(self)
    }

    /// What the program's own code is called in this runtime
    /// ("Python code", "a shell script").
    pub fn code_noun(self) -> &'static str {
        match self {
            Runtime::Cpython => "Python code",
            Runtime::Node => "JavaScript code",
            Runtime::Java => "Java code",
            Runtime::Perl => "Perl code",
            Runtime::Ruby => "Ruby code",
            Runtime::Bash | Runtime::Zsh | Runtime::Dash => "a shell script",
            Runtime::Go => "Go code",
            Runtime::Rust => "Rust code",
            _ => "native code",
        }
    }
}

/// Where a spawn came from (JSON: `spawns[].origin`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Origin {
    /// The function name, as symbolized, of the highest-level known spawning
    /// API on the stack (`std::process::Command::status`, `subprocess_fork_exec`,
    /// `uv_spawn`, `__libc_system`), else the C library entry point, else
    /// the function that made the syscall.
    pub api: String,
    /// The runtime the spawn went through: the outermost language runtime
    /// among the leading frames, else the C library.
    pub runtime: Runtime,
    /// The module of the frame that made the syscall (`.../libc.so.6`).
    pub library: String,
    /// Logical frames, innermost first.
    pub stack: Vec<Frame>,
    /// The first frame of the program's own code.
    pub call_site: Option<Frame>,
    /// Why there is no call site, or what is doubtful about it.
    pub call_site_note: Option<String>,
    /// What the API does (not in the JSON).
    #[serde(skip)]
    pub api_kind: Option<ApiKind>,
    /// Index of the call site in `stack`.
    #[serde(skip)]
    pub call_site_index: Option<usize>,
    /// The rustc version (`1.95.0`) that built the innermost module of the
    /// stack built by rustc: the std whose spawn rules applied (SS002).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rustc: Option<String>,
}

impl Origin {
    /// How the call site reads in a table and groups spawns: the call site's
    /// label; without one `(Python code)` for interpreted callers, `(JIT
    /// code)`, `(stack ends in ld-musl-x86_64.so.1)`, `(no frames)`.
    pub fn site_label(&self) -> String {
        if let Some(f) = &self.call_site {
            return f.label();
        }
        let leading = self.stack.iter().take_while(|f| frame_runtime(f).is_some()).count();
        if self.stack.iter().take(leading).any(|f| frame_runtime(f).is_some_and(Runtime::is_interpreter)) {
            return format!("({})", self.runtime.code_noun());
        }
        match (self.stack.get(leading), self.stack.last()) {
            (Some(f), _) if f.module == "[jit]" => "(JIT code)".to_string(),
            (_, Some(last)) => format!("(stack ends in {})", last.module_name()),
            (_, None) => "(no frames)".to_string(),
        }
    }

    /// Whether a logical frame among the leading runtime frames has this
    /// function name (after the usual C and Rust name clean-ups).
    pub fn leading_has(&self, name: &str) -> bool {
        let end = self.call_site_index.unwrap_or(self.stack.len());
        self.stack[..end].iter().any(|f| rules::c_name(&f.function) == name || rules::rust_path(&f.function).ends_with(name))
    }

    /// Whether the C library that made the syscall is musl.
    pub fn is_musl(&self) -> bool {
        rules::module_runtime(&self.library) == Some(Runtime::Musl)
    }
}

/// The code path, corrected by what the stack shows: the syscall fingerprint
/// cannot tell musl's posix_spawn from glibc's, nor libuv's fork from any
/// other fork, and misses Rust std's fork fallback when the socketpair
/// before it was not seen (events mode).
pub fn refine_code_path(fingerprint: CodePath, o: &Origin) -> CodePath {
    let end = o.call_site_index.unwrap_or(o.stack.len());
    let leading = &o.stack[..end];
    let has = |pred: fn(&str) -> bool| leading.iter().any(|f| pred(&f.function));
    match fingerprint {
        CodePath::GlibcPosixSpawn if o.is_musl() => CodePath::MuslPosixSpawn,
        CodePath::ForkExec | CodePath::ForkNoExec | CodePath::Unknown if has(rules::is_rust_do_fork) => {
            CodePath::RustStdForkFallback
        }
        CodePath::ForkExec | CodePath::ForkNoExec if has(|f| f == "uv_spawn") => CodePath::LibuvFork,
        other => other,
    }
}

/// The runtime of one frame, if it is a runtime or library frame.
fn frame_runtime(f: &Frame) -> Option<Runtime> {
    rules::module_runtime(&f.module)
        .or_else(|| rules::name_runtime(&f.function))
        .or_else(|| f.file.as_deref().and_then(rules::file_runtime))
}

/// Classifies one stack (innermost first). `stack_note` is what the tracer
/// said was missing (no unwind info, depth limit, JIT); it becomes the
/// call-site note when the walk ended before reaching the program's code.
pub fn classify(frames: &[Frame], stack_note: Option<&str>) -> Origin {
    let runtimes: Vec<Option<Runtime>> = frames.iter().map(frame_runtime).collect();
    let leading = runtimes.iter().take_while(|r| r.is_some()).count();

    // The API: the outermost leading frame that is a known spawning API.
    let mut api = None;
    for (i, f) in frames[..leading].iter().enumerate() {
        if let Some(a) = rules::api_of(&f.function) {
            api = Some((i, a));
        }
    }
    let api_name = match &api {
        // Rust names as `std::process::Command::status`, not blazesym's
        // `<std::process::Command>::status` or with a hash.
        Some((i, a)) if a.runtime == Runtime::Rust => rules::rust_path(&frames[*i].function).into_owned(),
        Some((i, _)) => frames[*i].function.clone(),
        None => {
            // The C library's entry point: the outermost frame of the first run
            // of C library frames; else the frame that made the syscall.
            let libc_run = runtimes.iter().take_while(|r| r.is_some_and(Runtime::is_libc)).count();
            match libc_run.checked_sub(1).map(|i| &frames[i]).or(frames.first()) {
                Some(f) => f.function.clone(),
                None => "unknown".to_string(),
            }
        }
    };

    // The runtime: the outermost language runtime among the leading frames
    // (a Python program's stack ends in libc's `__libc_start_main`: that is
    // not its runtime), else the C library that made the syscall.
    let lang = runtimes[..leading].iter().flatten().rev().find(|r| !r.is_libc()).copied();
    let runtime = lang
        .or_else(|| runtimes[..leading].iter().flatten().next().copied())
        .or_else(|| api.as_ref().map(|(_, a)| a.runtime))
        .unwrap_or(Runtime::Unknown);

    let interpreted = runtimes[..leading].iter().flatten().any(|r| r.is_interpreter());
    let mut call_site_index = None;
    let note = if interpreted {
        Some(format!(
            "called from {} run by {}: the native stack does not show the script's call site",
            runtime.code_noun(),
            runtime.as_str()
        ))
    } else if leading < frames.len() {
        let f = &frames[leading];
        if f.module == "[jit]" {
            Some("called from JIT-compiled code: anonymous memory has no symbols".to_string())
        } else {
            call_site_index = Some(leading);
            if f.is_named() {
                None
            } else {
                Some(format!("no symbol for this address: {} is stripped or has no symbol here", f.module_name()))
            }
        }
    } else if frames.is_empty() {
        Some(stack_note.unwrap_or("the stack could not be captured").to_string())
    } else {
        let last = &frames[frames.len() - 1];
        Some(match stack_note {
            Some(n) => format!("the stack ends inside {}: {n}", last.module_name()),
            None => format!("the stack ends inside {}", last.module_name()),
        })
    };

    Origin {
        api: api_name,
        runtime,
        library: frames.first().map(|f| f.module.clone()).unwrap_or_default(),
        stack: frames.to_vec(),
        call_site: call_site_index.map(|i| frames[i].clone()),
        call_site_note: note,
        api_kind: api.map(|(_, a)| a.kind),
        call_site_index,
        rustc: None,
    }
}

#[cfg(test)]
mod tests;
