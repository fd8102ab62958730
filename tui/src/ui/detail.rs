//! The detail pane: one spawn with decoded flags, every exec attempt of its
//! child with the error name, and the timings.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};
use spawnscope_analyzer::{Analysis, Process, Spawn};
use spawnscope_format::flags::clone_flag_names;

use super::theme::{self, Colored};
use crate::app::{App, Detail, Subject};
use crate::fmt;

pub struct DetailPane<'a> {
    pub app: &'a App,
    pub detail: &'a Detail,
}

fn kv(k: &str, v: impl Into<String>) -> Line<'static> {
    Line::from(vec![Span::styled(format!("  {k:<27} "), theme::dim()), Span::raw(v.into())])
}

fn section(s: &str) -> Line<'static> {
    Line::styled(s.to_string(), theme::header())
}

fn name_of(a: &Analysis, p: Option<usize>) -> String {
    p.and_then(|i| a.processes.get(i)).map(|p| fmt::safe(p.name.rsplit('/').next().unwrap_or(&p.name), 30)).unwrap_or_default()
}

fn spawn_lines(a: &Analysis, s: &Spawn) -> Vec<Line<'static>> {
    let mut l = vec![
        Line::from(vec![
            Span::styled(format!("spawn #{}  ", s.index), theme::title()),
            Span::raw(format!("pid {} (tid {}, {}) → child {}", s.parent_pid, s.parent_tid, name_of(a, s.parent), s.child_pid)),
        ]),
        Line::from(vec![
            Span::raw("style "),
            Span::styled(s.style.as_str(), Style::new().fg(s.style.color())),
            Span::raw(format!(" · code path {}", s.code_path.label())),
        ]),
        section("Clone call"),
        kv("syscall", s.syscall.as_str()),
        kv(
            "flags",
            format!("{} ({:#x})", if s.flags == 0 { "none".to_string() } else { clone_flag_names(s.flags).join("|") }, s.flags),
        ),
        kv("exit signal", if s.exit_signal == 17 { "SIGCHLD (17)".to_string() } else { s.exit_signal.to_string() }),
        kv(
            "child stack",
            if s.stack == 0 { "none (shares or copies the parent's)".to_string() } else { format!("{:#x}", s.stack) },
        ),
    ];
    let ev = s.ptrace_event.map(|e| format!("{e:?}").to_lowercase()).unwrap_or_else(|| "not seen".into());
    l.push(kv("ptrace event", if s.style_mismatch { format!("{ev}  ⚠ disagrees with the flags") } else { ev }));
    l.push(kv("Rust socketpair before", if s.socketpair { "yes" } else { "no" }));
    if let Some(m) = s.parent_mem {
        l.push(kv("parent memory", format!("RSS {} · page tables {}", fmt::bytes(m.rss_kb * 1024), fmt::bytes(m.pte_kb * 1024))));
    }
    if let Some(t) = s.parent_threads {
        l.push(kv("parent threads", t.to_string()));
    }
    l.push(section("Timings: measured under tracing, they include tracer overhead"));
    l.push(kv("latency (clone → exec)", fmt::opt_dur(s.latency_ns)));
    l.push(kv("parent blocked", fmt::opt_dur(s.parent_blocked_ns)));
    l.push(kv("clone (entry → fork event)", fmt::opt_dur(s.clone_ns)));
    if let Some(e) = &s.exec {
        if !e.failed_attempts.is_empty() {
            l.push(kv("failed exec attempts", format!("{} in {}", e.failed_attempts.len(), fmt::dur(e.failed_ns))));
        }
    }
    l.push(kv("spawns in flight at start", s.in_flight.to_string()));
    l.push(kv("started at", format!("{} after the start", fmt::dur(s.t_start))));
    l
}

fn process_lines(p: &Process) -> Vec<Line<'static>> {
    let mut l = vec![section(&format!("Exec attempts of pid {} ({})", p.pid, p.execs.len()))];
    if p.execs.is_empty() {
        l.push(Line::styled("  none: this process never called exec", theme::dim()));
    }
    for (i, x) in p.execs.iter().enumerate() {
        let took = x.t_entry.map(|t| fmt::dur(x.t_exit.saturating_sub(t))).unwrap_or_else(|| "-".into());
        let color = if x.result == 0 { Color::Green } else { Color::Red };
        l.push(Line::from(vec![
            Span::raw(format!("  {:>2}. ", i + 1)),
            Span::styled(format!("{:<8}", fmt::errno(x.result)), Style::new().fg(color)),
            Span::raw(format!("{took:>7}  {}", fmt::safe(&x.path, 200))),
        ]));
        if x.result == 0 || i + 1 == p.execs.len() {
            l.push(Line::raw(format!("      argv: {}", fmt::argv(&x.argv, 400))));
            l.push(Line::raw(format!("      env: {} vars, {}", x.env_count, fmt::bytes(x.env_bytes))));
        }
    }
    l.push(section("Process"));
    l.push(kv("name", fmt::safe(&p.name, 200)));
    l.push(kv("children · threads created", format!("{} · {}", p.children.len(), p.threads_created)));
    let exit = match p.exit {
        Some(e) => match (e.code, e.signal) {
            (Some(c), _) => format!("code {c} at {}", fmt::dur(e.t)),
            (None, Some(s)) => format!("{} at {}", spawnscope_format::names::signal_label(s), fmt::dur(e.t)),
            _ => format!("at {}", fmt::dur(e.t)),
        },
        None => "not seen (still running, or the trace was cut)".into(),
    };
    l.push(kv("exit", exit));
    l
}

impl Widget for DetailPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let a = &self.app.trace.analysis;
        let d = self.detail;
        let mut lines = Vec::new();
        match d.current() {
            Subject::Spawn(i) => {
                if let Some(s) = a.spawns.get(i) {
                    lines.extend(spawn_lines(a, s));
                    lines.extend(super::callsites::stack_lines(a, s));
                    if let Some(p) = s.child.and_then(|c| a.processes.get(c)) {
                        lines.extend(process_lines(p));
                    }
                }
            }
            Subject::Process(i) => {
                if let Some(p) = a.processes.get(i) {
                    lines.push(Line::styled(
                        format!("process {} (not spawned by a traced process: the root)", p.pid),
                        theme::title(),
                    ));
                    lines.extend(process_lines(p));
                }
            }
        }
        let title = format!("Detail: {} · {}/{}", d.title, d.pos + 1, d.items.len());
        Paragraph::new(lines)
            .block(Block::bordered().title(Span::styled(title, theme::title())))
            .wrap(Wrap { trim: false })
            .scroll((d.scroll, 0))
            .render(area, buf);
    }
}
