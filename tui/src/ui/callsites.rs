//! The Call sites view (issue 10) and the call stack in the spawn detail pane.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, StatefulWidget, Table, TableState, Widget, Wrap};
use spawnscope_analyzer::origin::CallSite;
use spawnscope_analyzer::{Analysis, CodePath, Spawn};

use super::theme;
use crate::app::{App, SiteSort};
use crate::fmt;

pub struct CallSites<'a>(pub &'a App);

/// `f3 v12`: spawns per style (f fork, v vfork, m vm).
fn style_mix(s: &CallSite) -> String {
    [("fork", "f"), ("vfork", "v"), ("vm", "m")]
        .iter()
        .filter_map(|(k, x)| s.styles.get(*k).filter(|&&n| n > 0).map(|n| format!("{x}{n}")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The most common code path's label (`+` when there are several).
fn code_path(s: &CallSite) -> String {
    let main = CallSite::main_of(&s.code_paths).unwrap_or("-");
    let label = CodePath::from_name(main).map_or(main, |c| c.label());
    if s.code_paths.len() > 1 {
        format!("{label} +")
    } else {
        label.to_string()
    }
}

impl Widget for CallSites<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let st = &app.sites;
        if st.sites.is_empty() {
            let why = app.trace.analysis.origins.missing.clone().unwrap_or_else(|| "no spawns".to_string());
            Paragraph::new(vec![Line::raw(""), Line::raw(format!("  {}", fmt::safe(&why, 400)))])
                .block(Block::bordered().title(Span::styled("Call sites", theme::title())))
                .wrap(Wrap { trim: false })
                .render(area, buf);
            return;
        }
        let arrow = if st.descending { "↓" } else { "↑" };
        let title = format!("Call sites ({}) · sorted by {} {arrow} · latencies under tracing", st.sites.len(), st.sort.label());
        let head = |k: SiteSort, s: &'static str| if k == st.sort { format!("{s}{arrow}") } else { s.to_string() };
        let header = Row::new(vec![
            head(SiteSort::Name, "call site"),
            head(SiteSort::Count, "spawns"),
            head(SiteSort::ForkShare, "styles"),
            "code path".to_string(),
            "API".to_string(),
            head(SiteSort::Total, "total"),
            head(SiteSort::P50, "p50"),
        ])
        .style(theme::header());
        let height = area.height.saturating_sub(3) as usize;
        let offset = st.scroll.window(st.order.len(), height);
        let rows = st.order.iter().skip(offset).take(height.max(1)).map(|&i| {
            let s = &st.sites[i];
            let has = s.latency.count > 0;
            Row::new(vec![
                fmt::safe(&s.label, 80),
                fmt::count(s.count),
                style_mix(s),
                code_path(s),
                fmt::safe(s.apis.first().map_or("-", String::as_str), 60),
                if has { fmt::dur(s.total_latency_ns) } else { "-".into() },
                if has { fmt::dur(s.latency.p50) } else { "-".into() },
            ])
        });
        let wide = area.width >= 110;
        let widths = [
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(if wide { 22 } else { 12 }),
            Constraint::Length(if wide { 30 } else { 0 }),
            Constraint::Length(7),
            Constraint::Length(7),
        ];
        let mut state = TableState::new().with_selected(st.scroll.selected.checked_sub(offset).filter(|_| !st.order.is_empty()));
        let table = Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .block(Block::bordered().title(Span::styled(title, theme::title())))
            .row_highlight_style(theme::selected());
        StatefulWidget::render(table, area, buf, &mut state);
    }
}

fn kv(k: &str, v: impl Into<String>) -> Line<'static> {
    Line::from(vec![Span::styled(format!("  {k:<27} "), theme::dim()), Span::raw(v.into())])
}

/// The "Where in the code" part of a spawn's detail pane: API, runtime, call
/// site and the stack, innermost first, the call site marked.
pub fn stack_lines(a: &Analysis, s: &Spawn) -> Vec<Line<'static>> {
    // A trace recorded without stacks: nothing to say here (the Call sites
    // view says why).
    if a.origins.list.is_empty() && a.header.tracer.stacks.is_none() {
        return Vec::new();
    }
    let mut l = vec![Line::styled("Where in the code", theme::header())];
    let Some(o) = a.origins.of(s) else {
        let why = a.origins.missing.clone().unwrap_or_else(|| "no call stack".to_string());
        l.push(Line::styled(format!("  {}", fmt::safe(&why, 300)), theme::dim()));
        return l;
    };
    l.push(kv("call site", fmt::safe(&o.site_label(), 200)));
    if let Some(n) = &o.call_site_note {
        l.push(kv("", fmt::safe(n, 300)));
    }
    l.push(kv("API · runtime", format!("{} · {}", fmt::safe(&o.api, 120), o.runtime.as_str())));
    l.push(kv("library", fmt::safe(&o.library, 200)));
    l.push(Line::styled(format!("  stack ({} frames, innermost first):", o.stack.len()), theme::dim()));
    for (i, f) in o.stack.iter().enumerate() {
        let mark = if Some(i) == o.call_site_index { "▶" } else { " " };
        let inl = if f.inlined { " (inlined)" } else { "" };
        let loc = f.location().map(|x| format!("  {}", fmt::safe(&x, 80))).unwrap_or_default();
        let text = format!(" {mark}{i:>3} {}{inl}  [{}]{loc}", fmt::safe(&f.function, 120), fmt::safe(f.module_name(), 40));
        l.push(if Some(i) == o.call_site_index { Line::styled(text, theme::title()) } else { Line::raw(text) });
    }
    l
}
