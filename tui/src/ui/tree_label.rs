//! Labels of the process tree that fit: a command line too long for its
//! column keeps the arguments that tell a process from its siblings (the
//! file a compiler compiles) and drops the ones they share (the long list of
//! flags every sibling has), instead of showing a long common prefix.

use spawnscope_analyzer::{Analysis, Process};

use crate::app::TreeGroup;
use crate::fmt;

/// One argument as shown: escaped, quoted when it holds a space.
fn shown(arg: &str) -> String {
    let e = spawnscope_format::escape(arg).into_owned();
    if e.is_empty() || e.contains(' ') {
        format!("\"{e}\"")
    } else {
        e
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// The last path component (`/usr/bin/gcc` → `gcc`).
fn base(s: &str) -> &str {
    s.rsplit('/').find(|c| !c.is_empty()).unwrap_or(s)
}

/// `argv` in at most `max` columns. When the whole line does not fit,
/// argv\[0\] loses its directory and arguments equal (at the same position)
/// in every one of `others` (the siblings running the same program) become
/// `…`; what still does not fit is cut at the end.
pub fn distinct_argv(argv: &[String], others: &[&[String]], max: usize) -> String {
    let full: Vec<String> = argv.iter().map(|a| shown(a)).collect();
    let line = full.join(" ");
    if width(&line) <= max || argv.is_empty() {
        return fmt::clip(&line, max);
    }
    let mut parts = full;
    parts[0] = shown(base(&argv[0]));
    let differs = |i: usize| others.iter().any(|o| o.get(i) != Some(&argv[i]));
    if others.is_empty() || !(1..argv.len()).any(differs) {
        return fmt::clip(&parts.join(" "), max);
    }
    let mut out = vec![parts[0].clone()];
    for (i, p) in parts.iter().enumerate().skip(1) {
        if differs(i) {
            out.push(p.clone());
        } else if out.last().map(String::as_str) != Some("…") {
            out.push("…".to_string());
        }
    }
    fmt::clip(&out.join(" "), max)
}

/// A path in at most `max` columns, cut at the front (`…/12/cc1`): the end
/// of a path says more than its start.
pub fn clip_path(path: &str, max: usize) -> String {
    let e = spawnscope_format::escape(path).into_owned();
    let n = width(&e);
    if n <= max {
        return e;
    }
    if max == 0 {
        return String::new();
    }
    let tail: String = e.chars().skip(n - (max - 1)).collect();
    format!("…{tail}")
}

fn exec_argv(p: &Process) -> Option<&[String]> {
    p.execs.iter().rev().find(|x| x.result == 0).map(|x| x.argv.as_slice())
}

fn program(p: &Process) -> Option<&str> {
    p.execs.iter().rev().find(|x| x.result == 0).map(|x| x.path.as_str())
}

/// Siblings looked at on each side for one running the same program.
const SIBLINGS: usize = 64;

/// The command of a process row in `max` columns, its arguments compared
/// with the nearest siblings that run the same program.
pub fn process_label(a: &Analysis, p: &Process, max: usize) -> String {
    let Some(argv) = exec_argv(p) else {
        return fmt::safe(base(&p.name), max.min(40));
    };
    let mut others: Vec<&[String]> = Vec::new();
    if let Some(siblings) = p.parent.and_then(|pp| a.processes.get(pp)).map(|pp| &pp.children) {
        let at = siblings.binary_search(&p.index).ok().or_else(|| siblings.iter().position(|&c| c == p.index));
        if let Some(at) = at {
            let prog = program(p);
            let same = |&&c: &&usize| a.processes.get(c).is_some_and(|q| program(q) == prog);
            // The nearest within a few rows each way: a process can have a
            // million children, and this runs for every row drawn.
            let before = siblings[..at].iter().rev().take(SIBLINGS).find(same);
            let after = siblings[at + 1..].iter().take(SIBLINGS).find(same);
            others.extend(before.into_iter().chain(after).filter_map(|&c| exec_argv(&a.processes[c])));
        }
    }
    distinct_argv(argv, &others, max)
}

/// A group row: `200 × /usr/bin/true, p50 410 µs` in `max` columns.
pub fn group_label(g: &TreeGroup, max: usize) -> String {
    let head = format!("{} × ", fmt::count(g.members.len() as u64));
    let tail = if g.latency.count > 0 { format!(", p50 {}", fmt::dur(g.latency.p50)) } else { String::new() };
    let args = match &g.argv {
        Some(argv) => argv.iter().skip(1).map(|a| shown(a)).collect::<Vec<_>>().join(" "),
        None => "…".to_string(),
    };
    let room = max.saturating_sub(width(&head) + width(&tail));
    let path_room = if args.is_empty() { room } else { room.saturating_sub(1 + width(&args).min(room / 2)) };
    let path = clip_path(&g.program, path_room.max(8));
    let what = if args.is_empty() { path } else { format!("{path} {args}") };
    let what = fmt::clip(&what, room.max(10));
    fmt::clip(&format!("{head}{what}{tail}"), max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn a_line_that_fits_is_shown_whole() {
        assert_eq!(distinct_argv(&v("/usr/bin/gcc -c a.c"), &[], 40), "/usr/bin/gcc -c a.c");
    }

    #[test]
    fn shared_arguments_give_way_to_distinguishing_ones() {
        let a = v("/usr/lib/gcc/x86_64-linux-gnu/12/cc1 -quiet -imultiarch x86_64-linux-gnu -D_GNU_SOURCE unit7.c -o /tmp/cc7.s");
        let b = v("/usr/lib/gcc/x86_64-linux-gnu/12/cc1 -quiet -imultiarch x86_64-linux-gnu -D_GNU_SOURCE unit8.c -o /tmp/cc8.s");
        assert_eq!(distinct_argv(&a, &[&b], 40), "cc1 … unit7.c … /tmp/cc7.s");
        // Without siblings to compare with: the start, cut.
        assert_eq!(distinct_argv(&a, &[], 30), "cc1 -quiet -imultiarch x86_64…");
        // Identical siblings: nothing distinguishes, cut at the end.
        assert_eq!(distinct_argv(&a, &[&a], 20), "cc1 -quiet -imultia…");
    }

    #[test]
    fn paths_are_cut_at_the_front() {
        assert_eq!(clip_path("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", 12), "…-gnu/12/cc1");
        assert_eq!(clip_path("/usr/bin/true", 20), "/usr/bin/true");
    }
}
