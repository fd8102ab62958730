//! A latency histogram over log-2 buckets, drawn as horizontal bars; with a
//! second distribution the two are overlaid on one axis (upper half-block
//! for A, lower for B, full block where both reach), scaled by share so
//! traces of different sizes compare.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Widget};
use spawnscope_analyzer::LatencyStats;

use super::theme;
use crate::fmt;

/// One histogram, or two overlaid (`b`).
#[derive(Debug)]
pub struct Histogram<'a> {
    pub title: String,
    pub a: Option<&'a LatencyStats>,
    pub b: Option<&'a LatencyStats>,
    pub color: Color,
}

/// Rows of the histogram: (lower bound in ns, count in A, count in B).
pub fn rows(a: Option<&LatencyStats>, b: Option<&LatencyStats>, max_rows: usize) -> Vec<(u64, u64, u64)> {
    let empty = Vec::new();
    let ba = a.map_or(&empty, |s| &s.buckets);
    let bb = b.map_or(&empty, |s| &s.buckets);
    let nz = |v: &Vec<u64>| (v.iter().position(|&c| c > 0), v.iter().rposition(|&c| c > 0));
    let (la, ha) = nz(ba);
    let (lb, hb) = nz(bb);
    let lo = match (la, lb) {
        (Some(x), Some(y)) => x.min(y),
        (x, y) => match x.or(y) {
            Some(v) => v,
            None => return Vec::new(),
        },
    };
    let hi = ha.max(hb).unwrap_or(lo);
    let n = hi - lo + 1;
    // Merge neighbouring buckets until the rows fit.
    let per = n.div_ceil(max_rows.max(1));
    let get = |v: &Vec<u64>, i: usize| v.get(i).copied().unwrap_or(0);
    (0..n.div_ceil(per))
        .map(|r| {
            let start = lo + r * per;
            let end = (start + per).min(hi + 1);
            let sum = |v: &Vec<u64>| (start..end).map(|i| get(v, i)).sum::<u64>();
            (LatencyStats::bucket_floor(start), sum(ba), sum(bb))
        })
        .collect()
}

impl Widget for Histogram<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let block = Block::bordered().title(Span::styled(self.title, theme::title()));
        let inner = block.inner(area);
        block.render(area, buf);
        let overlay = self.b.is_some();
        let rows = rows(self.a, self.b, inner.height.saturating_sub(u16::from(overlay)) as usize);
        if rows.is_empty() {
            Line::styled("no latencies", theme::dim()).render(inner, buf);
            return;
        }
        let ta = self.a.map_or(0, |s| s.count).max(1) as f64;
        let tb = self.b.map_or(0, |s| s.count).max(1) as f64;
        let share = |c: u64, t: f64| if overlay { c as f64 / t } else { c as f64 };
        let max = rows.iter().map(|r| share(r.1, ta).max(share(r.2, tb))).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
        let num = |r: &(u64, u64, u64)| if overlay { format!("{}/{}", r.1, r.2) } else { r.1.to_string() };
        let num_w = rows.iter().map(|r| num(r).len()).max().unwrap_or(1);
        let label_w = 6;
        let bar_w = (inner.width as usize).saturating_sub(label_w + num_w + 3);
        let len = |v: f64| if v > 0.0 { (((v / max) * bar_w as f64).round().max(1.0) as usize).min(bar_w) } else { 0 };
        for (i, r) in rows.iter().enumerate().take(inner.height as usize) {
            let (la, lb) = (len(share(r.1, ta)), len(share(r.2, tb)));
            let mut spans = vec![Span::styled(format!("{:>label_w$} ", fmt::dur(r.0)), theme::dim())];
            if overlay {
                let both = la.min(lb);
                spans.push(Span::styled("█".repeat(both), Style::new().fg(Color::White)));
                if la > lb {
                    spans.push(Span::styled("▀".repeat(la - both), Style::new().fg(theme::TRACE_A)));
                } else {
                    spans.push(Span::styled("▄".repeat(lb - both), Style::new().fg(theme::TRACE_B)));
                }
                spans.push(Span::raw(" ".repeat(bar_w - la.max(lb))));
            } else {
                spans.push(Span::styled("█".repeat(la), Style::new().fg(self.color)));
                spans.push(Span::raw(" ".repeat(bar_w - la)));
            }
            spans.push(Span::raw(format!(" {:>num_w$}", num(r))));
            Line::from(spans).render(Rect::new(inner.x, inner.y + i as u16, inner.width, 1), buf);
        }
        if overlay && (rows.len() as u16) < inner.height {
            let legend = Line::from(vec![
                Span::styled("▀ A", Style::new().fg(theme::TRACE_A)),
                Span::raw("  "),
                Span::styled("▄ B", Style::new().fg(theme::TRACE_B)),
                Span::raw("  █ both   bars: share of each trace's spawns"),
            ]);
            legend.render(Rect::new(inner.x, inner.y + rows.len() as u16, inner.width, 1), buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(buckets: Vec<u64>) -> LatencyStats {
        LatencyStats { count: buckets.iter().sum(), buckets, ..Default::default() }
    }

    #[test]
    fn rows_span_both_distributions_and_merge_to_fit() {
        let a = stats(vec![0, 0, 3, 1]);
        let b = stats(vec![0, 0, 0, 0, 0, 2]);
        assert_eq!(rows(Some(&a), Some(&b), 10), vec![(4, 3, 0), (8, 1, 0), (16, 0, 0), (32, 0, 2)]);
        assert_eq!(rows(Some(&a), Some(&b), 2), vec![(4, 4, 0), (16, 0, 2)]);
        assert_eq!(rows(Some(&a), None, 3), vec![(4, 3, 0), (8, 1, 0)]);
        assert!(rows(None, Some(&stats(vec![])), 3).is_empty());
    }
}
