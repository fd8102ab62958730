//! The finding pane: one finding in full (Enter on a finding in the
//! Overview): its message, what to do, call sites, evidence and numbers,
//! scrolled with j/k and PgUp/PgDn. The list in the Overview has room for a
//! line or two of each finding; this pane has room for all of it.

/// The open finding pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingPane {
    /// Index into `Analysis::findings`.
    pub index: usize,
    /// Lines scrolled down inside the pane.
    pub scroll: u16,
}

impl FindingPane {
    pub fn new(index: usize) -> FindingPane {
        FindingPane { index, scroll: 0 }
    }

    /// Scrolls by `delta` lines, within `lines` lines of text shown in a
    /// pane `height` lines high (the last line stops at the bottom).
    pub fn scroll_by(&mut self, delta: i32, lines: usize, height: usize) {
        let max = lines.saturating_sub(height.max(1)).min(u16::MAX as usize) as i32;
        self.scroll = (i32::from(self.scroll) + delta).clamp(0, max) as u16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrolling_stops_at_both_ends() {
        let mut p = FindingPane::new(0);
        p.scroll_by(-3, 50, 10);
        assert_eq!(p.scroll, 0);
        p.scroll_by(25, 50, 10);
        assert_eq!(p.scroll, 25);
        p.scroll_by(1000, 50, 10);
        assert_eq!(p.scroll, 40, "the last line at the bottom");
        p.scroll_by(5, 5, 10);
        assert_eq!(p.scroll, 0, "everything fits: no scrolling");
    }
}
