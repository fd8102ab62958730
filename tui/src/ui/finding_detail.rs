//! The finding pane: one finding in full. What is decisive comes first (the
//! message and what to do), then how much fixing it would save, where in
//! the code the spawns come from, the evidence and the raw numbers. Lines
//! are wrapped here (not by the paragraph) so the app knows how far the pane
//! can scroll.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};
use spawnscope_analyzer::{Analysis, Finding};

use super::theme::{self, Colored};
use crate::app::{App, FindingPane};
use crate::fmt;

/// Evidence spawns listed in the pane (Enter steps through all of them).
const EVIDENCE_SHOWN: usize = 8;

pub struct FindingDetail<'a> {
    pub app: &'a App,
    pub pane: &'a FindingPane,
}

fn section(s: &str) -> Line<'static> {
    Line::styled(s.to_string(), theme::header())
}

/// `text` wrapped to `width` columns, each line indented by `indent`.
fn para(text: &str, width: usize, indent: &str, style: Style) -> Vec<Line<'static>> {
    let w = width.saturating_sub(indent.chars().count()).max(10);
    fmt::wrap(text, w).into_iter().map(|l| Line::styled(format!("{indent}{l}"), style)).collect()
}

/// A number from `Finding::numbers`: counts as counts, the rest with at most
/// four decimals.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let c = fmt::count(v.abs() as u64);
        if v < 0.0 {
            format!("-{c}")
        } else {
            c
        }
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// One evidence spawn: `#12 pid 130 cc --version   fork  15 ms`.
fn evidence_line(a: &Analysis, i: usize, width: usize) -> Option<String> {
    let s = a.spawns.get(i)?;
    let child = s.child.and_then(|c| a.processes.get(c));
    let what = child
        .and_then(|p| p.execs.iter().rev().find(|x| x.result == 0).map(|x| fmt::argv(&x.argv, 200)))
        .or_else(|| child.map(|p| fmt::safe(&p.name, 60)))
        .unwrap_or_else(|| "(no child)".into());
    let tail = format!("  {:<5} {:>8}", s.style.as_str(), fmt::opt_dur(s.latency_ns));
    let head = format!("  #{} pid {} ", s.index, s.child_pid);
    let room = width.saturating_sub(head.chars().count() + tail.chars().count());
    let what = fmt::clip(&what, room.max(8));
    let pad = room.saturating_sub(what.chars().count());
    Some(format!("{head}{what}{}{tail}", " ".repeat(pad)))
}

/// Everything the pane shows for finding `index`, wrapped to `width`
/// columns (the pane's inner width).
pub fn lines(app: &App, index: usize, width: usize) -> Vec<Line<'static>> {
    let a = &app.trace.analysis;
    let Some(f) = a.findings.get(index) else { return Vec::new() };
    let mut l = Vec::new();
    let sev = Style::new().fg(f.severity.color()).add_modifier(Modifier::BOLD);
    l.push(Line::from(vec![
        Span::styled(f.severity.as_str().to_uppercase(), sev),
        Span::styled(format!(" {} {}", f.id, f.name), theme::title()),
    ]));
    l.extend(para(&fmt::safe(&f.message, 4000), width, "", Style::new()));
    l.push(Line::raw(""));
    l.push(section("What to do"));
    l.extend(para(&fmt::safe(&f.advice, 4000), width, "  ", Style::new()));
    l.push(Line::raw(""));
    l.push(section("Impact"));
    l.extend(para(&savings(f, a), width, "  ", Style::new()));
    let sites = call_sites(a, f);
    if !sites.is_empty() {
        l.push(Line::raw(""));
        l.push(section("Call sites"));
        for s in sites {
            l.extend(para(&s, width, "  ", Style::new()));
        }
    }
    l.push(Line::raw(""));
    l.extend(evidence(app, f, width));
    if !f.numbers.is_empty() {
        l.push(Line::raw(""));
        l.push(section("Numbers"));
        let kw = f.numbers.keys().map(|k| k.chars().count()).max().unwrap_or(0).min(30);
        for (k, v) in &f.numbers {
            l.push(Line::from(vec![Span::styled(format!("  {:<kw$}  ", fmt::safe(k, 30)), theme::dim()), Span::raw(number(*v))]));
        }
    }
    l
}

fn savings(f: &Finding, a: &Analysis) -> String {
    let total = a.summary.recording_ns;
    match f.savings_ns {
        Some(ns) if total > 0 => format!(
            "Fixing it would save ≈ {} of {} recorded ({:.1}%, estimated under tracing).",
            fmt::dur(ns),
            fmt::dur(total),
            ns as f64 * 100.0 / total as f64
        ),
        Some(ns) => format!("Fixing it would save ≈ {} (estimated under tracing).", fmt::dur(ns)),
        None => "No sound estimate of what fixing it would save.".to_string(),
    }
}

/// The call sites of the evidence spawns, most spawns first, with the API
/// they spawned through (empty when the trace has no stacks).
fn call_sites(a: &Analysis, f: &Finding) -> Vec<String> {
    let line = spawnscope_analyzer::origin::describe_finding_sites(a, f, 8).unwrap_or_default();
    line.split("; ").filter(|s| !s.is_empty()).map(|s| fmt::safe(s, 400)).collect()
}

fn evidence(app: &App, f: &Finding, width: usize) -> Vec<Line<'static>> {
    let a = &app.trace.analysis;
    let n = f.evidence.len();
    let mut l = Vec::new();
    if n == 0 {
        l.push(section("Evidence"));
        l.push(Line::styled("  no single spawns: the finding is about the trace as a whole", theme::dim()));
        return l;
    }
    l.push(Line::from(vec![
        Span::styled(
            format!("Evidence: {} spawn{}, slowest first", fmt::count(n as u64), if n == 1 { "" } else { "s" }),
            theme::header(),
        ),
        Span::styled("  (Enter: step through them)", theme::dim()),
    ]));
    for &i in app.trace.slowest_first(&f.evidence).iter().take(EVIDENCE_SHOWN) {
        if let Some(s) = evidence_line(a, i, width) {
            l.push(Line::raw(s));
        }
    }
    if n > EVIDENCE_SHOWN {
        l.push(Line::styled(format!("  … and {} more", fmt::count((n - EVIDENCE_SHOWN) as u64)), theme::dim()));
    }
    l
}

impl Widget for FindingDetail<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let n = app.trace.analysis.findings.len();
        let title = format!("Finding {} of {}", self.pane.index + 1, n);
        let block = Block::bordered().title(Span::styled(title, theme::title()));
        let inner = block.inner(area);
        let text = lines(app, self.pane.index, inner.width as usize);
        let total = text.len();
        let max = total.saturating_sub(inner.height as usize);
        let scroll = (self.pane.scroll as usize).min(max);
        // Say when there is more below, in the bottom border.
        let block = if scroll < max {
            block.title_bottom(Line::styled(format!(" ↓ {} more lines (j/PgDn) ", max - scroll), Style::new().fg(Color::Yellow)))
        } else {
            block
        };
        Paragraph::new(text).block(block).scroll((scroll as u16, 0)).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn numbers() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(1234567.0), "1,234,567");
        assert_eq!(number(0.125), "0.125");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(-4.0), "-4");
    }
}
