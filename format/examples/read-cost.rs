//! How close the trace reader gets to the floor: a plain serde_json pass over
//! the same file. Used by `bench/scale.sh`; by hand:
//!
//! ```text
//! cargo run --release -p spawnscope-format --example read-cost -- TRACE [RUNS]
//! ```
//!
//! Passes, each over the whole file, one thread, best of RUNS (default 3):
//! - `lines`: split into lines only (I/O and newline search);
//! - `serde_json syntax`: every line parsed by serde_json into `IgnoredAny`
//!   (validates the JSON, builds nothing): the floor for any serde_json reader;
//! - `serde_json typed`: every line parsed by serde_json into the event structs
//!   (the same owned values the reader returns), lines from `read_until`;
//! - `parse_line`: every line parsed by the reader's line parser (the fast
//!   path for the hot kinds, serde_json for the rest), lines from `read_until`;
//! - `TraceReader serde_json`: the format's reader with serde_json only, as it
//!   was before the fast path (issue 15);
//! - `TraceReader`: the format's reader, as the analyzer uses it.
//!
//! The ratios printed last are TraceReader / serde_json typed (1.00 = no
//! overhead beyond serde_json parsing into the same structs), TraceReader /
//! syntax, and TraceReader / TraceReader serde_json (the fast path's gain).

use std::io::BufRead;
use std::time::Instant;

use serde::de::IgnoredAny;
use spawnscope_format::*;

/// CPU seconds of this thread.
fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    s.split_whitespace().next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 1e9
}

fn open(path: &str) -> Box<dyn BufRead> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    if path.ends_with(".zst") {
        Box::new(std::io::BufReader::with_capacity(256 * 1024, zstd::stream::read::Decoder::new(f).expect("zstd")))
    } else {
        Box::new(std::io::BufReader::with_capacity(256 * 1024, f))
    }
}

/// Runs `f` RUNS times; returns the least CPU time and what it counted.
fn best(runs: usize, mut f: impl FnMut() -> u64) -> (f64, u64) {
    let mut best = f64::MAX;
    let mut n = 0;
    for _ in 0..runs {
        let (c, t) = (cpu(), Instant::now());
        n = f();
        let _ = t;
        best = best.min(cpu() - c);
    }
    (best, n)
}

fn for_lines(path: &str, mut each: impl FnMut(&[u8])) -> u64 {
    let mut r = open(path);
    let mut buf = Vec::with_capacity(4096);
    let mut n = 0;
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf).expect("read") == 0 {
            return n;
        }
        n += 1;
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        if n > 1 {
            each(line);
        }
    }
}

fn typed(line: &[u8]) -> bool {
    let kind = line.strip_prefix(b"{\"kind\":\"").and_then(|r| r.iter().position(|&b| b == b'"').map(|e| &r[..e]));
    match kind {
        Some(b"spawn") => serde_json::from_slice::<SpawnEvent>(line).is_ok(),
        Some(b"exec") => serde_json::from_slice::<ExecEvent>(line).is_ok(),
        Some(b"exit") => serde_json::from_slice::<ExitEvent>(line).is_ok(),
        Some(b"socketpair") => serde_json::from_slice::<SocketpairEvent>(line).is_ok(),
        Some(b"pipe") => serde_json::from_slice::<PipeEvent>(line).is_ok(),
        _ => serde_json::from_slice::<Record>(line).is_ok(),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: read-cost TRACE [RUNS]");
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / (1 << 20) as f64;

    let (lines, n) = best(runs, || for_lines(&path, |_| {}));
    let (syntax, _) = best(runs, || {
        let mut ok = 0;
        for_lines(&path, |l| ok += u64::from(serde_json::from_slice::<IgnoredAny>(l).is_ok()));
        ok
    });
    let (typed_s, ok) = best(runs, || {
        let mut ok = 0;
        for_lines(&path, |l| ok += u64::from(typed(l)));
        ok
    });
    let (fast, ok_fast) = best(runs, || {
        let mut ok = 0;
        for_lines(&path, |l| ok += u64::from(parse_line(l).is_ok()));
        ok
    });
    let (reader_serde, m_serde) = best(runs, || {
        let mut r = FileReader::open(&path).expect("open").serde_only();
        let mut m = 0;
        while r.next_record().expect("read").is_some() {
            m += 1;
        }
        m
    });
    let (reader, m) = best(runs, || {
        let mut r = FileReader::open(&path).expect("open");
        let mut m = 0;
        while r.next_record().expect("read").is_some() {
            m += 1;
        }
        m
    });
    let rate = |s: f64| format!("{:>6.2} s  {:>5.0} MiB/s  {:>5.2} M lines/s", s, size / s, n as f64 / s / 1e6);
    println!("read-cost: {path}: {n} lines, {size:.0} MiB, CPU seconds, best of {runs}");
    println!("  lines only             {}", rate(lines));
    println!("  serde_json syntax      {}", rate(syntax));
    println!("  serde_json typed       {}  ({ok} parsed)", rate(typed_s));
    println!("  parse_line             {}  ({ok_fast} parsed)", rate(fast));
    println!("  TraceReader serde_json {}  ({m_serde} records)", rate(reader_serde));
    println!("  TraceReader            {}  ({m} records)", rate(reader));
    println!(
        "  ratio TraceReader / serde_json typed {:.2}, / serde_json syntax {:.2}, / TraceReader serde_json {:.2}",
        reader / typed_s,
        reader / syntax,
        reader / reader_serde
    );
}
