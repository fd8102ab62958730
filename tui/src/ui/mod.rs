//! Drawing: [`draw`] renders an `&App` into a frame and changes nothing.
//! Each view is a widget over the app; the histogram and bars are
//! reusable widgets of their own.

mod bars;
mod callsites;
mod chrome;
mod detail;
mod events;
mod executables;
pub(crate) mod finding_detail;
mod help;
pub mod histogram;
mod latency;
mod overview;
pub mod theme;
mod tree;
pub(crate) mod tree_label;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Clear;
use ratatui::Frame;

use crate::app::{App, View};

/// Said wherever a latency is shown: the numbers include the tracer's cost.
pub const UNDER_TRACING: &str = "measured under tracing (includes tracer overhead)";

/// Renders the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let live_rows = u16::from(app.status_line());
    let [tabs, live, body, status] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(live_rows), Constraint::Min(1), Constraint::Length(1)])
            .areas(area);
    frame.render_widget(chrome::TabBar(app), tabs);
    if app.live.is_some() {
        frame.render_widget(chrome::LiveLine(app), live);
    } else if app.loading.is_some() {
        frame.render_widget(chrome::LoadLine(app), live);
    }
    match app.view {
        View::Overview => frame.render_widget(overview::Overview(app), body),
        View::Latency => frame.render_widget(latency::LatencyView(app), body),
        View::Executables => frame.render_widget(executables::Executables(app), body),
        View::Tree => frame.render_widget(tree::TreeView(app), body),
        View::Events => frame.render_widget(events::EventsView(app), body),
        View::CallSites => frame.render_widget(callsites::CallSites(app), body),
    }
    if let Some(p) = &app.finding {
        frame.render_widget(Clear, body);
        frame.render_widget(finding_detail::FindingDetail { app, pane: p }, body);
    }
    if let Some(d) = &app.detail {
        frame.render_widget(Clear, body);
        frame.render_widget(detail::DetailPane { app, detail: d }, body);
    }
    if app.help {
        let r = centered(area, 64, help::HEIGHT);
        frame.render_widget(Clear, r);
        frame.render_widget(help::Help, r);
    }
    if app.prompt {
        let r = centered(area, 60, 7);
        frame.render_widget(Clear, r);
        frame.render_widget(help::QuitPrompt(app), r);
    }
    frame.render_widget(chrome::StatusBar(app), status);
}

/// A rectangle of at most `w` x `h` in the middle of `area`.
fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}
