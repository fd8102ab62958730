//! GitHub Actions workflow commands: `::error` per violated rule, `::warning`
//! per warning, pointing at the policy file's line when the rule came from
//! one. Passing rules are plain log lines.
//! <https://docs.github.com/en/actions/reference/workflow-commands-for-github-actions>

use std::io::{self, Write};

use super::{offender_line, subject, verdict};
use crate::policy::Origin;
use crate::report::{CheckReport, RuleResult, Status};

pub(super) fn write(r: &CheckReport, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "spawnscope check: {}", data(&subject(r)))?;
    for warning in &r.warnings {
        writeln!(w, "::warning title=spawnscope check::{}", data(warning))?;
    }
    for res in &r.results {
        match res.status {
            Status::Fail => annotation(w, "error", res)?,
            Status::Warn => annotation(w, "warning", res)?,
            Status::Skip => writeln!(w, "skipped: {}: {}", data(&res.title), data(res.note.as_deref().unwrap_or("")))?,
            Status::Pass => writeln!(w, "pass: {}: {}", data(&res.title), data(&res.message))?,
        }
    }
    writeln!(w, "{}", data(&verdict(r)))
}

fn annotation(w: &mut dyn Write, level: &str, res: &RuleResult) -> io::Result<()> {
    let mut props = Vec::new();
    if let Origin::File { path, line } = &res.origin {
        props.push(format!("file={}", property(&path.display().to_string())));
        props.push(format!("line={line}"));
    }
    props.push(format!("title={}", property(&format!("spawnscope check: {}", res.title))));
    let mut lines = vec![res.message.clone()];
    lines.extend(res.note.iter().cloned());
    lines.extend(res.offenders.iter().take(10).map(offender_line));
    if res.offenders_total > 10.min(res.offenders.len()) {
        lines.push(format!("... and {} more", res.offenders_total - 10.min(res.offenders.len())));
    }
    writeln!(w, "::{level} {}::{}", props.join(","), data(&lines.join("\n")))
}

/// Escapes a command's message (GitHub's `escapeData`).
fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value (GitHub's `escapeProperty`).
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    #[test]
    fn workflow_command_escaping() {
        assert_eq!(super::data("50%\nnext"), "50%25%0Anext");
        assert_eq!(super::property("a:b,c"), "a%3Ab%2Cc");
    }
}
