//! The detail pane: one spawn (or process) at a time out of a list, e.g. a
//! finding's evidence or an executable's spawns, slowest first.

/// What the detail pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// Index into `Analysis::spawns`.
    Spawn(usize),
    /// A process without a traced spawn (the root): index into `Analysis::processes`.
    Process(usize),
}

/// The open detail pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    /// Where the list came from, e.g. `executable "true", slowest first`.
    pub title: String,
    pub items: Vec<Subject>,
    pub pos: usize,
    /// Lines scrolled down inside the pane.
    pub scroll: u16,
}

impl Detail {
    pub fn new(title: impl Into<String>, items: Vec<Subject>) -> Option<Detail> {
        if items.is_empty() {
            return None;
        }
        Some(Detail { title: title.into(), items, pos: 0, scroll: 0 })
    }

    pub fn current(&self) -> Subject {
        self.items[self.pos.min(self.items.len() - 1)]
    }

    pub fn step(&mut self, forward: bool) {
        let n = self.items.len();
        self.pos = if forward { (self.pos + 1) % n } else { (self.pos + n - 1) % n };
        self.scroll = 0;
    }
}
