//! JUnit XML: one `<testcase>` per rule; a violated rule is a `<failure>`,
//! a skipped one `<skipped>`, a warning passes with the warning in
//! `<system-out>`. Rendered by GitLab, Jenkins, and GitHub test-report actions.

use std::io::{self, Write};

use super::{offender_line, subject};
use crate::report::{CheckReport, Status};

pub(super) fn write(r: &CheckReport, w: &mut dyn Write) -> io::Result<()> {
    let n = |s| r.with_status(s).count();
    let (tests, failures, skipped) = (r.results.len(), n(Status::Fail), n(Status::Skip));
    let name = xml(&format!("spawnscope check: {}", subject(r)));
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(w, r#"<testsuites name="spawnscope check" tests="{tests}" failures="{failures}" errors="0" skipped="{skipped}">"#)?;
    writeln!(w, r#"  <testsuite name="{name}" tests="{tests}" failures="{failures}" errors="0" skipped="{skipped}">"#)?;
    writeln!(w, "    <properties>")?;
    writeln!(w, r#"      <property name="source" value="{}"/>"#, xml(&r.source))?;
    writeln!(w, r#"      <property name="spawns" value="{}"/>"#, r.spawns)?;
    writeln!(w, r#"      <property name="complete" value="{}"/>"#, r.complete)?;
    if let Some(code) = r.exit_code {
        writeln!(w, r#"      <property name="exit-code" value="{code}"/>"#)?;
    }
    if let Some(p) = &r.policy_file {
        writeln!(w, r#"      <property name="policy" value="{}"/>"#, xml(&p.display().to_string()))?;
    }
    writeln!(w, "    </properties>")?;
    for res in &r.results {
        writeln!(w, r#"    <testcase classname="spawnscope.check" name="{}">"#, xml(&res.title))?;
        let mut body = vec![format!("{}: {} [{}]", res.title, res.message, res.origin)];
        body.extend(res.note.iter().cloned());
        body.extend(res.offenders.iter().map(offender_line));
        if res.offenders_total > res.offenders.len() {
            body.push(format!("... and {} more", res.offenders_total - res.offenders.len()));
        }
        let body = xml(&body.join("\n"));
        match res.status {
            Status::Fail => {
                writeln!(w, r#"      <failure type="{}" message="{}">{body}</failure>"#, xml(&res.rule), xml(&res.message))?
            }
            Status::Skip => writeln!(w, r#"      <skipped message="{}"/>"#, xml(res.note.as_deref().unwrap_or(&res.message)))?,
            Status::Warn => writeln!(w, "      <system-out>warning: {body}</system-out>")?,
            Status::Pass => {}
        }
        writeln!(w, "    </testcase>")?;
    }
    if !r.warnings.is_empty() {
        let text: Vec<String> = r.warnings.iter().map(|x| format!("warning: {x}")).collect();
        writeln!(w, "    <system-err>{}</system-err>", xml(&text.join("\n")))?;
    }
    writeln!(w, "  </testsuite>")?;
    writeln!(w, "</testsuites>")
}

/// Escapes text for an XML attribute or element; characters XML 1.0 does not
/// allow at all (most C0 controls) become `\xNN`.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn xml_escapes_markup_and_controls() {
        assert_eq!(super::xml("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(super::xml("x\x1by\x00"), "x\\x1by\\x00");
        assert_eq!(super::xml("l1\nl2"), "l1&#10;l2");
    }
}
