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

/// An analysis with its derived tables.
#[derive(Debug, Clone)]
pub struct Trace {
    /// What to call it on screen (file name or command).
    pub name: String,
    pub analysis: Analysis,
    pub by_style: Vec<Group>,
    pub by_code_path: Vec<Group>,
    pub by_exe: Vec<Group>,
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
            (group_by(&analysis, GroupBy::Style), group_by(&analysis, GroupBy::CodePath), group_by(&analysis, GroupBy::Executable))
        };
        let process_by_pid = analysis.processes.iter().map(|p| (p.pid, p.index)).collect();
        let roots = analysis.roots().map(|p| p.index).collect();
        Trace { name: name.into(), analysis, by_style, by_code_path, by_exe, process_by_pid, roots }
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
