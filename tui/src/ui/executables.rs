//! Executables table: one row per program exec'd, sortable.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Row, StatefulWidget, Table, TableState, Widget};
use spawnscope_analyzer::Group;

use super::theme;
use crate::app::{App, SortKey};
use crate::fmt;

pub struct Executables<'a>(pub &'a App);

/// `f3 v12`: spawns per style (f fork, v vfork, m vm).
pub fn style_mix(g: &Group) -> String {
    [("fork", "f"), ("vfork", "v"), ("vm", "m")]
        .iter()
        .filter_map(|(k, s)| g.styles.get(*k).filter(|&&n| n > 0).map(|n| format!("{s}{n}")))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Widget for Executables<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let st = &app.exes;
        let arrow = if st.descending { "↓" } else { "↑" };
        let title = format!(
            "Executables ({}) · sorted by {} {arrow} · latencies {}",
            app.trace.by_exe.len(),
            st.sort.label(),
            "under tracing"
        );
        let head = |k: SortKey, s: &'static str| {
            if k == st.sort {
                format!("{s}{arrow}")
            } else {
                s.to_string()
            }
        };
        let header = Row::new(vec![
            head(SortKey::Name, "executable"),
            head(SortKey::Count, "spawns"),
            head(SortKey::StyleMix, "styles"),
            head(SortKey::Failed, "failed"),
            head(SortKey::EnvBytes, "env"),
            head(SortKey::P50, "p50"),
            head(SortKey::P99, "p99"),
            "ran".to_string(),
        ])
        .style(theme::header());
        // Only the visible rows are built: a trace may exec thousands of programs.
        let height = area.height.saturating_sub(3) as usize;
        let offset = st.scroll.window(st.order.len(), height);
        let rows = st.order.iter().skip(offset).take(height.max(1)).map(|&i| {
            let g = &app.trace.by_exe[i];
            let info = app.trace.exe_info.get(i);
            Row::new(vec![
                fmt::safe(info.map_or(g.key.as_str(), |x| x.label.as_str()), 60),
                fmt::count(g.count),
                style_mix(g),
                fmt::count(g.failed_attempts),
                fmt::bytes(g.env_bytes_max),
                fmt::dur(g.latency.p50),
                fmt::dur(g.latency.p99),
                info.map_or_else(String::new, |x| fmt::dur(x.ran_ns)),
            ])
        });
        let widths = [
            Constraint::Min(14),
            Constraint::Length(8),
            Constraint::Length(14),
            Constraint::Length(7),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(7),
        ];
        let mut state = TableState::new().with_selected(st.scroll.selected.checked_sub(offset).filter(|_| !st.order.is_empty()));
        let table = Table::new(rows, widths)
            .header(header)
            .block(Block::bordered().title(Span::styled(title, theme::title())))
            .row_highlight_style(theme::selected());
        StatefulWidget::render(table, area, buf, &mut state);
    }
}
