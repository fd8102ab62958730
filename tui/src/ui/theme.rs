//! Colours for model types, as extension traits: presentation lives here,
//! not in the analyzer.

use ratatui::style::{Color, Modifier, Style};
use spawnscope_analyzer::{Severity, SpawnStyle};

pub trait Colored {
    fn color(&self) -> Color;
}

impl Colored for SpawnStyle {
    fn color(&self) -> Color {
        match self {
            SpawnStyle::Fork => Color::Red,
            SpawnStyle::Vfork => Color::Green,
            SpawnStyle::Vm => Color::Yellow,
        }
    }
}

impl Colored for Severity {
    fn color(&self) -> Color {
        match self {
            Severity::High => Color::Red,
            Severity::Warning => Color::Yellow,
            Severity::Info => Color::Blue,
        }
    }
}

/// Colour of a style given by name (group keys, summary maps).
pub fn style_name_color(name: &str) -> Color {
    match name {
        "fork" => SpawnStyle::Fork.color(),
        "vfork" => SpawnStyle::Vfork.color(),
        "vm" => SpawnStyle::Vm.color(),
        _ => Color::Cyan,
    }
}

pub fn title() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn selected() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

pub fn header() -> Style {
    Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
}

/// First trace (A) and second trace (B) in an overlaid histogram.
pub const TRACE_A: Color = Color::Cyan;
pub const TRACE_B: Color = Color::Magenta;
