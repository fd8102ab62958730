//! Repeated children in the process tree, shown as one row: a build driver
//! that runs `/usr/bin/true` 200 times gets one row "200 × /usr/bin/true,
//! p50 410 µs" instead of 200 rows, and the row opens (Space, `l`) to show
//! them all.
//!
//! Only leaves are grouped (a child with children of its own keeps its row
//! and its subtree). Two rules:
//! - at least [`MIN_IDENTICAL`] leaves that ran the same program with the
//!   same arguments (a fork without exec counts by its name);
//! - at least [`MIN_SAME_PROGRAM`] leaves that ran the same program, whatever
//!   their arguments (`cc -c a.c`, `cc -c b.c`, ...).

use std::collections::HashMap;

use spawnscope_analyzer::{LatencyStats, Process};
use spawnscope_format::Nanos;

/// Identical leaves (same program, same arguments) grouped from this many.
pub const MIN_IDENTICAL: usize = 3;
/// Leaves running the same program grouped from this many.
pub const MIN_SAME_PROGRAM: usize = 8;

/// One row standing for repeated children of a process.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeGroup {
    /// Index of the parent in `Analysis::processes`.
    pub parent: usize,
    /// Identifies the group among its parent's children (stable across
    /// snapshots: the program, and the arguments for identical leaves).
    pub key: String,
    /// The program the members ran (its path), or the name of a process
    /// that never called exec.
    pub program: String,
    /// The members' arguments when they are all the same (argv\[0\] included).
    pub argv: Option<Vec<String>>,
    /// Member process indices, in order of appearance.
    pub members: Vec<usize>,
    /// Spawn latency of the members.
    pub latency: LatencyStats,
    /// The most common spawn style among the members.
    pub style: Option<&'static str>,
    /// Failed exec attempts of the members (PATH searches), added up.
    pub failed_attempts: usize,
}

/// A child row or a group of children, in the order of appearance (a group
/// where its first member appeared).
#[derive(Debug, Clone, PartialEq)]
pub enum Child {
    One(usize),
    Group(TreeGroup),
}

/// The program a process ran last (the path of its last successful exec).
pub fn program(p: &Process) -> Option<&str> {
    p.execs.iter().rev().find(|x| x.result == 0).map(|x| x.path.as_str())
}

fn argv(p: &Process) -> Option<&[String]> {
    p.execs.iter().rev().find(|x| x.result == 0).map(|x| x.argv.as_slice())
}

/// The children of `parent`, repeated leaves grouped.
pub fn group_children(a: &spawnscope_analyzer::Analysis, parent: usize) -> Vec<Child> {
    let procs = &a.processes;
    let Some(children) = procs.get(parent).map(|p| &p.children) else { return Vec::new() };
    // Leaves by program, then by arguments.
    let mut by_program: HashMap<&str, Vec<usize>> = HashMap::new();
    for &c in children {
        let Some(p) = procs.get(c) else { continue };
        if p.children.is_empty() {
            by_program.entry(program(p).unwrap_or(&p.name)).or_default().push(c);
        }
    }
    if by_program.values().all(|v| v.len() < MIN_IDENTICAL) {
        return children.iter().map(|&c| Child::One(c)).collect();
    }
    // Each grouped leaf → its group's number; groups in order of first member.
    let mut group_of: HashMap<usize, usize> = HashMap::new();
    let mut groups: Vec<TreeGroup> = Vec::new();
    let mut add = |members: Vec<usize>, program: &str, argv: Option<Vec<String>>, key: String| {
        for &m in &members {
            group_of.insert(m, groups.len());
        }
        groups.push(new_group(a, parent, key, program, argv, members));
    };
    let mut programs: Vec<(&str, Vec<usize>)> = by_program.into_iter().filter(|(_, v)| v.len() >= MIN_IDENTICAL).collect();
    programs.sort_by_key(|(_, v)| v[0]);
    for (prog, members) in programs {
        if members.len() >= MIN_SAME_PROGRAM {
            let same = members.windows(2).all(|w| argv(&procs[w[0]]) == argv(&procs[w[1]]));
            let args = same.then(|| argv(&procs[members[0]]).map(<[String]>::to_vec)).flatten();
            let key = if same { format!("{prog}\0{}", args.as_deref().unwrap_or_default().join("\0")) } else { prog.to_string() };
            add(members, prog, args, key);
            continue;
        }
        let mut by_args: Vec<(Option<&[String]>, Vec<usize>)> = Vec::new();
        for m in members {
            let args = argv(&procs[m]);
            match by_args.iter_mut().find(|(a, _)| *a == args) {
                Some((_, v)) => v.push(m),
                None => by_args.push((args, vec![m])),
            }
        }
        for (args, members) in by_args.into_iter().filter(|(_, v)| v.len() >= MIN_IDENTICAL) {
            let key = format!("{prog}\0{}", args.unwrap_or_default().join("\0"));
            add(members, prog, args.map(<[String]>::to_vec), key);
        }
    }
    let mut groups: Vec<Option<TreeGroup>> = groups.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(children.len());
    for &c in children {
        match group_of.get(&c) {
            None => out.push(Child::One(c)),
            Some(&g) => {
                if let Some(g) = groups[g].take() {
                    out.push(Child::Group(g));
                }
            }
        }
    }
    out
}

fn new_group(
    a: &spawnscope_analyzer::Analysis,
    parent: usize,
    key: String,
    program: &str,
    argv: Option<Vec<String>>,
    members: Vec<usize>,
) -> TreeGroup {
    let spawns = members.iter().filter_map(|&m| a.processes[m].spawn.and_then(|s| a.spawns.get(s)));
    let mut lat: Vec<Nanos> = Vec::new();
    let mut styles: HashMap<&'static str, usize> = HashMap::new();
    let mut failed_attempts = 0;
    for s in spawns {
        lat.extend(s.latency_ns);
        *styles.entry(s.style.as_str()).or_default() += 1;
        failed_attempts += s.exec.as_ref().map_or(0, |e| e.failed_attempts.len());
    }
    let style = styles.into_iter().max_by_key(|&(k, n)| (n, std::cmp::Reverse(k))).map(|(k, _)| k);
    let latency = LatencyStats::from_values(&mut lat);
    TreeGroup { parent, key, program: program.to_string(), argv, members, latency, style, failed_attempts }
}
