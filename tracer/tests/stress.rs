//! Load (issue 7): many spawns in a row, 32 threads spawning at once, a deep
//! fork chain, 2,000 short-lived processes, a shell pipeline storm. Counts
//! must be exact, nothing may hang, and the tracer's memory stays bounded
//! (records are counted, not kept). Prints figures with `--nocapture`.

mod common;

use std::sync::Mutex;
use std::time::Instant;

use common::*;
use spawnscope_format::Record;
use spawnscope_tracer::{ModeRequest, Observer, ObserverError, Outcome};

/// One stress test at a time: the peak RSS figure is process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

#[derive(Default)]
struct Count {
    spawns: u64,
    execs: u64,
    ended: bool,
}

impl Observer for Count {
    fn record(&mut self, r: Record) -> Result<(), ObserverError> {
        match r {
            Record::Spawn(s) if !s.thread && s.child.is_some() => self.spawns += 1,
            Record::Exec(_) => self.execs += 1,
            Record::End(_) => self.ended = true,
            _ => {}
        }
        Ok(())
    }
}

fn peak_rss_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()).unwrap()
}

fn stress(name: &str, argv: &[&str]) -> (Outcome, Count) {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut c = Count::default();
    let t0 = Instant::now();
    let (o, c2) = record_watched(&opts(ModeRequest::Seccomp, true, argv), c);
    c = c2;
    let o = o.unwrap();
    eprintln!(
        "stress {name}: {} spawns, {} exec attempts, {} stops, {:.2} s, test process peak RSS {} KiB",
        c.spawns,
        c.execs,
        o.stops,
        t0.elapsed().as_secs_f64(),
        peak_rss_kb()
    );
    assert!(c.ended);
    assert!(peak_rss_kb() < 200 * 1024, "tracer memory bounded");
    (o, c)
}

#[test]
fn ten_thousand_spawns_in_a_row() {
    need!("gcc");
    let f = fixture("posix_spawn");
    let (o, c) = stress("10k posix_spawn", &[f.to_str().unwrap(), "10000"]);
    assert_eq!(o.exit_code, Some(0));
    assert_eq!((c.spawns, c.execs), (10_000, 10_001));
}

#[test]
fn thirty_two_threads_spawning_at_once() {
    need!("gcc");
    let f = fixture("threads_spawner");
    let (o, c) = stress("32 threads x 20", &[f.to_str().unwrap(), "32", "20"]);
    assert_eq!(o.exit_code, Some(0));
    assert_eq!((c.spawns, c.execs, o.spawns.threads), (640, 641, 32));
}

#[test]
fn fork_chain_500_deep() {
    need!("gcc");
    let f = fixture("fork_chain");
    let (o, c) = stress("fork chain 500", &[f.to_str().unwrap(), "500"]);
    assert_eq!(o.exit_code, Some(0));
    assert_eq!((c.spawns, c.execs), (500, 2));
}

#[test]
fn two_thousand_short_lived_processes() {
    need!("gcc");
    let f = fixture("fork_no_exec");
    let (o, c) = stress("2000 forks", &[f.to_str().unwrap(), "2000"]);
    assert_eq!(o.exit_code, Some(0));
    assert_eq!(c.spawns, 2000);
    assert_eq!(o.counts.get("exit"), Some(&2001));
}

#[test]
fn shell_pipeline_storm() {
    need!("bash");
    // 100 three-stage pipelines: bash forks each stage; cat and wc exec.
    let script = "for i in $(seq 100); do echo $i | cat | wc -c >/dev/null; done";
    let bash = tool("bash");
    let (o, c) = stress("pipeline storm", &[bash.to_str().unwrap(), "-c", script]);
    assert_eq!(o.exit_code, Some(0));
    assert_eq!(c.spawns, 301, "seq's command substitution + 3 stages x 100");
    assert_eq!(c.execs, 1 + 1 + 200, "bash, seq, cat and wc x 100");
}
