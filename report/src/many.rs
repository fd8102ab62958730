//! The report of many traces read together
//! ([`spawnscope_analyzer::many::ManyAnalysis`]): totals, one row per host,
//! code paths, executables, findings, the traces, and the files skipped with
//! their errors. Text, Markdown, or JSON (`"kind": "many"`).

use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;
use spawnscope_analyzer::many::{ManyAnalysis, Merged, SiteTotals};
use spawnscope_analyzer::units::fmt_ns;

use crate::table::{esc, style_mix, Table};
use crate::{Format, Options, TRACING_NOTE};

/// What the percentiles of merged traces are accurate to.
pub const MERGED_PERCENTILE_NOTE: &str =
    "percentiles over several traces come from a mergeable histogram: within 3.2% of the exact value";

#[derive(Serialize)]
struct Json<'a> {
    report_version: u32,
    kind: &'static str,
    /// The `--exe/--pid/--since/--until` selection applied to every trace, if any.
    selection: Option<&'a str>,
    percentile_note: &'static str,
    #[serde(flatten)]
    many: &'a ManyAnalysis,
}

/// Writes the report of many traces.
pub fn write_many(out: &mut dyn Write, m: &ManyAnalysis, format: Format, opts: &Options) -> io::Result<()> {
    match format {
        Format::Json => {
            let j = Json {
                report_version: crate::REPORT_VERSION,
                kind: "many",
                selection: opts.selection.as_deref(),
                percentile_note: MERGED_PERCENTILE_NOTE,
                many: m,
            };
            serde_json::to_writer_pretty(&mut *out, &j).map_err(io::Error::other)?;
            writeln!(out)
        }
        Format::Text | Format::Markdown => out.write_all(text(m, format == Format::Markdown, opts).as_bytes()),
    }
}

fn pct(n: u64, of: u64) -> String {
    if of == 0 {
        "-".into()
    } else {
        format!("{:.0}%", n as f64 * 100.0 / of as f64)
    }
}

fn lat(m: &Merged) -> (String, String) {
    if m.latency.count == 0 {
        ("-".into(), "-".into())
    } else {
        (fmt_ns(m.latency.p50), fmt_ns(m.latency.p99))
    }
}

fn text(m: &ManyAnalysis, md: bool, opts: &Options) -> String {
    let mut s = String::new();
    let t = &m.total;
    let p = crate::text::Paint { on: opts.color && !md };
    let head = |s: &mut String, title: &str| {
        if md {
            let _ = writeln!(s, "\n### {title}\n");
        } else {
            let _ = writeln!(s, "\n{}", p.bold(title));
        }
    };
    let table = |s: &mut String, tb: &Table| {
        if md {
            s.push_str(&tb.markdown());
        } else {
            s.push_str(&tb.text("  ", |h| h.to_string()));
        }
    };
    let title = format!(
        "spawnscope report: {} trace{} from {} host{}{}",
        t.traces,
        if t.traces == 1 { "" } else { "s" },
        m.hosts.len(),
        if m.hosts.len() == 1 { "" } else { "s" },
        if m.skipped.is_empty() { String::new() } else { format!(", {} skipped", m.skipped.len()) }
    );
    if md {
        let _ = writeln!(s, "## {title}\n");
    } else {
        let _ = writeln!(s, "{}\n", p.bold(&title));
    }
    let (p50, p99) = lat(t);
    let selection = opts.selection.as_ref().map(|sel| ("Selection", esc(sel)));
    let facts = selection.into_iter().chain([
        (
            "Spawns",
            format!(
                "{} ({}), {}, {}",
                spawnscope_units::count(t.spawns),
                style_mix(&t.styles),
                spawnscope_units::counted(t.threads, "thread", "threads"),
                spawnscope_units::counted(t.processes, "process", "processes")
            ),
        ),
        (
            "Execs",
            format!(
                "{} attempts, {} failed ({} in failed attempts); PATH search in {} spawns",
                t.exec_attempts,
                t.failed_exec_attempts,
                fmt_ns(t.failed_exec_ns),
                t.path_search_spawns
            ),
        ),
        ("Latency", format!("p50 {p50}, p99 {p99}, max {} (spawn to exec)", fmt_ns(t.latency.max))),
        ("Recorded", format!("{} of traces added up", fmt_ns(t.duration_ns))),
    ]);
    for (k, v) in facts {
        if md {
            let _ = writeln!(s, "- **{k}**: {v}");
        } else {
            let _ = writeln!(s, "{k:<10} {v}");
        }
    }
    let _ = writeln!(s, "{}{TRACING_NOTE}; {MERGED_PERCENTILE_NOTE}", if md { "\n" } else { "" });

    head(&mut s, "Hosts");
    let mut tb = Table::new(&[
        ("host", false),
        ("traces", true),
        ("spawns", true),
        ("fork", true),
        ("threads", true),
        ("failed execs", true),
        ("p50", true),
        ("p99", true),
        ("findings", false),
    ]);
    for h in m.hosts.iter().take(opts.max_rows) {
        let g = &h.merged;
        let (p50, p99) = lat(g);
        let fork = g.styles.get("fork").copied().unwrap_or(0);
        tb.row(vec![
            if h.host.is_empty() { "(unknown)".into() } else { esc(&h.host) },
            g.traces.to_string(),
            g.spawns.to_string(),
            pct(fork, g.spawns),
            g.threads.to_string(),
            g.failed_exec_attempts.to_string(),
            p50,
            p99,
            g.findings.keys().cloned().collect::<Vec<_>>().join(" "),
        ]);
    }
    table(&mut s, &tb);
    more(&mut s, m.hosts.len(), opts.max_rows, "hosts");

    head(&mut s, "Code paths");
    let mut tb = Table::new(&[("code path", false), ("spawns", true), ("share", true), ("p50", true), ("p99", true)]);
    let mut paths: Vec<_> = t.by_code_path.iter().collect();
    paths.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0)));
    for (k, g) in paths {
        let (p50, p99) =
            if g.latency.count == 0 { ("-".into(), "-".into()) } else { (fmt_ns(g.latency.p50), fmt_ns(g.latency.p99)) };
        tb.row(vec![esc(k), g.count.to_string(), pct(g.count, t.spawns), p50, p99]);
    }
    table(&mut s, &tb);

    if !t.call_sites.is_empty() {
        head(&mut s, "Call sites");
        let mut tb = Table::new(&[
            ("call site", false),
            ("spawns", true),
            ("style", false),
            ("code path", false),
            ("API", false),
            ("p50", true),
            ("p99", true),
        ]);
        let mut sites: Vec<_> = t.call_sites.iter().collect();
        sites.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0)));
        for (k, g) in sites.iter().take(opts.max_rows) {
            let (p50, p99) =
                if g.latency.count == 0 { ("-".into(), "-".into()) } else { (fmt_ns(g.latency.p50), fmt_ns(g.latency.p99)) };
            let main = |m: &std::collections::BTreeMap<String, u64>| SiteTotals::main_of(m).map_or("-".to_string(), esc);
            tb.row(vec![
                crate::table::cut(&esc(k), 60),
                g.count.to_string(),
                style_mix(&g.styles),
                main(&g.code_paths),
                crate::table::cut(&main(&g.apis), 40),
                p50,
                p99,
            ]);
        }
        table(&mut s, &tb);
        more(&mut s, sites.len(), opts.max_rows, "call sites");
    }

    head(&mut s, "Executables");
    let mut tb = Table::new(&[
        ("executable", false),
        ("spawns", true),
        ("styles", false),
        ("failed attempts", true),
        ("p50", true),
        ("p99", true),
    ]);
    let mut exes: Vec<_> = t.executables.iter().collect();
    exes.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0)));
    for (k, g) in exes.iter().take(opts.max_rows) {
        let (p50, p99) =
            if g.latency.count == 0 { ("-".into(), "-".into()) } else { (fmt_ns(g.latency.p50), fmt_ns(g.latency.p99)) };
        tb.row(vec![esc(k), g.count.to_string(), style_mix(&g.styles), g.failed_attempts.to_string(), p50, p99]);
    }
    table(&mut s, &tb);
    more(&mut s, exes.len(), opts.max_rows, "executables");

    head(&mut s, "Findings");
    if t.findings.is_empty() {
        let _ = writeln!(s, "  none");
    } else {
        let mut tb = Table::new(&[
            ("id", false),
            ("name", false),
            ("severity", false),
            ("traces", true),
            ("evidence", true),
            ("example", false),
        ]);
        for f in t.findings.values() {
            tb.row(vec![
                f.id.to_string(),
                f.name.to_string(),
                f.severity.as_str().to_string(),
                f.traces.to_string(),
                f.evidence.to_string(),
                esc(&f.example),
            ]);
        }
        table(&mut s, &tb);
    }

    head(&mut s, "Traces");
    let mut tb = Table::new(&[("host", false), ("trace", false), ("spawns", true), ("complete", false), ("warnings", true)]);
    let traces: Vec<_> = m.hosts.iter().flat_map(|h| &h.traces).collect();
    for d in traces.iter().take(opts.max_rows) {
        tb.row(vec![
            esc(&d.host),
            esc(&d.path.display().to_string()),
            d.totals.spawns.to_string(),
            if d.complete { "yes".into() } else { "no: cut short".into() },
            d.warnings.len().to_string(),
        ]);
    }
    table(&mut s, &tb);
    more(&mut s, traces.len(), opts.max_rows, "traces");

    if !m.skipped.is_empty() {
        head(&mut s, "Skipped (not in the totals)");
        for k in &m.skipped {
            let _ = writeln!(s, "{}{}", if md { "- " } else { "  " }, esc(&k.error));
        }
    }
    s
}

fn more(s: &mut String, n: usize, shown: usize, what: &str) {
    if n > shown {
        let _ = writeln!(s, "  ... {} more {what} (--limit 0 shows all)", n - shown);
    }
}
