//! Everything that changes the [`App`](crate::App) is an [`Action`]: keys
//! (mapped here, depending on the mode the app is in), trace records from a
//! live recording, and timer ticks.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use spawnscope_format::Record;

use crate::app::{App, View};

/// One change to the app's state.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `q`: quit (asks first while a live target runs).
    Quit,
    /// Ctrl-C: quit now; a running live target is killed.
    Interrupt,
    NextView,
    PrevView,
    ShowView(View),
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    /// Left / `h`: collapse a tree node, pick the other histogram group.
    Left,
    /// Right / `l`: expand a tree node.
    Right,
    /// Space: toggle a tree node, pin a histogram group.
    Toggle,
    /// `c`: tree: collapse every node (again: expand every node).
    CollapseAll,
    /// Enter: open the detail pane.
    Enter,
    /// Esc: close the top-most pane, clear the filter.
    Back,
    Help,
    /// `s`: next sort column.
    Sort,
    /// `r`: reverse the sort order.
    Reverse,
    /// `g`: next grouping (style, code path, executable).
    Regroup,
    /// `n` / `p` in the detail pane: next / previous spawn.
    NextItem,
    PrevItem,
    /// `/`: start typing a filter.
    FilterStart,
    FilterChar(char),
    FilterBackspace,
    /// Enter while typing: keep the filter, stop typing.
    FilterDone,
    /// In the quit prompt: kill the target and quit.
    KillTarget,
    /// In the quit prompt: close the UI and let the target finish.
    LetFinish,
    Resize(u16, u16),
    /// Time passes (~10 per second): live snapshots happen here.
    Tick,
    /// Records from a live recording, with their line numbers.
    Records(Vec<(u64, Record)>),
    /// The live target started (root pid).
    Started(i32),
    /// The live target ended (exit code, 128+N for signal N).
    Finished(Option<i32>),
    /// The recorder failed.
    RecorderFailed(String),
}

/// Maps a key press to an action in the app's current mode.
pub fn key_action(app: &App, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, KeyCode::Char('c')) {
        return Some(Action::Interrupt);
    }
    if app.prompt {
        return match key.code {
            KeyCode::Char('k') | KeyCode::Char('y') => Some(Action::KillTarget),
            KeyCode::Char('w') | KeyCode::Char('f') => Some(Action::LetFinish),
            KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('q') => Some(Action::Back),
            _ => None,
        };
    }
    if app.events.editing {
        return match key.code {
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Enter => Some(Action::FilterDone),
            KeyCode::Backspace => Some(Action::FilterBackspace),
            KeyCode::Up => Some(Action::Up),
            KeyCode::Down => Some(Action::Down),
            KeyCode::Char(c) if !ctrl => Some(Action::FilterChar(c)),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Tab => Action::NextView,
        KeyCode::BackTab => Action::PrevView,
        KeyCode::Char(c @ '1'..='6') => Action::ShowView(View::ALL[(c as u8 - b'1') as usize]),
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Char('u') if ctrl => Action::PageUp,
        KeyCode::Char('d') if ctrl => Action::PageDown,
        KeyCode::Home => Action::Home,
        KeyCode::End | KeyCode::Char('G') => Action::End,
        KeyCode::Left | KeyCode::Char('h') => Action::Left,
        KeyCode::Right | KeyCode::Char('l') => Action::Right,
        KeyCode::Char(' ') => Action::Toggle,
        KeyCode::Enter => Action::Enter,
        KeyCode::Esc => Action::Back,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('s') => Action::Sort,
        KeyCode::Char('r') => Action::Reverse,
        KeyCode::Char('g') => Action::Regroup,
        KeyCode::Char('c') => Action::CollapseAll,
        KeyCode::Char('n') => Action::NextItem,
        KeyCode::Char('p') => Action::PrevItem,
        KeyCode::Char('/') => Action::FilterStart,
        _ => return None,
    })
}
