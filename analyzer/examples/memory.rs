//! Where the analysis's memory goes, by structure, for the bounded-memory
//! work of issue 15. Counts live heap bytes with a counting allocator (the
//! truth) and attributes them by walking the model (capacities × sizes), so
//! the two can be compared.
//!
//! ```text
//! cargo run --release -p spawnscope-analyzer --example memory -- TRACE
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use spawnscope_analyzer::{analyze_path, Analysis, ExecAttempt, Thresholds};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let n = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
        PEAK.fetch_max(n, Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if new > l.size() {
            let n = LIVE.fetch_add(new - l.size(), Ordering::Relaxed) + new - l.size();
            PEAK.fetch_max(n, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(l.size() - new, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn s(x: &String) -> usize {
    x.capacity()
}
fn vs(v: &[String], cap: usize) -> usize {
    cap * size_of::<String>() + v.iter().map(s).sum::<usize>()
}
fn attempt(e: &ExecAttempt) -> usize {
    s(&e.path) + vs(&e.argv, e.argv.capacity())
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: memory TRACE");
    let before = LIVE.load(Ordering::Relaxed);
    let a: Analysis = analyze_path(&path, &Thresholds::default()).expect("analyse");
    let live = LIVE.load(Ordering::Relaxed) - before;
    let peak = PEAK.load(Ordering::Relaxed);
    let events: u64 = a.summary.exec_attempts + a.summary.spawns + a.summary.threads + a.summary.processes;

    let mut rows: Vec<(&str, usize, usize)> = Vec::new();
    let spawn_vec = a.spawns.capacity() * size_of::<spawnscope_analyzer::Spawn>();
    rows.push(("spawns: Vec<Spawn> slots", spawn_vec, a.spawns.len()));
    let (mut exec_strings, mut failed) = (0, 0);
    for sp in &a.spawns {
        if let Some(e) = &sp.exec {
            exec_strings += s(&e.path) + vs(&e.argv, e.argv.capacity());
            failed +=
                e.failed_attempts.capacity() * size_of::<ExecAttempt>() + e.failed_attempts.iter().map(attempt).sum::<usize>();
        }
    }
    rows.push(("spawns: exec path + argv strings", exec_strings, a.spawns.len()));
    rows.push(("spawns: failed attempts (PATH search)", failed, a.spawns.len()));
    let proc_vec = a.processes.capacity() * size_of::<spawnscope_analyzer::Process>();
    rows.push(("processes: Vec<Process> slots", proc_vec, a.processes.len()));
    let (mut names, mut children, mut execs_slots, mut execs_strings) = (0, 0, 0, 0);
    for p in &a.processes {
        names += s(&p.name);
        children += p.children.capacity() * size_of::<usize>();
        execs_slots += p.execs.capacity() * size_of::<ExecAttempt>();
        execs_strings += p.execs.iter().map(attempt).sum::<usize>();
    }
    rows.push(("processes: name strings", names, a.processes.len()));
    rows.push(("processes: children indices", children, a.processes.len()));
    rows.push(("processes: Vec<ExecAttempt> slots", execs_slots, a.summary.exec_attempts as usize));
    rows.push(("processes: exec path + argv strings", execs_strings, a.summary.exec_attempts as usize));
    let findings: usize = a.findings.iter().map(|f| f.evidence.capacity() * 8 + s(&f.message) + s(&f.advice)).sum();
    rows.push(("findings (evidence lists, text)", findings, a.findings.len()));
    let timeline = a.summary.timeline.capacity() * 8;
    rows.push(("summary timeline", timeline, a.summary.timeline.len()));
    let counted: usize = rows.iter().map(|r| r.1).sum();

    println!("memory: {path}");
    println!(
        "  {} spawns, {} threads, {} processes, {} exec attempts (~{events} model objects)",
        a.summary.spawns, a.summary.threads, a.summary.processes, a.summary.exec_attempts
    );
    println!(
        "  live heap after analysis {:.0} MiB ({} allocations made in all); peak while analysing {:.0} MiB",
        live as f64 / 1048576.0,
        ALLOCS.load(Ordering::Relaxed),
        peak as f64 / 1048576.0
    );
    println!(
        "  sizes: Spawn {} B, Process {} B, ExecAttempt {} B, String {} B",
        size_of::<spawnscope_analyzer::Spawn>(),
        size_of::<spawnscope_analyzer::Process>(),
        size_of::<ExecAttempt>(),
        size_of::<String>()
    );
    println!("  {:<40} {:>9} {:>7} {:>10}", "structure", "MiB", "share", "B/item");
    for (name, bytes, n) in &rows {
        println!(
            "  {:<40} {:>9.1} {:>6.1}% {:>10.0}",
            name,
            *bytes as f64 / 1048576.0,
            *bytes as f64 * 100.0 / live.max(1) as f64,
            *bytes as f64 / (*n).max(1) as f64
        );
    }
    println!(
        "  {:<40} {:>9.1} {:>6.1}%   (allocator headers, maps, strings not walked)",
        "not attributed",
        (live.saturating_sub(counted)) as f64 / 1048576.0,
        (live.saturating_sub(counted)) as f64 * 100.0 / live.max(1) as f64
    );
    std::mem::forget(a);
}
