//! The commands the README and the guide show exist as written: every
//! `spawnscope SUBCOMMAND …` line in a shell block names a real subcommand, and
//! every `--long` option it uses is one that subcommand accepts (read from its
//! `--help`). A renamed flag or a removed command fails here, not in a user's
//! first hour. The first look's program is in `fixtures/firstlook/` and is
//! recorded for real by `first_look_records_both_call_sites`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `spawnscope …` command lines inside fenced shell blocks (```sh or ``` with a
/// `$ ` prompt), with trailing comments removed.
fn doc_commands(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let mut fence: Option<(bool, Vec<&str>)> = None; // (shell?, lines)
    for line in text.lines() {
        if let Some(lang) = line.trim_start().strip_prefix("```") {
            match fence.take() {
                Some((true, lines)) => out.extend(block_commands(&lines)),
                Some((false, _)) => {}
                None => fence = Some((matches!(lang, "" | "sh" | "bash"), Vec::new())),
            }
            continue;
        }
        if let Some((_, lines)) = fence.as_mut() {
            lines.push(line);
        }
    }
    out
}

/// In a block with `$ ` prompts only the prompted lines are commands (the rest
/// is output); otherwise every line is.
fn block_commands(lines: &[&str]) -> Vec<String> {
    let prompted = lines.iter().any(|l| l.starts_with("$ "));
    lines
        .iter()
        .filter_map(|l| if prompted { l.strip_prefix("$ ") } else { Some(*l) })
        .map(|l| l.trim().trim_start_matches("srun "))
        .filter(|l| l.starts_with("spawnscope "))
        .map(|l| {
            let cmd = l.find("  #").map_or(l, |i| &l[..i]);
            let cmd = cmd.split(" | ").next().unwrap().split(" > ").next().unwrap();
            cmd.trim().to_string()
        })
        .collect()
}

fn help(sub: &[&str]) -> String {
    let mut args: Vec<&str> = sub.to_vec();
    args.push("--help");
    let out = Command::cargo_bin("spawnscope").unwrap().args(&args).output().unwrap();
    assert!(out.status.success(), "`spawnscope {}` is not a command: {}", sub.join(" "), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn documented_commands_and_options_exist() {
    let mut checked = BTreeSet::new();
    for doc in ["README.md", "docs/guide.md"] {
        let cmds = doc_commands(&root().join(doc));
        assert!(cmds.len() >= 5, "{doc}: too few commands found ({cmds:?})");
        for cmd in cmds {
            let words: Vec<&str> = cmd.split_whitespace().collect();
            // Options before `--` belong to spawnscope; after it, to the traced command.
            let words: Vec<&str> = words.iter().take_while(|w| **w != "--").copied().collect();
            let mut sub = vec![words[1]];
            if words[1] == "import" {
                sub.push(words[2]);
            }
            let text = help(&sub);
            for w in &words[1..] {
                if let Some(flag) = w.strip_prefix("--") {
                    let flag = flag.split('=').next().unwrap();
                    assert!(
                        text.contains(&format!("--{flag}")),
                        "{doc}: `{cmd}`: `spawnscope {}` has no --{flag}",
                        sub.join(" ")
                    );
                }
            }
            checked.insert(cmd);
        }
    }
    assert!(checked.len() >= 20, "only {} distinct commands checked", checked.len());
}

#[test]
fn first_look_records_both_call_sites() {
    // rustc is there whenever cargo runs this test.
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("myapp");
    let src = root().join("fixtures/firstlook/main.rs");
    let st = std::process::Command::new("rustc")
        .args(["-O", "-C", "debuginfo=line-tables-only", "--crate-name", "myapp", "-o"])
        .arg(&exe)
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success());
    let trace = dir.path().join("t.jsonl");
    for d in ["d1", "d2", "d3"] {
        std::fs::create_dir(dir.path().join(d)).unwrap();
    }
    let path = format!("{0}/d1:{0}/d2:{0}/d3:/usr/bin:/bin", dir.path().display());
    Command::cargo_bin("spawnscope")
        .unwrap()
        .env("PATH", &path)
        .args(["record", "-q", "-o"])
        .arg(&trace)
        .arg("--")
        .arg(&exe)
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .success();
    let out = Command::cargo_bin("spawnscope").unwrap().arg("report").arg(&trace).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let sites: Vec<&str> = text.lines().skip_while(|l| *l != "Call sites").take(4).collect();
    let sites = sites.join("\n");
    assert!(sites.contains("spawn_restricted (") && sites.contains("main.rs:23)"), "{sites}");
    assert!(sites.contains("Rust std fork+exec fallback"), "{sites}");
    assert!(sites.contains("run (") && sites.contains("main.rs:7)") && sites.contains("glibc posix_spawn"), "{sites}");
    assert!(text.contains("SS002") && text.contains("SS003"), "{text}");
}
