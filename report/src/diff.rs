//! Text and Markdown renderings of a [`Diff`]. Every string that came from a
//! trace goes through [`spawnscope_format::escape`].

use std::fmt::Write;

use spawnscope_analyzer::LatencyStats;
use spawnscope_format::escape;

use spawnscope_analyzer::diff::{Diff, DistRow, Unit, ValueRow};
use spawnscope_units as fmt;

fn value(unit: Unit, v: Option<f64>) -> String {
    let Some(v) = v else { return "-".to_string() };
    match unit {
        Unit::Count => format!("{v:.0}"),
        Unit::Nanos => fmt::duration(v.max(0.0) as u64),
        Unit::Bytes => fmt::bytes(v.max(0.0) as u64),
        Unit::Fraction => format!("{v:.2}"),
        Unit::PerSecond => format!("{v:.1}/s"),
    }
}

fn stat(s: &Option<LatencyStats>, f: fn(&LatencyStats) -> u64) -> String {
    s.as_ref().map_or_else(|| "-".to_string(), |s| fmt::duration(f(s)))
}

fn esc(s: &str) -> String {
    escape(s).into_owned()
}

/// Aligned columns: the first left-aligned, the rest right-aligned.
fn table(out: &mut String, rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    for r in rows {
        let mut line = String::from(" ");
        for (c, cell) in r.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            line.push(' ');
            if c == 0 {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str(&" ".repeat(pad + 1));
                line.push_str(cell);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

fn value_rows(rows: &[ValueRow]) -> Vec<Vec<String>> {
    let mut t = vec![vec![String::new(), "A".into(), "B".into(), "B/A".into()]];
    t.extend(rows.iter().map(|r| vec![esc(&r.name), value(r.unit, r.a), value(r.unit, r.b), fmt::ratio(r.ratio)]));
    t
}

fn side_line(tag: &str, s: &spawnscope_analyzer::diff::Side) -> String {
    let how = match &s.source {
        Some(src) => format!("imported from {}", esc(src)),
        None => format!("{} mode", esc(&s.tracer_mode)),
    };
    let cut = if s.complete { "" } else { ", incomplete" };
    format!("{tag}  {}  ({how}{cut}): {}", esc(&s.label), esc(&s.command.join(" ")))
}

fn latency_block(d: &Diff) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let all = &d.latency[0];
    let mut main = vec![vec![String::new(), "A".into(), "B".into(), "B/A".into()]];
    let count = |s: &Option<LatencyStats>| s.as_ref().map_or("0".to_string(), |s| s.count.to_string());
    main.push(vec!["count".into(), count(&all.a), count(&all.b), String::new()]);
    for (name, f, r) in [
        ("p50", (|s: &LatencyStats| s.p50) as fn(&LatencyStats) -> u64, all.ratio_p50),
        ("p90", |s| s.p90, all.ratio_p90),
        ("p99", |s| s.p99, all.ratio_p99),
        ("mean", |s| s.mean, all.ratio_mean),
        ("max", |s| s.max, None),
    ] {
        main.push(vec![name.into(), stat(&all.a, f), stat(&all.b, f), fmt::ratio(r)]);
    }
    let mut groups = vec![vec![
        String::new(),
        "A n".into(),
        "A p50".into(),
        "B n".into(),
        "B p50".into(),
        "B/A".into(),
        "A p99".into(),
        "B p99".into(),
        "B/A".into(),
    ]];
    for r in d.latency.iter().skip(1) {
        let n = |s: &Option<LatencyStats>| s.as_ref().map_or("0".to_string(), |s| s.count.to_string());
        let DistRow { name, a, b, ratio_p50, ratio_p99, .. } = r;
        groups.push(vec![
            esc(name),
            n(a),
            stat(a, |s| s.p50),
            n(b),
            stat(b, |s| s.p50),
            fmt::ratio(*ratio_p50),
            stat(a, |s| s.p99),
            stat(b, |s| s.p99),
            fmt::ratio(*ratio_p99),
        ]);
    }
    (main, groups)
}

/// The tables both renderings show after the hosts, in order:
/// (text title, Markdown title, rows).
fn tables(d: &Diff) -> Vec<(&'static str, &'static str, Vec<Vec<String>>)> {
    let (main, groups) = latency_block(d);
    vec![
        ("Spawns", "Spawns", value_rows(&d.counts)),
        (
            "Spawn latency (clone entry to the child's exec; measured under tracing)",
            "Spawn latency (measured under tracing)",
            main,
        ),
        ("Latency by style and code path", "Latency by style and code path", groups),
        ("Failed exec attempts (PATH search)", "Failed exec attempts (PATH search)", value_rows(&d.path_search)),
        ("Environment passed to exec", "Environment passed to exec", value_rows(&d.env)),
        ("Parent memory at fork-style spawns", "Parent memory at fork-style spawns", value_rows(&d.parent_rss)),
    ]
}

/// Host facts side by side; `first` heads the fact column, `differs` marks
/// a fact that differs; values are passed through `show` (escaping).
fn host_rows(d: &Diff, first: &str, differs: &str, show: fn(&str) -> String) -> Vec<Vec<String>> {
    let mut h = vec![vec![first.to_string(), "A".into(), "B".into(), String::new()]];
    for r in &d.hosts {
        let value = |v: &Option<String>| v.as_deref().map_or("?".to_string(), show);
        let mark = if r.differs { differs.to_string() } else { String::new() };
        h.push(vec![r.fact.into(), value(&r.a), value(&r.b), mark]);
    }
    h
}

/// Descriptions of the call sites whose spawns differ (traces with stacks).
fn changed_sites(d: &Diff) -> Vec<String> {
    d.call_sites.iter().filter(|s| s.changed()).map(|s| s.describe()).collect()
}

/// Plain text for a terminal (fits 100 columns).
pub fn render_text(d: &Diff) -> String {
    render_text_with(d, false)
}

/// The text diff, with colours when `color` (section titles and the
/// verdict bold, a host fact that differs in yellow); they never change the
/// text itself (strip them and the plain rendering remains, alignment included).
pub fn render_text_with(d: &Diff, color: bool) -> String {
    let p = crate::text::Paint { on: color };
    let mut o = String::new();
    let _ = writeln!(o, "{}", p.bold("spawnscope diff"));
    let _ = writeln!(o, "  {}", side_line("A", &d.a));
    let _ = writeln!(o, "  {}", side_line("B", &d.b));
    let _ = writeln!(o, "\n{}\n  {}", p.bold("Verdict"), p.wrap("1", &esc(&d.verdict)));
    let _ = writeln!(o, "\n{}", p.bold("Where the time goes (mean per spawn, clone entry to the child's exec)"));
    for (i, f) in d.factors.iter().enumerate() {
        let share = f.share.map_or(String::new(), |s| {
            if s > 1.0 {
                ", more than the whole difference".to_string()
            } else {
                format!(", {:.0}% of the difference", s * 100.0)
            }
        });
        let _ = writeln!(
            o,
            "  {}. {:<26} A {:>9}  B {:>9}  ({}{share})",
            i + 1,
            f.title,
            fmt::duration(f.a_ns),
            fmt::duration(f.b_ns),
            fmt::signed_duration(f.delta_ns)
        );
        let _ = writeln!(o, "     {}", esc(&f.message));
    }
    let _ = writeln!(o, "\n{}", p.bold("Hosts"));
    let mut hosts = String::new();
    table(&mut hosts, &host_rows(d, "", "differs", esc));
    for line in hosts.lines() {
        // The mark is the last column: colouring it moves nothing.
        match line.strip_suffix("  differs") {
            Some(rest) => {
                let _ = writeln!(o, "{rest}  {}", p.wrap("33", "differs"));
            }
            None => {
                let _ = writeln!(o, "{line}");
            }
        }
    }
    for (title, _, rows) in tables(d) {
        let _ = writeln!(o, "\n{}", p.bold(title));
        table(&mut o, &rows);
    }
    let sites = changed_sites(d);
    if !sites.is_empty() {
        let _ = writeln!(o, "\n{}", p.bold("Call sites that differ"));
        for s in &sites {
            let _ = writeln!(o, "  {}", esc(s));
        }
    }
    if !d.notes.is_empty() {
        let _ = writeln!(o, "\n{}", p.bold("Notes"));
        for n in &d.notes {
            let _ = writeln!(o, "  - {}", esc(n));
        }
    }
    o
}

fn md_cell(s: &str) -> String {
    esc(s).replace('|', "\\|")
}

/// A table whose first column (and a last "why" column) is text, the rest numbers.
fn md_table(o: &mut String, rows: &[Vec<String>]) {
    for (i, r) in rows.iter().enumerate() {
        let cells: Vec<String> = r.iter().map(|c| md_cell(c)).collect();
        let _ = writeln!(o, "| {} |", cells.join(" | "));
        if i == 0 {
            let seps: Vec<&str> = r.iter().enumerate().map(|(c, h)| if c == 0 || h == "why" { "---" } else { "--:" }).collect();
            let _ = writeln!(o, "| {} |", seps.join(" | "));
        }
    }
}

/// GitHub-flavoured Markdown (for a PR comment or an issue): the same
/// sections as [`render_text`], as Markdown tables.
pub fn render_markdown(d: &Diff) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "## spawnscope diff\n");
    let _ = writeln!(o, "- **A**: `{}`", side_line("", &d.a).trim().replace('`', "'"));
    let _ = writeln!(o, "- **B**: `{}`\n", side_line("", &d.b).trim().replace('`', "'"));
    let _ = writeln!(o, "**Verdict:** {}\n", md_cell(&d.verdict));
    let _ = writeln!(o, "### Where the time goes (mean per spawn)\n");
    let mut f = vec![vec!["part".to_string(), "A".into(), "B".into(), "B-A".into(), "share".into(), "why".into()]];
    for x in &d.factors {
        let share = x.share.map_or("-".into(), |s| if s > 1.0 { ">100%".to_string() } else { format!("{:.0}%", s * 100.0) });
        f.push(vec![
            x.title.to_string(),
            fmt::duration(x.a_ns),
            fmt::duration(x.b_ns),
            fmt::signed_duration(x.delta_ns),
            share,
            x.message.clone(),
        ]);
    }
    md_table(&mut o, &f);
    let _ = writeln!(o, "\n### Hosts\n");
    md_table(&mut o, &host_rows(d, "fact", "**differs**", str::to_string));
    for (_, title, rows) in tables(d) {
        let _ = writeln!(o, "\n### {title}\n");
        md_table(&mut o, &rows);
    }
    let sites: Vec<String> = changed_sites(d).iter().map(|s| format!("- {}", md_cell(s))).collect();
    if !sites.is_empty() {
        let _ = writeln!(o, "\n### Call sites that differ\n\n{}", sites.join("\n"));
    }
    if !d.notes.is_empty() {
        let _ = writeln!(o, "\n### Notes\n");
        for n in &d.notes {
            let _ = writeln!(o, "- {}", md_cell(n));
        }
    }
    o
}
