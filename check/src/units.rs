//! Command lines for people (durations and sizes: `spawnscope_units`).

use spawnscope_format::escape;

/// A command line as a shell would need it typed, with every control
/// character escaped (argv comes from the traced program and may hold
/// terminal escape codes).
///
/// ```
/// use spawnscope_check::quote_argv;
/// assert_eq!(quote_argv(&["sh".into(), "-c".into(), "echo hi".into()]), "sh -c 'echo hi'");
/// assert_eq!(quote_argv(&["printf".into(), "\x1b[2J".into()]), "printf '\\x1b[2J'");
/// ```
pub fn quote_argv(argv: &[String]) -> String {
    let mut out = String::new();
    for (i, a) in argv.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&quote_arg(a));
    }
    out
}

fn quote_arg(a: &str) -> String {
    let e = escape(a);
    let plain = !e.is_empty() && e.chars().all(|c| c.is_alphanumeric() || "-_./:=+,@%^".contains(c)) && e.as_ref() == a;
    if plain {
        e.into_owned()
    } else {
        format!("'{}'", e.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_is_quoted_and_escaped() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(quote_argv(&v(&["git", "status"])), "git status");
        assert_eq!(quote_argv(&v(&["echo", "it's"])), "echo 'it'\\''s'");
        assert_eq!(quote_argv(&v(&["x", ""])), "x ''");
        assert_eq!(quote_argv(&v(&["a\nb"])), "'a\\nb'");
        assert!(!quote_argv(&v(&["\x1b]0;owned\x07"])).contains('\x1b'));
    }
}
