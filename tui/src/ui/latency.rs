//! Latency view: groups (by style, code path or executable) and their
//! histograms, two side by side, or one trace over another with `--compare`.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Row, StatefulWidget, Table, TableState, Widget};
use spawnscope_analyzer::{CodePath, Group};

use super::histogram::Histogram;
use super::theme;
use crate::app::{App, Grouping};
use crate::fmt;

pub struct LatencyView<'a>(pub &'a App);

fn color_of(g: Grouping, key: &str) -> ratatui::style::Color {
    match g {
        Grouping::Style => theme::style_name_color(key),
        _ => ratatui::style::Color::Cyan,
    }
}

/// A group key as shown: code paths by their human label.
pub fn key_label(g: Grouping, key: &str) -> String {
    match (g, CodePath::from_name(key)) {
        (Grouping::CodePath, Some(c)) => c.label().to_string(),
        _ => fmt::safe(key, 40),
    }
}

fn hist_title(grouping: Grouping, g: &Group) -> String {
    let l = &g.latency;
    format!(
        "{} · {} · p50 {} · p99 {}",
        fmt::clip(&key_label(grouping, &g.key), 28),
        fmt::count(g.count),
        fmt::dur(l.p50),
        fmt::dur(l.p99)
    )
}

impl<'a> Widget for LatencyView<'a> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let grouping = app.latency.grouping;
        let groups = app.trace.groups(grouping);
        let cap = if area.height >= 30 { 12 } else { 7 };
        let list_h = (groups.len() as u16 + 3).clamp(4, cap);
        let [list, hists, note] =
            Layout::vertical([Constraint::Length(list_h), Constraint::Min(4), Constraint::Length(1)]).areas(area);
        GroupTable(app).render(list, buf);
        let note_text = if app.trace.analysis.has_syscall_times() {
            format!(" clone entry → child's exec, {}", super::UNDER_TRACING)
        } else {
            " events mode: from the fork event, not the syscall entry: lower bounds, under tracing".to_string()
        };
        Line::styled(note_text, theme::dim()).render(note, buf);
        let (left, right) = app.latency.pair(groups);
        if let Some(c) = &app.compare {
            let key = left.map(|g| g.key.as_str()).unwrap_or("");
            let b = c.groups(grouping).iter().find(|g| g.key == key);
            let fmt_side = |g: Option<&Group>| {
                g.map_or("none".to_string(), |g| format!("{} spawns, p50 {}", fmt::count(g.count), fmt::dur(g.latency.p50)))
            };
            let title = format!("{}: A {} │ B {}", fmt::clip(&key_label(grouping, key), 24), fmt_side(left), fmt_side(b));
            let h = Histogram { title, a: left.map(|g| &g.latency), b: b.map(|g| &g.latency), color: theme::TRACE_A };
            h.render(hists, buf);
            return;
        }
        let Some(left) = left else {
            Block::bordered().title("no spawns").render(hists, buf);
            return;
        };
        let one = |g: &'a Group| Histogram {
            title: hist_title(grouping, g),
            a: Some(&g.latency),
            b: None,
            color: color_of(grouping, &g.key),
        };
        match right {
            Some(r) => {
                let [l, rr] = Layout::horizontal([Constraint::Percentage(50); 2]).areas(hists);
                one(left).render(l, buf);
                one(r).render(rr, buf);
            }
            None => one(left).render(hists, buf),
        }
    }
}

/// The list of groups with their percentiles (two traces: A and B columns).
struct GroupTable<'a>(&'a App);

impl Widget for GroupTable<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let grouping = app.latency.grouping;
        let groups = app.trace.groups(grouping);
        let pinned = app.latency.pinned.as_deref();
        let title = format!("Latency by {} ({} groups) · g: group by", grouping.label(), groups.len());
        let block = Block::bordered().title(Span::styled(title, theme::title()));
        let height = area.height.saturating_sub(3) as usize;
        let offset = app.latency.scroll.window(groups.len(), height);
        let shown = &groups[offset..groups.len().min(offset + height.max(1))];
        let mark = |g: &Group| if Some(g.key.as_str()) == pinned { "◆ " } else { "  " };
        let (header, widths, rows): (Row, Vec<Constraint>, Vec<Row>) = match &app.compare {
            Some(c) => {
                let other = c.groups(grouping);
                let rows = shown
                    .iter()
                    .map(|g| {
                        let b = other.iter().find(|o| o.key == g.key);
                        let ratio = b
                            .filter(|b| g.latency.p50 > 0 && b.latency.count > 0)
                            .map(|b| format!("{:.1}x", b.latency.p50 as f64 / g.latency.p50 as f64))
                            .unwrap_or_else(|| "-".into());
                        Row::new(vec![
                            format!("{}{}", mark(g), key_label(grouping, &g.key)),
                            fmt::count(g.count),
                            b.map_or("-".into(), |b| fmt::count(b.count)),
                            fmt::dur(g.latency.p50),
                            b.map_or("-".into(), |b| fmt::dur(b.latency.p50)),
                            ratio,
                        ])
                    })
                    .collect();
                let header = Row::new(vec!["group", "A n", "B n", "A p50", "B p50", "B/A"]);
                (
                    header,
                    vec![
                        Constraint::Min(12),
                        Constraint::Length(8),
                        Constraint::Length(8),
                        Constraint::Length(7),
                        Constraint::Length(7),
                        Constraint::Length(6),
                    ],
                    rows,
                )
            }
            None => {
                let rows = shown
                    .iter()
                    .map(|g| {
                        let l = &g.latency;
                        Row::new(vec![
                            format!("{}{}", mark(g), key_label(grouping, &g.key)),
                            fmt::count(g.count),
                            fmt::dur(l.p50),
                            fmt::dur(l.p90),
                            fmt::dur(l.p99),
                            fmt::dur(l.max),
                        ])
                    })
                    .collect();
                let header = Row::new(vec!["group", "spawns", "p50", "p90", "p99", "max"]);
                (
                    header,
                    vec![
                        Constraint::Min(12),
                        Constraint::Length(8),
                        Constraint::Length(7),
                        Constraint::Length(7),
                        Constraint::Length(7),
                        Constraint::Length(7),
                    ],
                    rows,
                )
            }
        };
        let sel = app.latency.scroll.selected.checked_sub(offset).filter(|_| !groups.is_empty());
        let mut state = TableState::new().with_selected(sel);
        let table =
            Table::new(rows, widths).header(header.style(theme::header())).block(block).row_highlight_style(theme::selected());
        StatefulWidget::render(table, area, buf, &mut state);
    }
}
