//! Parse cost of trace lines: serde's internally tagged `Record` against
//! peeking `kind` and parsing the event struct directly.
//! `cargo run --release -p spawnscope-analyzer --example parse-cost -- TRACE`

use std::io::BufRead;
use std::time::Instant;

/// CPU seconds (user + sys) of this process so far.
fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let f: Vec<&str> = s.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

use spawnscope_format::*;

fn kind_of(line: &[u8]) -> Option<&[u8]> {
    let start = line.windows(8).position(|w| w == b"\"kind\":\"")? + 8;
    let len = line[start..].iter().position(|&b| b == b'"')?;
    Some(&line[start..start + len])
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: parse-cost TRACE");
    let lines: Vec<Vec<u8>> =
        std::io::BufReader::new(std::fs::File::open(&path).unwrap()).split(b'\n').skip(1).map(Result::unwrap).collect();
    let t = Instant::now();
    let c = cpu();
    let mut n = 0;
    for l in &lines {
        if serde_json::from_slice::<Record>(l).is_ok() {
            n += 1;
        }
    }
    println!("tagged Record: {n} in {:.2} s wall, {:.2} s cpu", t.elapsed().as_secs_f64(), cpu() - c);
    let t = Instant::now();
    let c = cpu();
    let mut n = 0;
    for l in &lines {
        let ok = match kind_of(l) {
            Some(b"spawn") => serde_json::from_slice::<SpawnEvent>(l).is_ok(),
            Some(b"exec") => serde_json::from_slice::<ExecEvent>(l).is_ok(),
            Some(b"exit") => serde_json::from_slice::<ExitEvent>(l).is_ok(),
            Some(b"socketpair") => serde_json::from_slice::<SocketpairEvent>(l).is_ok(),
            _ => serde_json::from_slice::<Record>(l).is_ok(),
        };
        if ok {
            n += 1;
        }
    }
    println!("direct structs: {n} in {:.2} s wall, {:.2} s cpu", t.elapsed().as_secs_f64(), cpu() - c);
}
