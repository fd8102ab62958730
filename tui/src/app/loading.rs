//! A trace read behind the UI: rows and snapshots of the analysis arrive
//! from the loader thread ([`crate::load`]) and are swapped in at each tick.

use std::sync::mpsc::TryRecvError;

use spawnscope_analyzer::Analysis;

use super::{App, Exit};
use crate::eventlog::EventLog;
use crate::load::{LoadMsg, Loading, Snapshot};
use crate::TuiError;

impl App {
    /// An app over a trace still being read: `analysis` is what is known at
    /// first (the header), `log` the empty event list the rows go into.
    pub fn loading(name: impl Into<String>, analysis: Analysis, log: EventLog, loading: Loading) -> App {
        let mut app = App::new(name, analysis, log);
        app.loading = Some(loading);
        app.derive();
        app
    }

    /// Takes what the loader sent since the last call; whether anything
    /// arrived (the screen changed).
    pub fn poll_loading(&mut self) -> bool {
        self.absorb(None)
    }

    /// Applies `first` and every message waiting. Only the newest snapshot
    /// is used; the ones it replaces are freed on another thread (freeing a
    /// big analysis takes long).
    fn absorb(&mut self, mut first: Option<LoadMsg>) -> bool {
        let mut newest: Option<Box<Snapshot>> = None;
        let mut rows = false;
        let mut done = false;
        let mut any = false;
        loop {
            let msg = match (first.take(), &self.loading) {
                (Some(m), _) => Ok(m),
                (None, Some(l)) => l.rx.try_recv(),
                (None, None) => break,
            };
            any |= msg.is_ok();
            match msg {
                Ok(LoadMsg::Rows(batch, progress)) => {
                    if let Some(l) = &mut self.loading {
                        if l.progress.events == 0 {
                            // Room for the whole file at once (estimated from the first rows).
                            let estimate = progress.estimated_events().unwrap_or(0);
                            self.log.reserve_total(estimate.saturating_add(estimate / 8) as usize);
                        }
                        l.progress = progress;
                    }
                    self.log.extend(batch);
                    rows = true;
                }
                Ok(LoadMsg::Snapshot(t)) => drop_later(newest.replace(t)),
                Ok(LoadMsg::Done(t)) => {
                    drop_later(newest.replace(t));
                    done = true;
                    break;
                }
                Ok(LoadMsg::Failed(e)) => {
                    self.fail(e);
                    break;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.fail(TuiError::Backend("the trace reader stopped without a result".into()));
                    any = true;
                    break;
                }
            }
        }
        if done {
            self.loading = None;
        }
        if rows {
            let (moved, page) = (self.log.take_changed(), self.page());
            self.events.extend(&self.log, moved, page, false);
        }
        if done {
            let page = self.page();
            self.events.reading_done(&self.log, page);
        }
        if let Some(new) = newest {
            let Snapshot { trace, tree } = *new;
            let old = std::mem::replace(&mut self.trace, trace);
            let page = self.page();
            let (taken, leftover) = self.tree.adopt(tree, page);
            if !taken {
                self.tree.rebuild(&self.trace, page);
            }
            self.derive_but_tree();
            drop_later(Some(Box::new(Snapshot { trace: old, tree: leftover })));
        } else if done {
            // One line less above the views.
            self.derive();
        }
        any
    }

    fn fail(&mut self, e: TuiError) {
        self.loading = None;
        self.load_error = Some(e);
        self.exit = Some(Exit::Quit);
    }

    /// Takes the matches the events filter found on its thread; whether
    /// anything changed.
    pub fn poll_filter(&mut self) -> bool {
        let page = self.page();
        self.events.poll_scan(&self.log, page)
    }

    /// Waits until the events filter's thread is done (tests, benchmarks).
    pub fn wait_filtered(&mut self) {
        let page = self.page();
        self.events.wait_scan(&self.log, page);
    }

    /// Waits until the trace is read (tests and benchmarks: blocks on the
    /// loader's channel, never sleeps).
    pub fn wait_loaded(&mut self) {
        while let Some(l) = &self.loading {
            let first = l.rx.recv().ok();
            self.absorb(first);
        }
    }
}

/// Frees a replaced analysis on a thread of its own.
fn drop_later(t: Option<Box<Snapshot>>) {
    if let Some(t) = t {
        if t.trace.analysis.spawns.len() < 10_000 {
            return drop(t);
        }
        // Without a thread it is freed here, with the closure.
        let _ = std::thread::Builder::new().name("spawnscope-free".into()).spawn(move || drop(t));
    }
}
