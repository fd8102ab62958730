//! `strace -k` stack lines (issue 10): ` > /lib/libc.so.6(__libc_fork+0x4b) [0xd3ecb]`
//! after a syscall's line become the trace's `module`, `stack` and
//! `symbols` records, so an imported log has call sites like a recording.
//!
//! The bracketed address is the file offset in the module (libdw's
//! `dwfl_module_relocate_address`), the same as spawnscope's raw frames.
//! Names are strace's (libdw, nearest symbol): strace misnames glibc's
//! `clone3` frame (`__xmknodat+0x229`) and then stops with
//! `unexpected_backtracing_error`; the analyzer's classifier still finds
//! the call site past it when the walk went on, and says where it ended
//! when it did not.

use std::collections::HashMap;

use spawnscope_format::{ModuleRecord, ModuleType, RawFrame, Record, StackEnd, StackRecord, SymbolFrame, SymbolsRecord};

/// One `strace -k` frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StackLine {
    Frame {
        module: String,
        function: Option<String>,
        offset: u64,
    },
    /// ` > unexpected_backtracing_error [0x...]`: the walk failed here.
    Error,
}

/// Parses a stack line (` > ...`), None for any other line.
pub(crate) fn stack_line(line: &str) -> Option<StackLine> {
    let rest = line.strip_prefix(" > ")?;
    let (head, addr) = rest.rsplit_once(" [0x")?;
    let offset = u64::from_str_radix(addr.strip_suffix(']')?, 16).ok()?;
    if head == "unexpected_backtracing_error" || !head.ends_with(')') {
        return Some(StackLine::Error);
    }
    // `PATH(SYMBOL+0xOFF)`; the path may itself hold '(' (rare): split at the last one.
    let open = head.rfind('(')?;
    let module = head[..open].to_string();
    let sym = &head[open + 1..head.len() - 1];
    let function = match sym.rsplit_once("+0x") {
        Some((f, _)) if !f.is_empty() => Some(f.to_string()),
        _ if !sym.is_empty() && !sym.starts_with("+0x") => Some(sym.to_string()),
        _ => None,
    };
    Some(StackLine::Frame { module, function, offset })
}

/// Collects stacks into deduplicated records.
#[derive(Debug, Default)]
pub(crate) struct StackBuilder {
    modules: HashMap<String, u32>,
    /// Frames and whether the walk failed after them.
    stacks: HashMap<(Vec<RawFrame>, bool), u32>,
    symbols: HashMap<(u32, u64), String>,
    head: Vec<Record>,
}

impl StackBuilder {
    /// The stack id for these lines (innermost first), adding its records.
    /// None for no lines.
    pub(crate) fn intern(&mut self, lines: &[StackLine]) -> Option<u32> {
        if lines.is_empty() {
            return None;
        }
        let mut frames = Vec::new();
        let mut end = StackEnd::Complete;
        for l in lines {
            match l {
                StackLine::Frame { module, function, offset } => {
                    let next = self.modules.len() as u32 + 1;
                    let id = *self.modules.entry(module.clone()).or_insert_with(|| {
                        self.head.push(Record::Module(ModuleRecord {
                            id: next,
                            path: module.clone(),
                            module_type: ModuleType::File,
                            build_id: None,
                            stripped: None,
                            unwind: None,
                            debug_lines: None,
                            rustc: None,
                        }));
                        next
                    });
                    frames.push(RawFrame(id, *offset));
                    if let Some(f) = function {
                        self.symbols.entry((id, *offset)).or_insert_with(|| f.clone());
                    }
                }
                StackLine::Error => {
                    end = StackEnd::Failed;
                    break;
                }
            }
        }
        let next = self.stacks.len() as u32 + 1;
        let head = &mut self.head;
        let failed = end == StackEnd::Failed;
        Some(*self.stacks.entry((frames.clone(), failed)).or_insert_with(|| {
            let note = failed.then(|| "strace -k could not walk further (unexpected_backtracing_error)".to_string());
            head.push(Record::Stack(StackRecord { id: next, frames, end, note }));
            next
        }))
    }

    /// Whether any stack was seen.
    pub(crate) fn is_empty(&self) -> bool {
        self.stacks.is_empty()
    }

    /// The `module` and `stack` records (before the spawns that use them) and
    /// the `symbols` records (strace's names), in a stable order.
    pub(crate) fn into_records(self) -> (Vec<Record>, Vec<Record>) {
        let mut syms: Vec<((u32, u64), String)> = self.symbols.into_iter().collect();
        syms.sort();
        let symbols = syms
            .into_iter()
            .map(|((module, offset), function)| {
                Record::Symbols(SymbolsRecord {
                    module,
                    offset,
                    frames: vec![SymbolFrame { function: Some(function), file: None, line: None, column: None, inlined: false }],
                })
            })
            .collect();
        (self.head, symbols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strace_k_lines() {
        // Real strace 6.1 -k output of a Rust Command with pre_exec.
        assert_eq!(
            stack_line(" > /usr/lib/x86_64-linux-gnu/libc.so.6(__libc_fork+0x4b) [0xd3ecb]"),
            Some(StackLine::Frame {
                module: "/usr/lib/x86_64-linux-gnu/libc.so.6".into(),
                function: Some("__libc_fork".into()),
                offset: 0xd3ecb
            })
        );
        assert_eq!(
            stack_line(" > /tmp/h8/rs_spawn(<std::process::Command>::status+0x1c) [0x44e1c]"),
            Some(StackLine::Frame {
                module: "/tmp/h8/rs_spawn".into(),
                function: Some("<std::process::Command>::status".into()),
                offset: 0x44e1c
            })
        );
        assert_eq!(
            stack_line(" > /usr/bin/stripped() [0x1139]"),
            Some(StackLine::Frame { module: "/usr/bin/stripped".into(), function: None, offset: 0x1139 })
        );
        assert_eq!(stack_line(" > unexpected_backtracing_error [0x560eafb5c004]"), Some(StackLine::Error));
        assert_eq!(stack_line("21766 clone(child_stack=NULL) = 21768"), None);
        assert_eq!(stack_line(" > garbage"), None);
    }

    #[test]
    fn builds_deduplicated_records() {
        let f = |m: &str, s: &str, o| StackLine::Frame { module: m.into(), function: Some(s.into()), offset: o };
        let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
        let a = [f(libc, "_Fork", 0xd4353), f(libc, "__libc_fork", 0xd3ecb), f("/app/x", "main", 0x1139)];
        let mut b = StackBuilder::default();
        assert_eq!(b.intern(&a), Some(1));
        assert_eq!(b.intern(&a), Some(1), "the same stack once");
        assert_eq!(b.intern(&[f(libc, "__xmknodat", 0x1098d9), StackLine::Error]), Some(2));
        assert_eq!(b.intern(&[]), None);
        let (head, syms) = b.into_records();
        let kinds: Vec<&str> = head.iter().map(Record::kind).collect();
        assert_eq!(kinds, ["module", "module", "stack", "stack"]);
        assert!(matches!(&head[3], Record::Stack(s) if s.end == StackEnd::Failed && s.frames.len() == 1));
        assert_eq!(syms.len(), 4);
    }
}
