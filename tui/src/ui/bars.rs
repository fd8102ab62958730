//! Horizontal bars with a label and a count: spawns by style or code path.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Widget};

use super::theme;
use crate::fmt;

/// One bar.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: u64,
    pub color: Color,
}

/// Labelled bars scaled to the largest value, with counts and shares.
#[derive(Debug)]
pub struct Bars<'a> {
    pub title: &'a str,
    pub bars: Vec<Bar>,
}

impl Widget for Bars<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let block = Block::bordered().title(Span::styled(self.title, theme::title()));
        let inner = block.inner(area);
        block.render(area, buf);
        if self.bars.is_empty() {
            Line::styled("no spawns", theme::dim()).render(inner, buf);
            return;
        }
        let total: u64 = self.bars.iter().map(|b| b.value).sum();
        let max = self.bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
        let label_w = self.bars.iter().map(|b| b.label.chars().count()).max().unwrap_or(0).min(inner.width as usize / 2);
        let num_w = self.bars.iter().map(|b| fmt::count(b.value).len()).max().unwrap_or(1);
        let tail_w = num_w + 6; // " 1,234 100%"
        let bar_w = (inner.width as usize).saturating_sub(label_w + 1 + tail_w + 1);
        for (i, b) in self.bars.iter().enumerate().take(inner.height as usize) {
            let len = ((b.value as f64 / max as f64) * bar_w as f64).round() as usize;
            let len = if b.value > 0 { len.max(1).min(bar_w) } else { 0 };
            let pct = (b.value * 100).checked_div(total).unwrap_or(0);
            let line = Line::from(vec![
                Span::raw(format!("{:<label_w$} ", fmt::clip(&b.label, label_w))),
                Span::styled("█".repeat(len), Style::new().fg(b.color)),
                Span::raw(" ".repeat(bar_w - len)),
                Span::raw(format!(" {:>num_w$} {:>3}%", fmt::count(b.value), pct)),
            ]);
            line.render(Rect::new(inner.x, inner.y + i as u16, inner.width, 1), buf);
        }
    }
}
