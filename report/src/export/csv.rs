//! One CSV row per spawn (RFC 4180 quoting). Strings from the trace are
//! passed through [`spawnscope_format::escape`] first, so the file is safe to
//! `cat`: a newline in an argv reads `\n`, a backslash `\\`.

use std::io::Write;

use spawnscope_analyzer::{basename, Analysis, Spawn};
use spawnscope_format::{escape, flags};

/// The columns, in order.
pub const COLUMNS: &[&str] = &[
    "index",
    "t_start_ns",
    "parent_pid",
    "parent_tid",
    "parent_name",
    "child_pid",
    "syscall",
    "flags",
    "flags_hex",
    "exit_signal",
    "style",
    "code_path",
    "rust_socketpair",
    "ptrace_event",
    "style_mismatch",
    "exe",
    "argv",
    "exec_success",
    "failed_attempts",
    "failed_paths",
    "failed_ns",
    "env_count",
    "env_bytes",
    "latency_ns",
    "parent_blocked_ns",
    "clone_ns",
    "parent_rss_kb",
    "parent_pte_kb",
    "parent_threads",
    "in_flight",
];

/// Quotes a field when it holds a comma, quote or line break.
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// The cells of one spawn, in [`COLUMNS`] order (not yet quoted).
pub fn row(a: &Analysis, s: &Spawn) -> Vec<String> {
    let exec = s.exec.as_ref();
    let parent_name = s.parent.and_then(|p| a.processes.get(p)).map(|p| basename(&p.name).to_string());
    vec![
        s.index.to_string(),
        s.t_start.to_string(),
        s.parent_pid.to_string(),
        s.parent_tid.to_string(),
        escape(&parent_name.unwrap_or_default()).into_owned(),
        s.child_pid.to_string(),
        s.syscall.as_str().to_string(),
        flags::clone_flag_names(s.flags).join("|"),
        format!("{:#x}", s.flags),
        s.exit_signal.to_string(),
        s.style.as_str().to_string(),
        s.code_path.as_str().to_string(),
        s.socketpair.to_string(),
        opt(s.ptrace_event.map(|e| format!("{e:?}").to_lowercase())),
        s.style_mismatch.to_string(),
        escape(exec.map_or("", |e| e.path.as_str())).into_owned(),
        escape(&exec.map(|e| e.argv.join(" ")).unwrap_or_default()).into_owned(),
        opt(exec.map(|e| e.success)),
        exec.map_or(0, |e| e.failed_attempts.len()).to_string(),
        escape(
            &exec.map(|e| e.failed_attempts.iter().map(|f| f.path.as_str()).collect::<Vec<_>>().join(":")).unwrap_or_default(),
        )
        .into_owned(),
        exec.map_or(0, |e| e.failed_ns).to_string(),
        opt(exec.map(|e| e.env_count)),
        opt(exec.map(|e| e.env_bytes)),
        opt(s.latency_ns),
        opt(s.parent_blocked_ns),
        opt(s.clone_ns),
        opt(s.parent_mem.map(|m| m.rss_kb)),
        opt(s.parent_mem.map(|m| m.pte_kb)),
        opt(s.parent_threads),
        s.in_flight.to_string(),
    ]
}

/// Writes the header and one row per spawn.
pub fn write(a: &Analysis, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{}", COLUMNS.join(","))?;
    for s in &a.spawns {
        let cells: Vec<String> = row(a, s).iter().map(|c| field(c)).collect();
        writeln!(out, "{}", cells.join(","))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting() {
        assert_eq!(super::field("plain"), "plain");
        assert_eq!(super::field("a,b"), "\"a,b\"");
        assert_eq!(super::field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
