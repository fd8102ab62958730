//! The policy file (`spawnscope.toml`): parsing with line numbers, discovery.
//!
//! ```toml
//! [check]
//! deny-style = ["fork"]
//! max-spawns = 200
//! max-failed-exec-attempts = 0
//! max-spawn-p99 = "5ms"
//!
//! [check.exe.git]
//! max-spawns = 20
//! min-spawns = 1
//! ```
//!
//! Every key is the name of the command-line flag without its dashes. A
//! `[thresholds]` table (the analyzer's finding thresholds, as in
//! `spawnscope report`'s config) may sit in the same file. Every key is
//! kebab-case; `[thresholds]` keys in the old snake_case spelling are still
//! read, with a note in `policy.thresholds.notes` (the CLI prints it).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use spawnscope_analyzer::Thresholds;
use toml::Spanned;

use crate::policy::{parse_code_path, parse_finding_pattern, parse_style, Origin, Policy, Rule};
use crate::Error;
use spawnscope_units::parse_duration;

/// File name looked for in the current directory and at the git root.
pub const POLICY_FILE_NAME: &str = "spawnscope.toml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    check: Option<RawCheck>,
    /// The analyzer's finding thresholds (same keys as `spawnscope report`'s
    /// config; kebab-case, the old snake_case spelling still read).
    thresholds: Option<Spanned<toml::Table>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCheck {
    deny_style: Option<Vec<Spanned<String>>>,
    max_spawns: Option<Spanned<u64>>,
    min_spawns: Option<Spanned<u64>>,
    max_failed_exec_attempts: Option<Spanned<u64>>,
    max_env_bytes: Option<Spanned<u64>>,
    deny_finding: Option<Vec<Spanned<String>>>,
    allow_finding: Option<Vec<Spanned<String>>>,
    require_code_path: Option<Vec<Spanned<String>>>,
    deny_code_path: Option<Vec<Spanned<String>>>,
    max_spawn_p99: Option<Spanned<String>>,
    strict_timing: Option<bool>,
    allow_command_failure: Option<bool>,
    exe: Option<BTreeMap<Spanned<String>, RawExe>>,
    /// Scope the spawn rules to code (issue 10).
    at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawExe {
    max_spawns: Option<Spanned<u64>>,
    min_spawns: Option<Spanned<u64>>,
}

/// Where in a table the key named in a deserialization error (`` `key` ``,
/// in either spelling) is written.
fn key_in_table(text: &str, table: Range<usize>, message: &str) -> Option<Range<usize>> {
    let name = message.split('`').nth(1)?;
    let spellings = [name.to_string(), name.replace('_', "-"), name.replace('-', "_")];
    let mut offset = table.start;
    // The span may cover only the `[thresholds]` header: read on to the next table.
    for (i, line) in text.get(table.start..)?.split_inclusive('\n').enumerate() {
        if i > 0 && line.trim_start().starts_with('[') {
            break;
        }
        let key = line.split('=').next().unwrap_or("").trim();
        if line.contains('=') && spellings.iter().any(|s| s == key) {
            let indent = line.len() - line.trim_start().len();
            return Some(offset + indent..offset + line.len());
        }
        offset += line.len();
    }
    None
}

impl Policy {
    /// Reads a policy file. Errors name the file, line and column.
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Policy, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::PolicyRead { path: path.to_path_buf(), source })?;
        Policy::from_toml_str(&text, path)
    }

    /// Parses policy text; `path` is used in error messages and origins.
    pub fn from_toml_str(text: &str, path: impl AsRef<Path>) -> Result<Policy, Error> {
        let path = path.as_ref();
        let err = |span: Option<Range<usize>>, message: String| {
            let (line, column) = span.map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            Error::Policy { path: path.to_path_buf(), line, column, message }
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| err(e.span(), clean_message(e.message())))?;
        let mut p = Policy::new();
        p.file = Some(path.to_path_buf());
        if let Some(t) = raw.thresholds {
            let span = t.span();
            let t = Thresholds::from_table(t.into_inner()).map_err(|e| {
                let at = key_in_table(text, span.clone(), e.message()).unwrap_or(span);
                err(Some(at), clean_message(e.message()))
            })?;
            p.thresholds = Some(t);
        }
        let Some(c) = raw.check else { return Ok(p) };
        p.at = c.at.clone();
        let origin = |span: &Range<usize>| Origin::File { path: path.to_path_buf(), line: line_col(text, span.start).0 };
        let add = |p: &mut Policy, rule: Rule, span: &Range<usize>| p.add(rule, origin(span));

        for s in c.deny_style.iter().flatten() {
            let style = parse_style(s.get_ref()).map_err(|m| err(Some(s.span()), m))?;
            add(&mut p, Rule::DenyStyle(style), &s.span());
        }
        if let Some(v) = &c.max_spawns {
            add(&mut p, Rule::MaxSpawns { exe: None, limit: *v.get_ref() }, &v.span());
        }
        if let Some(v) = &c.min_spawns {
            add(&mut p, Rule::MinSpawns { exe: None, limit: *v.get_ref() }, &v.span());
        }
        if let Some(v) = &c.max_failed_exec_attempts {
            add(&mut p, Rule::MaxFailedExecAttempts(*v.get_ref()), &v.span());
        }
        if let Some(v) = &c.max_env_bytes {
            add(&mut p, Rule::MaxEnvBytes(*v.get_ref()), &v.span());
        }
        for s in c.deny_finding.iter().flatten() {
            let f = parse_finding_pattern(s.get_ref()).map_err(|m| err(Some(s.span()), m))?;
            add(&mut p, Rule::DenyFinding(f), &s.span());
        }
        for s in c.allow_finding.iter().flatten() {
            p.add_allowed_finding(s.get_ref(), origin(&s.span())).map_err(|e| match e {
                Error::Rule { message, .. } => err(Some(s.span()), message),
                e => e,
            })?;
        }
        for s in c.require_code_path.iter().flatten() {
            let cp = parse_code_path(s.get_ref()).map_err(|m| err(Some(s.span()), m))?;
            add(&mut p, Rule::RequireCodePath(cp), &s.span());
        }
        for s in c.deny_code_path.iter().flatten() {
            let cp = parse_code_path(s.get_ref()).map_err(|m| err(Some(s.span()), m))?;
            add(&mut p, Rule::DenyCodePath(cp), &s.span());
        }
        if let Some(s) = &c.max_spawn_p99 {
            let ns = parse_duration(s.get_ref()).map_err(|m| err(Some(s.span()), m))?;
            add(&mut p, Rule::MaxSpawnP99(ns), &s.span());
        }
        p.strict_timing = c.strict_timing.unwrap_or(false);
        p.allow_command_failure = c.allow_command_failure.unwrap_or(false);
        for (exe, limits) in c.exe.iter().flatten() {
            let name = exe.get_ref();
            if name.is_empty() {
                return Err(err(Some(exe.span()), "empty executable name in [check.exe]".into()));
            }
            if let Some(v) = &limits.max_spawns {
                add(&mut p, Rule::MaxSpawns { exe: Some(name.clone()), limit: *v.get_ref() }, &v.span());
            }
            if let Some(v) = &limits.min_spawns {
                add(&mut p, Rule::MinSpawns { exe: Some(name.clone()), limit: *v.get_ref() }, &v.span());
            }
        }
        p.sort_by_origin_line();
        Ok(p)
    }
}

/// The toml crate says "unknown field"; in a config file it is a key.
fn clean_message(m: &str) -> String {
    let m = m.trim().replace("unknown field", "unknown key").replace('\n', " ");
    m.replace("expected one of", "expected one of these keys:")
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Finds the policy file for a project: `spawnscope.toml` in `dir`, else at
/// the root of the git work tree containing `dir` (the nearest ancestor with a
/// `.git` entry). None when neither exists.
pub fn find_policy_file(dir: &Path) -> Option<PathBuf> {
    let here = dir.join(POLICY_FILE_NAME);
    if here.is_file() {
        return Some(here);
    }
    let root = dir.ancestors().find(|a| a.join(".git").exists())?;
    let there = root.join(POLICY_FILE_NAME);
    there.is_file().then_some(there)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spawnscope_analyzer::{CodePath, SpawnStyle};

    fn parse(text: &str) -> Result<Policy, Error> {
        Policy::from_toml_str(text, "spawnscope.toml")
    }

    fn position(e: Error) -> (usize, usize, String) {
        match e {
            Error::Policy { line, column, message, .. } => (line, column, message),
            e => panic!("expected a policy error, got {e:?}"),
        }
    }

    #[test]
    fn every_key_is_read_with_its_line() {
        let p = parse(
            "[check]\n\
             deny-style = [\"fork\", \"vm\"]\n\
             max-spawns = 200\n\
             min-spawns = 1\n\
             max-failed-exec-attempts = 0\n\
             max-env-bytes = 65536\n\
             deny-finding = [\"all\"]\n\
             allow-finding = [\"ss003\"]\n\
             require-code-path = [\"glibc-posix-spawn\"]\n\
             deny-code-path = [\"rust-std-fork-fallback\"]\n\
             max-spawn-p99 = \"5ms\"\n\
             strict-timing = true\n\
             allow-command-failure = true\n\
             [check.exe.git]\n\
             max-spawns = 20\n\
             min-spawns = 2\n",
        )
        .unwrap();
        let rules: Vec<(Rule, usize)> = p
            .rules()
            .iter()
            .map(|r| match &r.origin {
                Origin::File { line, .. } => (r.rule.clone(), *line),
                o => panic!("origin {o:?}"),
            })
            .collect();
        assert_eq!(
            rules,
            vec![
                (Rule::DenyStyle(SpawnStyle::Fork), 2),
                (Rule::DenyStyle(SpawnStyle::Vm), 2),
                (Rule::MaxSpawns { exe: None, limit: 200 }, 3),
                (Rule::MinSpawns { exe: None, limit: 1 }, 4),
                (Rule::MaxFailedExecAttempts(0), 5),
                (Rule::MaxEnvBytes(65536), 6),
                (Rule::DenyFinding("all".into()), 7),
                (Rule::RequireCodePath(CodePath::GlibcPosixSpawn), 9),
                (Rule::DenyCodePath(CodePath::RustStdForkFallback), 10),
                (Rule::MaxSpawnP99(5_000_000), 11),
                (Rule::MaxSpawns { exe: Some("git".into()), limit: 20 }, 15),
                (Rule::MinSpawns { exe: Some("git".into()), limit: 2 }, 16),
            ]
        );
        assert_eq!(p.allowed_findings()[0].0, "SS003");
        assert!(p.strict_timing && p.allow_command_failure);
    }

    #[test]
    fn thresholds_table_is_read_and_checked() {
        let p = parse("[check]\nmax-spawns = 1\n[thresholds]\nenv_bytes = 100\n").unwrap();
        assert_eq!(p.thresholds.as_ref().map(|t| t.env_bytes), Some(100));
        assert_eq!(p.rules().len(), 1);
        let (line, _, msg) = position(parse("[check]\n[thresholds]\nenv_bytez = 1\n").unwrap_err());
        assert_eq!(line, 3);
        assert!(msg.contains("unknown key `env_bytez`"), "{msg}");
    }

    #[test]
    fn a_file_without_check_table_has_no_rules() {
        assert!(parse("").unwrap().is_empty());
        assert!(parse("# nothing yet\n").unwrap().is_empty());
    }

    #[test]
    fn unknown_key_gives_line_and_column() {
        let (line, col, msg) = position(parse("[check]\nmax-spawns = 3\nmax-spawn = 4\n").unwrap_err());
        assert_eq!((line, col), (3, 1));
        assert!(msg.contains("unknown key `max-spawn`"), "{msg}");
        assert!(msg.contains("max-spawns"), "{msg}");
    }

    #[test]
    fn unknown_top_level_table_is_an_error() {
        let (line, _, msg) = position(parse("\n[chek]\nmax-spawns = 1\n").unwrap_err());
        assert_eq!(line, 2);
        assert!(msg.contains("unknown key `chek`"), "{msg}");
    }

    #[test]
    fn unknown_key_in_exe_table() {
        let (line, _, msg) = position(parse("[check.exe.git]\nmax-spawns = 1\nmax-p99 = 2\n").unwrap_err());
        assert_eq!(line, 3);
        assert!(msg.contains("unknown key `max-p99`"), "{msg}");
    }

    #[test]
    fn bad_values_give_line_and_column() {
        let (line, col, msg) = position(parse("[check]\n\nmax-spawns = -1\n").unwrap_err());
        assert_eq!((line, col), (3, 14));
        assert!(msg.contains("-1"), "{msg}");
        let (line, col, msg) = position(parse("[check]\ndeny-style = [\"vfork\", \"spoon\"]\n").unwrap_err());
        assert_eq!((line, col), (2, 24));
        assert!(msg.contains("unknown spawn style \"spoon\""), "{msg}");
        let (line, _, msg) = position(parse("[check]\nrequire-code-path = [\"posix_spawn\"]\n").unwrap_err());
        assert_eq!(line, 2);
        assert!(msg.contains("unknown code path"), "{msg}");
        let (line, _, msg) = position(parse("[check]\nstrict-timing = \"yes\"\n").unwrap_err());
        assert_eq!(line, 2);
        assert!(msg.contains("bool"), "{msg}");
        let (line, _, msg) = position(parse("[check]\ndeny-finding = [\"SS001\", \"SS099\"]\n").unwrap_err());
        assert_eq!(line, 2);
        assert!(msg.contains("unknown finding \"SS099\""), "{msg}");
    }

    #[test]
    fn bad_duration_gives_line() {
        let (line, col, msg) = position(parse("[check]\nmax-spawns = 1\nmax-spawn-p99 = \"5\"\n").unwrap_err());
        assert_eq!((line, col), (3, 17));
        assert!(msg.contains("bad duration \"5\""), "{msg}");
        let (line, _, msg) = position(parse("[check]\nmax-spawn-p99 = 5\n").unwrap_err());
        assert_eq!(line, 2);
        assert!(msg.contains("expected a string"), "{msg}");
    }

    #[test]
    fn toml_syntax_errors_give_line() {
        let (line, _, _) = position(parse("[check]\nmax-spawns = 1\nmax-spawns = 2\n").unwrap_err());
        assert_eq!(line, 3);
        let (line, _, _) = position(parse("[check]\nmax-spawns = \n").unwrap_err());
        assert_eq!(line, 2);
    }

    #[test]
    fn error_display_is_file_line_column() {
        let e = parse("[check]\nmax-spawn = 4\n").unwrap_err();
        assert!(e.to_string().starts_with("spawnscope.toml:2:1: unknown key"), "{e}");
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncdé f", 8), (2, 5));
        assert_eq!(line_col("", 0), (1, 1));
    }

    #[test]
    fn policy_file_is_found_here_or_at_git_root() {
        let d = tempfile::tempdir().unwrap();
        let sub = d.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        assert_eq!(find_policy_file(&sub), None);
        std::fs::create_dir(d.path().join(".git")).unwrap();
        assert_eq!(find_policy_file(&sub), None);
        std::fs::write(d.path().join(POLICY_FILE_NAME), "").unwrap();
        assert_eq!(find_policy_file(&sub), Some(d.path().join(POLICY_FILE_NAME)));
        std::fs::write(sub.join(POLICY_FILE_NAME), "").unwrap();
        assert_eq!(find_policy_file(&sub), Some(sub.join(POLICY_FILE_NAME)));
    }
}
