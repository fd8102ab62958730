//! Process tree: who spawned whom, each node with its spawn style and latency.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, StatefulWidget, Table, TableState, Widget};

use super::theme::{self, Colored};
use super::tree_label;
use crate::app::App;
use crate::fmt;

pub struct TreeView<'a>(pub &'a App);

/// Deeper levels are not indented further, the depth is printed instead.
const MAX_INDENT: u32 = 16;

impl Widget for TreeView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let a = &app.trace.analysis;
        let tree = &app.tree;
        let height = area.height.saturating_sub(3) as usize;
        let offset = tree.scroll.window(tree.rows.len(), height);
        // Only the visible rows are formatted: the tree may hold 100k processes.
        let visible = tree.rows.iter().skip(offset).take(height.max(1));
        let label_w = (area.width as usize).saturating_sub(2 + 6 + 8 + 7 + 8 + 5);
        let end = a.summary.duration_ns;
        let rows: Vec<Row> = visible
            .map(|r| {
                let p = &a.processes[r.process];
                let marker = match (r.has_children, tree.is_folded(r)) {
                    (false, _) => "  ",
                    (true, true) => "▸ ",
                    (true, false) => "▾ ",
                };
                let indent = if r.depth > MAX_INDENT {
                    format!("{}[{}] ", "  ".repeat(MAX_INDENT as usize), r.depth)
                } else {
                    "  ".repeat(r.depth as usize)
                };
                if let Some(g) = tree.group(r) {
                    let room = label_w.saturating_sub(indent.chars().count() + 2);
                    let label = fmt::clip(&format!("{indent}{marker}{}", tree_label::group_label(g, room)), label_w);
                    let style_cell = match g.style {
                        Some(s) => Cell::from(Span::styled(s, Style::new().fg(theme::style_name_color(s)))),
                        None => Cell::from(""),
                    };
                    // Added up when the group was made: a group can have a million members.
                    let failed = g.failed_attempts;
                    return Row::new(vec![
                        Cell::from(label),
                        style_cell,
                        Cell::from(""),
                        Cell::from(""),
                        Cell::from(if failed > 0 { format!("{failed}✗") } else { String::new() }),
                    ]);
                }
                let hidden =
                    if r.has_children && tree.is_folded(r) { format!(" (+{})", p.children.len()) } else { String::new() };
                let pid = p.pid.to_string();
                let room = label_w.saturating_sub(indent.chars().count() + 2 + pid.len() + 1 + hidden.chars().count());
                let name = tree_label::process_label(a, p, room);
                let label = fmt::clip(&format!("{indent}{marker}{pid} {name}{hidden}"), label_w);
                let spawn = p.spawn.and_then(|s| a.spawns.get(s));
                let style_cell = match spawn {
                    Some(s) => Cell::from(Span::styled(s.style.as_str(), Style::new().fg(s.style.color()))),
                    None => Cell::from(Span::styled("root", theme::dim())),
                };
                let failed = spawn.and_then(|s| s.exec.as_ref()).map_or(0, |e| e.failed_attempts.len());
                Row::new(vec![
                    Cell::from(label),
                    style_cell,
                    Cell::from(fmt::opt_dur(spawn.and_then(|s| s.latency_ns))),
                    Cell::from(fmt::dur(p.duration_ns(end)) + if p.exit.is_none() { "+" } else { "" }),
                    Cell::from(if failed > 0 { format!("{failed}✗") } else { String::new() }),
                ])
            })
            .collect();
        let title = Line::from(vec![
            Span::styled(format!("Process tree ({} processes)", fmt::count(a.processes.len() as u64)), theme::title()),
            Span::styled(" · latency under tracing · ✗ failed execs", theme::dim()),
        ]);
        let header = Row::new(vec!["pid command", "style", "latency", "ran", "PATH"]).style(theme::header());
        let widths =
            [Constraint::Min(10), Constraint::Length(6), Constraint::Length(8), Constraint::Length(8), Constraint::Length(5)];
        let sel = tree.scroll.selected.checked_sub(offset).filter(|_| !tree.rows.is_empty());
        let mut state = TableState::new().with_selected(sel);
        let table =
            Table::new(rows, widths).header(header).block(Block::bordered().title(title)).row_highlight_style(theme::selected());
        StatefulWidget::render(table, area, buf, &mut state);
    }
}
