//! Where `spawnscope report` spends time and memory on a big trace:
//! `cargo run --release -p spawnscope-analyzer --example phases -- TRACE`
//! (reading only, then reading + analysis; peak RSS from /proc/self/status).

use std::time::Instant;

/// CPU seconds (user + sys) of this process so far.
fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let f: Vec<&str> = s.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

fn peak_mb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: phases TRACE");
    use spawnscope_analyzer::*;
    println!(
        "sizes: Spawn {} Process {} ExecAttempt {} SpawnExec {}",
        std::mem::size_of::<Spawn>(),
        std::mem::size_of::<Process>(),
        std::mem::size_of::<ExecAttempt>(),
        std::mem::size_of::<SpawnExec>()
    );
    let t = Instant::now();
    let c = cpu();
    let mut r = spawnscope_format::FileReader::open(&path).unwrap();
    let mut n = 0u64;
    while r.next_record().unwrap().is_some() {
        n += 1;
    }
    println!("read only: {n} records in {:.2} s wall, {:.2} s cpu, peak {} MB", t.elapsed().as_secs_f64(), cpu() - c, peak_mb());
    let t = Instant::now();
    let c = cpu();
    let a = analyze_path(&path, &Thresholds::default()).unwrap();
    println!(
        "read + analyze: {} spawns {} processes in {:.2} s wall, {:.2} s cpu, peak {} MB",
        a.spawns.len(),
        a.processes.len(),
        t.elapsed().as_secs_f64(),
        cpu() - c,
        peak_mb()
    );
    let t = Instant::now();
    let c = cpu();
    for by in GroupBy::ALL {
        let _ = group_by(&a, by);
    }
    println!("4 x group_by: {:.2} s wall, {:.2} s cpu, peak {} MB", t.elapsed().as_secs_f64(), cpu() - c, peak_mb());
}
