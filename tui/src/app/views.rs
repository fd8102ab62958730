//! State of the list views: latency groups, executables table, event filter.

use spawnscope_analyzer::Group;

use super::scroll::Scroll;
use super::trace::{Grouping, Trace};
use crate::eventlog::EventLog;

/// Latency view: which grouping, which group is selected, which is pinned.
#[derive(Debug, Clone)]
pub struct LatencyState {
    pub grouping: Grouping,
    pub scroll: Scroll,
    /// Key of the group shown on the right (Space pins the selected one);
    /// None: the largest other group.
    pub pinned: Option<String>,
}

impl Default for LatencyState {
    fn default() -> Self {
        LatencyState { grouping: Grouping::Style, scroll: Scroll::default(), pinned: None }
    }
}

impl LatencyState {
    /// The groups shown side by side: the selected one and the pinned one
    /// (or the largest other group).
    pub fn pair<'a>(&self, groups: &'a [Group]) -> (Option<&'a Group>, Option<&'a Group>) {
        let left = groups.get(self.scroll.selected);
        let right = match &self.pinned {
            Some(k) => groups.iter().find(|g| &g.key == k),
            None => groups.iter().find(|g| Some(&g.key) != left.map(|l| &l.key)),
        };
        (left, right)
    }
}

/// Columns the executables table sorts by (`s` cycles, `r` reverses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Count,
    StyleMix,
    Failed,
    EnvBytes,
    P50,
    P99,
    Name,
}

impl SortKey {
    pub const ALL: [SortKey; 7] =
        [SortKey::Count, SortKey::StyleMix, SortKey::Failed, SortKey::EnvBytes, SortKey::P50, SortKey::P99, SortKey::Name];
    pub fn next(self) -> SortKey {
        let i = SortKey::ALL.iter().position(|&k| k == self).unwrap_or(0);
        SortKey::ALL[(i + 1) % SortKey::ALL.len()]
    }
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Count => "count",
            SortKey::StyleMix => "fork share",
            SortKey::Failed => "failed attempts",
            SortKey::EnvBytes => "env bytes",
            SortKey::P50 => "p50",
            SortKey::P99 => "p99",
            SortKey::Name => "name",
        }
    }
}

/// Executables table: sort order and selection.
#[derive(Debug, Clone)]
pub struct ExesState {
    pub sort: SortKey,
    /// Largest first (names: A to Z).
    pub descending: bool,
    /// Indices into `Trace::by_exe` in display order.
    pub order: Vec<usize>,
    pub scroll: Scroll,
}

impl Default for ExesState {
    fn default() -> Self {
        ExesState { sort: SortKey::Count, descending: true, order: Vec::new(), scroll: Scroll::default() }
    }
}

impl ExesState {
    pub fn resort(&mut self, t: &Trace, page: usize) {
        let keep = self.order.get(self.scroll.selected).and_then(|&i| t.by_exe.get(i)).map(|g| g.key.clone());
        let groups = &t.by_exe;
        let fork_share = |g: &Group| g.styles.get("fork").copied().unwrap_or(0) as f64 / g.count.max(1) as f64;
        let mut order: Vec<usize> = (0..groups.len()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (&groups[a], &groups[b]);
            let ord = match self.sort {
                SortKey::Count => x.count.cmp(&y.count),
                SortKey::StyleMix => fork_share(x).total_cmp(&fork_share(y)),
                SortKey::Failed => x.failed_attempts.cmp(&y.failed_attempts),
                SortKey::EnvBytes => x.env_bytes_max.cmp(&y.env_bytes_max),
                SortKey::P50 => x.latency.p50.cmp(&y.latency.p50),
                SortKey::P99 => x.latency.p99.cmp(&y.latency.p99),
                SortKey::Name => y.key.cmp(&x.key),
            };
            let ord = if self.descending { ord.reverse() } else { ord };
            ord.then_with(|| x.key.cmp(&y.key))
        });
        self.order = order;
        if let Some(k) = keep {
            if let Some(i) = self.order.iter().position(|&g| groups[g].key == k) {
                self.scroll.selected = i;
            }
        }
        self.scroll.clamp(self.order.len(), page);
    }

    pub fn selected<'a>(&self, t: &'a Trace) -> Option<&'a Group> {
        self.order.get(self.scroll.selected).and_then(|&i| t.by_exe.get(i))
    }
}

/// Events view: the filter and the rows it lets through.
#[derive(Debug, Clone, Default)]
pub struct EventsState {
    pub filter: String,
    /// Typing into the filter.
    pub editing: bool,
    /// Matching row indices; None: no filter, all rows.
    pub matches: Option<Vec<u32>>,
    /// Rows of the log already tested against the filter.
    pub tested: usize,
    pub scroll: Scroll,
}

impl EventsState {
    pub fn len(&self, log: &EventLog) -> usize {
        self.matches.as_ref().map_or(log.len(), Vec::len)
    }

    /// Index into the log of the n-th visible row.
    pub fn row(&self, n: usize) -> Option<usize> {
        match &self.matches {
            Some(m) => m.get(n).map(|&i| i as usize),
            None => Some(n),
        }
    }

    /// Re-applies the filter after it changed; `narrow` when it only grew.
    pub fn refilter(&mut self, log: &EventLog, narrow: bool, page: usize) {
        self.matches = if self.filter.is_empty() {
            None
        } else {
            match (narrow, self.matches.take()) {
                (true, Some(prev)) => Some(log.filter(&self.filter, prev.into_iter())),
                _ => Some(log.filter(&self.filter, 0..log.len() as u32)),
            }
        };
        self.tested = log.len();
        self.scroll.clamp(self.len(log), page);
    }

    /// Tests rows added to the log since the last call (live mode, or a
    /// trace being read); with `follow`, a selection on the last row follows
    /// the new ones.
    /// `moved`: the lowest row index that moved (a late row was inserted in
    /// time order), from [`EventLog::take_changed`].
    pub fn extend(&mut self, log: &EventLog, moved: Option<usize>, page: usize, follow: bool) {
        let before = self.matches.as_ref().map_or(self.tested, Vec::len);
        let at_end = follow && (before == 0 || self.scroll.selected + 1 >= before);
        if let Some(from) = moved {
            self.tested = self.tested.min(from);
        }
        if let Some(m) = &mut self.matches {
            let from = self.tested as u32;
            m.retain(|&i| i < from);
            m.extend(log.filter(&self.filter, from..log.len() as u32));
        }
        self.tested = log.len();
        let len = self.len(log);
        if at_end && len > 0 {
            self.scroll.select(len - 1, len, page);
        }
    }
}
