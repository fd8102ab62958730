//! Issue 11 regression: thread exits recorded as process exits.
//!
//! `thread_storm` (fixtures/c): 8 threads each create 200 short detached
//! threads. A new thread's first stop can come before its creator's clone
//! event, and it can exit before that event is handled; its exit must still
//! be a thread's exit of the one process. Truth: 1 process, 1,608 threads
//! (8 + 8 x 200), in every run. Runs as many times as fit in ~20 s.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use spawnscope_format::*;
use spawnscope_tracer::ModeRequest;

const THREADS: usize = 8 + 8 * 200;

/// Checks one recording; returns how many new tasks stopped before their
/// creator's clone event (the race this test is about).
fn check(t: &Trace) -> u64 {
    let l = &t.label;
    let root = t.outcome.root_pid;
    assert_eq!(t.outcome.exit_code, Some(0), "{l}");
    let spawns = t.spawns();
    assert_eq!(spawns.iter().filter(|s| s.thread && s.child.is_some()).count(), THREADS, "{l}: threads created");
    assert!(t.processes().iter().all(|s| s.child.is_none()), "{l}: no process spawned");
    assert_eq!(t.outcome.spawns.threads, THREADS as u64, "{l}");
    assert_eq!(t.outcome.spawns.total(), 0, "{l}");
    let exits = t.exits();
    let pids: BTreeSet<i32> = exits.iter().map(|e| e.pid).chain(spawns.iter().map(|s| s.pid)).collect();
    assert_eq!(pids, BTreeSet::from([root]), "{l}: one process");
    let process_exits: Vec<_> = exits.iter().filter(|e| !e.thread).collect();
    assert_eq!(process_exits.len(), 1, "{l}: one process exit: {process_exits:?}");
    assert_eq!(process_exits[0].tid, root, "{l}");
    assert_eq!(exits.iter().filter(|e| e.thread).count(), THREADS, "{l}: every thread's exit");
    // Each thread exit comes after the spawn that created it.
    let mut created = BTreeSet::new();
    for r in &t.records {
        match r {
            Record::Spawn(s) => {
                created.insert(s.child.unwrap());
            }
            Record::Exit(e) if e.thread => assert!(created.contains(&e.tid), "{l}: exit of {} before its spawn", e.tid),
            _ => {}
        }
    }
    let live_max = spawns.iter().filter_map(|s| s.parent_threads).max().unwrap_or(0);
    assert!(live_max as usize <= 1 + THREADS, "{l}: live thread count inflated: {live_max}");
    t.outcome.early_child_stops
}

#[test]
fn thread_storm_is_one_process_and_1608_threads_every_run() {
    need!("gcc");
    let t0 = Instant::now();
    let (mut runs, mut early) = (0, 0);
    while runs < 3 || t0.elapsed() < Duration::from_secs(20) {
        let (mode, info) = if runs % 4 == 3 { (ModeRequest::Syscall, false) } else { (ModeRequest::Seccomp, runs % 2 == 0) };
        early += check(&run(mode, info, "thread_storm", &[]));
        runs += 1;
    }
    eprintln!("thread storm: {runs} runs in {:.1} s, {early} early first stops", t0.elapsed().as_secs_f64());
    assert!(early > 0, "the early-stop ordering never happened: the test did not test it");
}
