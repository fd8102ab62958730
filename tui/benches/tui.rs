//! How fast `spawnscope view` opens a large trace and redraws.
//!
//! Writes a synthetic trace of 1,000,000 events (the sample workload's
//! spawns repeated), then times:
//! - what `view` does on a big trace: open at once and read behind the UI
//!   (time to the first frame; every frame while the trace is read, with a
//!   key press each; time until the whole trace is in);
//! - reading + analysing it whole, building the app's derived tables, and
//!   drawing each view at 120x40 on ratatui's TestBackend (the draw code
//!   plus the buffer diff; a real terminal adds the write of the changed
//!   cells);
//! - the events filter, which reads the indexed rows back from the file.
//!
//! Run: `cargo bench -p spawnscope-tui` (or bench/tui-bench.sh).
//! `SPAWNSCOPE_BENCH_EVENTS=N` changes the size; `SPAWNSCOPE_BENCH_TRACE=FILE`
//! opens an existing trace instead (e.g. one from format/examples/gen-trace.rs).

use std::time::{Duration, Instant};

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use spawnscope_tui::app::View;
use spawnscope_tui::{load_trace, open_progressive, sample, ui, Action, App};

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
    let given = std::env::var_os("SPAWNSCOPE_BENCH_TRACE").map(std::path::PathBuf::from);
    let path =
        given.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("spawnscope-tui-bench-{}.jsonl", std::process::id())));
    if given.is_none() {
        let t = Instant::now();
        let file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create trace"));
        let written = sample::write_large(file, events).expect("write trace");
        println!("trace: {written} events, written in {}", ms(t.elapsed()));
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("trace: {} ({:.0} MiB)", path.display(), size as f64 / (1 << 20) as f64);

    progressive(&path);
    if std::env::var_os("SPAWNSCOPE_BENCH_ONLY_OPEN").is_some() {
        return;
    }

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
    println!("memory: peak RSS {:.0} MiB (this process: both opens)", peak_rss_mib());
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

    // Typing a filter over every event: each key cuts the running scan
    // short and starts another; the UI thread only takes the matches.
    app.update(Action::FilterStart);
    let (t, c) = (Instant::now(), thread_cpu());
    let mut worst_key = Duration::ZERO;
    // In both the sample's traces and gen-trace's: the PATH searches' failed execs.
    let needle = "enoent";
    for c in needle.chars() {
        let k = Instant::now();
        app.update(Action::FilterChar(c));
        app.poll_filter();
        term.draw(|f| ui::draw(f, &app)).expect("draw");
        worst_key = worst_key.max(k.elapsed());
    }
    let keys_cpu = thread_cpu() - c;
    let background = app.events.scan.is_some();
    app.wait_filtered();
    println!(
        "filter {needle:?}: {} keys over {} events: worst key + redraw {} (UI thread CPU {} for all); every match after {} ({}), {} matches",
        needle.len(),
        app.log.len(),
        ms(worst_key),
        ms(keys_cpu),
        ms(t.elapsed()),
        if background { "on the filter's own thread" } else { "in place" },
        app.events.matches.as_ref().map_or(0, Vec::len)
    );
    if given.is_none() {
        let _ = std::fs::remove_file(&path);
    }
}

/// Peak RSS of this process so far (MiB).
fn peak_rss_mib() -> f64 {
    let kb = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string()))
        .and_then(|kb| kb.parse::<u64>().ok())
        .unwrap_or(0);
    kb as f64 / 1024.0
}

/// What `view` does on a big trace: the app at once, the trace read behind
/// it. Runs a loop like the real one (take what the loader sent, a key,
/// a redraw, then wait for input up to 16 ms) and times each frame.
fn progressive(path: &std::path::Path) {
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    let t0 = Instant::now();
    let mut app = open_progressive(path, "bench.jsonl").expect("open");
    app.update(Action::Resize(120, 40));
    term.draw(|f| ui::draw(f, &app)).expect("draw");
    let first = t0.elapsed();
    let (mut frames, mut worst, mut worst_snapshot, mut snapshots) = (0u32, Duration::ZERO, Duration::ZERO, 0u32);
    let mut times = Vec::new();
    let mut cpu_worst = Duration::ZERO;
    while app.loading.is_some() {
        let f = Instant::now();
        let c = thread_cpu();
        let spawns = app.trace.analysis.spawns.len();
        app.poll_loading();
        let swapped = app.trace.analysis.spawns.len() != spawns;
        // Every view in turn, a key press in each frame.
        app.update(Action::ShowView(View::ALL[(frames / 10) as usize % View::ALL.len()]));
        app.update(Action::Down);
        term.draw(|f| ui::draw(f, &app)).expect("draw");
        let d = f.elapsed();
        cpu_worst = cpu_worst.max(thread_cpu() - c);
        times.push(d);
        worst = worst.max(d);
        if swapped {
            snapshots += 1;
            worst_snapshot = worst_snapshot.max(d);
        }
        frames += 1;
        std::thread::sleep(Duration::from_millis(16));
    }
    let all = t0.elapsed();
    times.sort();
    let p99 = times.get(times.len() * 99 / 100).copied().unwrap_or_default();
    println!(
        "view (open at once): first frame {} · whole trace in after {} ({} spawns, {} events listed) · load average {}",
        ms(first),
        ms(all),
        app.trace.analysis.spawns.len(),
        app.log.len(),
        loadavg()
    );
    println!(
        "  {frames} frames while reading (poll + key + redraw, 120x40): worst {} (CPU {}), p99 {}; {snapshots} snapshots swapped in, worst such frame {} (target <= 16 ms)",
        ms(worst),
        ms(cpu_worst),
        ms(p99),
        ms(worst_snapshot)
    );
    let (t, c) = (Instant::now(), thread_cpu());
    app.update(Action::Resize(100, 30));
    term.resize(ratatui::layout::Rect::new(0, 0, 100, 30)).expect("resize");
    term.draw(|f| ui::draw(f, &app)).expect("draw");
    println!("  a resize (selections kept visible) and its redraw: {} (CPU {})", ms(t.elapsed()), ms(thread_cpu() - c));
    let page = app.page();
    let (t, c) = (Instant::now(), thread_cpu());
    let mut fresh = spawnscope_tui::app::TreeState::default();
    fresh.rebuild(&app.trace, page);
    println!(
        "  the tree's rows for a new analysis (made on the loader thread while reading): {} (CPU {})",
        ms(t.elapsed()),
        ms(thread_cpu() - c)
    );
    drop(fresh);
    app.update(Action::ShowView(View::Tree));
    app.update(Action::Home);
    let (t, c) = (Instant::now(), thread_cpu());
    app.update(Action::Left);
    term.draw(|f| ui::draw(f, &app)).expect("draw");
    app.update(Action::Right);
    term.draw(|f| ui::draw(f, &app)).expect("draw");
    println!(
        "  fold and unfold the root in the Tree view, with their redraws: {} (CPU {})",
        ms(t.elapsed()),
        ms(thread_cpu() - c)
    );
    println!("  memory: peak RSS {:.0} MiB with the trace open (events indexed: {})", peak_rss_mib(), app.log.is_indexed());
    let t = Instant::now();
    app.update(Action::ShowView(View::Events));
    app.update(Action::End);
    term.draw(|f| ui::draw(f, &app)).expect("draw");
    println!("  events view, last page (rows read back from the file): {}", ms(t.elapsed()));
    drop(app);
}
