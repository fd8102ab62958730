//! Where in the code (issue 10) in the reports: the "Call sites" table,
//! findings that name their call sites, `spawns[].origin` in JSON.

use spawnscope_analyzer::{analyze_path, Analysis, Thresholds};
use spawnscope_report::{render, Format, Options};

fn analyze(name: &str) -> Analysis {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/stacks").join(name);
    analyze_path(&p, &Thresholds::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The lines of one section of the text report (title to the next blank line).
fn section<'a>(text: &'a str, title: &str) -> Vec<&'a str> {
    text.lines().skip_while(|l| *l != title).take_while(|l| !l.is_empty()).collect()
}

#[test]
fn text_call_sites_table() {
    let text = render(&analyze("mixed.jsonl"), Format::Text, &Options::default());
    insta::assert_snapshot!(section(&text, "Call sites").join("\n"));
}

#[test]
fn findings_name_their_call_sites() {
    let a = analyze("mixed.jsonl");
    let text = render(&a, Format::Text, &Options::default());
    // The finding, its wrapped lines joined.
    let ss001 =
        text.lines().skip_while(|l| !l.trim_start().starts_with("SS001")).take(12).map(str::trim).collect::<Vec<_>>().join(" ");
    assert!(
        ss001.contains("Where: 2 at myapp::sandbox::spawn_restricted (src/sandbox.rs:17) via std::process::Command::status"),
        "{ss001}"
    );
    let md = render(&a, Format::Markdown, &Options::default());
    assert!(md.contains("### Call sites"), "{md}");
    assert!(
        md.contains("*Where:* 2 at myapp::sandbox::spawn\\_restricted (src/sandbox.rs:17) via std::process::Command::status"),
        "{md}"
    );
    assert!(md.contains("| myapp::jobs::run (src/jobs.rs:42) | 3 |"), "{md}");
}

#[test]
fn no_stacks_is_explained() {
    // A trace recorded without stacks: the text report is as before.
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/valid/rust-posix-spawn.jsonl");
    let a = analyze_path(&p, &Thresholds::default()).unwrap();
    let text = render(&a, Format::Text, &Options::default());
    assert!(section(&text, "Call sites").is_empty(), "{text}");
    // A spawn without a stack in a trace with stacks: said where the table is.
    let text = render(&analyze("mixed.jsonl"), Format::Text, &Options::default());
    assert!(text.contains("(no stack)"), "{text}");
}

#[test]
fn json_origin_is_the_documented_shape() {
    let a = analyze("mixed.jsonl");
    let v: serde_json::Value = serde_json::from_str(&render(&a, Format::Json, &Options::default())).unwrap();
    let o = &v["spawns"][0]["origin"];
    // (serde_json's Value sorts keys.)
    let keys: Vec<&str> = o.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["api", "call_site", "call_site_note", "library", "runtime", "stack"]);
    assert_eq!(o["api"], "std::process::Command::status");
    assert_eq!(o["runtime"], "rust");
    assert_eq!(o["library"], "/usr/lib/x86_64-linux-gnu/libc.so.6");
    assert_eq!(o["call_site_note"], serde_json::Value::Null);
    let frame_keys = |f: &serde_json::Value| f.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(frame_keys(&o["call_site"]), ["file", "function", "inlined", "line", "module", "offset"]);
    assert_eq!(o["call_site"]["function"], "myapp::jobs::run");
    assert_eq!(o["call_site"]["file"], "src/jobs.rs");
    assert_eq!(o["call_site"]["line"], 42);
    assert_eq!(o["call_site"]["offset"], 0x17c80);
    let stack = o["stack"].as_array().unwrap();
    assert_eq!(stack[0]["function"], "clone3");
    assert_eq!(stack[0]["inlined"], false);
    assert!(stack.iter().any(|f| f["inlined"] == true), "inlined frames are frames of their own");
    // The musl spawn: no call site, and why.
    let musl = &v["spawns"][5]["origin"];
    assert_eq!(musl["call_site"], serde_json::Value::Null);
    assert!(musl["call_site_note"].as_str().unwrap().contains("no unwind tables"));
    // The spawn without a stack: null, and the report says why.
    assert_eq!(v["spawns"][6]["origin"], serde_json::Value::Null);
    assert!(v["call_sites"]["note"].as_str().unwrap().contains("1 spawns have no call stack"));
    assert_eq!(v["call_sites"]["sites"][0]["label"], "myapp::jobs::run (src/jobs.rs:42)");
    assert_eq!(v["call_sites"]["sites"][0]["spawns"], 3);
    // Findings name their call sites.
    let ss001 = v["findings"].as_array().unwrap().iter().find(|f| f["id"] == "SS001").unwrap();
    assert_eq!(ss001["call_sites"][0]["call_site"], "myapp::sandbox::spawn_restricted (src/sandbox.rs:17)");
    assert_eq!(ss001["call_sites"][0]["spawns"], 2);
}

#[test]
fn json_without_stacks_says_why() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/traces/valid/rust-posix-spawn.jsonl");
    let a = analyze_path(&p, &Thresholds::default()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&render(&a, Format::Json, &Options::default())).unwrap();
    assert_eq!(v["spawns"][0]["origin"], serde_json::Value::Null);
    assert!(v["call_sites"]["note"].as_str().unwrap().contains("--stacks off"));
    assert_eq!(v["call_sites"]["sites"].as_array().unwrap().len(), 0);
}
