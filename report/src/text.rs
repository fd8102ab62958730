//! The text report for a terminal.

use std::fmt::Write as _;
use std::io::{self, Write};

use spawnscope_analyzer::units::{fmt_bytes, fmt_ns};
use spawnscope_analyzer::{
    basename, failed_children, group_by, longest_processes, Analysis, CodePath, Finding, GroupBy, Severity,
};
use spawnscope_format::flags::errno_name;

use crate::table::*;
use crate::Options;

const WRAP: usize = 100;

pub(crate) struct Paint {
    pub(crate) on: bool,
}

impl Paint {
    pub(crate) fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub(crate) fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    fn severity(&self, sev: Severity) -> String {
        let code = match sev {
            Severity::High => "1;31",
            Severity::Warning => "33",
            Severity::Info => "36",
        };
        self.wrap(code, &format!("{:<7}", sev.as_str()))
    }
}

pub fn write(out: &mut dyn Write, a: &Analysis, opts: &Options) -> io::Result<()> {
    let p = Paint { on: opts.color };
    let mut s = String::new();
    write_facts(&mut s, &p, a, opts);
    if a.summary.spawns > 0 {
        write_spawning(&mut s, &p, a, opts);
    }
    write_findings(&mut s, &p, a);
    if opts.list_spawns && a.summary.spawns > 0 {
        section(&mut s, &p, "Spawns");
        wrap_into(&mut s, crate::TRACING_NOTE, "  ");
        // Row by row, never held whole: `--spawns --limit 0` of millions of
        // spawns (read back from disk for a bounded analysis) in bounded memory.
        out.write_all(s.as_bytes())?;
        s.clear();
        write_spawn_list(out, a, opts, &p)?;
        let n = a.summary.spawns as usize;
        if n > opts.max_rows {
            let _ = writeln!(s, "  {}", more_spawns(n - opts.max_rows));
        }
    }
    if !a.warnings.is_empty() {
        section(&mut s, &p, "Warnings");
        for w in &a.warnings {
            wrap_into(&mut s, &esc(w), "  ");
        }
    }
    out.write_all(s.as_bytes())?;
    out.flush()
}

/// The title and the one-line facts (command, host, recording, ...).
fn write_facts(s: &mut String, p: &Paint, a: &Analysis, opts: &Options) {
    let title = match &opts.source {
        Some(src) => format!("spawnscope report: {}", esc(src)),
        None => "spawnscope report".to_string(),
    };
    let _ = writeln!(s, "{}", p.bold(&title));
    let mut facts = vec![
        ("Command", command_line(&a.header.command)),
        ("Host", host_line(a)),
        ("Recording", recording_line(a)),
        ("Spawns", spawns_line(a)),
        ("Execs", execs_line(a)),
        ("Spawning", spawning_line(a)),
    ];
    if let Some(f) = failed_line(a) {
        facts.push(("Failures", f));
    }
    if let Some(sel) = &opts.selection {
        facts.insert(0, ("Selection", esc(sel)));
    }
    for (k, v) in facts {
        // Padded outside the colour codes: the coloured report keeps the
        // plain report's columns.
        let pad = 10usize.saturating_sub(k.chars().count());
        let _ = writeln!(s, "{}{} {}", p.bold(k), " ".repeat(pad), v);
    }
}

/// The tables about the spawns: code paths, call sites, latency,
/// executables, longest processes, spawning processes.
fn write_spawning(s: &mut String, p: &Paint, a: &Analysis, opts: &Options) {
    section(s, p, "Code paths");
    let mut t = Table::new(&[("code path", false), ("spawns", true), ("share", true), ("style", false)]);
    for g in group_by(a, GroupBy::CodePath) {
        let label = CodePath::from_name(&g.key).map_or(g.key.clone(), |c| c.label().to_string());
        let share = g.count as f64 * 100.0 / a.summary.spawns as f64;
        t.row(vec![label, g.count.to_string(), format!("{share:.0}%"), style_mix(&g.styles)]);
    }
    s.push_str(&t.text("  ", |h| p.dim(h)));

    crate::callsites::text(s, a, opts.max_rows, &|h| p.dim(h), &|t| p.bold(t));

    section(s, p, "Spawn latency");
    wrap_into(s, &latency_note(a), "  ");
    s.push_str(&latency_table(a).text("  ", |h| p.dim(h)));
    let hist = histogram(&a.summary.latency, 40);
    if !hist.is_empty() {
        let _ = writeln!(s, "  {}", p.dim("histogram, all spawns (log2 buckets):"));
        let w = hist.iter().map(|h| h.0.chars().count()).max().unwrap_or(0);
        for (label, bar, n) in hist {
            let pad = w - label.chars().count();
            let _ = writeln!(s, "  {}{label}  {} {n}", " ".repeat(pad), "#".repeat(bar));
        }
    }

    section(s, p, "Executables");
    s.push_str(&executables(a, opts).text("  ", |h| p.dim(h)));

    section(s, p, "Longest processes");
    s.push_str(&longest(a, opts.max_rows.min(10)).text("  ", |h| p.dim(h)));

    section(s, p, "Spawning processes");
    let mut t = Table::new(&[("parent", false), ("spawns", true), ("styles", false), ("p50", true), ("max", true)]);
    let groups = group_by(a, GroupBy::Parent);
    for g in groups.iter().take(opts.max_rows) {
        t.row(vec![
            esc(&g.key),
            g.count.to_string(),
            style_mix(&g.styles),
            opt_ns((g.latency.count > 0).then_some(g.latency.p50)),
            opt_ns((g.latency.count > 0).then_some(g.latency.max)),
        ]);
    }
    s.push_str(&t.text("  ", |h| p.dim(h)));
    more(s, groups.len(), opts.max_rows);
}

/// Each finding: id, severity, message, savings, advice, where, evidence.
fn write_findings(s: &mut String, p: &Paint, a: &Analysis) {
    if a.findings.is_empty() {
        let _ = writeln!(s, "\n{} none", p.bold("Findings:"));
        return;
    }
    section(s, p, &format!("Findings ({})", a.findings.len()));
    for f in &a.findings {
        let _ = writeln!(s, "  {}  {}  {}", p.bold(f.id), p.severity(f.severity), f.name);
        wrap_into(s, &esc(&f.message), "         ");
        wrap_into(s, &savings_line(f, a), "         ");
        wrap_into(s, &format!("What to do: {}", esc(&f.advice)), "         ");
        if let Some(w) = crate::callsites::finding_where(a, f) {
            wrap_into(s, &format!("Where: {}", esc(&w)), "         ");
        }
        if !f.evidence.is_empty() {
            let ev: Vec<String> = f.evidence.iter().take(10).map(|i| format!("#{i}")).collect();
            let extra = if f.evidence.len() > 10 { format!(" and {} more", f.evidence.len() - 10) } else { String::new() };
            let _ = writeln!(s, "         {}", p.dim(&format!("Evidence: spawns {}{extra}", ev.join(", "))));
        }
    }
}

fn section(s: &mut String, p: &Paint, title: &str) {
    let _ = writeln!(s, "\n{}", p.bold(title));
}

/// Under a spawn list cut at `--limit` rows: how many are left out and how
/// to see them all.
pub(crate) fn more_spawns(n: usize) -> String {
    let n = n as u64;
    format!(
        "… and {} more {}: --limit 0 lists them all (-f json has every spawn)",
        spawnscope_units::count(n),
        spawnscope_units::plural(n, "spawn", "spawns")
    )
}

fn more(s: &mut String, total: usize, shown: usize) {
    if total > shown {
        let _ = writeln!(s, "  … and {} more", total - shown);
    }
}

/// "parents were blocked in spawns 0.36 s of 34.3 s (1.0%) …": the share of
/// the recording's wall time spent starting children.
pub(crate) fn spawning_line(a: &Analysis) -> String {
    let sm = &a.summary;
    if sm.spawns == 0 {
        return "no spawns".to_string();
    }
    let share = pct(sm.spawn_blocked_ns, sm.recording_ns);
    let mut line = format!(
        "parents were blocked in spawns {} of the recording's {} ({share})",
        fmt_ns(sm.spawn_blocked_ns),
        fmt_ns(sm.recording_ns)
    );
    if sm.spawn_blocked_total_ns > sm.spawn_blocked_ns {
        let _ = write!(line, ", {} added up over parallel spawners", fmt_ns(sm.spawn_blocked_total_ns));
    }
    if sm.recording_ns > 0 && (sm.spawn_blocked_ns as f64) < a.thresholds.impact_share * sm.recording_ns as f64 {
        line.push_str(": spawning is not the bottleneck of this run");
    }
    line
}

/// `1.4%` (or `-` for an empty recording).
pub(crate) fn pct(ns: u64, of: u64) -> String {
    if of == 0 {
        return "-".to_string();
    }
    let p = ns as f64 * 100.0 / of as f64;
    if p > 0.0 && p < 0.1 {
        "< 0.1%".to_string()
    } else {
        format!("{p:.1}%")
    }
}

/// "Fixing it would save ≈ 0.36 s of 34.3 s (1.0%)".
pub(crate) fn savings_line(f: &Finding, a: &Analysis) -> String {
    match f.savings_ns {
        Some(ns) => format!(
            "Fixing it would save ≈ {} of {} ({}, estimated under tracing)",
            fmt_ns(ns),
            fmt_ns(a.summary.recording_ns),
            pct(ns, a.summary.recording_ns)
        ),
        None => "Savings: no sound estimate".to_string(),
    }
}

/// "3 children failed: cc exit 1 ×2 (pid 12, 13); ld signal 9 ×1 (pid 20)".
pub(crate) fn failed_line(a: &Analysis) -> Option<String> {
    let f = failed_children(a);
    if f.is_empty() {
        return None;
    }
    let total: u64 = f.iter().map(|x| x.count).sum();
    let parts: Vec<String> = f
        .iter()
        .take(6)
        .map(|x| {
            let pids: Vec<String> = x.pids.iter().map(i32::to_string).collect();
            format!("{} {} ×{} (pid {})", esc(&x.program), x.outcome, x.count, pids.join(", "))
        })
        .collect();
    let more = if f.len() > 6 { format!("; and {} more kinds", f.len() - 6) } else { String::new() };
    Some(format!(
        "{} ended badly: {}{more}",
        spawnscope_units::counted(total, "child process", "child processes"),
        parts.join("; ")
    ))
}

/// The longest-running processes: program, pid, how long, how it ended.
pub(crate) fn longest(a: &Analysis, n: usize) -> Table {
    let mut t = Table::new(&[("process", false), ("pid", true), ("ran", true), ("from", true), ("exit", false)]);
    let end = a.summary.duration_ns;
    for i in longest_processes(a, n) {
        let p = &a.processes[i];
        let exit = match p.exit {
            Some(e) => match (e.code, e.signal) {
                (_, Some(sig)) => spawnscope_format::names::signal_label(sig),
                (Some(c), None) => c.to_string(),
                (None, None) => "?".into(),
            },
            None => "running at end".into(),
        };
        // The command line tells which `rustc` it was (`--crate-name syn`).
        let cmd = match p.execs.iter().rev().find(|x| x.result == 0) {
            Some(x) if !x.argv.is_empty() => {
                let mut v = x.argv.clone();
                v[0] = basename(&v[0]).to_string();
                command_line(&v)
            }
            _ => esc(basename(&p.name)),
        };
        t.row(vec![cut(&cmd, 50), p.pid.to_string(), fmt_ns(p.duration_ns(end)), fmt_ns(p.t_start), exit]);
    }
    t
}

/// Executable labels: grouped by full path, shown by basename; when several
/// paths share a basename, which one and how many (`build-script-build
/// (serde-1a2b/, 1 of 8 paths)`).
pub(crate) fn exe_label(key: &str, same_name: usize) -> String {
    let base = basename(key);
    if same_name <= 1 {
        return base.to_string();
    }
    let dir = key.strip_suffix(base).unwrap_or("").trim_end_matches('/');
    format!("{base} ({}/, {same_name} paths)", basename(dir))
}

/// Word-wraps `text` at [`WRAP`] columns, every line indented.
fn wrap_into(s: &mut String, text: &str, indent: &str) {
    let mut line = String::from(indent);
    let mut empty = true;
    for word in text.split(' ') {
        if !empty && line.chars().count() + 1 + word.chars().count() > WRAP {
            s.push_str(&line);
            s.push('\n');
            line = String::from(indent);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    if !empty {
        s.push_str(&line);
        s.push('\n');
    }
}

pub(crate) fn executables(a: &Analysis, opts: &Options) -> Table {
    let mut t = Table::new(&[
        ("program", false),
        ("spawns", true),
        ("styles", false),
        ("failed execs", true),
        ("env max", true),
        ("p50", true),
        ("p99", true),
    ]);
    let groups = group_by(a, GroupBy::Executable);
    let mut names: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for g in &groups {
        *names.entry(basename(&g.key)).or_default() += 1;
    }
    for g in groups.iter().take(opts.max_rows) {
        let has = g.latency.count > 0;
        t.row(vec![
            cut(&esc(&exe_label(&g.key, names[basename(&g.key)])), 48),
            g.count.to_string(),
            style_mix(&g.styles),
            g.failed_attempts.to_string(),
            fmt_bytes(g.env_bytes_max),
            opt_ns(has.then_some(g.latency.p50)),
            opt_ns(has.then_some(g.latency.p99)),
        ]);
    }
    t
}

/// The columns of the spawn list: (title, right-aligned).
const SPAWN_COLUMNS: [(&str, bool); 10] = [
    ("#", true),
    ("parent", false),
    ("tid", true),
    ("child", true),
    ("syscall", false),
    ("style", false),
    ("code path", false),
    ("latency", true),
    ("failed", true),
    ("exec", false),
];

/// The spawn list as a table in memory (Markdown; at most `--limit` rows
/// unless that is 0).
pub(crate) fn spawn_list(a: &Analysis, opts: &Options) -> (Table, io::Result<()>) {
    let mut t = Table::new(&SPAWN_COLUMNS);
    let read = for_each_spawn_row(a, opts, |row| t.row(row.to_vec()));
    (t, read)
}

/// The spawn list as aligned text, streamed: one pass over the spawns for
/// the column widths, a second to write the lines (what [`Table::text`]
/// would print, without holding the rows).
fn write_spawn_list(out: &mut dyn Write, a: &Analysis, opts: &Options, p: &Paint) -> io::Result<()> {
    let head: Vec<&str> = SPAWN_COLUMNS.iter().map(|c| c.0).collect();
    let right: Vec<bool> = SPAWN_COLUMNS.iter().map(|c| c.1).collect();
    let mut widths = Widths::new(&head);
    for_each_spawn_row(a, opts, |row| widths.add(row))?;
    let cols = Columns::new(&right, widths);
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    writeln!(out, "{}", p.dim(&cols.line("  ", &head)))?;
    let mut result = Ok(());
    for_each_spawn_row(a, opts, |row| {
        if result.is_ok() {
            result = writeln!(out, "{}", cols.line("  ", row));
        }
    })?;
    result?;
    out.flush()
}

/// Calls `f` with the cells of each listed spawn, in index order (the
/// first `--limit`); fails when a bounded analysis cannot read its spawns
/// back (a list cut short would look whole).
fn for_each_spawn_row(a: &Analysis, opts: &Options, mut f: impl FnMut(&[String; 10])) -> io::Result<()> {
    // A bounded analysis reads its spawns (and their parents) back from
    // disk; parents repeat, so their (name, pid) are kept for a while.
    let mut parents: std::collections::HashMap<usize, Option<(String, i32)>> = std::collections::HashMap::new();
    let mut process = |i: usize| -> Option<(String, i32)> {
        if let Some(x) = parents.get(&i) {
            return x.clone();
        }
        let x = a.process_at(i).map(|p| (p.name.to_string(), p.pid));
        if parents.len() >= 4096 {
            parents.clear();
        }
        parents.insert(i, x.clone());
        x
    };
    for sp in a.try_each_spawn().take(opts.max_rows) {
        let sp = sp.map_err(|e| io::Error::new(e.kind(), format!("spawns not listed: reading the temporary file: {e}")))?;
        let parent = sp
            .parent
            .and_then(&mut process)
            .map_or_else(|| sp.parent_pid.to_string(), |(name, pid)| format!("{}[{pid}]", spawnscope_analyzer::basename(&name)));
        let (failed, exec) = match &sp.exec {
            Some(e) => {
                let mut x = argv_line(&e.argv, 50);
                if !e.success {
                    let err = e.failed_attempts.last().and_then(|f| errno_name(f.result)).unwrap_or("failed");
                    x = format!("{x} ({err})");
                }
                (e.failed_attempts.len().to_string(), x)
            }
            None => ("-".into(), "(no exec)".into()),
        };
        f(&[
            sp.index.to_string(),
            cut(&esc(&parent), 24),
            sp.parent_tid.to_string(),
            sp.child_pid.to_string(),
            sp.syscall.as_str().to_string(),
            sp.style.as_str().to_string() + if sp.style_mismatch { "!" } else { "" },
            sp.code_path.as_str().to_string(),
            opt_ns(sp.latency_ns),
            failed,
            exec,
        ]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use spawnscope_analyzer::{analyze_path_with, Retention, Thresholds};

    /// The streamed spawn list is the table `Table::text` makes of the same rows.
    #[test]
    fn the_streamed_spawn_list_is_the_aligned_table() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces");
        let mut n = 0;
        for dir in ["valid", "stacks"] {
            for e in std::fs::read_dir(root.join(dir)).expect("fixture traces") {
                let path = e.expect("a directory entry").path();
                if !path.to_string_lossy().ends_with(".jsonl") {
                    continue;
                }
                for retention in [Retention::Full, Retention::Stream] {
                    let a = analyze_path_with(&path, &Thresholds::default(), retention).expect("a valid fixture");
                    for (max_rows, color) in [(usize::MAX, false), (3, true), (0, false)] {
                        let opts = Options { max_rows, color, list_spawns: true, ..Options::default() };
                        let p = Paint { on: color };
                        let want = spawn_list(&a, &opts).0.text("  ", |h| p.dim(h));
                        let mut got = Vec::new();
                        write_spawn_list(&mut got, &a, &opts, &p).expect("written");
                        assert_eq!(
                            String::from_utf8(got).expect("UTF-8"),
                            want,
                            "{} ({retention:?}, {max_rows})",
                            path.display()
                        );
                        n += 1;
                    }
                }
            }
        }
        assert!(n >= 100, "{n}");
    }
}
