//! The JSON report: a stable, documented layout built from the analysis (not
//! the analysis structs serialised as they are, so those can evolve). It is
//! streamed: spawns and processes are serialised one by one straight to the
//! output, never held as a JSON tree (a trace of a million events has a
//! quarter of a million spawns).

use std::collections::BTreeMap;

use std::cell::RefCell;
use std::io::Write as _;

use serde::ser::{Error as _, Serialize, SerializeSeq, Serializer};
use serde::Serialize as DeriveSerialize;
use serde_json::Value;
use spawnscope_analyzer::origin::{Origin, Origins};
use spawnscope_analyzer::spill::SpillIter;
use spawnscope_analyzer::{
    group_by, Analysis, ExecAttempt, Finding, Group, GroupBy, LatencyStats, Process, Spawn, Summary, Thresholds,
};
use spawnscope_format::flags::{errno_name, CLONE_FLAGS};
use spawnscope_format::{HostFacts, Nanos, PtraceEvent};

use crate::{Options, TRACING_NOTE};

/// Version of the JSON layout.
pub const REPORT_VERSION: u32 = 1;

/// The whole JSON report as a value (convenient for small analyses; the CLI
/// streams instead, see [`crate::write`]).
pub fn to_json(a: &Analysis, opts: &Options) -> Value {
    serde_json::to_value(Report::new(a, opts)).expect("the report serialises")
}

/// Writes the report to `out` without building it in memory first.
pub(crate) fn write(out: &mut dyn std::io::Write, a: &Analysis, opts: &Options) -> std::io::Result<()> {
    // A buffer of a known type: the serializer's many small writes (a
    // bracket, a key, an indent) are then copies, not calls through `dyn`.
    let mut buf = std::io::BufWriter::with_capacity(1 << 16, out);
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, Pretty::default());
    Report::new(a, opts).serialize(&mut ser).map_err(std::io::Error::from)?;
    buf.write_all(b"\n")?;
    buf.flush()
}

/// serde_json's `PrettyFormatter` with a two-space indent, byte for byte,
/// writing each line break and its indent in one go (instead of one write
/// per level: a million-spawn report has a hundred million of them).
#[derive(Default)]
struct Pretty {
    depth: usize,
    has_value: bool,
    /// `",\n"` and then spaces for the deepest level seen so far.
    breaks: Vec<u8>,
}

impl Pretty {
    /// A line break (after a comma unless `first`) and the current indent.
    fn line<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        let end = 2 + 2 * self.depth;
        if self.breaks.len() < end {
            self.breaks.clear();
            self.breaks.extend_from_slice(b",\n");
            self.breaks.resize(end + 16, b' ');
        }
        w.write_all(&self.breaks[usize::from(first)..end])
    }

    fn open<W: ?Sized + std::io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + std::io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.line(w, true)?;
        }
        w.write_all(bracket)
    }
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.line(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.line(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// A spawn's clone flags by name, as [`spawnscope_format::flags::clone_flag_names`] names them,
/// without a string per name.
struct FlagNames(u64);

impl Serialize for FlagNames {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        let mut rest = self.0;
        for &(bit, name) in CLONE_FLAGS {
            if self.0 & bit != 0 {
                seq.serialize_element(name)?;
                rest &= !bit;
            }
        }
        if rest != 0 {
            seq.serialize_element(&format!("{rest:#x}"))?;
        }
        seq.end()
    }
}

#[derive(DeriveSerialize)]
struct Report<'a> {
    report_version: u32,
    source: Option<&'a str>,
    /// The `--exe/--pid/--since/--until` selection the report covers, if any.
    selection: Option<&'a str>,
    note: &'static str,
    trace: TraceView<'a>,
    summary: SummaryView<'a>,
    groups: BTreeMap<String, Vec<GroupView>>,
    processes: Either<Seq<'a, Process, Nanos, ProcessView<'a>>, SpilledProcesses>,
    spawns: Either<Seq<'a, Spawn, &'a Origins, SpawnView<'a>>, SpilledSpawns<'a>>,
    findings: Seq<'a, Finding, &'a Analysis, FindingView<'a>>,
    /// Spawns by call site, and why spawns have no `origin` (issue 10).
    call_sites: crate::callsites::CallSitesJson,
    warnings: &'a [String],
    thresholds: &'a Thresholds,
}

impl<'a> Report<'a> {
    fn new(a: &'a Analysis, opts: &'a Options) -> Report<'a> {
        let h = &a.header;
        let groups = GroupBy::ALL
            .iter()
            .map(|&by| {
                let mut v: Vec<GroupView> = group_by(a, by).into_iter().map(GroupView::from).collect();
                if by == GroupBy::Executable {
                    name_executables(&mut v);
                }
                (by.as_str().replace('-', "_"), v)
            })
            .collect();
        let end = a.summary.duration_ns;
        Report {
            report_version: REPORT_VERSION,
            source: opts.source.as_deref(),
            selection: opts.selection.as_deref(),
            note: TRACING_NOTE,
            trace: TraceView {
                format_version: &h.format_version,
                tool_version: &h.tool_version,
                command: &h.command,
                cwd: &h.cwd,
                start_unix_ns: h.start_unix_ns,
                host: &h.host,
                tracer_mode: h.tracer.mode.as_str(),
                source: h.source.as_deref(),
                complete: a.complete,
            },
            summary: SummaryView::from(&a.summary),
            groups,
            processes: match a.aggregate.as_ref().and_then(|ag| ag.processes()) {
                Some(it) => Either::B(SpilledProcesses(RefCell::new(Some(it)), end)),
                None => Either::A(Seq(&a.processes, end, ProcessView::new)),
            },
            spawns: match a.aggregate.as_ref().and_then(|ag| ag.spawns()) {
                Some(it) => Either::B(SpilledSpawns(RefCell::new(Some(it)), &a.origins)),
                None => Either::A(Seq(&a.spawns, &a.origins, |s, o| SpawnView { origin: o.of(s), ..SpawnView::from(s) })),
            },
            findings: Seq(&a.findings, a, |f, a| FindingView {
                call_sites: crate::callsites::finding_sites(a, f),
                ..FindingView::new(f, a.summary.recording_ns)
            }),
            call_sites: crate::callsites::json(a),
            warnings: &a.warnings,
            thresholds: &a.thresholds,
        }
    }
}

/// A slice serialised element by element through a view (with a shared
/// context value, e.g. the end of the recording).
struct Seq<'a, T, C: Copy, V>(&'a [T], C, fn(&'a T, C) -> V);

impl<'a, T, C: Copy, V: Serialize> Serialize for Seq<'a, T, C, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ctx = self.1;
        s.collect_seq(self.0.iter().map(|x| (self.2)(x, ctx)))
    }
}

/// One of two ways to serialise a list.
enum Either<A, B> {
    A(A),
    B(B),
}

impl<A: Serialize, B: Serialize> Serialize for Either<A, B> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Either::A(a) => a.serialize(s),
            Either::B(b) => b.serialize(s),
        }
    }
}

/// The spawns of a bounded analysis, read back from its spill file one by one.
struct SpilledSpawns<'a>(RefCell<Option<SpillIter<Spawn>>>, &'a Origins);

impl Serialize for SpilledSpawns<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for item in self.0.borrow_mut().take().into_iter().flatten() {
            let sp = item.map_err(S::Error::custom)?;
            seq.serialize_element(&SpawnView { origin: self.1.of(&sp), ..SpawnView::from(&sp) })?;
        }
        seq.end()
    }
}

/// The processes of a bounded analysis, read back from its spill file.
struct SpilledProcesses(RefCell<Option<SpillIter<Process>>>, Nanos);

impl Serialize for SpilledProcesses {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for item in self.0.borrow_mut().take().into_iter().flatten() {
            let p = item.map_err(S::Error::custom)?;
            seq.serialize_element(&ProcessView::new(&p, self.1))?;
        }
        seq.end()
    }
}

/// Executables are grouped by full path; `name` is the basename and
/// `same_name` how many distinct paths share it (8 `build-script-build`s).
fn name_executables(v: &mut [GroupView]) {
    let mut counts: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for g in v.iter() {
        *counts.entry(spawnscope_analyzer::basename(&g.key).to_string()).or_default() += 1;
    }
    for g in v.iter_mut() {
        let name = spawnscope_analyzer::basename(&g.key).to_string();
        g.same_name = counts.get(&name).copied();
        g.name = Some(name);
    }
}

#[derive(DeriveSerialize)]
struct TraceView<'a> {
    format_version: &'a str,
    tool_version: &'a str,
    command: &'a [String],
    cwd: &'a str,
    start_unix_ns: u64,
    host: &'a HostFacts,
    tracer_mode: &'static str,
    source: Option<&'a str>,
    complete: bool,
}

#[derive(DeriveSerialize)]
struct SummaryView<'a> {
    spawns: u64,
    threads: u64,
    processes: u64,
    styles: &'a BTreeMap<String, u64>,
    code_paths: &'a BTreeMap<String, u64>,
    exec_attempts: u64,
    failed_exec_attempts: u64,
    failed_exec_ns: Nanos,
    path_search_spawns: u64,
    exec_failed_spawns: u64,
    env_count_max: u64,
    env_bytes_max: u64,
    env_bytes_mean: u64,
    env_bytes_total: u64,
    latency: LatencyView,
    duration_ns: Nanos,
    spawn_rate: f64,
    max_in_flight: u32,
    failed_clones: u64,
    style_mismatches: u64,
    exit_code: Option<i32>,
    recording_ns: Nanos,
    spawn_blocked_ns: Nanos,
    spawn_blocked_share: f64,
    spawn_blocked_total_ns: Nanos,
    failed_processes: u64,
    timeline: TimelineView<'a>,
}

#[derive(DeriveSerialize)]
struct TimelineView<'a> {
    bucket_ns: Nanos,
    counts: &'a [u64],
}

impl<'a> From<&'a Summary> for SummaryView<'a> {
    fn from(s: &'a Summary) -> Self {
        SummaryView {
            spawns: s.spawns,
            threads: s.threads,
            processes: s.processes,
            styles: &s.styles,
            code_paths: &s.code_paths,
            exec_attempts: s.exec_attempts,
            failed_exec_attempts: s.failed_exec_attempts,
            failed_exec_ns: s.failed_exec_ns,
            path_search_spawns: s.path_search_spawns,
            exec_failed_spawns: s.exec_failed_spawns,
            env_count_max: s.env_count_max,
            env_bytes_max: s.env_bytes_max,
            env_bytes_mean: s.env_bytes_mean,
            env_bytes_total: s.env_bytes_total,
            latency: LatencyView::from(&s.latency),
            duration_ns: s.duration_ns,
            spawn_rate: (s.spawn_rate * 100.0).round() / 100.0,
            max_in_flight: s.max_in_flight,
            failed_clones: s.failed_clones,
            style_mismatches: s.style_mismatches,
            exit_code: s.exit_code,
            recording_ns: s.recording_ns,
            spawn_blocked_ns: s.spawn_blocked_ns,
            spawn_blocked_share: share(s.spawn_blocked_ns, s.recording_ns),
            spawn_blocked_total_ns: s.spawn_blocked_total_ns,
            failed_processes: s.failed_processes,
            timeline: TimelineView { bucket_ns: s.timeline_bucket_ns, counts: &s.timeline },
        }
    }
}

#[derive(DeriveSerialize)]
struct LatencyView {
    count: u64,
    min_ns: Nanos,
    p50_ns: Nanos,
    p90_ns: Nanos,
    p99_ns: Nanos,
    max_ns: Nanos,
    mean_ns: Nanos,
    histogram: Vec<BucketView>,
}

#[derive(DeriveSerialize)]
struct BucketView {
    from_ns: Nanos,
    to_ns: Nanos,
    count: u64,
}

impl From<&LatencyStats> for LatencyView {
    fn from(l: &LatencyStats) -> Self {
        LatencyView {
            count: l.count,
            min_ns: l.min,
            p50_ns: l.p50,
            p90_ns: l.p90,
            p99_ns: l.p99,
            max_ns: l.max,
            mean_ns: l.mean,
            histogram: l
                .buckets
                .iter()
                .enumerate()
                .filter(|(_, &n)| n > 0)
                .map(|(i, &n)| BucketView {
                    from_ns: LatencyStats::bucket_floor(i),
                    to_ns: LatencyStats::bucket_floor(i + 1),
                    count: n,
                })
                .collect(),
        }
    }
}

/// Share rounded to 4 decimals (0 for an empty recording).
fn share(ns: Nanos, of: Nanos) -> f64 {
    if of == 0 {
        0.0
    } else {
        (ns as f64 / of as f64 * 1e4).round() / 1e4
    }
}

#[derive(DeriveSerialize)]
struct GroupView {
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    same_name: Option<u64>,
    count: u64,
    styles: BTreeMap<String, u64>,
    failed_attempts: u64,
    failed_ns: Nanos,
    env_bytes_max: u64,
    latency: LatencyView,
}

impl From<Group> for GroupView {
    fn from(g: Group) -> Self {
        GroupView {
            latency: LatencyView::from(&g.latency),
            key: g.key,
            name: None,
            same_name: None,
            count: g.count,
            styles: g.styles,
            failed_attempts: g.failed_attempts,
            failed_ns: g.failed_ns,
            env_bytes_max: g.env_bytes_max,
        }
    }
}

#[derive(DeriveSerialize)]
struct ProcessView<'a> {
    index: usize,
    pid: i32,
    parent: Option<usize>,
    spawn: Option<usize>,
    name: &'a str,
    children: usize,
    exec_attempts: usize,
    threads_created: u32,
    exit_code: Option<i32>,
    exit_signal: Option<i32>,
    t_start_ns: Nanos,
    /// Spawn (or first sight) to exit, or to the end of the recording.
    duration_ns: Nanos,
    /// It had not exited when the recording ended.
    running_at_end: bool,
}

impl<'a> ProcessView<'a> {
    fn new(p: &'a Process, end: Nanos) -> Self {
        ProcessView {
            index: p.index,
            pid: p.pid,
            parent: p.parent,
            spawn: p.spawn,
            name: &p.name,
            children: p.children.len(),
            exec_attempts: p.execs.len(),
            threads_created: p.threads_created,
            exit_code: p.exit.and_then(|e| e.code),
            exit_signal: p.exit.and_then(|e| e.signal),
            t_start_ns: p.t_start,
            duration_ns: p.duration_ns(end),
            running_at_end: p.exit.is_none(),
        }
    }
}

#[derive(DeriveSerialize)]
struct SpawnView<'a> {
    index: usize,
    line: u64,
    parent_pid: i32,
    parent_tid: i32,
    child_pid: i32,
    parent: Option<usize>,
    child: Option<usize>,
    syscall: &'static str,
    flags: FlagNames,
    flags_raw: u64,
    exit_signal: u32,
    stack: u64,
    style: &'static str,
    ptrace_event: Option<PtraceEvent>,
    style_mismatch: bool,
    code_path: &'static str,
    socketpair: bool,
    exec: Option<ExecView<'a>>,
    t_start_ns: Nanos,
    latency_ns: Option<Nanos>,
    parent_blocked_ns: Option<Nanos>,
    clone_ns: Option<Nanos>,
    from_event: bool,
    parent_rss_kb: Option<u64>,
    parent_pte_kb: Option<u64>,
    parent_threads: Option<u32>,
    in_flight: u32,
    /// Where in the code (issue 10): null when no stack was captured (`call_sites.note` says why).
    origin: Option<&'a Origin>,
}

#[derive(DeriveSerialize)]
struct ExecView<'a> {
    path: &'a str,
    /// Programs that exec'd before `path` in the same child (an exec chain).
    chain: &'a [String],
    argv: &'a [String],
    success: bool,
    failed_attempts: usize,
    attempts: Seq<'a, ExecAttempt, (), AttemptView<'a>>,
    failed_ns: Nanos,
    env_count: u64,
    env_bytes: u64,
}

#[derive(DeriveSerialize)]
struct AttemptView<'a> {
    path: &'a str,
    errno: i32,
    error: Option<&'static str>,
    duration_ns: Option<Nanos>,
}

impl<'a> From<&'a ExecAttempt> for AttemptView<'a> {
    fn from(x: &'a ExecAttempt) -> Self {
        AttemptView {
            path: &x.path,
            errno: x.result,
            error: errno_name(x.result),
            duration_ns: x.t_entry.map(|e| x.t_exit.saturating_sub(e)),
        }
    }
}

impl<'a> From<&'a Spawn> for SpawnView<'a> {
    fn from(s: &'a Spawn) -> Self {
        SpawnView {
            index: s.index,
            line: s.line,
            parent_pid: s.parent_pid,
            parent_tid: s.parent_tid,
            child_pid: s.child_pid,
            parent: s.parent,
            child: s.child,
            syscall: s.syscall.as_str(),
            flags: FlagNames(s.flags),
            flags_raw: s.flags,
            exit_signal: s.exit_signal,
            stack: s.stack,
            style: s.style.as_str(),
            ptrace_event: s.ptrace_event,
            style_mismatch: s.style_mismatch,
            code_path: s.code_path.as_str(),
            socketpair: s.socketpair,
            exec: s.exec.as_ref().map(|e| ExecView {
                path: &e.path,
                chain: &e.chain,
                argv: &e.argv,
                success: e.success,
                failed_attempts: e.failed_attempts.len(),
                attempts: Seq(&e.failed_attempts, (), |x, ()| AttemptView::from(x)),
                failed_ns: e.failed_ns,
                env_count: e.env_count,
                env_bytes: e.env_bytes,
            }),
            t_start_ns: s.t_start,
            latency_ns: s.latency_ns,
            parent_blocked_ns: s.parent_blocked_ns,
            clone_ns: s.clone_ns,
            from_event: s.from_event,
            parent_rss_kb: s.parent_mem.map(|m| m.rss_kb),
            parent_pte_kb: s.parent_mem.map(|m| m.pte_kb),
            parent_threads: s.parent_threads,
            in_flight: s.in_flight,
            origin: None,
        }
    }
}

#[derive(DeriveSerialize)]
struct FindingView<'a> {
    id: &'static str,
    name: &'static str,
    severity: &'static str,
    message: &'a str,
    advice: &'a str,
    numbers: &'a BTreeMap<String, f64>,
    evidence: &'a [usize],
    /// Estimated wall time its fix would save (null: no sound estimate).
    savings_ns: Option<Nanos>,
    /// `savings_ns` as a share of the recording.
    savings_share: Option<f64>,
    /// The call sites of `evidence`, most spawns first (empty without stacks).
    call_sites: Vec<crate::callsites::FindingSite>,
}

impl<'a> FindingView<'a> {
    fn new(f: &'a Finding, recording_ns: Nanos) -> Self {
        FindingView {
            id: f.id,
            name: f.name,
            severity: f.severity.as_str(),
            message: &f.message,
            advice: &f.advice,
            numbers: &f.numbers,
            evidence: &f.evidence,
            savings_ns: f.savings_ns,
            savings_share: f.savings_ns.map(|s| share(s, recording_ns)),
            call_sites: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spawnscope_analyzer::{analyze_path_with, Retention};

    /// The report through serde_json's own `PrettyFormatter`, as it was written before.
    fn reference(a: &Analysis, opts: &Options) -> Vec<u8> {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b"  "));
        Report::new(a, opts).serialize(&mut ser).expect("serialised");
        out.push(b'\n');
        out
    }

    #[test]
    fn the_report_is_byte_for_byte_what_serde_json_s_pretty_formatter_writes() {
        let mut n = 0;
        for path in spawnscope_testkit::fixture_traces() {
            for retention in [Retention::Full, Retention::Stream] {
                let a = analyze_path_with(&path, &Thresholds::default(), retention).expect("a valid fixture");
                let opts = Options { source: Some("t.jsonl".into()), ..Options::default() };
                let mut ours = Vec::new();
                write(&mut ours, &a, &opts).expect("written");
                assert!(ours == reference(&a, &opts), "{} ({retention:?})", path.display());
                n += 1;
            }
        }
        assert!(n >= 50, "{n}");
    }

    #[test]
    fn deep_and_empty_values_are_laid_out_as_serde_json_does() {
        let mut v = serde_json::json!({"a": [], "b": {}, "c": [[], {}, [1, [2, {"d": null}]]], "e": "x\u{1b}y"});
        for i in 0..40 {
            v = serde_json::json!({ "level": i, "inner": [v, [], {}], "empty": {} });
        }
        let mut ours = Vec::new();
        v.serialize(&mut serde_json::Serializer::with_formatter(&mut ours, Pretty::default())).expect("serialised");
        assert_eq!(String::from_utf8(ours).expect("UTF-8"), serde_json::to_string_pretty(&v).expect("serialised"));
    }

    #[test]
    fn flag_names_are_the_clone_flag_names() {
        use spawnscope_format::flags::clone_flag_names;
        let mut all = [0u64, 0x4100, 0x10000 | 0x100, 1 << 40, u64::MAX, 0xff00_0000_0000_0000].to_vec();
        all.extend(CLONE_FLAGS.iter().map(|&(bit, _)| bit | 0x8000_0000_0000));
        for flags in all {
            let ours = serde_json::to_string(&FlagNames(flags)).expect("serialised");
            assert_eq!(ours, serde_json::to_string(&clone_flag_names(flags)).expect("serialised"), "{flags:#x}");
        }
    }
}
