//! Output formats: text and GitHub snapshots, JUnit parsed back, JSON parsed back.

mod common;

use common::trace;
use quick_xml::events::Event;
use spawnscope_analyzer::{CodePath, SpawnStyle};
use spawnscope_check::*;

/// A report with one of each status and a hostile argv.
fn report() -> CheckReport {
    let a = trace()
        .spawn(SpawnStyle::Vfork, CodePath::GlibcPosixSpawn, "/usr/bin/cc", &["cc", "-c", "a.c"])
        .spawn(
            SpawnStyle::Fork,
            CodePath::RustStdForkFallback,
            "/usr/bin/printf",
            &["printf", "\x1b]0;pwned\x07\n::error::forged"],
        )
        .spawn(SpawnStyle::Fork, CodePath::ForkExec, "/bin/sh", &["sh", "-c", "echo <hi> & 'bye'"])
        .latency(9_000_000)
        .done();
    let file = Policy::from_toml_str("[check]\ndeny-style = [\"fork\"]\nmax-spawns = 10\n", "spawnscope.toml").unwrap();
    let flags = Policy::new().max_spawn_p99("5ms").unwrap().max_failed_exec_attempts(0);
    let mut a = a;
    a.header.tracer.mode = spawnscope_format::TracerMode::Events;
    let mut r = evaluate(&file.merge(flags), &a);
    r.source = "build.jsonl".into();
    r
}

#[test]
fn text_output() {
    insta::assert_snapshot!("text", render(&report(), Format::Text));
}

/// ANSI colour codes removed.
fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn coloured_text_is_the_plain_text_with_colours() {
    let r = report();
    let mut coloured = Vec::new();
    write_text(&r, &mut coloured, true).unwrap();
    let coloured = String::from_utf8(coloured).unwrap();
    let plain = render(&r, Format::Text);
    assert_eq!(strip_ansi(&coloured), plain);
    assert!(coloured.contains("\x1b[1;31mFAIL\x1b[0m  deny-style fork"), "{coloured}");
    assert!(coloured.contains("\x1b[33mWARN\x1b[0m  max-spawn-p99"), "{coloured}");
    assert!(coloured.lines().last().unwrap().starts_with("\x1b[1;31mFAIL: "), "{coloured}");
    let mut uncoloured = Vec::new();
    write_text(&r, &mut uncoloured, false).unwrap();
    assert_eq!(String::from_utf8(uncoloured).unwrap(), plain);
}

#[test]
fn github_output() {
    insta::assert_snapshot!("github", render(&report(), Format::Github));
}

#[test]
fn no_control_characters_in_any_format() {
    for f in [Format::Text, Format::Github, Format::Junit, Format::Json] {
        let out = render(&report(), f);
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{f:?}: {out}");
    }
    // No forged workflow command: every line starting with :: is ours.
    for line in render(&report(), Format::Github).lines().filter(|l| l.starts_with("::")) {
        assert!(
            line.starts_with("::error file=") || line.starts_with("::warning title=") || line.starts_with("::error title="),
            "{line}"
        );
    }
}

/// A parsed `<testcase>`: name, and the kind and message of its child element.
#[derive(Debug, PartialEq)]
struct Case {
    name: String,
    outcome: Option<(String, String)>,
    body: String,
}

fn parse_junit(xml: &str) -> (Vec<(String, String)>, Vec<Case>) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut suite_attrs = Vec::new();
    let mut cases: Vec<Case> = Vec::new();
    let attr = |e: &quick_xml::events::BytesStart, name: &str| -> Option<String> {
        e.attributes()
            .map(|a| a.unwrap())
            .find(|a| a.key.as_ref() == name.as_bytes())
            .map(|a| a.unescape_value().unwrap().into_owned())
    };
    let mut inside = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testsuite" => {
                for a in e.attributes() {
                    let a = a.unwrap();
                    suite_attrs
                        .push((String::from_utf8(a.key.as_ref().to_vec()).unwrap(), a.unescape_value().unwrap().into_owned()));
                }
            }
            Event::Start(e) if e.name().as_ref() == b"testcase" => {
                cases.push(Case { name: attr(&e, "name").unwrap(), outcome: None, body: String::new() });
            }
            Event::Start(e) | Event::Empty(e) if matches!(e.name().as_ref(), b"failure" | b"skipped" | b"system-out") => {
                inside = true;
                let kind = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                let msg = attr(&e, "message").unwrap_or_default();
                cases.last_mut().unwrap().outcome = Some((kind, msg));
            }
            Event::End(_) => inside = false,
            Event::Text(t) if inside => {
                if let Some(c) = cases.last_mut() {
                    c.body.push_str(&t.unescape().unwrap());
                }
            }
            _ => {}
        }
    }
    (suite_attrs, cases)
}

#[test]
fn junit_parses_back() {
    let xml = render(&report(), Format::Junit);
    let (suite, cases) = parse_junit(&xml);
    let get = |k: &str| suite.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("tests"), Some("5"));
    assert_eq!(get("failures"), Some("1"));
    assert_eq!(get("skipped"), Some("1"));
    assert_eq!(get("name"), Some("spawnscope check: build.jsonl (command: make -j2)"));
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["command-exit", "deny-style fork", "max-spawns", "max-spawn-p99", "max-failed-exec-attempts"]);
    assert_eq!(cases[0].outcome, None);
    let (kind, msg) = cases[1].outcome.clone().unwrap();
    assert_eq!((kind.as_str(), msg.as_str()), ("failure", "2 fork-style spawns (at most 0)"));
    assert!(
        cases[1].body.contains("pid 1002 (parent 100): sh -c 'echo <hi> & '\\''bye'\\''': fork via fork-exec"),
        "{}",
        cases[1].body
    );
    assert!(cases[1].body.contains("[spawnscope.toml:2]"), "{}", cases[1].body);
    assert_eq!(cases[2].outcome, None);
    assert_eq!(cases[3].outcome.as_ref().unwrap().0, "system-out");
    assert!(cases[3].body.starts_with("warning: max-spawn-p99: 9.0 ms p99"), "{}", cases[3].body);
    assert_eq!(cases[4].outcome.as_ref().unwrap().0, "skipped");
    assert!(cases[4].outcome.as_ref().unwrap().1.contains("events mode"));
}

#[test]
fn junit_of_a_passing_check_has_no_failures() {
    let a = trace().spawns(2, "/bin/true").done();
    let xml = render(&evaluate(&Policy::new().max_spawns(5), &a), Format::Junit);
    let (suite, cases) = parse_junit(&xml);
    assert!(suite.contains(&("failures".into(), "0".into())));
    assert_eq!(cases.len(), 2);
    assert!(cases.iter().all(|c| c.outcome.is_none()));
}

#[test]
fn json_parses_back() {
    let v: serde_json::Value = serde_json::from_str(&render(&report(), Format::Json)).unwrap();
    assert_eq!(v["passed"], false);
    assert_eq!(v["check_exit_code"], 1);
    assert_eq!(v["exit_code"], 0, "the command's");
    assert_eq!(v["counts"], serde_json::json!({"pass": 2, "fail": 1, "warn": 1, "skip": 1}));
    let deny = &v["results"][1];
    assert_eq!(deny["rule"], "deny-style");
    assert_eq!(deny["status"], "fail");
    assert_eq!(deny["measured"], 2);
    assert_eq!(deny["limit"], 0);
    assert_eq!(deny["origin"], serde_json::json!({"kind": "file", "path": "spawnscope.toml", "line": 2}));
    assert_eq!(deny["offenders"][0]["argv"][1], "\x1b]0;pwned\x07\n::error::forged");
    assert_eq!(v["results"][3]["origin"], serde_json::json!({"kind": "api"}));
}
