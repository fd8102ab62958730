//! From the trace's stack records to one [`Origin`] per distinct stack.
//!
//! `module`, `stack` and `symbols` lines go into a [`StackTable`]; a stack is
//! classified the first time an analysis needs it, and again only when new
//! `symbols` lines arrived since (they are usually written at the end of a
//! recording, after the spawns that use them).

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;
use spawnscope_format::{Header, Record, ResolvedFrame, StackTable, TracerMode};

use super::{classify, Frame, Origin, UNKNOWN_FUNCTION};

/// The origins of an analysis' spawns (see [`crate::Spawn::origin`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Origins {
    /// One per distinct stack the spawns refer to; `Spawn::origin` indexes it.
    pub list: Vec<Origin>,
    /// Why spawns have no origin, when some have none: the trace has no
    /// stacks (events mode, `--stacks off`, an imported log, an older
    /// trace), or the tracer captured none for them.
    pub missing: Option<String>,
    /// Spawns without a stack.
    pub spawns_without: u64,
}

impl Origins {
    /// The origin of a spawn, if it has one.
    pub fn of(&self, spawn: &crate::Spawn) -> Option<&Origin> {
        self.list.get(spawn.origin? as usize)
    }
}

/// Stack records of a trace and the classification of each stack, cached.
#[derive(Debug, Default)]
pub struct OriginTable {
    table: StackTable,
    /// Bumped by every record added.
    generation: u64,
    cache: Mutex<Cache>,
}

#[derive(Debug, Default)]
struct Cache {
    /// Stack id → (generation it was classified at, origin).
    by_stack: HashMap<u32, (u64, Origin)>,
}

impl OriginTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// A table of stack records read beforehand
    /// ([`spawnscope_format::stack::scan_file`]).
    pub fn from_table(table: StackTable) -> Self {
        OriginTable { table, ..OriginTable::default() }
    }

    /// Takes a `module`, `stack` or `symbols` record; false for other kinds.
    pub fn add(&mut self, rec: &Record) -> bool {
        let taken = self.table.add(rec);
        if taken {
            self.generation += 1;
        }
        taken
    }

    /// Whether any stack record was seen.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The stack records themselves.
    pub fn stacks(&self) -> &StackTable {
        &self.table
    }

    /// The origin of one stack, classified now if records arrived since the
    /// last time. None when the trace has no such stack.
    pub fn origin(&self, stack_id: u32) -> Option<Origin> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((g, o)) = cache.by_stack.get(&stack_id) {
            if *g == self.generation {
                return Some(o.clone());
            }
        }
        let resolved = self.table.resolve(stack_id)?;
        let frames: Vec<Frame> = resolved.iter().map(Frame::from).collect();
        let note = self.table.stack(stack_id).and_then(|s| s.note.as_deref());
        let mut o = classify(&frames, note);
        o.rustc = resolved.iter().find_map(|f| self.table.module(f.module_id)?.rustc.clone());
        cache.by_stack.insert(stack_id, (self.generation, o.clone()));
        Some(o)
    }

    /// Fills `origins` and each spawn's `origin` from the spawns' stack ids
    /// (`stack_id(i)` is spawn i's), and refines code paths by the stack.
    pub fn fill(
        &self,
        header: &Header,
        spawns: &mut [crate::Spawn],
        stack_id: impl Fn(usize) -> Option<u32>,
        origins: &mut Origins,
    ) {
        origins.list.clear();
        origins.spawns_without = 0;
        let mut index: HashMap<u32, u32> = HashMap::new();
        for (i, s) in spawns.iter_mut().enumerate() {
            s.origin = None;
            let Some(id) = stack_id(i) else {
                origins.spawns_without += 1;
                continue;
            };
            let idx = match index.get(&id) {
                Some(&k) => Some(k),
                None => match self.origin(id) {
                    Some(o) => {
                        let k = origins.list.len() as u32;
                        origins.list.push(o);
                        index.insert(id, k);
                        Some(k)
                    }
                    None => None,
                },
            };
            match idx {
                Some(k) => {
                    s.origin = Some(k);
                    s.code_path = super::refine_code_path(s.code_path, &origins.list[k as usize]);
                }
                None => origins.spawns_without += 1,
            }
        }
        origins.missing = (origins.spawns_without > 0).then(|| missing_reason(header, origins.spawns_without, self.is_empty()));
    }
}

/// Why spawns have no stack, in words for the report.
pub fn missing_reason(header: &Header, without: u64, no_stack_records: bool) -> String {
    if header.tracer.stacks.is_none() {
        return match header.tracer.mode {
            TracerMode::Events => "no call stacks: events mode stops only at fork and exec events, not at the clone syscall entry where stacks are captured".to_string(),
            TracerMode::Imported => "no call stacks: the imported log has none (record strace with -k to get them)".to_string(),
            _ => "no call stacks: the trace was recorded with --stacks off or by a version before trace format 1.1".to_string(),
        };
    }
    if no_stack_records {
        return "no call stacks: stack capture was on but the trace holds no stack records".to_string();
    }
    format!("{without} spawns have no call stack: the tracer could not capture one (see the trace's warnings)")
}

impl From<&ResolvedFrame> for Frame {
    fn from(r: &ResolvedFrame) -> Frame {
        Frame {
            function: r.function.clone().unwrap_or_else(|| UNKNOWN_FUNCTION.to_string()),
            module: r.module.clone(),
            offset: r.offset,
            file: r.file.clone(),
            line: r.line,
            inlined: r.inlined,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(json: &str) -> Record {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn classifies_once_and_again_after_new_symbols() {
        let mut t = OriginTable::new();
        for line in [
            r#"{"kind":"module","id":1,"path":"/usr/lib/x86_64-linux-gnu/libc.so.6"}"#,
            r#"{"kind":"module","id":2,"path":"/app/myapp","rustc":"1.48.0"}"#,
            r#"{"kind":"stack","id":5,"frames":[[1,100],[1,200],[2,300],[2,400]],"end":"complete"}"#,
        ] {
            assert!(t.add(&rec(line)));
        }
        // Before symbols: unnamed frames; the first frame outside libc is the call site.
        let o = t.origin(5).unwrap();
        assert_eq!(o.call_site.as_ref().map(|f| (f.module.as_str(), f.offset)), Some(("/app/myapp", 300)));
        assert_eq!(o.api, UNKNOWN_FUNCTION);
        assert_eq!(o.rustc.as_deref(), Some("1.48.0"), "the first module built by rustc");
        for line in [
            r#"{"kind":"symbols","module":1,"offset":200,"frames":[{"function":"__posix_spawnp"}]}"#,
            r#"{"kind":"symbols","module":2,"offset":300,"frames":[{"function":"myapp::run","file":"src/main.rs","line":7,"inlined":true},{"function":"myapp::main","file":"src/main.rs","line":12}]}"#,
        ] {
            assert!(t.add(&rec(line)));
        }
        let o = t.origin(5).unwrap();
        assert_eq!(o.api, "__posix_spawnp");
        assert_eq!(o.call_site.unwrap().label(), "myapp::run (src/main.rs:7)");
        assert_eq!(o.stack.len(), 5, "the inlined frame is a frame of its own");
        assert!(t.origin(6).is_none());
        assert!(!t.add(&rec(r#"{"kind":"end","t":1}"#)));
    }
}
