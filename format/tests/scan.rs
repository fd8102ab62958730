//! The first pass for stack records (`stack::scan`): only `module`, `stack`
//! and `symbols` lines are taken, in any key order, and a damaged file's
//! overlong line is skipped without being held.

use spawnscope_format::*;

const HEADER: &str = r#"{"kind":"header","format":"spawnscope-trace","format_version":"1.1","tool_version":"0","command":[],"cwd":"/","start_unix_ns":0,"host":{},"tracer":{"mode":"seccomp","stacks":{"max_depth":64}}}"#;

#[test]
fn takes_the_stack_records_and_nothing_else() {
    let text = [
        HEADER,
        r#"{"kind":"module","id":1,"path":"/app"}"#,
        // Not in the writer's shape (kind last, spaces): still a stack record.
        r#"{ "id": 7, "frames": [[1, 64]], "end": "complete", "kind": "stack" }"#,
        r#"{"kind":"exit","pid":1,"tid":1,"code":0,"t":5}"#,
        r#"{"kind":"stack","id":8,"frames":"not frames"}"#,
        r#"{"kind":"symbols","module":1,"offset":64,"frames":[{"function":"main"}]}"#,
    ]
    .join("\n");
    let t = stack::scan(text.as_bytes()).unwrap();
    assert_eq!(t.resolve(7).unwrap()[0].function.as_deref(), Some("main"));
    assert!(t.stack(8).is_none(), "a damaged line is left to the full read");
    assert_eq!(t.stacks().count(), 1);
}

#[test]
fn an_overlong_line_is_skipped_and_the_next_lines_still_count() {
    let mut text = format!("{HEADER}\n{{\"kind\":\"warning\",\"message\":\"");
    text.push_str(&"x".repeat(MAX_LINE + 10));
    text.push_str("\"}\n");
    text.push_str(r#"{"kind":"module","id":1,"path":"/app"}"#);
    text.push('\n');
    text.push_str(r#"{"kind":"stack","id":7,"frames":[[1,64]],"end":"complete"}"#);
    let t = stack::scan(std::io::BufReader::with_capacity(4096, text.as_bytes())).unwrap();
    assert!(t.stack(7).is_some());
    // Cut inside the long line: nothing after it, no error.
    let cut = &text.as_bytes()[..HEADER.len() + 100 + MAX_LINE / 2];
    assert!(stack::scan(cut).unwrap().is_empty());
}
