//! The text report for a terminal.

use std::fmt::Write as _;
use std::io::{self, Write};

use spawnscope_analyzer::units::fmt_bytes;
use spawnscope_analyzer::{group_by, Analysis, CodePath, GroupBy, Severity};
use spawnscope_format::flags::errno_name;

use crate::table::*;
use crate::Options;

const WRAP: usize = 100;

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
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
    let title = match &opts.source {
        Some(src) => format!("spawnscope report: {}", esc(src)),
        None => "spawnscope report".to_string(),
    };
    let _ = writeln!(s, "{}", p.bold(&title));
    let facts = [
        ("Command", command_line(&a.header.command)),
        ("Host", host_line(a)),
        ("Recording", recording_line(a)),
        ("Spawns", spawns_line(a)),
        ("Execs", execs_line(a)),
    ];
    for (k, v) in facts {
        let _ = writeln!(s, "{:<10} {}", p.bold(k), v);
    }

    if !a.spawns.is_empty() {
        section(&mut s, &p, "Code paths");
        let mut t = Table::new(&[("code path", false), ("spawns", true), ("share", true), ("style", false)]);
        for g in group_by(a, GroupBy::CodePath) {
            let label = CodePath::from_name(&g.key).map_or(g.key.clone(), |c| c.label().to_string());
            let share = g.count as f64 * 100.0 / a.spawns.len() as f64;
            t.row(vec![label, g.count.to_string(), format!("{share:.0}%"), style_mix(&g.styles)]);
        }
        s.push_str(&t.text("  ", |h| p.dim(h)));

        section(&mut s, &p, "Spawn latency");
        wrap_into(&mut s, &latency_note(a), "  ");
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

        section(&mut s, &p, "Executables");
        s.push_str(&executables(a, opts).text("  ", |h| p.dim(h)));

        section(&mut s, &p, "Spawning processes");
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
        more(&mut s, groups.len(), opts.max_rows);
    }

    if a.findings.is_empty() {
        let _ = writeln!(s, "\n{} none", p.bold("Findings:"));
    } else {
        section(&mut s, &p, &format!("Findings ({})", a.findings.len()));
        for f in &a.findings {
            let _ = writeln!(s, "  {}  {}  {}", p.bold(f.id), p.severity(f.severity), f.name);
            wrap_into(&mut s, &esc(&f.message), "         ");
            wrap_into(&mut s, &format!("What to do: {}", esc(&f.advice)), "         ");
            if !f.evidence.is_empty() {
                let ev: Vec<String> = f.evidence.iter().take(10).map(|i| format!("#{i}")).collect();
                let extra = if f.evidence.len() > 10 { format!(" and {} more", f.evidence.len() - 10) } else { String::new() };
                let _ = writeln!(s, "         {}", p.dim(&format!("Evidence: spawns {}{extra}", ev.join(", "))));
            }
        }
    }

    if opts.list_spawns && !a.spawns.is_empty() {
        section(&mut s, &p, "Spawns");
        wrap_into(&mut s, crate::TRACING_NOTE, "  ");
        s.push_str(&spawn_list(a, opts).text("  ", |h| p.dim(h)));
        more(&mut s, a.spawns.len(), opts.max_rows);
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

fn section(s: &mut String, p: &Paint, title: &str) {
    let _ = writeln!(s, "\n{}", p.bold(title));
}

fn more(s: &mut String, total: usize, shown: usize) {
    if total > shown {
        let _ = writeln!(s, "  … and {} more", total - shown);
    }
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
    for g in group_by(a, GroupBy::Executable).iter().take(opts.max_rows) {
        let has = g.latency.count > 0;
        t.row(vec![
            cut(&esc(&g.key), 40),
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

pub(crate) fn spawn_list(a: &Analysis, opts: &Options) -> Table {
    let mut t = Table::new(&[
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
    ]);
    for sp in a.spawns.iter().take(opts.max_rows) {
        let parent = sp
            .parent
            .and_then(|i| a.processes.get(i))
            .map_or_else(|| sp.parent_pid.to_string(), |p| format!("{}[{}]", spawnscope_analyzer::basename(&p.name), p.pid));
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
        t.row(vec![
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
    t
}
