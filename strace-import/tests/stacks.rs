//! `strace -k` logs (issue 10): stack lines become module, stack and symbols
//! records; the analyzer finds the API and call site in them like in a
//! recording. The logs are real strace 6.1 output (fixtures/strace/stacks).

use std::path::{Path, PathBuf};

use spawnscope_format::{Record, StackEnd, StackTable};
use spawnscope_strace::{import_paths, ImportOptions};

fn log(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/strace/stacks").join(name)
}

/// The spawns' resolved stacks (function names, innermost first).
fn stacks(name: &str) -> Vec<Vec<String>> {
    let imp = import_paths(&[log(name)], &ImportOptions::default()).unwrap();
    assert!(imp.header.tracer.stacks.is_some(), "the header says stacks were captured");
    let kinds: Vec<&str> = imp.records.iter().map(Record::kind).collect();
    let first_spawn = kinds.iter().position(|k| *k == "spawn").unwrap();
    assert!(kinds[..first_spawn].contains(&"stack"), "stacks come before the spawns: {kinds:?}");
    let mut t = StackTable::new();
    for r in &imp.records {
        t.add(r);
    }
    imp.records
        .iter()
        .filter_map(|r| match r {
            Record::Spawn(s) if !s.thread => Some(s.stack_id.expect("a stack from the -k lines")),
            _ => None,
        })
        .map(|id| t.resolve(id).unwrap().iter().map(|f| f.function_or_unknown().to_string()).collect())
        .collect()
}

#[test]
fn rust_fork_fallback_stack_from_strace_k() {
    let s = stacks("rust-pre-exec-k.strace");
    assert_eq!(
        s[0],
        [
            "_Fork",
            "__libc_fork",
            "<std::sys::process::unix::common::Command>::spawn",
            "<std::process::Command>::status",
            "rs_spawn::main",
            "main"
        ]
    );
}

#[test]
fn strace_misnamed_clone3_frame_ends_the_stack_and_says_so() {
    // glibc's clone3 has no unwind entry at the syscall: strace names it
    // __xmknodat and gives up (unexpected_backtracing_error).
    let imp = import_paths(&[log("c-thread-posix-spawn-k.strace")], &ImportOptions::default()).unwrap();
    let failed = imp.records.iter().find_map(|r| match r {
        Record::Stack(s) if s.end == StackEnd::Failed => Some(s.clone()),
        _ => None,
    });
    let failed = failed.expect("the failed walk is kept, and marked");
    assert_eq!(failed.frames.len(), 1);
    assert!(failed.note.unwrap().contains("unexpected_backtracing_error"));
    assert_eq!(stacks("c-thread-posix-spawn-k.strace")[0], ["__xmknodat"]);
}
