//! State of the list views: latency groups, executables table, event filter.

use spawnscope_analyzer::Group;

use super::scroll::Scroll;
use super::trace::{Grouping, Trace};
use crate::eventlog::{EventLog, FilterScan};

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

/// Indexed logs of at least this many rows are filtered on another thread
/// ([`FilterScan`]): reading rows back from the file takes about 1 µs each.
pub const FILTER_IN_BACKGROUND_FROM: usize = 50_000;

/// Events view: the filter and the rows it lets through.
#[derive(Debug)]
pub struct EventsState {
    pub filter: String,
    /// Typing into the filter.
    pub editing: bool,
    /// Matching row indices; None: no filter, all rows.
    pub matches: Option<Vec<u32>>,
    /// Rows of the log already tested against the filter (or handed to
    /// the scan).
    pub tested: usize,
    pub scroll: Scroll,
    /// The filter running on another thread (a big indexed log).
    pub scan: Option<FilterScan>,
    /// Rows came or moved while the trace was read and the filter was on:
    /// it runs again over every row when the reading ends.
    pub stale: bool,
    /// See [`FILTER_IN_BACKGROUND_FROM`] (tests lower it).
    pub background_from: usize,
}

impl Default for EventsState {
    fn default() -> Self {
        EventsState {
            filter: String::new(),
            editing: false,
            matches: None,
            tested: 0,
            scroll: Scroll::default(),
            scan: None,
            stale: false,
            background_from: FILTER_IN_BACKGROUND_FROM,
        }
    }
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

    fn in_background(&self, log: &EventLog) -> bool {
        log.is_indexed() && log.len() >= self.background_from
    }

    /// Re-applies the filter after it changed; `narrow` when it only grew.
    pub fn refilter(&mut self, log: &EventLog, narrow: bool, page: usize) {
        // A scan cut short has not found every match: narrowing needs all.
        let complete = self.scan.take().is_none_or(|s| s.done());
        self.stale = false;
        self.matches = if self.filter.is_empty() {
            None
        } else {
            let prev = self.matches.take().filter(|_| narrow && complete);
            if self.in_background(log) {
                self.scan = log.filter_in_background(&self.filter, prev.clone());
            }
            match (&self.scan, prev) {
                (Some(_), _) => Some(Vec::new()),
                (None, Some(prev)) => Some(log.filter(&self.filter, prev.into_iter())),
                (None, None) => Some(log.filter(&self.filter, 0..log.len() as u32)),
            }
        };
        self.tested = log.len();
        self.scroll.clamp(self.len(log), page);
    }

    /// Takes the matches the background filter found since the last call;
    /// whether anything changed.
    pub fn poll_scan(&mut self, log: &EventLog, page: usize) -> bool {
        let (Some(scan), Some(m)) = (&mut self.scan, &mut self.matches) else { return false };
        let any = scan.poll(m);
        if scan.done() {
            self.scan = None;
        }
        if any {
            self.scroll.clamp(self.len(log), page);
        }
        any
    }

    /// Waits for the background filter to end (tests and benchmarks).
    pub fn wait_scan(&mut self, log: &EventLog, page: usize) {
        while let (Some(scan), Some(m)) = (&mut self.scan, &mut self.matches) {
            scan.wait(m);
            if scan.done() {
                self.scan = None;
            }
        }
        self.scroll.clamp(self.len(log), page);
    }

    /// The trace is read: a filter that could not follow the rows coming
    /// in runs again over all of them.
    pub fn reading_done(&mut self, log: &EventLog, page: usize) {
        if self.stale {
            self.refilter(log, false, page);
        }
    }

    /// Tests rows added to the log since the last call (live mode, or a
    /// trace being read); with `follow`, a selection on the last row follows
    /// the new ones.
    /// `moved`: the lowest row index that moved (a late row was inserted in
    /// time order), from [`EventLog::take_changed`].
    pub fn extend(&mut self, log: &EventLog, moved: Option<usize>, page: usize, follow: bool) {
        if self.matches.is_some() && (self.scan.is_some() || self.in_background(log)) {
            // Too many rows to test here: once the trace is read, again.
            self.stale |= moved.is_some() || log.len() > self.tested;
            self.tested = log.len();
            return;
        }
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
