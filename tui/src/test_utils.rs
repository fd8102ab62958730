//! Helpers for the snapshot tests: a sample app and `render` to text.

use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;
use spawnscope_analyzer::{Analysis, Finding, Severity};

use crate::app::App;
use crate::eventlog::EventLog;
use crate::feed::Feed;
use crate::{sample, ui, Action};

/// Analysis of the sample trace. The findings are fixed here, not taken
/// from the analyzer's rules, so a reworded rule does not change these
/// screens (the analyzer has its own tests).
pub fn sample_analysis(scale: u64, glibc: &str) -> (Analysis, EventLog) {
    let mut feed = Feed::new(sample::header(if scale == 1 { "laptop" } else { "node17" }, glibc));
    let mut log = EventLog::default();
    for (i, rec) in sample::records(scale).into_iter().enumerate() {
        let line = i as u64 + 2;
        log.push(line, &rec);
        feed.push_owned(line, rec);
    }
    let mut a = feed.finish();
    let forks: Vec<usize> =
        a.spawns.iter().filter(|s| s.parent_mem.is_some_and(|m| m.rss_kb > 1 << 19)).map(|s| s.index).collect();
    let searches: Vec<usize> =
        a.spawns.iter().filter(|s| s.exec.as_ref().is_some_and(|e| !e.failed_attempts.is_empty())).map(|s| s.index).collect();
    a.findings = vec![
        Finding {
            id: "SS001",
            name: "fork-large-parent",
            severity: Severity::High,
            message: format!("{} fork-style spawns from a parent with 1.0 GiB RSS took 15 ms each", forks.len()),
            advice: "Spawn with posix_spawn (vfork-style): its cost does not grow with the parent's memory.".into(),
            numbers: Default::default(),
            evidence: forks,
            evidence_sites: Vec::new(),
            savings_ns: None,
        },
        Finding {
            id: "SS003",
            name: "path-search",
            severity: Severity::Warning,
            message: format!("{} spawns searched PATH: 2 failed exec attempts each", searches.len()),
            advice: "Run programs by absolute path, or put their directory first in PATH.".into(),
            numbers: Default::default(),
            evidence: searches,
            evidence_sites: Vec::new(),
            savings_ns: None,
        },
    ];
    (a, log)
}

/// The app over the sample trace, at 80x24.
pub fn sample_app() -> App {
    let (a, log) = sample_analysis(1, "2.36");
    App::new("build.jsonl", a, log)
}

/// The sample app with a slower second trace to compare.
pub fn compare_app() -> App {
    let (b, _) = sample_analysis(8, "2.17");
    sample_app().with_compare("cluster.jsonl", b)
}

/// Applies actions to an app.
pub fn apply(app: &mut App, actions: impl IntoIterator<Item = Action>) {
    for a in actions {
        app.update(a);
    }
}

/// Draws the app on a `w` x `h` test terminal and returns the screen as text.
pub fn render(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    term.draw(|f| ui::draw(f, app)).expect("draw");
    screen_text(term.backend().buffer())
}

/// A buffer as lines of text, trailing spaces removed.
pub fn screen_text(buf: &Buffer) -> String {
    let w = buf.area.width as usize;
    let mut out = String::new();
    for row in buf.content.chunks(w) {
        let mut line = String::new();
        let mut skip = 0;
        for c in row {
            if skip == 0 {
                line.push_str(c.symbol());
            }
            skip = std::cmp::max(skip, unicode_width(c.symbol())).saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn unicode_width(s: &str) -> usize {
    use ratatui::text::Span;
    Span::raw(s).width()
}
