//! The process tree flattened into visible rows, with collapsed nodes.

use std::collections::HashSet;

use super::scroll::Scroll;
use super::trace::Trace;

/// One visible row of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeRow {
    /// Index into `Analysis::processes`.
    pub process: usize,
    pub depth: u32,
    pub has_children: bool,
}

/// Collapsed nodes, the visible rows and the selection.
#[derive(Debug, Clone, Default)]
pub struct TreeState {
    pub collapsed: HashSet<usize>,
    pub rows: Vec<TreeRow>,
    pub scroll: Scroll,
}

impl TreeState {
    /// Recomputes the visible rows (after a new analysis or a toggle),
    /// keeping the selected process selected when it is still visible.
    pub fn rebuild(&mut self, t: &Trace, page: usize) {
        let keep = self.rows.get(self.scroll.selected).map(|r| r.process);
        self.rows.clear();
        let procs = &t.analysis.processes;
        // Iterative depth-first walk: a deep chain of processes must not
        // overflow the stack.
        let mut stack: Vec<(usize, u32)> = t.roots.iter().rev().map(|&r| (r, 0)).collect();
        while let Some((p, depth)) = stack.pop() {
            let Some(proc_) = procs.get(p) else { continue };
            let has_children = !proc_.children.is_empty();
            self.rows.push(TreeRow { process: p, depth, has_children });
            if has_children && !self.collapsed.contains(&p) {
                stack.extend(proc_.children.iter().rev().map(|&c| (c, depth + 1)));
            }
        }
        if let Some(k) = keep {
            if let Some(i) = self.rows.iter().position(|r| r.process == k) {
                self.scroll.selected = i;
            }
        }
        self.scroll.clamp(self.rows.len(), page);
    }

    pub fn selected(&self) -> Option<TreeRow> {
        self.rows.get(self.scroll.selected).copied()
    }

    /// Collapses the selected node; on a leaf or collapsed node, goes to the parent.
    pub fn left(&mut self, t: &Trace, page: usize) {
        let Some(row) = self.selected() else { return };
        if row.has_children && !self.collapsed.contains(&row.process) {
            self.collapsed.insert(row.process);
            self.rebuild(t, page);
        } else if let Some(parent) = t.analysis.processes[row.process].parent {
            if let Some(i) = self.rows.iter().position(|r| r.process == parent) {
                self.scroll.select(i, self.rows.len(), page);
            }
        }
    }

    /// Expands the selected node.
    pub fn right(&mut self, t: &Trace, page: usize) {
        if let Some(row) = self.selected() {
            if self.collapsed.remove(&row.process) {
                self.rebuild(t, page);
            }
        }
    }

    pub fn toggle(&mut self, t: &Trace, page: usize) {
        let Some(row) = self.selected() else { return };
        if !row.has_children {
            return;
        }
        if !self.collapsed.remove(&row.process) {
            self.collapsed.insert(row.process);
        }
        self.rebuild(t, page);
    }
}
