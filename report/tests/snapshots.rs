//! Report snapshots on the hand-made traces (review changes with
//! `cargo insta review`, or `INSTA_UPDATE=always` and git diff).

use spawnscope_analyzer::{analyze_path, Analysis, Thresholds};
use spawnscope_report::{render, Format, Options};

fn analyze(name: &str) -> Analysis {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/valid").join(name);
    analyze_path(path, &Thresholds::default()).unwrap()
}

fn opts(name: &str) -> Options {
    Options { source: Some(format!("fixtures/traces/valid/{name}")), list_spawns: true, ..Options::default() }
}

fn snap(name: &str, format: Format) -> String {
    render(&analyze(name), format, &opts(name))
}

macro_rules! snapshot_tests {
    ($($test:ident: $file:literal, $format:expr;)*) => {$(
        #[test]
        fn $test() {
            insta::assert_snapshot!(snap($file, $format));
        }
    )*};
}

snapshot_tests! {
    text_clean: "rust-posix-spawn.jsonl", Format::Text;
    text_fork_4gib: "fork-4gib.jsonl", Format::Text;
    text_rust_fallback: "rust-fork-fallback.jsonl", Format::Text;
    text_path_search: "path-search.jsonl", Format::Text;
    text_large_env: "large-env.jsonl", Format::Text;
    text_python: "python-subprocess.jsonl", Format::Text;
    text_old_glibc: "old-glibc.jsonl", Format::Text;
    text_events_mode: "events-mode.jsonl", Format::Text;
    text_incomplete: "incomplete.jsonl", Format::Text;
    text_escapes: "escapes.jsonl", Format::Text;
    markdown_fork_4gib: "fork-4gib.jsonl", Format::Markdown;
    markdown_rust_fallback: "rust-fork-fallback.jsonl", Format::Markdown;
    markdown_escapes: "escapes.jsonl", Format::Markdown;
    json_rust_fallback: "rust-fork-fallback.jsonl", Format::Json;
    json_exec_failed: "exec-failed.jsonl", Format::Json;
}

#[test]
fn nothing_from_the_trace_reaches_the_terminal_raw() {
    for format in [Format::Text, Format::Markdown, Format::Json] {
        let out = snap("escapes.jsonl", format);
        for bad in ['\x1b', '\x07'] {
            assert!(!out.contains(bad), "{format:?} output holds {bad:?}");
        }
        // Only our own line breaks: the argv newline is escaped.
        assert!(!out.contains("line\nbreak"), "{format:?}");
    }
    let text = snap("escapes.jsonl", Format::Text);
    assert!(text.contains("\\x1b]0;pwned\\x07"), "{text}");
    assert!(text.contains("line\\nbreak"), "{text}");
}

#[test]
fn colour_only_when_asked() {
    let a = analyze("fork-4gib.jsonl");
    let plain = render(&a, Format::Text, &Options::default());
    assert!(!plain.contains('\x1b'));
    let color = render(&a, Format::Text, &Options { color: true, ..Options::default() });
    assert!(color.contains("\x1b[1;31mhigh"), "{color}");
    // Markdown and JSON never colour.
    let md = render(&a, Format::Markdown, &Options { color: true, ..Options::default() });
    assert!(!md.contains('\x1b'));
}

#[test]
fn json_has_the_documented_fields() {
    let v: serde_json::Value = serde_json::from_str(&snap("rust-fork-fallback.jsonl", Format::Json)).unwrap();
    assert_eq!(v["report_version"], 1);
    assert_eq!(v["summary"]["spawns"], 3);
    assert_eq!(v["summary"]["threads"], 0);
    assert_eq!(v["summary"]["styles"]["fork"], 2);
    assert_eq!(v["summary"]["styles"]["vfork"], 1);
    assert_eq!(v["summary"]["styles"]["vm"], 0);
    let s = &v["spawns"][1];
    assert_eq!(s["parent_pid"], 2000);
    assert_eq!(s["child_pid"], 2002);
    assert_eq!(s["syscall"], "clone");
    assert_eq!(s["flags"], serde_json::json!(["CLONE_CHILD_CLEARTID", "CLONE_CHILD_SETTID"]));
    assert_eq!(s["style"], "fork");
    assert_eq!(s["code_path"], "rust-std-fork-fallback");
    assert_eq!(s["socketpair"], true);
    assert_eq!(s["exec"]["path"], "/bin/ls");
    assert_eq!(s["exec"]["failed_attempts"], 0);
    assert_eq!(v["spawns"][0]["socketpair"], false);
    assert_eq!(v["findings"][0]["id"], "SS002");
    // Two small forks in a 12 ms run: worth a note, not a warning.
    assert_eq!(v["findings"][0]["severity"], "info");
    assert_eq!(v["findings"][0]["savings_ns"], 245_000);
    assert_eq!(v["findings"][0]["savings_share"], 0.0203);
    assert_eq!(v["summary"]["recording_ns"], v["summary"]["duration_ns"]);
    assert!(v["summary"]["spawn_blocked_ns"].as_u64().unwrap() > 0);
    assert_eq!(v["processes"][0]["duration_ns"], 11_000_000);
    assert_eq!(v["spawns"][1]["exec"]["chain"], serde_json::json!([]));
    assert_eq!(v["groups"]["executable"][0]["name"], "ls");
    assert!(v["findings"][0]["message"].as_str().unwrap().contains("fork+exec fallback"));
    // A spawn without exec has "exec": null.
    let v: serde_json::Value = serde_json::from_str(&snap("python-subprocess.jsonl", Format::Json)).unwrap();
    assert!(v["spawns"][2]["exec"].is_null());
    let v: serde_json::Value = serde_json::from_str(&snap("path-search.jsonl", Format::Json)).unwrap();
    assert_eq!(v["spawns"][0]["exec"]["failed_attempts"], 3);
    assert_eq!(v["spawns"][0]["exec"]["attempts"][0]["error"], "ENOENT");
}

#[test]
fn limits_rows() {
    let a = analyze("serial-spawns.jsonl");
    let out = render(&a, Format::Text, &Options { list_spawns: true, max_rows: 5, ..Options::default() });
    assert!(out.contains("… and 145 more"), "{out}");
}
