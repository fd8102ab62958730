//! State of the Call sites view (issue 10): spawns grouped by the place in
//! the program's code that made them, sortable; Enter lists a call site's
//! spawns in the detail pane.

use spawnscope_analyzer::origin::{call_sites, CallSite};

use super::scroll::Scroll;
use super::trace::Trace;
use super::{App, View};

impl App {
    /// The next (or previous) view for Tab (Shift-Tab): the Call sites view
    /// only when the trace has stacks, like its tab.
    pub(super) fn step_view(&self, forward: bool) -> View {
        let n = View::ALL.len();
        let mut i = self.view.index();
        loop {
            i = if forward { (i + 1) % n } else { (i + n - 1) % n };
            let v = View::ALL[i];
            if v != View::CallSites || !self.sites.sites.is_empty() {
                return v;
            }
        }
    }
}

/// Columns the Call sites table sorts by (`s` cycles, `r` reverses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteSort {
    Count,
    Total,
    P50,
    ForkShare,
    Name,
}

impl SiteSort {
    pub const ALL: [SiteSort; 5] = [SiteSort::Count, SiteSort::Total, SiteSort::P50, SiteSort::ForkShare, SiteSort::Name];
    pub fn next(self) -> SiteSort {
        let i = SiteSort::ALL.iter().position(|&k| k == self).unwrap_or(0);
        SiteSort::ALL[(i + 1) % SiteSort::ALL.len()]
    }
    pub fn label(self) -> &'static str {
        match self {
            SiteSort::Count => "spawns",
            SiteSort::Total => "total latency",
            SiteSort::P50 => "p50",
            SiteSort::ForkShare => "fork share",
            SiteSort::Name => "name",
        }
    }
}

/// The call sites of the trace, their order and the selection.
#[derive(Debug, Clone)]
pub struct SitesState {
    pub sort: SiteSort,
    /// Largest first (names: A to Z).
    pub descending: bool,
    pub sites: Vec<CallSite>,
    /// Indices into `sites` in display order.
    pub order: Vec<usize>,
    pub scroll: Scroll,
}

impl Default for SitesState {
    fn default() -> Self {
        SitesState { sort: SiteSort::Count, descending: true, sites: Vec::new(), order: Vec::new(), scroll: Scroll::default() }
    }
}

impl SitesState {
    /// Regroups the trace's spawns by call site and sorts them, keeping the
    /// selected call site selected.
    pub fn rebuild(&mut self, t: &Trace, page: usize) {
        let keep = self.selected().map(|s| s.label.clone());
        self.sites = call_sites(&t.analysis);
        self.resort(page);
        if let Some(k) = keep {
            if let Some(i) = self.order.iter().position(|&s| self.sites[s].label == k) {
                self.scroll.select(i, self.order.len(), page);
            }
        }
    }

    pub fn resort(&mut self, page: usize) {
        let keep = self.selected().map(|s| s.label.clone());
        let sites = &self.sites;
        let fork_share = |s: &CallSite| s.styles.get("fork").copied().unwrap_or(0) as f64 / s.count.max(1) as f64;
        let mut order: Vec<usize> = (0..sites.len()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (&sites[a], &sites[b]);
            let ord = match self.sort {
                SiteSort::Count => x.count.cmp(&y.count),
                SiteSort::Total => x.total_latency_ns.cmp(&y.total_latency_ns),
                SiteSort::P50 => x.latency.p50.cmp(&y.latency.p50),
                SiteSort::ForkShare => fork_share(x).total_cmp(&fork_share(y)),
                SiteSort::Name => y.label.cmp(&x.label),
            };
            let ord = if self.descending { ord.reverse() } else { ord };
            ord.then_with(|| x.label.cmp(&y.label))
        });
        self.order = order;
        if let Some(k) = keep {
            if let Some(i) = self.order.iter().position(|&s| sites[s].label == k) {
                self.scroll.selected = i;
            }
        }
        self.scroll.clamp(self.order.len(), page);
    }

    pub fn selected(&self) -> Option<&CallSite> {
        self.order.get(self.scroll.selected).and_then(|&i| self.sites.get(i))
    }
}
