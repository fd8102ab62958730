//! Overview: host facts, totals, spawns by style and code path, findings.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};
use spawnscope_analyzer::{CodePath, SpawnStyle};

use super::bars::{Bar, Bars};
use super::theme::{self, Colored};
use crate::app::App;
use crate::fmt;

pub struct Overview<'a>(pub &'a App);

impl Widget for Overview<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let a = &app.trace.analysis;
        let paths: Vec<Bar> = CodePath::ALL
            .iter()
            .filter_map(|c| {
                let n = a.summary.code_paths.get(c.as_str()).copied().unwrap_or(0);
                (n > 0).then(|| Bar { label: c.label().to_string(), value: n, color: ratatui::style::Color::Cyan })
            })
            .collect();
        let bar_rows = if area.height >= 30 { 7 } else { 4 };
        let bars_h = 2 + paths.len().clamp(3, bar_rows) as u16;
        let [top, mid, bottom] =
            Layout::vertical([Constraint::Length(8), Constraint::Length(bars_h), Constraint::Min(3)]).areas(area);
        let [host, totals] = Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(top);
        let [styles, codes] = Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(mid);
        Paragraph::new(host_lines(app, (host.width as usize).saturating_sub(2)))
            .block(Block::bordered().title(Span::styled("Trace", theme::title())))
            .render(host, buf);
        Paragraph::new(total_lines(app, (totals.width as usize).saturating_sub(2)))
            .block(Block::bordered().title(Span::styled("Totals", theme::title())))
            .render(totals, buf);
        let style_bars = SpawnStyle::ALL
            .iter()
            .map(|s| Bar {
                label: s.as_str().to_string(),
                value: a.summary.styles.get(s.as_str()).copied().unwrap_or(0),
                color: s.color(),
            })
            .collect();
        Bars { title: "Spawns by style", bars: style_bars }.render(styles, buf);
        Bars { title: "Spawns by code path", bars: paths }.render(codes, buf);
        Findings(app).render(bottom, buf);
    }
}

/// `1 thread`, `3 threads`, `2 processes`.
fn plural(n: u64, what: &str) -> String {
    let s = if n == 1 {
        ""
    } else if what.ends_with('s') {
        "es"
    } else {
        "s"
    };
    format!("{} {what}{s}", fmt::count(n))
}

fn kv(k: &str, v: String) -> Line<'static> {
    Line::from(vec![Span::styled(format!("{k:<8}"), theme::dim()), Span::raw(v)])
}

fn host_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    // Values are cut with `…` (not by the border) so a cut is visible.
    let kv = |k: &str, v: String| kv(k, fmt::clip(&v, width.saturating_sub(8)));
    let a = &app.trace.analysis;
    let h = &a.header.host;
    let unknown = || "?".to_string();
    let mut host = vec![fmt::safe(h.hostname.as_deref().unwrap_or("?"), 24)];
    host.extend(h.arch.as_deref().map(|x| fmt::safe(x, 12)));
    host.extend(h.cpus.map(|c| format!("{c}cpu")));
    host.extend(h.memory_bytes.map(fmt::bytes));
    let t = &a.header.tracer;
    let mut tracer = t.mode.as_str().to_string();
    if let Some(p) = t.attached_pid {
        tracer.push_str(&format!(", attached to pid {p}"));
    }
    if let Some(src) = &a.header.source {
        tracer.push_str(&format!(", from {}", fmt::safe(src, 12)));
    }
    let recording = app.live.as_ref().is_some_and(|l| l.running());
    let state = match (recording, a.complete) {
        (true, _) => "recording…",
        // The end line is not read yet: nothing to say about it.
        (false, _) if app.loading.is_some() => "reading…",
        (false, true) => "complete",
        (false, false) => "INCOMPLETE (cut short)",
    };
    let exit = a.summary.exit_code.map(|c| c.to_string()).unwrap_or_else(unknown);
    let mut lines = vec![
        kv("host", host.join(" ")),
        // glibc first: it decides which spawn paths exist (posix_spawn's
        // vfork, the Rust fallback); a long kernel release is cut instead.
        kv(
            "glibc",
            format!(
                "{}  kernel {}",
                fmt::safe(h.glibc_version.as_deref().unwrap_or("?"), 10),
                fmt::safe(h.kernel_release.as_deref().unwrap_or("?"), 40)
            ),
        ),
        kv("tracer", tracer),
        kv("command", fmt::argv(&a.header.command, 60)),
        kv("length", format!("{} · {state} · exit {exit}", fmt::dur(a.summary.duration_ns))),
    ];
    if !a.warnings.is_empty() {
        lines.push(Line::styled(
            format!("⚠ {} warnings (see Events)", a.warnings.len()),
            Style::new().fg(ratatui::style::Color::Yellow),
        ));
    }
    lines
}

/// The first of `forms` that fits in `w` columns (else the last).
fn fit<const N: usize>(w: usize, forms: [String; N]) -> String {
    let last = forms.len() - 1;
    forms.into_iter().enumerate().find(|(i, f)| f.chars().count() <= w || *i == last).map(|(_, f)| f).unwrap_or_default()
}

fn total_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let wide = width >= 58;
    let s = &app.trace.analysis.summary;
    let l = &s.latency;
    let mut failed = format!("{} failed", fmt::count(s.failed_exec_attempts));
    if s.failed_exec_attempts > 0 {
        failed.push_str(&format!(" ({})", fmt::dur(s.failed_exec_ns)));
    }
    vec![
        // The longest form that fits: counts are never cut.
        kv(
            "spawns",
            fit(
                width.saturating_sub(8),
                [
                    format!("{} · {} · {}", fmt::count(s.spawns), plural(s.processes, "process"), plural(s.threads, "thread")),
                    format!("{} · {} procs · {}", fmt::count(s.spawns), fmt::count(s.processes), plural(s.threads, "thread")),
                    format!("{} · {} procs · {} thr", fmt::count(s.spawns), fmt::count(s.processes), fmt::count(s.threads)),
                    format!("{} · {} p · {} t", fmt::count(s.spawns), fmt::count(s.processes), fmt::count(s.threads)),
                ],
            ),
        ),
        kv("execs", format!("{}{} · {failed}", fmt::count(s.exec_attempts), if wide { " attempts" } else { "" })),
        kv("env", format!("up to {} in {} vars", fmt::bytes(s.env_bytes_max), s.env_count_max)),
        kv(
            "latency",
            if l.count > 0 {
                format!("p50 {}  p99 {}  max {}", fmt::dur(l.p50), fmt::dur(l.p99), fmt::dur(l.max))
            } else {
                "-".into()
            },
        ),
        Line::styled(format!("        {}", if wide { super::UNDER_TRACING } else { "measured under tracing" }), theme::dim()),
        kv("rate", format!("{:.0} spawns/s", s.spawn_rate)),
    ]
}

/// Findings with their advice; the selected one is highlighted and kept visible.
struct Findings<'a>(&'a App);

impl Widget for Findings<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let a = &app.trace.analysis;
        let title = format!("Findings ({})", a.findings.len());
        let block = Block::bordered().title(Span::styled(title, theme::title()));
        let inner = block.inner(area);
        block.render(area, buf);
        let w = inner.width as usize;
        let mut lines: Vec<Line> = Vec::new();
        let mut selected_at = 0;
        for (i, f) in a.findings.iter().enumerate() {
            let sel = i == app.findings.selected;
            if sel {
                selected_at = lines.len();
            }
            let mark = if sel { "▶ " } else { "  " };
            let head = format!("{mark}{:<7} {} {}: ", f.severity.as_str().to_uppercase(), f.id, f.name);
            let msg = fmt::safe(&f.message, 400);
            let first_w = w.saturating_sub(head.chars().count());
            let mut msg_lines = fmt::wrap_hanging(&msg, first_w.max(10), w.saturating_sub(4)).into_iter();
            let sev = Style::new().fg(f.severity.color());
            let head_style =
                if sel { sev.add_modifier(ratatui::style::Modifier::BOLD | ratatui::style::Modifier::REVERSED) } else { sev };
            lines.push(Line::from(vec![Span::styled(head, head_style), Span::raw(msg_lines.next().unwrap_or_default())]));
            for rest in msg_lines {
                lines.push(Line::raw(format!("    {rest}")));
            }
            for (j, adv) in fmt::wrap(&fmt::safe(&f.advice, 600), w.saturating_sub(6)).into_iter().enumerate() {
                let lead = if j == 0 { "    → " } else { "      " };
                lines.push(Line::from(vec![
                    Span::styled(lead, theme::dim()),
                    Span::styled(adv, Style::new().fg(ratatui::style::Color::Gray)),
                ]));
            }
        }
        if a.findings.is_empty() {
            lines.push(Line::styled("No findings: nothing in this trace stands out as costly.", theme::dim()));
        }
        for wmsg in &a.warnings {
            lines
                .push(Line::styled(format!("warning: {}", fmt::safe(wmsg, 300)), Style::new().fg(ratatui::style::Color::Yellow)));
        }
        let h = inner.height as usize;
        // Scroll so the selected finding's first line is on screen.
        let offset = if selected_at + 1 > h { selected_at } else { 0 };
        Paragraph::new(lines).scroll((offset as u16, 0)).render(inner, buf);
    }
}
