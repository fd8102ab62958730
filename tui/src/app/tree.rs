//! The process tree flattened into visible rows, with collapsed nodes and
//! repeated children grouped (see [`tree_group`](super::tree_group)).

use std::collections::{HashMap, HashSet};

use super::scroll::Scroll;
use super::trace::Trace;
use super::tree_group::{group_children, Child, TreeGroup};

/// One visible row of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeRow {
    /// Index into `Analysis::processes` (a group row: its first member).
    pub process: usize,
    pub depth: u32,
    pub has_children: bool,
    /// A row standing for repeated children: index into `TreeState::groups`.
    pub group: Option<u32>,
    /// A member shown under its open group: the group's index.
    pub in_group: Option<u32>,
}

/// Collapsed nodes, open groups, the visible rows and the selection.
#[derive(Debug, Clone, Default)]
pub struct TreeState {
    pub collapsed: HashSet<usize>,
    /// Groups the user opened: (parent process, group key).
    pub open_groups: HashSet<(usize, String)>,
    /// The groups among the children of expanded nodes.
    pub groups: Vec<TreeGroup>,
    pub rows: Vec<TreeRow>,
    pub scroll: Scroll,
    /// The children of each process as rows and groups, for the analysis
    /// [`Trace::id`] `children_of`: they do not depend on what is folded, so
    /// a fold does not compute them again (a million children take seconds).
    children: HashMap<usize, Vec<Child>>,
    children_of: u64,
}

/// What a row is, to find it again after a rebuild.
#[derive(PartialEq)]
enum RowId {
    Process(usize),
    Group(usize, String),
}

impl TreeState {
    fn id(&self, r: &TreeRow) -> RowId {
        match r.group.and_then(|g| self.groups.get(g as usize)) {
            Some(g) => RowId::Group(g.parent, g.key.clone()),
            None => RowId::Process(r.process),
        }
    }

    /// Recomputes the visible rows (after a new analysis or a toggle),
    /// keeping the selected row selected when it is still visible.
    pub fn rebuild(&mut self, t: &Trace, page: usize) {
        /// Work of the walk: a process with its subtree, or ready rows (a
        /// group row and its open members).
        enum Item {
            Process(usize, u32),
            Rows(Vec<TreeRow>),
        }
        let keep = self.rows.get(self.scroll.selected).map(|r| self.id(r));
        self.rows.clear();
        self.groups.clear();
        if self.children_of != t.id {
            self.children.clear();
            self.children_of = t.id;
        }
        let a = &t.analysis;
        // Iterative depth-first walk: a deep chain of processes must not
        // overflow the stack.
        let mut stack: Vec<Item> = t.roots.iter().rev().map(|&r| Item::Process(r, 0)).collect();
        while let Some(item) = stack.pop() {
            let (p, depth) = match item {
                Item::Rows(rows) => {
                    self.rows.extend(rows);
                    continue;
                }
                Item::Process(p, depth) => (p, depth),
            };
            let Some(proc_) = a.processes.get(p) else { continue };
            let has_children = !proc_.children.is_empty();
            self.rows.push(TreeRow { process: p, depth, has_children, group: None, in_group: None });
            if !has_children || self.collapsed.contains(&p) {
                continue;
            }
            let mut items = Vec::new();
            // Taken out of the cache and put back: no copy of the list.
            let children = self.children.remove(&p).unwrap_or_else(|| group_children(a, p));
            for child in &children {
                match child {
                    Child::One(c) => items.push(Item::Process(*c, depth + 1)),
                    Child::Group(g) => {
                        let gi = self.groups.len() as u32;
                        let row = |process: usize, depth: u32, group: Option<u32>, in_group: Option<u32>| TreeRow {
                            process,
                            depth,
                            has_children: group.is_some(),
                            group,
                            in_group,
                        };
                        let mut rows = vec![row(g.members[0], depth + 1, Some(gi), None)];
                        if self.open_groups.contains(&(g.parent, g.key.clone())) {
                            rows.extend(g.members.iter().map(|&m| row(m, depth + 2, None, Some(gi))));
                        }
                        self.groups.push(g.clone());
                        items.push(Item::Rows(rows));
                    }
                }
            }
            self.children.insert(p, children);
            stack.extend(items.into_iter().rev());
        }
        if let Some(k) = keep {
            if let Some(i) = self.rows.iter().position(|r| self.id(r) == k) {
                self.scroll.selected = i;
            }
        }
        self.scroll.clamp(self.rows.len(), page);
    }

    /// Takes rows built elsewhere (by the loader thread, for a new
    /// analysis) with no fold, keeping the selection as [`TreeState::rebuild`]
    /// does; not when this tree has folds. Returns whether they were taken,
    /// and what is left to free elsewhere (a big tree takes milliseconds to
    /// free): the rows replaced, or `built` unused.
    pub fn adopt(&mut self, mut built: TreeState, page: usize) -> (bool, TreeState) {
        if !self.collapsed.is_empty() || !self.open_groups.is_empty() {
            return (false, built);
        }
        let keep = self.rows.get(self.scroll.selected).map(|r| self.id(r));
        std::mem::swap(&mut self.rows, &mut built.rows);
        std::mem::swap(&mut self.groups, &mut built.groups);
        std::mem::swap(&mut self.children, &mut built.children);
        self.children_of = built.children_of;
        if let Some(k) = keep {
            if let Some(i) = self.rows.iter().position(|r| self.id(r) == k) {
                self.scroll.selected = i;
            }
        }
        self.scroll.clamp(self.rows.len(), page);
        (true, built)
    }

    pub fn selected(&self) -> Option<TreeRow> {
        self.rows.get(self.scroll.selected).copied()
    }

    /// The group a row stands for.
    pub fn group(&self, r: &TreeRow) -> Option<&TreeGroup> {
        r.group.and_then(|g| self.groups.get(g as usize))
    }

    /// Whether a row's children (or members) are hidden.
    pub fn is_folded(&self, r: &TreeRow) -> bool {
        match self.group(r) {
            Some(g) => !self.open_groups.contains(&(g.parent, g.key.clone())),
            None => self.collapsed.contains(&r.process),
        }
    }

    /// Folds or unfolds a row; returns whether anything changed.
    fn set_folded(&mut self, r: &TreeRow, fold: bool) -> bool {
        if !r.has_children {
            return false;
        }
        match self.group(r).map(|g| (g.parent, g.key.clone())) {
            Some(k) if fold => self.open_groups.remove(&k),
            Some(k) => self.open_groups.insert(k),
            None if fold => self.collapsed.insert(r.process),
            None => self.collapsed.remove(&r.process),
        }
    }

    /// Collapses the selected node; on a leaf or collapsed node, goes to the
    /// parent (or to the group row of a group member).
    pub fn left(&mut self, t: &Trace, page: usize) {
        let Some(row) = self.selected() else { return };
        if !self.is_folded(&row) && self.set_folded(&row, true) {
            self.rebuild(t, page);
            return;
        }
        let target = match row.in_group {
            Some(g) => self.rows.iter().position(|r| r.group == Some(g)),
            None => {
                let parent = t.analysis.processes[row.process].parent;
                parent.and_then(|pp| self.rows.iter().position(|r| r.process == pp && r.group.is_none()))
            }
        };
        if let Some(i) = target {
            self.scroll.select(i, self.rows.len(), page);
        }
    }

    /// Expands the selected node.
    pub fn right(&mut self, t: &Trace, page: usize) {
        if let Some(row) = self.selected() {
            if self.set_folded(&row, false) {
                self.rebuild(t, page);
            }
        }
    }

    pub fn toggle(&mut self, t: &Trace, page: usize) {
        let Some(row) = self.selected() else { return };
        let fold = !self.is_folded(&row);
        if self.set_folded(&row, fold) {
            self.rebuild(t, page);
        }
    }

    /// Collapses every node (only the roots stay visible); when everything
    /// is collapsed already, expands every node instead (groups stay closed).
    pub fn collapse_all(&mut self, t: &Trace, page: usize) {
        let procs = &t.analysis.processes;
        let all_folded =
            self.open_groups.is_empty() && procs.iter().all(|p| p.children.is_empty() || self.collapsed.contains(&p.index));
        if all_folded {
            self.collapsed.clear();
        } else {
            self.collapsed = procs.iter().filter(|p| !p.children.is_empty()).map(|p| p.index).collect();
            self.open_groups.clear();
        }
        self.rebuild(t, page);
    }
}
