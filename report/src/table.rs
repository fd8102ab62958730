//! What text and Markdown share: tables, the facts lines, latency rows,
//! escaping.

use std::fmt::Write as _;

use spawnscope_analyzer::units::{fmt_bytes, fmt_ns};
use spawnscope_analyzer::{group_by, Analysis, CodePath, GroupBy, LatencyStats, SpawnStyle};
use spawnscope_format::{escape, Nanos, TracerMode};
use spawnscope_units::{count, counted};

/// A table of strings with right- or left-aligned columns.
#[derive(Debug, Default)]
pub struct Table {
    head: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Columns as (title, right-aligned).
    pub fn new(cols: &[(&str, bool)]) -> Table {
        Table {
            head: cols.iter().map(|c| c.0.to_string()).collect(),
            right: cols.iter().map(|c| c.1).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The same table with every body cell rewritten.
    pub fn map_cells(mut self, f: impl Fn(&str) -> String) -> Table {
        for r in &mut self.rows {
            for c in r.iter_mut() {
                *c = f(c);
            }
        }
        self
    }

    fn widths(&self) -> Vec<usize> {
        let mut w = Widths::new(&self.head);
        for r in &self.rows {
            w.add(r);
        }
        w.0
    }

    /// Aligned columns, two spaces apart, each line prefixed by `indent`;
    /// the header line is passed through `head` (e.g. to make it bold).
    pub fn text(&self, indent: &str, head: impl Fn(&str) -> String) -> String {
        let cols = Columns { right: &self.right, widths: self.widths() };
        let mut out = head(&cols.line(indent, &self.head));
        out.push('\n');
        for r in &self.rows {
            out.push_str(&cols.line(indent, r));
            out.push('\n');
        }
        out
    }

    /// A GitHub-flavoured Markdown table (cells must already be escaped).
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "| {} |", self.head.join(" | "));
        let seps: Vec<&str> = self.right.iter().map(|&r| if r { "---:" } else { "---" }).collect();
        let seps: Vec<String> = seps.iter().map(|s| format!(" {s} ")).collect();
        let _ = writeln!(out, "|{}|", seps.join("|"));
        for r in &self.rows {
            let _ = writeln!(out, "| {} |", r.join(" | "));
        }
        out
    }
}

/// The widest cell of each column so far (the header's to start with):
/// with [`Columns`], a table printed row by row as the rows come, in two
/// passes (widths, then lines), never held whole.
#[derive(Debug)]
pub struct Widths(Vec<usize>);

impl Widths {
    pub fn new<S: AsRef<str>>(head: &[S]) -> Widths {
        Widths(head.iter().map(|h| width(h.as_ref())).collect())
    }

    pub fn add<S: AsRef<str>>(&mut self, cells: &[S]) {
        for (x, c) in self.0.iter_mut().zip(cells) {
            *x = (*x).max(width(c.as_ref()));
        }
    }
}

/// Lines of aligned columns (see [`Table::text`]).
#[derive(Debug)]
pub struct Columns<'a> {
    right: &'a [bool],
    widths: Vec<usize>,
}

impl<'a> Columns<'a> {
    /// Columns as wide as `widths`, right-aligned where `right` says.
    pub fn new(right: &'a [bool], widths: Widths) -> Columns<'a> {
        Columns { right, widths: widths.0 }
    }

    /// One line (no newline): cells two spaces apart, trailing spaces trimmed.
    pub fn line<S: AsRef<str>>(&self, indent: &str, cells: &[S]) -> String {
        let w = &self.widths;
        let mut s = String::from(indent);
        for (i, c) in cells.iter().enumerate() {
            let c = c.as_ref();
            let pad = w[i].saturating_sub(width(c));
            let last = i + 1 == cells.len();
            if i > 0 {
                s.push_str("  ");
            }
            if self.right[i] {
                s.extend(std::iter::repeat_n(' ', pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                if !last {
                    s.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        s.truncate(s.trim_end().len());
        s
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// A trace string made safe for a terminal.
pub fn esc(s: &str) -> String {
    escape(s).into_owned()
}

/// A command line: each argument escaped, quoted when it has spaces.
pub fn command_line(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            let e = esc(a);
            if e.is_empty() || e.contains(' ') {
                format!("'{e}'")
            } else {
                e
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Cuts a string to `max` characters with an ellipsis.
pub fn cut(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// "laptop · Linux 6.1.0 · glibc 2.36 · x86_64 · 8 CPUs · 16.0 GiB · clone3"
pub fn host_line(a: &Analysis) -> String {
    let h = &a.header.host;
    let mut parts = Vec::new();
    if let Some(n) = &h.hostname {
        parts.push(esc(n));
    }
    if let Some(k) = &h.kernel_release {
        parts.push(format!("Linux {}", esc(k)));
    }
    parts.push(match &h.glibc_version {
        Some(g) => format!("glibc {}", esc(g)),
        None => "glibc ?".to_string(),
    });
    if let Some(x) = &h.arch {
        parts.push(esc(x));
    }
    if let Some(c) = h.cpus {
        parts.push(format!("{c} CPUs"));
    }
    if let Some(m) = h.memory_bytes {
        parts.push(format!("{} RAM", fmt_bytes(m)));
    }
    match h.clone3 {
        Some(true) => parts.push("clone3".into()),
        Some(false) => parts.push("no clone3".into()),
        None => {}
    }
    parts.join(" · ")
}

/// "seccomp mode · 1.11 s · complete · exit code 0"
pub fn recording_line(a: &Analysis) -> String {
    let mut parts = vec![format!("{} mode", a.header.tracer.mode.as_str())];
    if let Some(src) = &a.header.source {
        parts.push(format!("imported from {}", esc(src)));
    }
    parts.push(fmt_ns(a.summary.duration_ns));
    parts.push(if a.complete { "complete".into() } else { "INCOMPLETE (cut short)".into() });
    if let Some(c) = a.summary.exit_code {
        parts.push(format!("exit code {c}"));
    }
    parts.join(" · ")
}

/// "4 in 1.11 s (3.6/s): fork 3 · vfork 1 · vm 0 — 2 threads, 5 processes, at most 1 in flight"
pub fn spawns_line(a: &Analysis) -> String {
    let s = &a.summary;
    let styles: Vec<String> =
        SpawnStyle::ALL.iter().map(|st| format!("{} {}", st.as_str(), s.styles.get(st.as_str()).copied().unwrap_or(0))).collect();
    let mut line = format!(
        "{} in {} ({:.1}/s): {} — {}, {}, at most {} in flight",
        count(s.spawns),
        fmt_ns(s.duration_ns),
        s.spawn_rate,
        styles.join(" · "),
        counted(s.threads, "thread", "threads"),
        counted(s.processes, "process", "processes"),
        s.max_in_flight
    );
    if s.failed_clones > 0 {
        let _ = write!(line, ", {}", counted(s.failed_clones, "failed clone call", "failed clone calls"));
    }
    line
}

/// "12 attempts, 3 failed (1 spawn searched PATH, 105 µs) · env up to 184 variables, 27.1 KiB"
pub fn execs_line(a: &Analysis) -> String {
    let s = &a.summary;
    let mut line = format!("{}, {} failed", counted(s.exec_attempts, "attempt", "attempts"), count(s.failed_exec_attempts));
    if s.failed_exec_attempts > 0 {
        let _ = write!(line, " ({} in failed attempts", fmt_ns(s.failed_exec_ns));
        if s.path_search_spawns > 0 {
            let _ = write!(line, "; {} searched PATH", counted(s.path_search_spawns, "spawn", "spawns"));
        }
        line.push(')');
    }
    if s.exec_failed_spawns > 0 {
        let _ = write!(line, ", {} never exec'd successfully", counted(s.exec_failed_spawns, "child", "children"));
    }
    let _ = write!(
        line,
        " · env up to {}, {} (mean {})",
        counted(s.env_count_max, "variable", "variables"),
        fmt_bytes(s.env_bytes_max),
        fmt_bytes(s.env_bytes_mean)
    );
    line
}

/// Where latencies start and what they include.
pub fn latency_note(a: &Analysis) -> String {
    let from = if a.header.tracer.mode == TracerMode::Events {
        "from the kernel's fork event (events mode has no syscall entry: lower bounds)"
    } else {
        "from clone entry"
    };
    let approx = match &a.aggregate {
        Some(ag) if !ag.exact => "; percentiles from a log-linear histogram, within 3.2%",
        _ => "",
    };
    format!("{from} to the child's exec (or exit); {}{approx}", crate::TRACING_NOTE)
}

/// Latency table: all spawns, each style and code path present, then the
/// clone cost and the parent-blocked time.
pub fn latency_table(a: &Analysis) -> Table {
    let mut t =
        Table::new(&[("", false), ("count", true), ("min", true), ("p50", true), ("p90", true), ("p99", true), ("max", true)]);
    let mut add = |name: String, l: &LatencyStats| {
        if l.count > 0 {
            t.row(vec![name, l.count.to_string(), fmt_ns(l.min), fmt_ns(l.p50), fmt_ns(l.p90), fmt_ns(l.p99), fmt_ns(l.max)]);
        }
    };
    add("all spawns".into(), &a.summary.latency);
    let styles = group_by(a, GroupBy::Style);
    if styles.len() > 1 {
        for g in &styles {
            add(format!("{} style", g.key), &g.latency);
        }
    }
    let paths = group_by(a, GroupBy::CodePath);
    for g in &paths {
        let label = CodePath::from_name(&g.key).map_or(g.key.as_str(), |c| c.label());
        add(label.to_string(), &g.latency);
    }
    let (clone, blocked) = spawnscope_analyzer::spawn_times(a);
    add("clone call (entry → event)".into(), &clone);
    add("parent blocked".into(), &blocked);
    t
}

/// Histogram lines of the overall latency: "64 µs – 128 µs  ####  3".
pub fn histogram(l: &LatencyStats, bar_width: usize) -> Vec<(String, usize, u64)> {
    let Some(first) = l.buckets.iter().position(|&n| n > 0) else { return Vec::new() };
    let last = l.buckets.iter().rposition(|&n| n > 0).unwrap_or(first);
    let max = l.buckets.iter().copied().max().unwrap_or(1).max(1);
    (first..=last)
        .map(|i| {
            let n = l.buckets[i];
            let label = format!("{} – {}", fmt_ns(LatencyStats::bucket_floor(i)), fmt_ns(LatencyStats::bucket_floor(i + 1)));
            let bar = if n == 0 { 0 } else { ((n as f64 / max as f64) * bar_width as f64).ceil() as usize };
            (label, bar, n)
        })
        .collect()
}

/// The style mix of a group: "fork 3, vfork 1".
pub fn style_mix(styles: &std::collections::BTreeMap<String, u64>) -> String {
    let v: Vec<String> = styles.iter().filter(|(_, &n)| n > 0).map(|(k, n)| format!("{k} {n}")).collect();
    if v.is_empty() {
        "-".into()
    } else {
        v.join(", ")
    }
}

/// Optional duration.
pub fn opt_ns(v: Option<Nanos>) -> String {
    v.map_or_else(|| "-".into(), fmt_ns)
}

/// Argv as one escaped line.
pub fn argv_line(argv: &[String], max: usize) -> String {
    cut(&command_line(argv), max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns() {
        let mut t = Table::new(&[("name", false), ("n", true)]);
        t.row(vec!["alpha".into(), "1".into()]);
        t.row(vec!["b".into(), "100".into()]);
        assert_eq!(t.text("  ", |s| s.to_string()), "  name     n\n  alpha    1\n  b      100\n");
        assert_eq!(t.markdown(), "| name | n |\n| --- | ---: |\n| alpha | 1 |\n| b | 100 |\n");
    }

    #[test]
    fn escaping_and_cutting() {
        assert_eq!(command_line(&["a b".into(), "\x1b[2J".into()]), "'a b' \\x1b[2J");
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
    }
}
