//! The key help (`?`) and the quit question in live mode.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use super::theme;
use crate::app::{App, LiveStatus};

pub struct Help;

/// Rows the help needs: the keys, a note, the border.
pub const HEIGHT: u16 = KEYS.len() as u16 + 5;

const KEYS: &[(&str, &str)] = &[
    ("tab / shift-tab", "next / previous view"),
    ("1 2 3", "views: Overview, Latency, Executables"),
    ("4 5 6", "views: Tree, Events, Call sites (stacks)"),
    ("↑ ↓  j k", "move"),
    ("PgUp PgDn ^U ^D", "page up / down; Home End G: first / last"),
    ("Enter", "a finding in full; details of the spawn(s)"),
    ("n p  ← →", "next / previous finding or spawn"),
    ("Esc", "close details or help, clear the filter"),
    ("/", "filter the events (Enter keeps, Esc clears)"),
    ("s  r", "executables, call sites: sort, reverse"),
    ("g", "latency: group by style, code path, exe"),
    ("space", "latency: pin group right; tree: fold"),
    ("← →  h l", "tree: collapse / expand (groups too)"),
    ("c", "tree: collapse all / expand all"),
    ("?", "this help"),
    ("q  Ctrl-C", "quit (live: asks about the target)"),
];

impl Widget for Help {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let mut lines: Vec<Line> = KEYS
            .iter()
            .map(|(k, what)| Line::from(vec![Span::styled(format!(" {k:<16}"), theme::header()), Span::raw(*what)]))
            .collect();
        lines.push(Line::raw(""));
        lines.push(Line::styled(" Latencies are measured under tracing: they include", theme::dim()));
        lines.push(Line::styled(" the tracer's overhead; compare them with each other.", theme::dim()));
        Paragraph::new(lines).block(Block::bordered().title(Span::styled("Keys", theme::title()))).render(area, buf);
    }
}

/// "The target is still running: kill it or let it finish?"
pub struct QuitPrompt<'a>(pub &'a App);

impl Widget for QuitPrompt<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let pid = match self.0.live.as_ref().map(|l| &l.status) {
            Some(LiveStatus::Running { pid }) => format!(" (pid {pid})"),
            _ => String::new(),
        };
        let lines = vec![
            Line::raw(format!("The target{pid} is still running.")),
            Line::raw(""),
            Line::from(vec![Span::styled(" k ", theme::header()), Span::raw("kill it and quit")]),
            Line::from(vec![Span::styled(" w ", theme::header()), Span::raw("close the UI, let it finish (trace completed)")]),
            Line::from(vec![Span::styled(" Esc ", theme::header()), Span::raw("stay")]),
        ];
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(Span::styled("Quit?", theme::title())))
            .render(area, buf);
    }
}
