//! The Markdown report, to paste into an issue or a pull request.

use std::fmt::Write as _;
use std::io::{self, Write};

use spawnscope_analyzer::{group_by, Analysis, CodePath, GroupBy};

use crate::table::*;
use crate::Options;

/// A trace string for Markdown: control characters escaped, and the
/// characters that would start formatting, links, HTML or table cells
/// backslash-escaped.
pub fn md(s: &str) -> String {
    md_punct(&esc(s))
}

/// Backslash-escapes Markdown's active characters in an already
/// terminal-escaped string (every backslash included, so `\x1b` shows as is).
pub fn md_punct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub fn write(out: &mut dyn Write, a: &Analysis, opts: &Options) -> io::Result<()> {
    let mut s = String::new();
    let title = match &opts.source {
        Some(src) => format!("## spawnscope report: {}", md(src)),
        None => "## spawnscope report".to_string(),
    };
    let _ = writeln!(s, "{title}\n");
    // The facts lines hold escaped trace strings; make them Markdown-safe too.
    let mut facts = vec![
        ("Command", md_punct(&command_line(&a.header.command))),
        ("Host", md_punct(&host_line(a))),
        ("Recording", md_punct(&recording_line(a))),
        ("Spawns", md_punct(&spawns_line(a))),
        ("Execs", md_punct(&execs_line(a))),
        ("Spawning", md_punct(&crate::text::spawning_line(a))),
    ];
    if let Some(f) = crate::text::failed_line(a) {
        facts.push(("Failures", md_punct(&f)));
    }
    if let Some(sel) = &opts.selection {
        facts.insert(0, ("Selection", md(sel)));
    }
    for (k, v) in facts {
        let _ = writeln!(s, "- **{k}:** {v}");
    }

    if a.findings.is_empty() {
        let _ = writeln!(s, "\n### Findings\n\nNone.");
    } else {
        let _ = writeln!(s, "\n### Findings\n");
        for f in &a.findings {
            let _ = writeln!(
                s,
                "- **{}** ({}, `{}`): {}  \n  {}  \n  *What to do:* {}",
                f.id,
                f.severity.as_str(),
                f.name,
                md(&f.message),
                md_punct(&crate::text::savings_line(f, a)),
                md(&f.advice)
            );
            if let Some(w) = crate::callsites::finding_where(a, f) {
                let _ = writeln!(s, "  *Where:* {}", md(&w));
            }
        }
    }

    if a.summary.spawns > 0 {
        let _ = writeln!(s, "\n### Code paths\n");
        let mut t = Table::new(&[("code path", false), ("spawns", true), ("style", false)]);
        for g in group_by(a, GroupBy::CodePath) {
            let label = CodePath::from_name(&g.key).map_or(g.key.clone(), |c| c.label().to_string());
            t.row(vec![md_punct(&label), g.count.to_string(), style_mix(&g.styles)]);
        }
        s.push_str(&t.markdown());

        crate::callsites::markdown(&mut s, a, opts.max_rows);

        let _ = writeln!(s, "\n### Spawn latency\n\n> {}\n", md_punct(&latency_note(a)));
        s.push_str(&escape_cells(latency_table(a)).markdown());

        let _ = writeln!(s, "\n### Executables\n");
        s.push_str(&escape_cells(crate::text::executables(a, opts)).markdown());
        let total = group_by(a, GroupBy::Executable).len();
        if total > opts.max_rows {
            let _ = writeln!(s, "\n… and {} more", total - opts.max_rows);
        }

        let _ = writeln!(s, "\n### Longest processes\n");
        s.push_str(&escape_cells(crate::text::longest(a, opts.max_rows.min(10))).markdown());

        if opts.list_spawns {
            let _ = writeln!(s, "\n### Spawns\n\n> {}\n", md_punct(crate::TRACING_NOTE));
            let (list, read) = crate::text::spawn_list(a, opts);
            s.push_str(&escape_cells(list).markdown());
            if let Err(e) = read {
                let _ = writeln!(s, "\n{}", md(&e.to_string()));
            }
            let n = a.summary.spawns as usize;
            if n > opts.max_rows {
                let _ = writeln!(s, "\n{}", crate::text::more_spawns(n - opts.max_rows));
            }
        }
    }

    if !a.warnings.is_empty() {
        let _ = writeln!(s, "\n### Warnings\n");
        for w in &a.warnings {
            let _ = writeln!(s, "- {}", md(w));
        }
    }
    out.write_all(s.as_bytes())?;
    out.flush()
}

/// The text tables hold terminal-escaped strings; Markdown needs its own
/// characters escaped on top (a `|` in argv must not split a cell).
fn escape_cells(t: Table) -> Table {
    t.map_cells(md_punct)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escapes() {
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(md("<img src=x>"), "\\<img src=x\\>");
        assert_eq!(md("\x1b[2J"), "\\\\x1b\\[2J");
    }
}
