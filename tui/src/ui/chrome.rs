//! The frame around every view: tab bar, live status line, key hints.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::theme;
use crate::app::{App, LiveStatus, View};
use crate::fmt;

/// Tabs on the left, trace name on the right.
pub struct TabBar<'a>(pub &'a App);

impl Widget for TabBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let mut spans = Vec::new();
        for (i, v) in View::ALL.iter().enumerate() {
            // Call sites: a tab only for traces with stacks (issue 10).
            if *v == View::CallSites && app.sites.sites.is_empty() && app.view != *v {
                continue;
            }
            let text = format!(" {} {} ", i + 1, v.title());
            let style =
                if *v == app.view { theme::selected().add_modifier(ratatui::style::Modifier::BOLD) } else { Style::new() };
            spans.push(Span::styled(text, style));
        }
        let used: usize = spans.iter().map(|s| s.width()).sum();
        let mut name = app.trace.name.clone();
        if let Some(c) = &app.compare {
            name = format!("A {} vs B {}", app.trace.name, c.name);
        }
        let room = (area.width as usize).saturating_sub(used + 2);
        let name = fmt::clip(&name, room);
        let pad = (area.width as usize).saturating_sub(used + name.chars().count() + 1);
        spans.push(Span::raw(" ".repeat(pad)));
        spans.push(Span::styled(name, theme::dim()));
        Paragraph::new(Line::from(spans)).render(area, buf);
    }
}

/// Live mode: what the target is doing and where its output goes.
pub struct LiveLine<'a>(pub &'a App);

impl Widget for LiveLine<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let Some(live) = &self.0.live else { return };
        let (mark, color, what) = match &live.status {
            LiveStatus::Starting => ("●", Color::Yellow, "starting".to_string()),
            LiveStatus::Running { pid } => ("●", Color::Green, format!("running, pid {pid}")),
            LiveStatus::Finished { exit } => {
                ("■", Color::Blue, format!("finished, exit {}", exit.map(|c| c.to_string()).unwrap_or_else(|| "?".into())))
            }
            LiveStatus::Failed(m) => ("✖", Color::Red, format!("recorder failed: {}", fmt::safe(m, 60))),
        };
        let mut spans = vec![
            Span::styled(format!(" {mark} "), Style::new().fg(color)),
            Span::styled(what, theme::title()),
            Span::raw(format!(" · {} events", fmt::count(self.0.log.len() as u64))),
        ];
        if let Some(out) = &live.info.output {
            spans.push(Span::raw(" · target output → "));
            spans.push(Span::styled(fmt::safe(&out.display().to_string(), 60), theme::dim()));
        }
        Paragraph::new(Line::from(spans)).render(area, buf);
    }
}

/// A trace still being read: how far, and that the views fill in.
pub struct LoadLine<'a>(pub &'a App);

impl Widget for LoadLine<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let Some(l) = &self.0.loading else { return };
        let p = &l.progress;
        let mut what = format!("reading {}", fmt::count(p.events));
        match (p.estimated_events(), p.percent()) {
            (Some(total), Some(pct)) => what.push_str(&format!(" / ~{} events ({pct}%)", fmt::count(total.max(p.events)))),
            _ => what.push_str(&format!(" events ({})", fmt::bytes(p.bytes))),
        }
        let views = match p.views_at {
            Some(n) => format!(" · the views show the first {} events until the end", fmt::count(n)),
            None => " · the views fill in as it reads".to_string(),
        };
        let spans = vec![
            Span::styled(" ◌ ", Style::new().fg(Color::Yellow)),
            Span::styled(what, theme::title()),
            Span::styled(views, theme::dim()),
        ];
        Paragraph::new(Line::from(spans)).render(area, buf);
    }
}

/// Key hints for the current mode.
pub struct StatusBar<'a>(pub &'a App);

impl Widget for StatusBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let hints: &[(&str, &str)] = if app.prompt {
            &[("k", "kill"), ("w", "let it finish"), ("Esc", "stay")]
        } else if app.help {
            &[("Esc/?", "close help"), ("q", "quit")]
        } else if app.detail.is_some() {
            &[("j/k", "scroll"), ("n/p", "next/prev spawn"), ("Esc", "close"), ("q", "quit")]
        } else if app.finding.is_some() {
            &[("j/k PgUp/PgDn", "scroll"), ("n/p", "next/prev finding"), ("Enter", "evidence"), ("Esc", "close")]
        } else if app.events.editing {
            &[("type", "filter"), ("Enter", "keep"), ("Esc", "clear")]
        } else {
            match app.view {
                View::Overview => &[("j/k", "finding"), ("Enter", "details"), ("tab/1-6", "views"), ("?", "help"), ("q", "quit")],
                View::Latency => {
                    &[("j/k", "group"), ("g", "group by"), ("space", "pin"), ("Enter", "spawns"), ("?", "help"), ("q", "quit")]
                }
                View::Executables => {
                    &[("j/k", "move"), ("s", "sort"), ("r", "reverse"), ("Enter", "spawns"), ("?", "help"), ("q", "quit")]
                }
                View::Tree => &[
                    ("j/k", "move"),
                    ("h/l", "fold"),
                    ("space", "toggle"),
                    ("c", "fold all"),
                    ("Enter", "details"),
                    ("?", "help"),
                    ("q", "quit"),
                ],
                View::Events => {
                    &[("j/k", "move"), ("/", "filter"), ("Enter", "details"), ("Esc", "clear"), ("?", "help"), ("q", "quit")]
                }
                View::CallSites => {
                    &[("j/k", "move"), ("s", "sort"), ("r", "reverse"), ("Enter", "spawns"), ("?", "help"), ("q", "quit")]
                }
            }
        };
        let mut spans = Vec::new();
        for (k, what) in hints {
            spans.push(Span::styled(format!(" {k}"), theme::header()));
            spans.push(Span::raw(format!(" {what} ")));
        }
        Paragraph::new(Line::from(spans)).style(Style::new().bg(Color::Black)).render(area, buf);
    }
}
