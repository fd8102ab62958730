//! How fast `spawnscope view` opens a large trace and redraws.
//!
//! Writes a synthetic trace of 1,000,000 events (the sample workload's
//! spawns repeated), then times: reading + analysing it (what `view` does
//! before the first frame), building the app's derived tables, and drawing
//! each view at 120x40 on ratatui's TestBackend (the draw code plus the
//! buffer diff; a real terminal adds the write of the changed cells).
//! Run: `cargo bench -p spawnscope-tui` (or bench/tui-bench.sh).
//! `SPAWNSCOPE_BENCH_EVENTS=N` changes the size.

use std::time::{Duration, Instant};

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use spawnscope_tui::app::View;
use spawnscope_tui::{load_trace, sample, ui, Action, App};

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// CPU time of the whole process (all threads), from /proc/self/stat.
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<u64> = after.split_whitespace().skip(11).take(2).filter_map(|v| v.parse().ok()).collect();
    // Clock ticks; 100 per second on Linux.
    Duration::from_millis(f.iter().sum::<u64>() * 10)
}

/// CPU time of this thread, from /proc/thread-self/schedstat (ns).
fn thread_cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(s.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn main() {
    let events: usize = std::env::var("SPAWNSCOPE_BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let path = std::env::temp_dir().join(format!("spawnscope-tui-bench-{}.jsonl", std::process::id()));
    let t = Instant::now();
    let file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create trace"));
    let written = sample::write_large(file, events).expect("write trace");
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("trace: {written} events, {:.0} MiB, written in {}", size as f64 / (1 << 20) as f64, ms(t.elapsed()));

    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("machine: {cpus} cpus, load average {} (wall times include waiting for a busy CPU)", loadavg());
    // The reader's floor: parsing alone, one thread.
    let (t, c) = (Instant::now(), thread_cpu());
    let mut reader = spawnscope_format::FileReader::open(&path).expect("open");
    while reader.next_record().expect("read").is_some() {}
    println!("parse only (format's reader): {} wall, {} CPU", ms(t.elapsed()), ms(thread_cpu() - c));

    let (t0, c0, m0) = (Instant::now(), process_cpu(), thread_cpu());
    let loaded = load_trace(&path).expect("load");
    let t_load = t0.elapsed();
    let (load_cpu, load_main) = (process_cpu() - c0, thread_cpu() - m0);
    println!(
        "load: CPU {} on the analysing thread, ~{} on the reader thread (the slower one bounds the wall time on an idle machine)",
        ms(load_main),
        ms(load_cpu.saturating_sub(load_main))
    );
    let spawns = loaded.analysis.spawns.len();
    let (t1, c1) = (Instant::now(), thread_cpu());
    let mut app = App::new("bench.jsonl", loaded.analysis, loaded.events);
    let t_app = t1.elapsed();
    println!("app tables: CPU {}", ms(thread_cpu() - c1));
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string()))
        .and_then(|kb| kb.parse::<u64>().ok())
        .unwrap_or(0);
    println!("memory: peak RSS {:.0} MiB with the trace open", hwm as f64 / 1024.0);
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    app.update(Action::Resize(120, 40));
    let t2 = Instant::now();
    term.draw(|f| ui::draw(f, &app)).expect("draw");
    let t_first = t2.elapsed();
    let open = t0.elapsed();
    let open_cpu = process_cpu() - c0;
    println!(
        "open: read+analyse {} ({spawns} spawns) + app tables {} + first frame {} = {} wall, {} CPU in 2 threads (target <= 2 s)",
        ms(t_load),
        ms(t_app),
        ms(t_first),
        ms(open),
        ms(open_cpu)
    );

    let mut worst = Duration::ZERO;
    for view in View::ALL {
        app.update(Action::ShowView(view));
        let frames = 200;
        let mut max = Duration::ZERO;
        let (t, c) = (Instant::now(), thread_cpu());
        for i in 0..frames {
            let f = Instant::now();
            // A key press and the redraw it causes.
            app.update(if i % 50 == 49 { Action::PageDown } else { Action::Down });
            term.draw(|f| ui::draw(f, &app)).expect("draw");
            max = max.max(f.elapsed());
        }
        let mean = t.elapsed() / frames;
        let cpu = (thread_cpu() - c) / frames;
        worst = worst.max(max);
        println!(
            "frame {:<12} mean {:>8} (CPU {:>8}) max {:>8}  (key + redraw, 120x40)",
            view.title(),
            ms(mean),
            ms(cpu),
            ms(max)
        );
    }
    println!("worst frame {} (target <= 16 ms)", ms(worst));

    // Typing a filter over every event (narrowing as it grows).
    app.update(Action::FilterStart);
    let (t, c) = (Instant::now(), thread_cpu());
    for c in "gcc".chars() {
        app.update(Action::FilterChar(c));
        term.draw(|f| ui::draw(f, &app)).expect("draw");
    }
    println!(
        "filter: 3 keys over {} events in {} (CPU {}), {} matches",
        app.log.len(),
        ms(t.elapsed()),
        ms(thread_cpu() - c),
        app.events.matches.as_ref().map_or(0, Vec::len)
    );
    let _ = std::fs::remove_file(&path);
}
