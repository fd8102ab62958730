//! The application state. [`App::update`] applies one [`Action`]; nothing
//! here does I/O, so tests drive it with plain values.

mod callsites;
mod detail;
mod finding;
mod live;
mod loading;
mod scroll;
mod trace;
mod tree;
mod tree_group;
mod views;

pub use callsites::{SiteSort, SitesState};
pub use detail::{Detail, Subject};
pub use finding::FindingPane;
pub use live::{Live, LiveInfo, LiveStatus};
pub use scroll::Scroll;
pub use trace::{Grouping, Trace};
pub use tree::{TreeRow, TreeState};
pub use tree_group::{TreeGroup, MIN_IDENTICAL, MIN_SAME_PROGRAM};
pub use views::{EventsState, ExesState, LatencyState, SortKey};

use spawnscope_analyzer::Analysis;

use crate::action::Action;
use crate::eventlog::EventLog;

/// The views, in tab order (number keys 1-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Overview,
    Latency,
    Executables,
    Tree,
    Events,
    /// Where in the code (issue 10).
    CallSites,
}

impl View {
    pub const ALL: [View; 6] = [View::Overview, View::Latency, View::Executables, View::Tree, View::Events, View::CallSites];
    pub fn title(self) -> &'static str {
        match self {
            View::Overview => "Overview",
            View::Latency => "Latency",
            View::Executables => "Executables",
            View::Tree => "Tree",
            View::Events => "Events",
            View::CallSites => "Call sites",
        }
    }
    fn index(self) -> usize {
        View::ALL.iter().position(|&v| v == self).unwrap_or(0)
    }
}

/// How the user asked to leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Quit (an attached process is detached from and goes on).
    Quit,
    /// Quit and kill the live target.
    KillTarget,
    /// Close the UI and let the live target run to its end.
    LetFinish,
}

/// Everything the UI shows.
#[derive(Debug)]
pub struct App {
    pub trace: Trace,
    /// Second trace for `--compare` (histograms overlaid).
    pub compare: Option<Trace>,
    pub log: EventLog,
    pub view: View,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
    pub findings: Scroll,
    pub latency: LatencyState,
    pub exes: ExesState,
    pub tree: TreeState,
    pub events: EventsState,
    pub sites: SitesState,
    pub detail: Option<Detail>,
    /// The finding pane (Enter on a finding); the detail pane opens over it.
    pub finding: Option<FindingPane>,
    pub help: bool,
    /// The "kill or let finish?" question is open.
    pub prompt: bool,
    pub live: Option<Live>,
    /// The trace is still being read behind the UI (`view`).
    pub loading: Option<crate::load::Loading>,
    /// Why reading the trace stopped (a damaged line): the UI ends and the
    /// caller reports it.
    pub load_error: Option<crate::TuiError>,
    pub exit: Option<Exit>,
}

impl App {
    /// An app over a recorded trace.
    pub fn new(name: impl Into<String>, analysis: Analysis, log: EventLog) -> App {
        let mut app = App {
            trace: Trace::new(name, analysis),
            compare: None,
            log,
            view: View::Overview,
            size: (80, 24),
            findings: Scroll::default(),
            latency: LatencyState::default(),
            exes: ExesState::default(),
            tree: TreeState::default(),
            events: EventsState::default(),
            sites: SitesState::default(),
            detail: None,
            finding: None,
            help: false,
            prompt: false,
            live: None,
            loading: None,
            load_error: None,
            exit: None,
        };
        app.derive();
        app
    }

    /// An app for a live recording; records arrive as [`Action::Records`].
    pub fn live(info: LiveInfo) -> App {
        let live = Live::new(info);
        let name = crate::fmt::argv(&live.info.command, 40);
        let mut app = App::new(name, live.feed.snapshot(), EventLog::default());
        app.live = Some(live);
        app
    }

    /// Adds a second trace whose histograms are overlaid on this one's.
    pub fn with_compare(mut self, name: impl Into<String>, analysis: Analysis) -> App {
        self.compare = Some(Trace::new(name, analysis));
        self
    }

    /// Rows a list view can show (for paging); the draw code clamps anyway.
    pub fn page(&self) -> usize {
        let chrome = if self.status_line() { 6 } else { 5 };
        (self.size.1 as usize).saturating_sub(chrome).max(1)
    }

    /// A line under the tabs says how the recording or the reading goes.
    pub fn status_line(&self) -> bool {
        self.live.is_some() || self.loading.is_some()
    }

    /// Recomputes view state that depends on the analysis.
    fn derive(&mut self) {
        let page = self.page();
        self.tree.rebuild(&self.trace, page);
        self.derive_but_tree();
    }

    /// Keeps every list's selection visible after the page size changed
    /// (a resize): the rows stay as they are, so this is cheap on a big
    /// trace, where deriving them again takes seconds.
    fn fit(&mut self) {
        let page = self.page();
        self.exes.scroll.clamp(self.exes.order.len(), page);
        self.tree.scroll.clamp(self.tree.rows.len(), page);
        self.sites.scroll.clamp(self.sites.order.len(), page);
        let groups = self.trace.groups(self.latency.grouping).len();
        self.latency.scroll.clamp(groups, page);
        self.findings.clamp(self.trace.analysis.findings.len(), page);
        self.events.scroll.clamp(self.events.len(&self.log), page);
    }

    /// [`App::derive`] without the tree (whose rows can come ready-made
    /// from the loader thread: on a big trace they take the longest).
    fn derive_but_tree(&mut self) {
        let page = self.page();
        self.exes.resort(&self.trace, page);
        self.sites.rebuild(&self.trace, page);
        let groups = self.trace.groups(self.latency.grouping).len();
        self.latency.scroll.clamp(groups, page);
        self.findings.clamp(self.trace.analysis.findings.len(), page);
        self.events.scroll.clamp(self.events.len(&self.log), page);
    }

    /// Applies one action.
    pub fn update(&mut self, action: Action) {
        match action {
            Action::Quit => match &self.live {
                Some(l) if l.owns_running_target() => self.prompt = true,
                _ => self.exit = Some(Exit::Quit),
            },
            Action::Interrupt => {
                let running = self.live.as_ref().is_some_and(Live::owns_running_target);
                self.exit = Some(if running { Exit::KillTarget } else { Exit::Quit });
            }
            Action::KillTarget if self.prompt => self.exit = Some(Exit::KillTarget),
            Action::LetFinish if self.prompt => self.exit = Some(Exit::LetFinish),
            Action::Back => self.back(),
            Action::Help => self.help = !self.help,
            Action::NextView => self.show(self.step_view(true)),
            Action::PrevView => self.show(self.step_view(false)),
            Action::ShowView(v) => self.show(v),
            Action::Resize(w, h) => {
                self.size = (w, h);
                self.fit();
            }
            Action::Tick => self.tick(),
            Action::Records(recs) => self.records(recs),
            Action::Started(pid) => {
                if let Some(l) = &mut self.live {
                    l.status = LiveStatus::Running { pid };
                }
            }
            Action::Finished(exit) => self.finished(LiveStatus::Finished { exit }),
            Action::RecorderFailed(msg) => self.finished(LiveStatus::Failed(msg)),
            other => self.navigate(other),
        }
    }

    fn show(&mut self, v: View) {
        self.view = v;
        self.detail = None;
        self.finding = None;
        self.help = false;
    }

    fn back(&mut self) {
        if self.prompt {
            self.prompt = false;
        } else if self.help {
            self.help = false;
        } else if self.detail.is_some() {
            self.detail = None;
        } else if self.finding.is_some() {
            self.finding = None;
        } else if self.events.editing || !self.events.filter.is_empty() {
            self.events.editing = false;
            self.events.filter.clear();
            self.events.refilter(&self.log, false, self.page());
        }
    }

    fn tick(&mut self) {
        if self.loading.is_some() {
            self.poll_loading();
        }
        let spawns = self.trace.analysis.spawns.len();
        if let Some(l) = &mut self.live {
            if l.snapshot_due(spawns) {
                self.resnapshot();
            }
        }
    }

    fn resnapshot(&mut self) {
        if let Some(l) = &self.live {
            let name = std::mem::take(&mut self.trace.name);
            self.trace = Trace::new(name, l.feed.snapshot());
            self.derive();
        }
    }

    fn records(&mut self, recs: Vec<(u64, spawnscope_format::Record)>) {
        let Some(l) = &mut self.live else { return };
        for (line, rec) in &recs {
            l.push(*line, rec);
            self.log.push(*line, rec);
        }
        let page = self.page();
        let moved = self.log.take_changed();
        self.events.extend(&self.log, moved, page, true);
    }

    fn finished(&mut self, status: LiveStatus) {
        if let Some(l) = &mut self.live {
            l.status = status;
            l.dirty = false;
        }
        self.prompt = false;
        self.resnapshot();
    }
}

mod navigate;
