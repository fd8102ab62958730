//! Raw events: every trace record on one line, filterable with `/`.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, StatefulWidget, Table, TableState, Widget};

use super::theme;
use crate::app::App;
use crate::fmt;

pub struct EventsView<'a>(pub &'a App);

fn kind_color(kind: &str) -> Color {
    match kind {
        "spawn" => Color::Cyan,
        "exec" => Color::Green,
        "exit" => Color::Blue,
        "warning" => Color::Yellow,
        _ => Color::Gray,
    }
}

/// Seconds since the start with microsecond precision.
fn secs(t: Option<u64>) -> String {
    t.map(|t| format!("{}.{:06}", t / 1_000_000_000, (t % 1_000_000_000) / 1_000)).unwrap_or_else(|| "-".into())
}

impl Widget for EventsView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let ev = &app.events;
        let n = ev.len(&app.log);
        let title = match (&ev.matches, &ev.scan) {
            (Some(_), Some(scan)) => format!(
                "Events ({} of {} match, filtering {}%)",
                fmt::count(n as u64),
                fmt::count(app.log.len() as u64),
                scan.percent()
            ),
            (Some(_), None) if ev.stale => format!(
                "Events ({} of {} match; the filter runs again when the trace is read)",
                fmt::count(n as u64),
                fmt::count(app.log.len() as u64)
            ),
            (Some(_), None) => format!("Events ({} of {} match)", fmt::count(n as u64), fmt::count(app.log.len() as u64)),
            (None, _) => format!("Events ({})", fmt::count(n as u64)),
        };
        let title =
            Line::from(vec![Span::styled(title, theme::title()), Span::styled(" · durations under tracing", theme::dim())]);
        let block = Block::bordered().title(title);
        let inner = block.inner(area);
        block.render(area, buf);
        let show_filter = ev.editing || !ev.filter.is_empty();
        let [table_area, filter_area] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(u16::from(show_filter))]).areas(inner);
        let height = table_area.height.saturating_sub(1) as usize;
        let offset = ev.scroll.window(n, height);
        let rows: Vec<Row> = (offset..n.min(offset + height.max(1)))
            .filter_map(|i| ev.row(i))
            .filter_map(|i| app.log.row(i))
            .map(|r| {
                Row::new(vec![
                    Cell::from(r.line.to_string()),
                    Cell::from(secs(r.t)),
                    Cell::from(r.pid.to_string()),
                    Cell::from(Span::styled(
                        if r.kind == "socketpair" { "sockpair" } else { r.kind },
                        Style::new().fg(kind_color(r.kind)),
                    )),
                    Cell::from(r.text.to_string()),
                ])
            })
            .collect();
        let header = Row::new(vec!["line", "time s", "pid", "kind", "event"]).style(theme::header());
        let widths =
            [Constraint::Length(6), Constraint::Length(9), Constraint::Length(6), Constraint::Length(8), Constraint::Min(10)];
        let sel = ev.scroll.selected.checked_sub(offset).filter(|_| n > 0);
        let mut state = TableState::new().with_selected(sel);
        let table = Table::new(rows, widths).header(header).row_highlight_style(theme::selected());
        StatefulWidget::render(table, table_area, buf, &mut state);
        if n == 0 {
            let msg = match (&ev.matches, &ev.scan) {
                (Some(_), Some(_)) => "filtering…",
                (Some(_), None) => "no event matches the filter",
                (None, _) => "no events yet",
            };
            Line::styled(msg, theme::dim()).render(Rect { y: table_area.y + 1, height: 1, ..table_area }, buf);
        }
        if show_filter {
            let cursor = if ev.editing { "▏" } else { "" };
            Line::from(vec![
                Span::styled("/", theme::header()),
                Span::raw(format!("{}{cursor}", fmt::safe(&ev.filter, 200))),
                Span::styled(if ev.editing { "   Enter keep · Esc clear" } else { "   Esc clear" }, theme::dim()),
            ])
            .render(filter_area, buf);
        }
    }
}
