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
    job.offsets
        .iter()
        .enumerate()
        .map(|(i, &offset)| {
            let frames = match results.get(i) {
                Some(Symbolized::Sym(sym)) => frames_of(sym),
                _ => Vec::new(),
            };
            SymbolsRecord { module: job.module, offset, frames }
        })
        .collect()
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
