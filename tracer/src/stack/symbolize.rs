//! Symbolization off the stop: a background thread turns (module, file
//! offset) pairs into `symbols` records with `blazesym` (ELF symbols, DWARF
//! lines and inlined functions, debug files found by build id or debuglink
//! under /usr/lib/debug). A first DWARF load takes 80-420 ms and tens of MB;
//! no tracee ever waits for it: the stop only sends the new addresses.
//!
//! Never a wrong name: an ELF symbol is used only when the address lies
//! inside its size (a size-0 assembly symbol such as musl's `__clone` would
//! otherwise name the next function's addresses); DWARF names are exact.

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use blazesym::symbolize::source::{Elf, Source};
use blazesym::symbolize::{CodeInfo, Input, Sym, Symbolized, Symbolizer as Blaze};
use spawnscope_format::{SymbolFrame, SymbolsRecord};

/// Addresses of one module to symbolize.
#[derive(Debug)]
pub(crate) struct Job {
    pub module: u32,
    pub path: PathBuf,
    /// Raw frame offsets (the thread looks up `offset - 1`).
    pub offsets: Vec<u64>,
}

/// Time spent symbolizing, per job.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SymStats {
    pub jobs: u64,
    pub addresses: u64,
    pub first_job: Option<Duration>,
    pub total: Duration,
}

/// The background symbolizer.
#[derive(Debug)]
pub(crate) struct Symbolizer {
    jobs: Option<Sender<Job>>,
    done: Receiver<(Vec<SymbolsRecord>, Duration)>,
    thread: Option<JoinHandle<()>>,
    outstanding: usize,
    pub stats: SymStats,
}

impl Symbolizer {
    pub fn start() -> Symbolizer {
        let (jobs, rx) = channel::<Job>();
        let (tx, done) = channel();
        let thread = std::thread::Builder::new()
            .name("spawnscope-symbolize".into())
            .spawn(move || {
                block_signals();
                // Rc inside: built on this thread.
                let blaze = Blaze::builder().enable_inlined_fns(true).enable_code_info(true).enable_demangling(true).build();
                for job in rx {
                    let t0 = Instant::now();
                    let recs = symbolize(&blaze, &job);
                    if tx.send((recs, t0.elapsed())).is_err() {
                        break;
                    }
                }
            })
            .ok();
        Symbolizer { jobs: Some(jobs), done, thread, outstanding: 0, stats: SymStats::default() }
    }

    pub fn send(&mut self, job: Job) {
        if let Some(tx) = &self.jobs {
            self.stats.addresses += job.offsets.len() as u64;
            if tx.send(job).is_ok() {
                self.outstanding += 1;
            }
        }
    }

    /// Results finished so far (never blocks).
    pub fn ready(&mut self) -> Vec<SymbolsRecord> {
        let mut out = Vec::new();
        while let Ok((recs, took)) = self.done.try_recv() {
            self.account(took);
            out.extend(recs);
        }
        out
    }

    /// Waits for every job sent and stops the thread.
    pub fn finish(&mut self) -> Vec<SymbolsRecord> {
        self.jobs = None;
        let mut out = Vec::new();
        while self.outstanding > 0 {
            match self.done.recv() {
                Ok((recs, took)) => {
                    self.account(took);
                    out.extend(recs);
                }
                Err(_) => break,
            }
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        out
    }

    fn account(&mut self, took: Duration) {
        self.outstanding = self.outstanding.saturating_sub(1);
        self.stats.jobs += 1;
        self.stats.first_job.get_or_insert(took);
        self.stats.total += took;
    }
}

/// Signals meant for the tracer (Ctrl-C, the wake-up signal of `Control`)
/// must reach the thread that waits for tracees, never this one.
fn block_signals() {
    // SAFETY: sigset operations on a local set; affects this thread only.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Symbolizes one job; addresses that fail get an empty record (unknown).
pub(crate) fn symbolize(blaze: &Blaze, job: &Job) -> Vec<SymbolsRecord> {
    let lookups: Vec<u64> = job.offsets.iter().map(|o| o.saturating_sub(1)).collect();
    let src = Source::Elf(Elf::new(&job.path));
    let results = blaze.symbolize(&src, Input::FileOffset(&lookups)).unwrap_or_default();
    let mut records: Vec<SymbolsRecord> = job
        .offsets
        .iter()
        .enumerate()
        .map(|(i, &offset)| {
            let frames = match results.get(i) {
                Some(Symbolized::Sym(sym)) => frames_of(sym),
                _ => Vec::new(),
            };
            SymbolsRecord { module: job.module, offset, frames }
        })
        .collect();
    qualify_outer_frames(blaze, job, &lookups, &mut records);
    records
}

/// With `line-tables-only` debug info (a common release setting) DWARF
/// names a Rust function by its bare name (`run`), while the symbol table
/// has the full path (`myapp::jobs::run`). For the outermost (not inlined)
/// frame of each address, the symbol table's name wins when it is the same
/// function, i.e. it ends with `::` + the DWARF name.
fn qualify_outer_frames(blaze: &Blaze, job: &Job, lookups: &[u64], records: &mut [SymbolsRecord]) {
    let bare: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.frames.last().is_some_and(|f| !f.inlined && f.function.as_deref().is_some_and(is_bare_name)))
        .map(|(i, _)| i)
        .collect();
    if bare.is_empty() {
        return;
    }
    let mut elf = Elf::new(&job.path);
    elf.debug_syms = false;
    let addrs: Vec<u64> = bare.iter().map(|&i| lookups[i]).collect();
    let Ok(found) = blaze.symbolize(&Source::Elf(elf), Input::FileOffset(&addrs)) else {
        return;
    };
    for (&i, sym) in bare.iter().zip(found.iter()) {
        let Symbolized::Sym(sym) = sym else { continue };
        if let Some(frame) = records[i].frames.last_mut() {
            if let Some(full) = qualified(frame.function.as_deref().unwrap_or(""), &sym.name) {
                frame.function = Some(full);
            }
        }
    }
}

/// A name without a path (`run`, not `a::run` or `<T as X>::run`).
fn is_bare_name(name: &str) -> bool {
    !name.is_empty() && !name.contains("::")
}

/// The symbol table's name when it is the same function as the DWARF bare
/// name: `myapp::jobs::run` for `run`; a closure's symbol
/// `myapp::main::{{closure}}` for DWARF's `{closure#0}` is left alone.
fn qualified(bare: &str, symtab: &str) -> Option<String> {
    let tail = symtab.rsplit("::").next()?;
    (symtab.len() > bare.len() && tail == bare && symtab.ends_with(&format!("::{bare}"))).then(|| symtab.to_string())
}

/// Logical frames of one address, innermost first; empty when the symbol
/// cannot be trusted.
fn frames_of(sym: &Sym<'_>) -> Vec<SymbolFrame> {
    let inside = sym.size.is_some_and(|s| s > 0 && sym.offset < s);
    if sym.code_info.is_none() && !inside {
        return Vec::new();
    }
    let mut out: Vec<SymbolFrame> = sym.inlined.iter().rev().map(|f| frame(Some(&f.name), f.code_info.as_ref(), true)).collect();
    out.push(frame(Some(&sym.name), sym.code_info.as_deref(), false));
    out
}

fn frame(name: Option<&str>, ci: Option<&CodeInfo<'_>>, inlined: bool) -> SymbolFrame {
    let file = ci.map(|c| {
        let p = match &c.dir {
            Some(d) if !d.as_os_str().is_empty() => d.join(&c.file),
            _ => PathBuf::from(&c.file),
        };
        p.to_string_lossy().into_owned()
    });
    SymbolFrame {
        function: name.filter(|n| !n.is_empty()).map(str::to_string),
        file,
        line: ci.and_then(|c| c.line),
        column: ci.and_then(|c| c.column).map(u32::from),
        inlined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_table_name_qualifies_a_bare_dwarf_name() {
        assert_eq!(qualified("run", "myapp::jobs::run").as_deref(), Some("myapp::jobs::run"));
        assert_eq!(
            qualified("run", "<myapp::Jobs as myapp::Runner>::run").as_deref(),
            Some("<myapp::Jobs as myapp::Runner>::run")
        );
        // A different function (an alias or a neighbour) is never taken.
        assert_eq!(qualified("run", "myapp::jobs::rerun"), None);
        assert_eq!(qualified("run", "myapp::jobs::run_all"), None);
        assert_eq!(qualified("run", "run"), None);
        assert!(is_bare_name("run"));
        assert!(!is_bare_name("myapp::run"));
        assert!(!is_bare_name(""));
    }
}
