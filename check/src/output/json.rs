//! JSON: the report with a verdict, for scripts.

use std::io::{self, Write};

use serde::Serialize;

use crate::report::{CheckReport, Status};

#[derive(Serialize)]
struct Out<'a> {
    passed: bool,
    /// Exit code of `spawnscope check` (`exit_code` is the command's).
    check_exit_code: i32,
    counts: Counts,
    #[serde(flatten)]
    report: &'a CheckReport,
}

#[derive(Serialize)]
struct Counts {
    pass: usize,
    fail: usize,
    warn: usize,
    skip: usize,
}

pub(super) fn write(r: &CheckReport, w: &mut dyn Write) -> io::Result<()> {
    let n = |s| r.with_status(s).count();
    let out = Out {
        passed: r.passed(),
        check_exit_code: r.exit_code(),
        counts: Counts { pass: n(Status::Pass), fail: n(Status::Fail), warn: n(Status::Warn), skip: n(Status::Skip) },
        report: r,
    };
    serde_json::to_writer_pretty(&mut *w, &out).map_err(io::Error::other)?;
    writeln!(w)
}
