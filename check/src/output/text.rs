//! Human text: a header, one line per rule, offenders under failures, a verdict.

use std::io::{self, Write};

use spawnscope_format::escape;

use super::{offender_line, subject, verdict};
use crate::policy::Origin;
use crate::report::{CheckReport, Status};

/// Offenders printed per failing rule (the JSON output has up to 20).
const SHOWN: usize = 10;

/// ANSI colours for the statuses and the verdict; the text is the same
/// with or without them (same words, same columns).
struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn status(&self, status: Status, s: &str) -> String {
        let code = match status {
            Status::Pass => "32",
            Status::Fail => "1;31",
            Status::Warn => "33",
            Status::Skip => "2",
        };
        self.wrap(code, s)
    }
}

pub(super) fn write(r: &CheckReport, w: &mut dyn Write, color: bool) -> io::Result<()> {
    let p = Paint(color);
    writeln!(w, "{}", p.wrap("1", &format!("spawnscope check: {}", subject(r))))?;
    let mut facts = vec![crate::format_value(r.spawns, crate::Unit::Spawns)];
    if let Some(p) = &r.policy_file {
        facts.push(format!("policy: {}", escape(&p.display().to_string())));
    }
    writeln!(w, "  {}", facts.join(", "))?;
    for warning in &r.warnings {
        writeln!(w, "{}: {warning}", p.status(Status::Warn, "warning"))?;
    }
    for res in &r.results {
        let tag = match res.status {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::Skip => "SKIP",
        };
        let tag = p.status(res.status, tag);
        match &res.origin {
            Origin::Builtin => writeln!(w, "{tag}  {}: {}", res.title, res.message)?,
            o => writeln!(w, "{tag}  {}: {}  [{}]", res.title, res.message, escape(&o.to_string()))?,
        }
        if let Some(note) = &res.note {
            for line in note.lines() {
                writeln!(w, "        {line}")?;
            }
        }
        for o in res.offenders.iter().take(SHOWN) {
            writeln!(w, "        {}", offender_line(o))?;
        }
        if res.offenders_total > SHOWN.min(res.offenders.len()) {
            writeln!(w, "        ... and {} more", res.offenders_total - SHOWN.min(res.offenders.len()))?;
        }
    }
    let status = if r.passed() { Status::Pass } else { Status::Fail };
    writeln!(w, "{}", p.status(status, &verdict(r)))
}
