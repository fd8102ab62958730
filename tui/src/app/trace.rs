//! One analysed trace plus the groupings the views need, computed once per
//! analysis (not per frame) so drawing stays cheap on large traces.

use std::collections::HashMap;

use spawnscope_analyzer::{Analysis, Group};

use crate::feed::{group_by, GroupBy};

/// How the latency view groups spawns (`g` cycles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    Style,
    CodePath,
    Executable,
}

impl Grouping {
    pub fn next(self) -> Grouping {
        match self {
            Grouping::Style => Grouping::CodePath,
            Grouping::CodePath => Grouping::Executable,
            Grouping::Executable => Grouping::Style,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Grouping::Style => "spawn style",
            Grouping::CodePath => "code path",
            Grouping::Executable => "executable",
        }
    }
}

/// What the executables view shows beside a group's numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExeInfo {
    /// `cc`, or `build-script-build (serde-1a2b/, 8 paths)` when several
    /// paths share the basename (groups are by full path).
    pub label: String,
    /// Its processes' run times added up (spawn to exit, or to the end).
    pub ran_ns: u64,
}

fn exe_info(a: &Analysis, groups: &[Group]) -> Vec<ExeInfo> {
    let base = spawnscope_analyzer::basename;
    let mut same: HashMap<&str, usize> = HashMap::new();
    for g in groups {
        *same.entry(base(&g.key)).or_default() += 1;
    }
    let end = a.summary.duration_ns;
    groups
        .iter()
        .map(|g| {
            let b = base(&g.key);
            let n = same.get(b).copied().unwrap_or(1);
            let label = if n > 1 {
                let dir = g.key.strip_suffix(b).unwrap_or("").trim_end_matches('/');
                format!("{b} ({}/, {n} paths)", base(dir))
            } else {
                b.to_string()
            };
            let ran_ns = g
                .spawns
                .iter()
                .filter_map(|&s| a.processes.get(a.spawns.get(s)?.child?))
                .fold(0u64, |acc, p| acc.saturating_add(p.duration_ns(end)));
            ExeInfo { label, ran_ns }
        })
        .collect()
}

/// An analysis with its derived tables.
#[derive(Debug, Clone)]
pub struct Trace {
    /// Tells this analysis from any other made in this process (what is
    /// cached per analysis is keyed by it).
    pub id: u64,
    /// What to call it on screen (file name or command).
    pub name: String,
    pub analysis: Analysis,
    pub by_style: Vec<Group>,
    pub by_code_path: Vec<Group>,
    pub by_exe: Vec<Group>,
    /// Per executable group (same order as `by_exe`): the label shown (the
    /// basename, with which of several same-named paths it is) and how long
    /// its processes ran in all.
    pub exe_info: Vec<ExeInfo>,
    /// Process index by pid (the latest process with that pid).
    pub process_by_pid: HashMap<i32, usize>,
    /// Processes without a traced parent, in order of appearance.
    pub roots: Vec<usize>,
}

impl Trace {
    pub fn new(name: impl Into<String>, analysis: Analysis) -> Trace {
        // On a large trace the three groupings take a while; the second core
        // is idle by now (the trace is read), so one is made there.
        let (by_style, by_code_path, by_exe) = if analysis.spawns.len() > 20_000 {
            std::thread::scope(|s| {
                let exe = s.spawn(|| group_by(&analysis, GroupBy::Executable));
                let style = group_by(&analysis, GroupBy::Style);
                let code = group_by(&analysis, GroupBy::CodePath);
                (style, code, exe.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            })
        } else {
            (
                group_by(&analysis, GroupBy::Style),
                group_by(&analysis, GroupBy::CodePath),
                group_by(&analysis, GroupBy::Executable),
            )
        };
        let process_by_pid = analysis.processes.iter().map(|p| (p.pid, p.index)).collect();
        let roots = analysis.roots().map(|p| p.index).collect();
        let exe_info = exe_info(&analysis, &by_exe);
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Trace { id, name: name.into(), analysis, by_style, by_code_path, by_exe, exe_info, process_by_pid, roots }
    }

    pub fn groups(&self, g: Grouping) -> &[Group] {
        match g {
            Grouping::Style => &self.by_style,
            Grouping::CodePath => &self.by_code_path,
            Grouping::Executable => &self.by_exe,
        }
    }

    /// Spawn indices of a group, slowest first (for the detail pane).
    pub fn slowest_first(&self, spawns: &[usize]) -> Vec<usize> {
        let mut v = spawns.to_vec();
        let lat = |i: &usize| self.analysis.spawns.get(*i).and_then(|s| s.latency_ns).unwrap_or(0);
        v.sort_by(|a, b| lat(b).cmp(&lat(a)).then(a.cmp(b)));
        v
    }
}
