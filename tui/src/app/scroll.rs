//! A selected row in a list and the first row shown.

/// Selection and scroll position of a list. The offset is advisory: the
/// draw code clamps it with [`Scroll::window`] so the selection is visible
/// whatever the terminal size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scroll {
    pub selected: usize,
    pub offset: usize,
}

impl Scroll {
    /// Moves the selection by `delta` rows within `len` rows.
    pub fn move_by(&mut self, delta: isize, len: usize, page: usize) {
        if len == 0 {
            *self = Scroll::default();
            return;
        }
        let target = (self.selected as isize + delta).clamp(0, len as isize - 1) as usize;
        self.select(target, len, page);
    }

    /// Selects row `i` (clamped) and scrolls so it is visible.
    pub fn select(&mut self, i: usize, len: usize, page: usize) {
        self.selected = i.min(len.saturating_sub(1));
        self.offset = self.window(len, page);
    }

    /// Keeps the selection inside `len` rows (after the list shrank).
    pub fn clamp(&mut self, len: usize, page: usize) {
        self.select(self.selected, len, page);
    }

    /// The first row to show in a viewport of `height` rows so that the
    /// selection is visible, starting from the stored offset.
    pub fn window(&self, len: usize, height: usize) -> usize {
        let height = height.max(1);
        let mut off = self.offset.min(len.saturating_sub(height));
        if self.selected < off {
            off = self.selected;
        } else if self.selected >= off + height {
            off = self.selected + 1 - height;
        }
        off
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_stays_visible() {
        let mut s = Scroll::default();
        s.move_by(12, 100, 10);
        assert_eq!((s.selected, s.offset), (12, 3));
        s.move_by(-5, 100, 10);
        assert_eq!((s.selected, s.offset), (7, 3));
        s.move_by(-100, 100, 10);
        assert_eq!((s.selected, s.offset), (0, 0));
        s.move_by(1000, 100, 10);
        assert_eq!((s.selected, s.offset), (99, 90));
        // A smaller terminal: the stored offset is corrected when drawn.
        assert_eq!(s.window(100, 5), 95);
        s.clamp(3, 10);
        assert_eq!((s.selected, s.offset), (2, 0));
        s.move_by(1, 0, 10);
        assert_eq!(s, Scroll::default());
    }
}
