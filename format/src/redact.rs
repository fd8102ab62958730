//! Masking secrets in command lines before they reach a trace file.
//!
//! Traces travel (from a cluster node to a laptop, into a bug report, into
//! CI artifacts), and command lines carry secrets. A [`Redactor`] masks
//! argv values that look like secrets with [`MASK`]; the tracer applies it
//! to every exec record and to the header's command at record time (on by
//! default, `--no-redact` turns it off, `--redact REGEX` adds patterns), and
//! `spawnscope redact` applies it to an existing trace. The header says
//! which rules were applied ([`RedactionInfo`]).
//!
//! Built-in rules ([`BUILTIN_RULES`]), applied to every argv string except
//! the program name (argv[0], which the analysis needs):
//!
//! - `secret-option`: the value after an option whose name names a secret
//!   (`--password X`, `--token X`, `-storepass X`, `--client-secret X`,
//!   `--api-key X`, ...), and `curl -u user:PASS` / `--user user:PASS`;
//! - `secret-assignment`: `NAME=VALUE` and `--NAME=VALUE` where NAME names a
//!   secret (`--password=X`, `GITHUB_TOKEN=X`, `-Djavax.net.ssl.keyStorePassword=X`);
//! - `url-credentials`: the password in `scheme://user:PASS@host`, and a
//!   long token used as the user (`https://TOKEN@host`);
//! - `secret-header`: the value of `Authorization:`, `Proxy-Authorization:`,
//!   `Cookie:` and other headers whose name names a secret (`-H 'X-Api-Key: X'`).
//!
//! A name "names a secret" when one of its words (split at `-`, `_`, `.`
//! and lower-to-upper case changes) is or ends in password, passwd,
//! passphrase, secret, token, pass, auth, credential(s), cookie, or is one
//! of api/access/private/secret/signing key; unless its last word says it is
//! about the secret rather than the secret itself (`--password-file`,
//! `--token-url`, `--max-token`, `--no-password`, `--password-stdin`).
//! Options inside a shell command string (`sh -c 'mysql --password=X'`) are
//! masked too. This is best effort: a secret passed positionally or with a
//! short option (`mysql -pX`) is not recognised; add a `--redact` pattern.
//!
//! ```
//! use spawnscope_format::{Redactor, MASK};
//! let r = Redactor::new();
//! let mut argv: Vec<String> = ["prog", "--password", "hunter2", "https://user:pw@host/x"]
//!     .iter().map(|s| s.to_string()).collect();
//! assert_eq!(r.redact_argv(&mut argv), 2);
//! assert_eq!(argv, ["prog", "--password", MASK, "https://user:<redacted>@host/x"]);
//! ```

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::{Captures, Regex};
use serde::{Deserialize, Serialize};

use crate::envhash::{EnvKey, EnvSummary};
use crate::event::Record;

/// What a masked value is replaced by.
pub const MASK: &str = "<redacted>";

/// Names of the built-in rules, as listed in [`RedactionInfo::rules`].
pub const BUILTIN_RULES: [&str; 4] = ["secret-option", "secret-assignment", "url-credentials", "secret-header"];

/// What the header says about redaction (`header.redaction`, format 1.1).
/// Absent in older traces and in traces written by other tools: nothing is
/// known about redaction then.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedactionInfo {
    /// Built-in rules applied ([`BUILTIN_RULES`]); empty with `--no-redact`.
    #[serde(default)]
    pub rules: Vec<String>,
    /// How many `--redact` patterns were applied. The patterns themselves are
    /// not stored: they may contain what they hide.
    #[serde(default)]
    pub custom_patterns: u32,
    /// Only program names were kept (`spawnscope redact --drop-argv`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub argv_dropped: bool,
    /// Environment values were removed (`spawnscope redact`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub env_values_dropped: bool,
    /// Applied to an existing trace by `spawnscope redact` (not at record time).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub after_recording: bool,
}

/// Why a redaction pattern was refused.
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    #[error("--redact pattern {pattern:?} is not a valid regular expression: {source}")]
    BadPattern {
        pattern: String,
        #[source]
        source: Box<regex::Error>,
    },
}

/// Masks secrets in argv strings. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Redactor {
    builtin: bool,
    custom: Vec<Regex>,
    drop_argv: bool,
}

impl Default for Redactor {
    fn default() -> Self {
        Self::new()
    }
}

impl Redactor {
    /// The built-in rules (the default when recording).
    pub fn new() -> Redactor {
        Redactor { builtin: true, custom: Vec::new(), drop_argv: false }
    }

    /// No rule at all (`--no-redact`); patterns may still be added.
    pub fn none() -> Redactor {
        Redactor { builtin: false, custom: Vec::new(), drop_argv: false }
    }

    /// Adds a pattern (`--redact REGEX`): every match in an argv string is
    /// masked, or only its first capture group when it has one
    /// (`--redact 'key=(\S+)'` keeps `key=`).
    pub fn with_pattern(mut self, pattern: &str) -> Result<Redactor, RedactError> {
        let re =
            Regex::new(pattern).map_err(|e| RedactError::BadPattern { pattern: pattern.to_string(), source: Box::new(e) })?;
        self.custom.push(re);
        Ok(self)
    }

    /// Keeps only the program name of every command line (argv[0]).
    pub fn drop_argv(mut self, yes: bool) -> Redactor {
        self.drop_argv = yes;
        self
    }

    /// Whether this redactor can change anything.
    pub fn is_active(&self) -> bool {
        self.builtin || self.drop_argv || !self.custom.is_empty()
    }

    /// What the header says about this redactor.
    pub fn info(&self) -> RedactionInfo {
        RedactionInfo {
            rules: if self.builtin { BUILTIN_RULES.iter().map(|s| s.to_string()).collect() } else { Vec::new() },
            custom_patterns: self.custom.len() as u32,
            argv_dropped: self.drop_argv,
            ..RedactionInfo::default()
        }
    }

    /// Masks secrets in a command line in place (argv[0] is kept); returns
    /// how many values were masked (or dropped).
    pub fn redact_argv(&self, argv: &mut Vec<String>) -> usize {
        if argv.len() <= 1 {
            return 0;
        }
        if self.drop_argv {
            let n = argv.len() - 1;
            argv.truncate(1);
            return n;
        }
        let curl = basename(&argv[0]) == "curl";
        let mut masked = 0;
        let mut next = Next::Keep;
        for arg in argv.iter_mut().skip(1) {
            let before = std::mem::replace(&mut next, Next::Keep);
            if self.builtin {
                match before {
                    Next::Mask if !is_long_option(arg) => {
                        if arg != MASK {
                            *arg = MASK.to_string();
                        }
                        masked += 1;
                        continue;
                    }
                    Next::MaskAfterColon => {
                        if let Some(i) = arg.find(':') {
                            if arg[i + 1..] != *MASK {
                                arg.replace_range(i + 1.., MASK);
                            }
                            masked += 1;
                            continue;
                        }
                    }
                    _ => {}
                }
                if is_secret_option(arg) {
                    next = Next::Mask;
                } else if curl && matches!(arg.as_str(), "-u" | "--user" | "-U" | "--proxy-user") {
                    next = Next::MaskAfterColon;
                }
                masked += redact_builtin(arg);
            }
            masked += self.redact_custom(arg);
        }
        masked
    }

    /// Masks secrets in one string that is not part of a command line
    /// (a captured `KEY=VALUE` environment string): assignments and
    /// patterns only.
    pub fn redact_string(&self, s: &mut String) -> usize {
        let mut n = 0;
        if self.builtin {
            n += redact_builtin(s);
        }
        n + self.redact_custom(s)
    }

    fn redact_custom(&self, s: &mut String) -> usize {
        let mut n = 0;
        for re in &self.custom {
            let out = re.replace_all(s, |c: &Captures| {
                n += 1;
                let whole = c.get(0).expect("group 0");
                match c.get(1) {
                    Some(g) => {
                        let (a, b) = (g.start() - whole.start(), g.end() - whole.start());
                        format!("{}{MASK}{}", &whole.as_str()[..a], &whole.as_str()[b..])
                    }
                    None => MASK.to_string(),
                }
            });
            if let Cow::Owned(o) = out {
                *s = o;
            }
        }
        n
    }

    /// Applies the redactor to one record: the header's command (and its
    /// `redaction` field), an exec's argv and captured environment values.
    /// Returns how many values were masked.
    pub fn apply(&self, rec: &mut Record) -> usize {
        match rec {
            Record::Header(h) => {
                h.redaction = Some(self.info());
                self.redact_argv(&mut h.command)
            }
            Record::Exec(e) => {
                let mut n = self.redact_argv(&mut e.argv);
                if let Some(env) = e.env.as_mut() {
                    n += env.iter_mut().map(|v| self.redact_string(v)).sum::<usize>();
                }
                n
            }
            _ => 0,
        }
    }
}

/// What happens to the next argv string.
enum Next {
    Keep,
    Mask,
    MaskAfterColon,
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// `--something` (not `--` alone): after a secret option it means the
/// option had no value.
fn is_long_option(s: &str) -> bool {
    s.len() > 2 && s.starts_with("--")
}

/// `--password`, `-storepass`, `--api-key`: a whole argv string that is an
/// option naming a secret (without `=`).
fn is_secret_option(arg: &str) -> bool {
    let Some(name) = arg.strip_prefix('-') else { return false };
    let name = name.strip_prefix('-').unwrap_or(name);
    !name.is_empty()
        && !name.contains('=')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && names_secret(name)
}

/// Splits a name into lowercase words at `-`, `_`, `.` and camelCase.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether an option or variable name names a secret value.
pub fn names_secret(name: &str) -> bool {
    const ABOUT: &[&str] = &[
        "file",
        "files",
        "path",
        "dir",
        "directory",
        "fd",
        "stdin",
        "env",
        "var",
        "cmd",
        "command",
        "prompt",
        "helper",
        "url",
        "uri",
        "endpoint",
        "type",
        "mode",
        "method",
        "id",
        "name",
        "length",
        "len",
        "min",
        "max",
        "limit",
        "count",
        "size",
        "ttl",
        "timeout",
        "expiry",
        "expires",
        "lifetime",
        "required",
        "policy",
        "hash",
        "enabled",
        "disabled",
        "store",
    ];
    const NOT: &[&str] = &["no", "skip", "disable", "without", "allow", "ask", "max", "num", "min"];
    const KEY_KINDS: &[&str] = &["api", "access", "private", "secret", "signing", "encryption", "master", "session"];
    let w = words(name);
    let Some(last) = w.last() else { return false };
    if w.len() > 1 && (ABOUT.contains(&last.as_str()) || NOT.contains(&w[0].as_str())) {
        return false;
    }
    w.iter().enumerate().any(|(i, x)| {
        let x = x.as_str();
        x.contains("password")
            || x.contains("passwd")
            || x.contains("passphrase")
            || x.starts_with("secret")
            || x.ends_with("secret")
            || x.ends_with("token")
            || (x.ends_with("pass") && !matches!(x, "bypass" | "compass" | "encompass" | "surpass" | "overpass" | "underpass"))
            || matches!(x, "passin" | "passout" | "pwd" | "credential" | "credentials" | "creds" | "cookie")
            || x.ends_with("apikey")
            || x.ends_with("accesskey")
            || x.ends_with("privatekey")
            || x.ends_with("secretkey")
            || x == "auth"
            || x == "oauth"
            || x == "authorization"
            || (x == "key" && i > 0 && KEY_KINDS.contains(&w[i - 1].as_str()))
    }) && !matches!(last.as_str(), "pwd" if w.len() == 1)
}

struct Rules {
    whole_assignment: Regex,
    assignment: Regex,
    option_value: Regex,
    url_password: Regex,
    url_token: Regex,
    header: Regex,
}

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        // A value in a shell string: quoted, or a word (not an option).
        let value = r#"(?:'[^']*'|"[^"]*"|[^\s;&|)'"`\-][^\s;&|)'"`]*)"#;
        let re = |s: &str| Regex::new(s).expect("built-in redaction pattern");
        Rules {
            whole_assignment: re(r"^(-{0,2}[A-Za-z_][A-Za-z0-9_.\-]*=)(.+)$"),
            assignment: re(&format!(r#"(^|[\s;&|(`'"])(-{{0,2}}[A-Za-z_][A-Za-z0-9_.\-]*=)({value})"#)),
            option_value: re(&format!(r#"(^|[\s;&|(`'"])(--?[A-Za-z][A-Za-z0-9_.\-]*)(\s+)({value})"#)),
            url_password: re(r#"([A-Za-z][A-Za-z0-9+.\-]*://)([^\s/:@'"]*):([^\s/@'"]+)@"#),
            url_token: re(r#"([A-Za-z][A-Za-z0-9+.\-]*://)([^\s/:@'"]{16,})@"#),
            header: re(
                r#"(?i)((?:^|[\s'"=])[A-Za-z0-9\-]*(?:authorization|api-?key|token|secret|password|cookie)\s*:\s*)((?:bearer|basic|token|digest|negotiate|apikey)\s+)?([^\s'"][^'"\r\n]*)"#,
            ),
        }
    })
}

fn assigned_name(s: &str) -> &str {
    s.trim_start_matches('-').trim_end_matches('=')
}

/// The built-in rules that work inside one string. Returns how many values
/// were masked.
fn redact_builtin(s: &mut String) -> usize {
    let r = rules();
    let mut n = 0;
    // `--password=a b`: the whole rest of the string is the value.
    if let Some(c) = r.whole_assignment.captures(s) {
        if names_secret(assigned_name(&c[1])) {
            if &c[2] != MASK {
                *s = format!("{}{MASK}", &c[1]);
            }
            return 1;
        }
    }
    let replace = |re: &Regex, s: &mut String, f: &dyn Fn(&Captures) -> Option<String>| {
        let mut hit = 0;
        let out = re.replace_all(s, |c: &Captures| match f(c) {
            Some(x) => {
                hit += 1;
                x
            }
            None => c[0].to_string(),
        });
        if let Cow::Owned(o) = out {
            if o != *s {
                *s = o;
            }
        }
        hit
    };
    n += replace(&r.url_password, s, &|c| Some(format!("{}{}:{MASK}@", &c[1], &c[2])).filter(|_| &c[3] != MASK));
    n += replace(&r.url_token, s, &|c| Some(format!("{}{MASK}@", &c[1])).filter(|_| &c[2] != MASK));
    n += replace(&r.header, s, &|c| {
        let scheme = c.get(2).map_or("", |m| m.as_str());
        (&c[3] != MASK).then(|| format!("{}{scheme}{MASK}", &c[1]))
    });
    if s.contains(char::is_whitespace) || s.contains(';') {
        n += replace(&r.assignment, s, &|c| {
            (names_secret(assigned_name(&c[2])) && &c[3] != MASK).then(|| format!("{}{}{MASK}", &c[1], &c[2]))
        });
        n += replace(&r.option_value, s, &|c| {
            let name = c[2].trim_start_matches('-');
            (names_secret(name) && &c[4] != MASK && !is_long_option(&c[4])).then(|| format!("{}{}{}{MASK}", &c[1], &c[2], &c[3]))
        });
    }
    n
}

/// Redaction and the env-hash key of one recording: what the tracer (and
/// the strace importer) apply to every record they emit.
#[derive(Debug, Clone)]
pub struct Privacy {
    key: EnvKey,
    redactor: Redactor,
}

impl Privacy {
    pub fn new(key: EnvKey, redactor: Redactor) -> Privacy {
        Privacy { key, redactor }
    }

    /// The stored `env_hash` of an environment under this recording's key.
    pub fn env_hash(&self, env: &EnvSummary) -> String {
        self.key.hash(env)
    }

    pub fn key(&self) -> &EnvKey {
        &self.key
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Redacts a record ([`Redactor::apply`]) and, for the header, records
    /// the env-hash key id.
    pub fn apply(&self, rec: &mut Record) -> usize {
        if let Record::Header(h) = rec {
            h.env_hash = Some(self.key.info());
        }
        self.redactor.apply(rec)
    }
}

/// What [`redact_trace`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedactSummary {
    /// Lines written (header and end included).
    pub lines: u64,
    /// Values masked or argv strings dropped.
    pub masked: u64,
    /// Exec records whose argv or environment changed.
    pub execs_changed: u64,
    /// Exec records whose captured environment values were dropped.
    pub env_dropped: u64,
    /// Lines of kinds this version does not know, left out (they might hold
    /// anything).
    pub unknown_dropped: u64,
    /// Whether the input had its end line (else the output has none either).
    pub complete: bool,
}

/// Why [`redact_trace`] failed.
#[derive(Debug, thiserror::Error)]
pub enum RedactTraceError {
    #[error(transparent)]
    Read(#[from] crate::ReadError),
    #[error(transparent)]
    Write(#[from] crate::WriteError),
}

/// Scrubs an existing trace for sharing (`spawnscope redact`): applies
/// `redactor` to the header's command and every exec's argv, drops
/// captured environment values, and passes every other record through
/// unchanged (spawns, exits, stacks, modules, symbols), so the analysis
/// reports the same spawn counts, styles, code paths and call sites. Lines
/// of unknown kinds are left out. The header's `redaction` says what was
/// done; an input cut short gives an output without end line.
pub fn redact_trace<R: std::io::BufRead, W: std::io::Write>(
    mut reader: crate::TraceReader<R>,
    writer: &mut crate::TraceWriter<W>,
    redactor: &Redactor,
) -> Result<RedactSummary, RedactTraceError> {
    let mut sum = RedactSummary::default();
    let mut header = Record::Header(reader.header().clone());
    sum.masked += redactor.apply(&mut header) as u64;
    if let Record::Header(h) = &mut header {
        let mut info = redactor.info();
        info.after_recording = true;
        info.env_values_dropped = true;
        h.redaction = Some(info);
    }
    writer.write_record(&header)?;
    sum.lines += 1;
    while let Some((_, mut rec)) = reader.next_record()? {
        if let Record::Exec(e) = &mut rec {
            let before = e.argv.clone();
            let n = redactor.redact_argv(&mut e.argv) as u64;
            let dropped = e.env.take().is_some();
            sum.masked += n;
            sum.env_dropped += u64::from(dropped);
            sum.execs_changed += u64::from(dropped || e.argv != before);
        }
        if let Record::End(end) = &mut rec {
            end.counts = writer.counts().clone();
            sum.complete = true;
        }
        writer.write_record(&rec)?;
        sum.lines += 1;
    }
    sum.unknown_dropped = reader.warnings().iter().filter(|w| matches!(w, crate::ReadWarning::UnknownKind { .. })).count() as u64;
    writer.flush()?;
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn red(args: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        Redactor::new().redact_argv(&mut v);
        v
    }

    #[test]
    fn secret_names() {
        for yes in [
            "password",
            "passwd",
            "db-password",
            "DB_PASSWORD",
            "token",
            "GITHUB_TOKEN",
            "id-token",
            "secret",
            "client_secret",
            "api-key",
            "apikey",
            "API_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "storepass",
            "keypass",
            "passin",
            "auth",
            "oauth-token",
            "Djavax.net.ssl.keyStorePassword",
            "accessToken",
            "credentials",
            "cookie",
            "pass",
        ] {
            assert!(names_secret(yes), "{yes}");
        }
        for no in [
            "password-file",
            "token-url",
            "max-tokens",
            "tokens",
            "no-password",
            "password-stdin",
            "tokenizer",
            "author",
            "bypass",
            "key",
            "keyfile",
            "PASSWORD_FILE",
            "user",
            "output",
            "pwd-dir",
            "auth-type",
            "compass",
            "max-token",
        ] {
            assert!(!names_secret(no), "{no}");
        }
    }

    #[test]
    fn options_and_assignments() {
        assert_eq!(red(&["p", "--password", "hunter2", "x"]), ["p", "--password", MASK, "x"]);
        assert_eq!(red(&["p", "--password=hunter 2"]), ["p", &format!("--password={MASK}")]);
        assert_eq!(red(&["p", "--token", "--verbose"]), ["p", "--token", "--verbose"]);
        assert_eq!(red(&["make", "NPM_TOKEN=abc", "CC=gcc"]), ["make", &format!("NPM_TOKEN={MASK}"), "CC=gcc"]);
        assert_eq!(red(&["keytool", "-storepass", "changeit"]), ["keytool", "-storepass", MASK]);
        assert_eq!(red(&["curl", "-u", "me:pw", "-o", "x"]), ["curl", "-u", &format!("me:{MASK}"), "-o", "x"]);
        assert_eq!(red(&["rsync", "-u", "host:path"]), ["rsync", "-u", "host:path"]);
        assert_eq!(red(&["--password", "argv0-is-kept"]), ["--password", "argv0-is-kept"]);
    }

    #[test]
    fn urls_and_headers() {
        assert_eq!(red(&["git", "clone", "https://user:pw@host/r"]), ["git", "clone", &format!("https://user:{MASK}@host/r")]);
        assert_eq!(
            red(&["git", "clone", "https://ghp_0123456789abcdefghij@github.com/r"]),
            ["git", "clone", &format!("https://{MASK}@github.com/r")]
        );
        assert_eq!(red(&["ssh", "ssh://git@host/r"]), ["ssh", "ssh://git@host/r"]);
        assert_eq!(
            red(&["curl", "-H", "Authorization: Bearer abc.def"]),
            ["curl", "-H", &format!("Authorization: Bearer {MASK}")]
        );
        assert_eq!(red(&["curl", "-H", "X-Api-Key: k"]), ["curl", "-H", &format!("X-Api-Key: {MASK}")]);
        assert_eq!(red(&["curl", "-H", "Accept: text/html"]), ["curl", "-H", "Accept: text/html"]);
    }

    #[test]
    fn shell_strings() {
        let v = red(&["sh", "-c", "mysql --password=s3cret -h db && TOKEN=abc ./run --token 'x y' --out f"]);
        assert_eq!(v[2], format!("mysql --password={MASK} -h db && TOKEN={MASK} ./run --token {MASK} --out f"));
        let v = red(&["sh", "-c", "curl -H 'Authorization: Basic QQ==' https://a:b@h/"]);
        assert_eq!(v[2], format!("curl -H 'Authorization: Basic {MASK}' https://a:{MASK}@h/"));
    }

    #[test]
    fn idempotent() {
        let once = red(&["sh", "-c", "x --password=a https://u:p@h", "--token", "t", "K_SECRET=v", "https://u:p@h"]);
        let refs: Vec<&str> = once.iter().map(String::as_str).collect();
        assert_eq!(red(&refs), once);
    }

    #[test]
    fn custom_patterns_and_drop() {
        let r = Redactor::none().with_pattern(r"sk-[a-z0-9]+").unwrap().with_pattern(r"id=(\d+)").unwrap();
        let mut v: Vec<String> = ["p", "use sk-abc1 now", "id=42", "--password", "x"].iter().map(|s| s.to_string()).collect();
        assert_eq!(r.redact_argv(&mut v), 2);
        assert_eq!(v, ["p", &format!("use {MASK} now"), &format!("id={MASK}"), "--password", "x"]);
        assert_eq!(r.info().rules.len(), 0);
        assert_eq!(r.info().custom_patterns, 2);
        assert!(Redactor::none().with_pattern("(").is_err());
        let mut v: Vec<String> = ["/bin/p", "a", "b"].iter().map(|s| s.to_string()).collect();
        assert_eq!(Redactor::new().drop_argv(true).redact_argv(&mut v), 2);
        assert_eq!(v, ["/bin/p"]);
    }
}
