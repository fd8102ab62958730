//! Bounded retention ([`super::Retention::Aggregate`] and `Stream`): where
//! the analyzer keeps its spawns and processes (dense vectors for full
//! retention, maps of the live ones otherwise), when a spawn or a process is
//! final, and how it is folded and let go.

use spawnscope_format::Nanos;

use super::{placeholder, Analyzer, HashMap, ProcState, SpawnState};
use crate::classify::BasePath;
use crate::model::*;

/// What an [`Analyzer`] keeps of the spawns and processes it has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Retention {
    /// Every spawn and process in memory, for views that show them one by
    /// one (the terminal UI, `report --spawns`, `check`, `diff`, selections).
    #[default]
    Full,
    /// Bounded memory: a spawn is folded into the summary, the groups and
    /// the findings' tallies once it is final and then dropped; a process
    /// once it exited and its spawns are final. The analysis then has no
    /// `spawns`, only the longest `processes`, and carries its groups in
    /// [`Analysis::aggregate`] (see [`crate::Aggregated`] for what is exact).
    /// A trace with call stacks needs its stack records first (its
    /// symbols come at the end): [`crate::analyze_path_with`] reads them in
    /// a first pass, [`Analyzer::with_stacks`] takes them; without them
    /// ([`Analyzer::with_retention`], standard input) it is kept whole.
    Aggregate,
    /// As `Aggregate`, and every spawn and process is also written to a
    /// temporary file as it completes, to be read back in index order
    /// ([`crate::Aggregated::spawns`]): per-spawn output (JSON `spawns[]`)
    /// in bounded memory.
    Stream,
}

/// A thread's last spawn, and its end (`t_done`) once it is final.
pub(super) type LastSpawn = (usize, Option<Option<Nanos>>);

/// The live part of a bounded-retention analyzer.
#[derive(Debug)]
pub(super) struct Bounded {
    pub(super) spawns: HashMap<usize, (Spawn, SpawnState)>,
    pub(super) procs: HashMap<usize, (Process, ProcState)>,
    pub(super) n_spawns: usize,
    pub(super) n_procs: usize,
    /// Spawns made by each live process, grouped once its name is final.
    pub(super) parent_groups: HashMap<usize, crate::aggregate::GroupAcc>,
    /// (parent, tid) → the thread's last spawn and, once final, its end.
    pub(super) threads: HashMap<(usize, i32), LastSpawn>,
    pub(super) fold: crate::aggregate::Fold,
    /// [`Retention::Stream`]: where completed spawns and processes go.
    pub(super) spill: Option<crate::spill::SpillWriter>,
    /// Pids whose last process was let go, and when it was last seen (until
    /// the pid is used again).
    pub(super) gone: HashMap<i32, Nanos>,
    /// Stack id → index into `Analysis::origins.list`.
    pub(super) origin_ix: HashMap<u32, u32>,
    /// The trace has call stacks: spawns are grouped by call site.
    pub(super) with_stacks: bool,
}

impl Bounded {
    /// The origin of a spawn with this stack (its index into
    /// `origins.list`, added the first time a spawn uses it: spawns arrive in
    /// index order, so the list is the one a full analysis makes). A spawn
    /// without one is counted in `origins.spawns_without`.
    pub(super) fn origin_of(
        &mut self,
        stack_id: Option<u32>,
        table: &crate::origin::OriginTable,
        origins: &mut crate::origin::Origins,
    ) -> Option<u32> {
        let k = stack_id.and_then(|id| match self.origin_ix.get(&id) {
            Some(&k) => Some(k),
            None => {
                let o = table.origin(id)?;
                let k = origins.list.len() as u32;
                origins.list.push(o);
                self.origin_ix.insert(id, k);
                Some(k)
            }
        });
        if k.is_none() {
            origins.spawns_without += 1;
        }
        k
    }
}

impl Analyzer {
    // ---- storage: dense vectors (full retention) or the live maps (bounded) ----

    pub(super) fn pr(&self, i: usize) -> Option<&Process> {
        match &self.bounded {
            Some(b) => b.procs.get(&i).map(|x| &x.0),
            None => self.a.processes.get(i),
        }
    }

    pub(super) fn pr_mut(&mut self, i: usize) -> Option<&mut Process> {
        match &mut self.bounded {
            Some(b) => b.procs.get_mut(&i).map(|x| &mut x.0),
            None => self.a.processes.get_mut(i),
        }
    }

    pub(super) fn ps(&self, i: usize) -> Option<&ProcState> {
        match &self.bounded {
            Some(b) => b.procs.get(&i).map(|x| &x.1),
            None => self.proc_state.get(i),
        }
    }

    pub(super) fn ps_mut(&mut self, i: usize) -> Option<&mut ProcState> {
        match &mut self.bounded {
            Some(b) => b.procs.get_mut(&i).map(|x| &mut x.1),
            None => self.proc_state.get_mut(i),
        }
    }

    pub(super) fn sp(&self, i: usize) -> Option<&Spawn> {
        match &self.bounded {
            Some(b) => b.spawns.get(&i).map(|x| &x.0),
            None => self.a.spawns.get(i),
        }
    }

    pub(super) fn sp_mut(&mut self, i: usize) -> Option<&mut Spawn> {
        match &mut self.bounded {
            Some(b) => b.spawns.get_mut(&i).map(|x| &mut x.0),
            None => self.a.spawns.get_mut(i),
        }
    }

    pub(super) fn ss_mut(&mut self, i: usize) -> Option<&mut SpawnState> {
        match &mut self.bounded {
            Some(b) => b.spawns.get_mut(&i).map(|x| &mut x.1),
            None => self.spawn_state.get_mut(i),
        }
    }

    pub(super) fn ss(&self, i: usize) -> Option<&SpawnState> {
        match &self.bounded {
            Some(b) => b.spawns.get(&i).map(|x| &x.1),
            None => self.spawn_state.get(i),
        }
    }

    // ---- bounded retention ----

    /// SS005: a spawn of thread `tid` of `parent` arrived; it pairs with the
    /// thread's previous spawn (now if that one is final, else when it is).
    pub(super) fn serial_arrival(&mut self, parent: usize, tid: i32, si: usize, t0: Nanos) {
        let Some(b) = &mut self.bounded else { return };
        if let Some((prev, done)) = b.threads.insert((parent, tid), (si, None)) {
            match done {
                Some(d) => b.fold.observers.serial_pair((Some(parent), tid), d.is_none_or(|d| d > t0)),
                None => {
                    if let Some(x) = b.spawns.get_mut(&prev) {
                        x.1.next_start = Some(t0);
                    }
                }
            }
        }
    }

    /// Folds spawn `si` if nothing can change it any more: its child
    /// exited, or exec'd and made a spawn of its own (its exec chain is
    /// over), or it has no child.
    pub(super) fn settle_spawn(&mut self, si: usize) {
        let Some(s) = self.sp(si) else { return };
        let settled = match s.child {
            None => true,
            Some(c) => match (self.pr(c), self.ps(c)) {
                (Some(p), Some(st)) => p.exit.is_some() || (s.t_done.is_some() && st.spawned),
                _ => true,
            },
        };
        if settled {
            self.finalize_spawn(si);
        }
    }

    /// Folds spawn `si` into the summary, the groups and the findings'
    /// tallies, and drops it.
    pub(super) fn finalize_spawn(&mut self, si: usize) {
        let Some(s) = self.sp(si) else { return };
        let parent = s.parent;
        let child = s.child;
        let parent_name = parent.map(|p| self.resolved_name(p));
        let parent_env = parent.and_then(|p| self.env_at(p, s.t_start));
        let child_env_hash = child.and_then(|c| self.pr(c)?.execs.first()?.env_hash);
        // The child's successful exec after the clone (diff's "exec" part).
        let t_start = s.t_start;
        let child_exec_ns = child
            .and_then(|c| self.pr(c))
            .and_then(|p| p.execs.iter().find(|e| e.result == 0 && e.t_exit >= t_start))
            .map_or(0, |e| crate::attempt_ns(e.t_entry, e.t_exit));
        let Some(b) = self.bounded.as_deref_mut() else { return };
        let Some((mut s, st)) = b.spawns.remove(&si) else { return };
        s.code_path = match st.base {
            BasePath::Known(c) => c,
            // Final: the child exec'd, or exited or the trace ended without.
            BasePath::PlainFork if s.exec.is_some() => CodePath::ForkExec,
            BasePath::PlainFork => CodePath::ForkNoExec,
        };
        let origin = s.origin.and_then(|k| self.a.origins.list.get(k as usize));
        if let Some(o) = origin {
            s.code_path = crate::origin::refine_code_path(s.code_path, o);
        }
        let ctx =
            crate::findings::SpawnCtx { parent_name: parent_name.as_deref(), parent_env, child_env_hash, ..Default::default() }
                .with_origin(origin);
        let acc = b.parent_groups.entry(parent.unwrap_or(usize::MAX)).or_default();
        b.fold.spawn(&s, &ctx, acc, child_exec_ns, &self.a.origins.list, b.with_stacks);
        if let Some(w) = &mut b.spill {
            if let Err(e) = w.spawn(&s) {
                b.spill = None;
                self.warnings.push(format!("spawns not listed: writing the temporary file: {e}"));
            }
        }
        if let (Some(ns), Some(p)) = (st.next_start, parent) {
            b.fold.observers.serial_pair((Some(p), s.parent_tid), s.t_done.is_none_or(|d| d > ns));
        }
        if let Some(p) = parent {
            if let Some(t) = b.threads.get_mut(&(p, s.parent_tid)).filter(|t| t.0 == si) {
                t.1 = Some(s.t_done);
            }
            if let Some(x) = b.procs.get_mut(&p) {
                x.1.open_spawns = x.1.open_spawns.saturating_sub(1);
            }
        }
        if let Some(x) = child.and_then(|c| b.procs.get_mut(&c)) {
            x.1.creating_final = true;
        }
        if let Some(p) = parent {
            self.settle_process(p);
        }
        if let Some(c) = child {
            self.settle_process(c);
        }
    }

    /// Folds and drops process `c` if it is done: exited, adopted (a spawn
    /// line named it, or it can no longer be named by one), its own spawn
    /// and the spawns it made final.
    pub(super) fn settle_process(&mut self, c: usize) {
        let done = match (self.pr(c), self.ps(c)) {
            (Some(p), Some(st)) => {
                p.exit.is_some() && !st.provisional && st.open_spawns == 0 && (p.spawn.is_none() || st.creating_final)
            }
            _ => false,
        };
        if done {
            self.finalize_process(c, 0);
        }
    }

    /// Folds process `c` (`end`: the end of the recording, for one still
    /// running) and drops it.
    pub(super) fn finalize_process(&mut self, c: usize, end: Nanos) {
        let name = self.resolved_name(c);
        let threshold = self.a.thresholds.clone();
        let Some(b) = self.bounded.as_deref_mut() else { return };
        let Some((p, st)) = b.procs.remove(&c) else { return };
        if self.by_pid.get(&p.pid) == Some(&c) {
            self.by_pid.remove(&p.pid);
            // Adoption compares with when the pid was last seen.
            b.gone.insert(p.pid, st.last_seen);
        }
        let acc = b.parent_groups.remove(&c);
        if st.spawned {
            b.threads.retain(|k, _| k.0 != c);
            b.fold.observers.retire_process(c, &threshold);
        }
        let mut p = p;
        if let Some(w) = &mut b.spill {
            p.name.clone_from(&name);
            if let Err(e) = w.process(&p) {
                b.spill = None;
                self.warnings.push(format!("spawns not listed: writing the temporary file: {e}"));
            }
        }
        b.fold.process(p, name, end, acc);
    }

    /// A process's name: its last successful exec's program, else the
    /// program its parent ran when it was created (kept then, in case the
    /// parent execs or is gone later), else the traced command.
    pub(super) fn resolved_name(&self, i: usize) -> String {
        let mut cur = i;
        for _ in 0..64 {
            let (Some(p), Some(st)) = (self.pr(cur), self.ps(cur)) else { break };
            if st.named {
                return p.name.clone();
            }
            if let Some(n) = &st.inherit_name {
                return n.clone();
            }
            match p.parent {
                Some(pp) if self.pr(pp).is_some() => cur = pp,
                _ => break,
            }
        }
        match self.a.header.command.first() {
            Some(c) if !c.is_empty() => c.clone(),
            _ => "?".to_string(),
        }
    }

    /// The environment process `p` had at time `before` (count, bytes,
    /// hash): its last successful exec by then, else its parent's when it
    /// was created, else the tracer's for the traced command.
    pub(super) fn env_at(&self, p: usize, before: Nanos) -> Option<(u64, u64, Option<u64>)> {
        let (mut cur, mut before) = (p, before);
        for _ in 0..64 {
            let proc = self.pr(cur)?;
            if let Some(e) = proc.execs.iter().rev().find(|e| e.result == 0 && e.t_exit <= before) {
                return Some((e.env_count, e.env_bytes, e.env_hash));
            }
            match proc.parent {
                None => {
                    let t = &self.a.header.tracer;
                    return (t.attached_pid.is_none() && t.env_count > 0).then_some((t.env_count, t.env_bytes, None));
                }
                Some(pp) if self.pr(pp).is_none() => return self.ps(cur).and_then(|st| st.inherit_env),
                Some(pp) => {
                    before = proc.t_start;
                    cur = pp;
                }
            }
        }
        None
    }

    /// The end of a bounded analysis: every open spawn and live process is
    /// folded, the summary and findings concluded.
    pub(super) fn finish_bounded(mut self) -> Analysis {
        let mut open: Vec<usize> = self.bounded.as_ref().map(|b| b.spawns.keys().copied().collect()).unwrap_or_default();
        open.sort_unstable();
        for si in open {
            self.finalize_spawn(si);
        }
        let (end_t, exit_code) = self.end.unwrap_or((self.last_t, None));
        let end = end_t.max(self.last_t);
        let mut live: Vec<usize> = self.bounded.as_ref().map(|b| b.procs.keys().copied().collect()).unwrap_or_default();
        live.sort_unstable();
        for c in live {
            self.finalize_process(c, end);
        }
        let mut a = std::mem::replace(&mut self.a, placeholder());
        let Some(b) = self.bounded.take() else { return a };
        let counts = crate::aggregate::Counts {
            threads: self.threads,
            processes: b.n_procs as u64,
            failed_clones: self.failed_clones,
            execs: self.execs,
            duration_ns: end,
            exit_code,
        };
        let spilled = match b.spill.map(|w| w.finish()) {
            Some(Ok(x)) => Some(crate::aggregate::SpillHandle(std::sync::Arc::new(x))),
            Some(Err(e)) => {
                self.warnings.push(format!("spawns not listed: reading the temporary file: {e}"));
                None
            }
            None => None,
        };
        let (summary, processes, mut agg, observers) = b.fold.finish(counts, &a.origins.list);
        agg.spill = spilled;
        a.findings = observers.conclude(&a.header, &summary, &a.thresholds);
        // Spawns without an origin were counted as they came: say why, as a
        // full analysis does.
        let without = a.origins.spawns_without;
        a.origins.missing = (without > 0).then(|| crate::origin::missing_reason(&a.header, without, self.origins.is_empty()));
        a.summary = summary;
        a.processes = processes;
        a.spawns = Vec::new();
        a.aggregate = Some(Box::new(agg));
        self.fill_status(&mut a);
        a
    }
}
