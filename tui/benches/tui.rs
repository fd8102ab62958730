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

fn main() {
    let events: usize = std::env::var("SPAWNSCOPE_BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let path = std::env::temp_dir().join(format!("spawnscope-tui-bench-{}.jsonl", std::process::id()));
    let t = Instant::now();
    let file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create trace"));
    let written = sample::write_large(file, events).expect("write trace");
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("trace: {written} events, {:.0} MiB, written in {}", size as f64 / (1 << 20) as f64, ms(t.elapsed()));

    let t0 = Instant::now();
    let loaded = load_trace(&path).expect("load");
    let t_load = t0.elapsed();
    let spawns = loaded.analysis.spawns.len();
    let t1 = Instant::now();
    let mut app = App::new("bench.jsonl", loaded.analysis, loaded.events);
    let t_app = t1.elapsed();
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    app.update(Action::Resize(120, 40));
    let t2 = Instant::now();
    term.draw(|f| ui::draw(f, &app)).expect("draw");
    let t_first = t2.elapsed();
    let open = t0.elapsed();
    println!("open: read+analyse {} ({spawns} spawns) + app tables {} + first frame {} = {} (target <= 2 s)", ms(t_load), ms(t_app), ms(t_first), ms(open));

    let mut worst = Duration::ZERO;
    for view in View::ALL {
        app.update(Action::ShowView(view));
        let frames = 200;
        let mut max = Duration::ZERO;
        let t = Instant::now();
        for i in 0..frames {
            let f = Instant::now();
            // A key press and the redraw it causes.
            app.update(if i % 50 == 49 { Action::PageDown } else { Action::Down });
            term.draw(|f| ui::draw(f, &app)).expect("draw");
            max = max.max(f.elapsed());
        }
        let mean = t.elapsed() / frames;
        worst = worst.max(max);
        println!("frame {:<12} mean {:>8} max {:>8} (key + redraw, 120x40)", view.title(), ms(mean), ms(max));
    }
    println!("worst frame {} (target <= 16 ms)", ms(worst));

    // Typing a filter over every event (narrowing as it grows).
    app.update(Action::FilterStart);
    let t = Instant::now();
    for c in "gcc".chars() {
        app.update(Action::FilterChar(c));
        term.draw(|f| ui::draw(f, &app)).expect("draw");
    }
    println!("filter: 3 keys over {} events in {} ({} matches)", app.log.len(), ms(t.elapsed()), app.events.matches.as_ref().map_or(0, Vec::len));
    let _ = std::fs::remove_file(&path);
}
