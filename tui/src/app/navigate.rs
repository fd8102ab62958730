//! Moving around inside a view and opening the detail pane.

use super::{App, Detail, FindingPane, Subject, View};
use crate::action::Action;

impl App {
    pub(super) fn navigate(&mut self, action: Action) {
        if self.help || self.prompt {
            return;
        }
        let page = self.page();
        if let Some(d) = &mut self.detail {
            match action {
                Action::Up => d.scroll = d.scroll.saturating_sub(1),
                Action::Down => d.scroll = d.scroll.saturating_add(1),
                Action::PageUp => d.scroll = d.scroll.saturating_sub(page as u16),
                Action::PageDown => d.scroll = d.scroll.saturating_add(page as u16),
                Action::Home => d.scroll = 0,
                Action::NextItem | Action::Right => d.step(true),
                Action::PrevItem | Action::Left => d.step(false),
                Action::Enter => self.detail = None,
                _ => {}
            }
            return;
        }
        if self.finding.is_some() {
            self.navigate_finding(action, page);
            return;
        }
        match action {
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-(page as isize)),
            Action::PageDown => self.move_by(page as isize),
            Action::Home => self.move_by(isize::MIN / 2),
            Action::End => self.move_by(isize::MAX / 2),
            Action::Enter if self.view == View::Overview && self.findings.selected < self.trace.analysis.findings.len() => {
                self.finding = Some(FindingPane::new(self.findings.selected));
            }
            Action::Enter => self.detail = self.open_detail(),
            Action::Left if self.view == View::Tree => self.tree.left(&self.trace, page),
            Action::Right if self.view == View::Tree => self.tree.right(&self.trace, page),
            Action::Toggle if self.view == View::Tree => self.tree.toggle(&self.trace, page),
            Action::CollapseAll if self.view == View::Tree => self.tree.collapse_all(&self.trace, page),
            Action::Toggle if self.view == View::Latency => {
                let groups = self.trace.groups(self.latency.grouping);
                let key = groups.get(self.latency.scroll.selected).map(|g| g.key.clone());
                self.latency.pinned = if self.latency.pinned == key { None } else { key };
            }
            Action::Regroup if self.view == View::Latency => {
                self.latency.grouping = self.latency.grouping.next();
                self.latency.pinned = None;
                self.latency.scroll = Default::default();
            }
            Action::Sort if self.view == View::CallSites => {
                self.sites.sort = self.sites.sort.next();
                self.sites.resort(page);
            }
            Action::Reverse if self.view == View::CallSites => {
                self.sites.descending = !self.sites.descending;
                self.sites.resort(page);
            }
            Action::Sort if self.view == View::Executables => {
                self.exes.sort = self.exes.sort.next();
                self.exes.resort(&self.trace, page);
            }
            Action::Reverse if self.view == View::Executables => {
                self.exes.descending = !self.exes.descending;
                self.exes.resort(&self.trace, page);
            }
            Action::FilterStart => {
                self.view = View::Events;
                self.events.editing = true;
            }
            Action::FilterChar(c) => {
                self.events.filter.push(c);
                self.events.refilter(&self.log, true, page);
            }
            Action::FilterBackspace => {
                self.events.filter.pop();
                self.events.refilter(&self.log, false, page);
            }
            Action::FilterDone => self.events.editing = false,
            _ => {}
        }
    }

    /// Keys in the finding pane: scroll, next / previous finding, Enter
    /// for its evidence one spawn at a time.
    fn navigate_finding(&mut self, action: Action, page: usize) {
        let Some(pane) = self.finding else { return };
        let (w, h) = self.size;
        let width = (w as usize).saturating_sub(2);
        let height = (h as usize).saturating_sub(if self.status_line() { 5 } else { 4 });
        let lines = crate::ui::finding_detail::lines(self, pane.index, width).len();
        let n = self.trace.analysis.findings.len();
        let mut pane = pane;
        match action {
            Action::Up => pane.scroll_by(-1, lines, height),
            Action::Down => pane.scroll_by(1, lines, height),
            Action::PageUp => pane.scroll_by(-(page as i32), lines, height),
            Action::PageDown => pane.scroll_by(page as i32, lines, height),
            Action::Home => pane.scroll = 0,
            Action::End => pane.scroll_by(i32::from(u16::MAX), lines, height),
            Action::NextItem | Action::Right | Action::PrevItem | Action::Left if n > 0 => {
                let forward = matches!(action, Action::NextItem | Action::Right);
                let i = if forward { (pane.index + 1) % n } else { (pane.index + n - 1) % n };
                pane = FindingPane::new(i);
                self.findings.select(i, n, page);
            }
            Action::Enter => {
                self.detail = self.open_detail();
            }
            _ => {}
        }
        self.finding = Some(pane);
    }

    fn move_by(&mut self, delta: isize) {
        let page = self.page();
        match self.view {
            View::Overview => self.findings.move_by(delta, self.trace.analysis.findings.len(), page),
            View::Latency => {
                let n = self.trace.groups(self.latency.grouping).len();
                self.latency.scroll.move_by(delta, n, page)
            }
            View::Executables => self.exes.scroll.move_by(delta, self.exes.order.len(), page),
            View::Tree => self.tree.scroll.move_by(delta, self.tree.rows.len(), page),
            View::CallSites => self.sites.scroll.move_by(delta, self.sites.order.len(), page),
            View::Events => {
                let n = self.events.len(&self.log);
                self.events.scroll.move_by(delta, n, page)
            }
        }
    }

    /// The detail pane for what is selected in the current view.
    fn open_detail(&self) -> Option<Detail> {
        let t = &self.trace;
        let spawns = |v: Vec<usize>| v.into_iter().map(Subject::Spawn).collect();
        match self.view {
            View::Overview => {
                let f = t.analysis.findings.get(self.findings.selected)?;
                Detail::new(format!("{} {}: evidence", f.id, f.name), spawns(t.slowest_first(&f.evidence)))
            }
            View::Latency => {
                let g = t.groups(self.latency.grouping).get(self.latency.scroll.selected)?;
                let title = format!("{} {}, slowest first", self.latency.grouping.label(), crate::fmt::safe(&g.key, 40));
                Detail::new(title, spawns(t.slowest_first(&g.spawns)))
            }
            View::Executables => {
                let g = self.exes.selected(t)?;
                Detail::new(
                    format!("executable {}, slowest first", crate::fmt::safe(&g.key, 40)),
                    spawns(t.slowest_first(&g.spawns)),
                )
            }
            View::CallSites => {
                let s = self.sites.selected()?;
                Detail::new(
                    format!("call site {}, slowest first", crate::fmt::safe(&s.label, 60)),
                    spawns(t.slowest_first(&s.spawns)),
                )
            }
            View::Tree => {
                let row = self.tree.selected()?;
                if let Some(g) = self.tree.group(&row) {
                    let members: Vec<usize> = g.members.iter().filter_map(|&m| t.analysis.processes[m].spawn).collect();
                    let title = format!("{} × {}, slowest first", g.members.len(), crate::fmt::safe(&g.program, 40));
                    return Detail::new(title, spawns(t.slowest_first(&members)));
                }
                Detail::new(format!("process {}", t.analysis.processes[row.process].pid), vec![self.subject_of(row.process)])
            }
            View::Events => {
                let row = self.log.row(self.events.row(self.events.scroll.selected)?)?;
                let pid = row.child.unwrap_or(row.pid);
                let p = *t.process_by_pid.get(&pid)?;
                Detail::new(format!("trace line {}", row.line), vec![self.subject_of(p)])
            }
        }
    }

    fn subject_of(&self, process: usize) -> Subject {
        match self.trace.analysis.processes[process].spawn {
            Some(s) => Subject::Spawn(s),
            None => Subject::Process(process),
        }
    }
}
