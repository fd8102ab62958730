//! Pass 2: from decoded calls to trace records.
//!
//! What strace does not show is inferred or left empty, never made up:
//! - the ptrace event kind follows from the flags exactly as the kernel
//!   chooses it (CLONE_VFORK: vfork; exit signal SIGCHLD: fork; else clone);
//! - `t_event` (the fork event stop): for a fork-style clone the earlier of
//!   the child's first line and the parent's return (an upper bound on the
//!   clone's own cost); for a CLONE_VM clone (vfork, posix_spawn) the child's
//!   first call before its exec if the log shows one, else the clone entry;
//! - parent memory is unknown; the parent's thread count is given only for
//!   processes seen from their start.

use std::collections::{HashMap, HashSet};

use spawnscope_format::{
    flags, ExecEvent, ExitEvent, Header, PipeEvent, PtraceEvent, Record, SocketpairEvent, SpawnEvent, TracerMode, WarningEvent,
    FORMAT_NAME, FORMAT_VERSION,
};

use super::decode::{Call, Ret};
use super::parse::{Clock, ItemKind, Parsed, UNKNOWN_PID};
use super::{ImportOptions, ImportStats, Imported};
use spawnscope_units::{count, counted, plural};

/// Thread group id of every task, from who created it with which flags.
struct Groups {
    creator: HashMap<i32, (i32, bool)>,
}

impl Groups {
    fn tgid(&self, mut tid: i32) -> i32 {
        for _ in 0..10_000 {
            match self.creator.get(&tid) {
                Some(&(parent, true)) if parent != tid => tid = parent,
                _ => return tid,
            }
        }
        tid
    }
}

fn child_of(ret: Ret) -> Option<i32> {
    match ret {
        Ret::Value(v) if v > 0 => i32::try_from(v).ok(),
        _ => None,
    }
}

/// Picks the pid of lines that had no pid column.
fn resolve_unknown(p: &Parsed, created: &HashSet<i32>) -> (i32, bool) {
    if !p.used_unknown_pid {
        return (UNKNOWN_PID, true);
    }
    if let Some(pid) = p.unknown_is {
        return (pid, true);
    }
    let mut cands: Vec<i32> =
        p.root_hints.iter().copied().chain(p.prefixed.iter().copied()).filter(|pid| !created.contains(pid)).collect();
    cands.sort_unstable();
    cands.dedup();
    match cands.as_slice() {
        [one] => (*one, true),
        _ => (0, false),
    }
}

/// Lines without a pid column belong to the first process: give them its
/// pid (or 0, with a note, when the log never tells it).
fn assign_unknown_pid(p: &mut Parsed, notes: &mut Vec<String>) {
    let created: HashSet<i32> = p
        .items
        .iter()
        .filter_map(|it| match &it.kind {
            ItemKind::Call { call: Call::Clone(_), ret } => child_of(*ret),
            _ => None,
        })
        .collect();
    let (unknown_as, resolved) = resolve_unknown(p, &created);
    if !p.used_unknown_pid {
        return;
    }
    if !resolved {
        notes.push(
            "the first process's lines carry no pid (strace without -f, or writing to the terminal): \
             it is recorded as pid 0; run strace with -f -o FILE"
                .to_string(),
        );
    }
    for it in &mut p.items {
        if it.tid == UNKNOWN_PID {
            it.tid = unknown_as;
        }
    }
    if let Some(t) = p.first_seen.remove(&UNKNOWN_PID) {
        let e = p.first_seen.entry(unknown_as).or_insert(t);
        *e = (*e).min(t);
    }
}

/// Thread groups from the clone flags: who created each task, and whether
/// as a thread.
fn thread_groups(p: &Parsed) -> Groups {
    Groups {
        creator: p
            .items
            .iter()
            .filter_map(|it| match &it.kind {
                ItemKind::Call { call: Call::Clone(c), ret } => {
                    child_of(*ret).map(|child| (child, (it.tid, c.flags & flags::CLONE_THREAD != 0)))
                }
                _ => None,
            })
            .fold(HashMap::new(), |mut m, (child, v)| {
                m.entry(child).or_insert(v);
                m
            }),
    }
}

/// Tasks no traced clone created, first seen first: the first is the root.
fn roots_of(p: &Parsed, groups: &Groups) -> Vec<i32> {
    let mut r: Vec<(u64, i32)> =
        p.first_seen.iter().filter(|(tid, _)| !groups.creator.contains_key(tid)).map(|(&tid, &t)| (t, tid)).collect();
    r.sort_unstable();
    r.into_iter().map(|(_, tid)| tid).collect()
}

/// When did the kernel finish creating the child? A fork-style parent
/// returns right after; a CLONE_VM (vfork) parent only after the child's
/// exec, so there only a line of the child before its exec tells, and
/// without one the clone entry stands in (sharing memory, such a clone
/// costs little).
fn creation_time(p: &Parsed, it: &crate::parse::Item, clone_flags: u64, child: Option<i32>) -> u64 {
    let seen = child.and_then(|ch| p.first_seen.get(&ch).copied());
    if clone_flags & flags::CLONE_VM == 0 {
        seen.map_or(it.t_done, |first| first.min(it.t_done))
    } else {
        child.and_then(|ch| p.first_busy.get(&ch).copied()).filter(|&b| b <= it.t_done).unwrap_or(it.t_entry)
    }
    .max(it.t_entry)
}

/// Counts of what the log left out, for [`what_the_log_lacks`].
#[derive(Clone, Copy)]
struct Lossy {
    env_count_only: u64,
    env_cut: u64,
    untraced_children: u64,
    unknown_protocol: u64,
    /// Tasks besides the root that no traced clone created.
    extra_roots: usize,
}

/// What the log could not tell, one sentence each.
fn what_the_log_lacks(p: &Parsed, l: &Lossy) -> Vec<String> {
    let mut notes = Vec::new();
    let Lossy { env_count_only, env_cut, untraced_children, unknown_protocol, extra_roots } = *l;
    if p.clocks.contains(&Clock::Lines) {
        notes.push(
            "the log has no timestamps (strace without -ttt): times follow line order and latencies are meaningless".to_string(),
        );
    } else if p.calls_without_duration > 0 {
        notes.push("the log has no durations (strace without -T): call durations come from resumed lines only".into());
    }
    if p.clocks.contains(&Clock::TimeOfDay) {
        notes.push("the log has time-of-day stamps (-t/-tt): the start date is unknown; use -ttt".into());
    }
    if p.clocks.len() > 1 {
        notes.push("the files use different timestamp formats: their times may not line up".into());
    }
    if env_count_only > 0 {
        notes.push(format!(
            "{} {} only an environment count (strace without -v): environment bytes are unknown (0 here); rerun strace with -v",
            counted(env_count_only, "exec", "execs"),
            plural(env_count_only, "shows", "show")
        ));
    }
    if env_cut > 0 {
        notes.push(format!(
            "{} had environment strings cut by strace's -s limit: environment bytes are lower bounds; rerun with a larger -s (e.g. -s 65536)",
            counted(env_cut, "exec", "execs")
        ));
    }
    if extra_roots > 0 {
        notes.push(format!(
            "{} {} without the clone that created {} (a trace= list without clone/fork/vfork, \
             or strace -p on a running process): {} missing and each counts as a separate process",
            counted(extra_roots as u64, "task", "tasks"),
            plural(extra_roots as u64, "appears", "appear"),
            plural(extra_roots as u64, "it", "them"),
            plural(extra_roots as u64, "its spawn is", "their spawns are")
        ));
    }
    if untraced_children > 0 {
        notes.push(format!(
            "{} never {} in the log (strace without -f?): {} execs and exits are missing",
            counted(untraced_children, "child process", "child processes"),
            plural(untraced_children, "appears", "appear"),
            plural(untraced_children, "its", "their")
        ));
    }
    if p.orphan_resumes > 0 {
        notes.push(format!(
            "{} \"<... resumed>\" {} had no \"<unfinished ...>\" start (log began mid-call?): ignored",
            count(p.orphan_resumes),
            plural(p.orphan_resumes, "line", "lines")
        ));
    }
    if p.unfinished_at_end > 0 {
        notes.push(format!(
            "{} never finished before the log ended (cut short?): ignored",
            counted(p.unfinished_at_end, "call", "calls")
        ));
    }
    if unknown_protocol > 0 {
        notes.push(format!(
            "{} had an unrecognised protocol name: stored as -1",
            counted(unknown_protocol, "socketpair call", "socketpair calls")
        ));
    }
    notes
}

/// Turns the parsed calls into the records the recorder would have written.
///
/// Its phases are functions (pid assignment, thread groups, roots, creation
/// times, the notes); what stays here is one pass over the calls in log order
/// whose arms share the per-process state (thread counts, which processes
/// exec'd or exited, the root's command and exit code): split further, that
/// state would have to travel through every arm.
pub(crate) fn build(mut p: Parsed, opts: &ImportOptions) -> Imported {
    let mut notes = Vec::new();
    // The same keyed environment hash as a recording (issue 16): a random
    // key per import unless the options or SPAWNSCOPE_ENV_KEY fix it.
    let env_key =
        spawnscope_format::EnvKey::for_recording(opts.env_key.as_ref()).unwrap_or_else(|_| spawnscope_format::EnvKey::random());

    assign_unknown_pid(&mut p, &mut notes);
    // Several -ff files: merge on the time each record would have been written.
    if p.files > 1 {
        p.items.sort_by_key(|it| (it.t_done, it.file));
    }
    let groups = thread_groups(&p);
    let t0 = p.min_t.unwrap_or(0);
    let rel = |t: u64| t.saturating_sub(t0);
    let roots = roots_of(&p, &groups);
    let root = roots.first().copied();

    let mut stats = ImportStats { files: p.files, lines: p.lines, ..ImportStats::default() };
    let mut records = Vec::with_capacity(p.items.len());
    let mut stack_builder = crate::stacks::StackBuilder::default();
    let mut threads: HashMap<i32, u32> = HashMap::new();
    let mut from_start: HashSet<i32> = HashSet::new();
    let mut exited: HashSet<i32> = HashSet::new();
    let mut exit_groups: HashMap<i32, (i32, u64)> = HashMap::new();
    let mut command = None;
    let mut exit_code = None;
    let (mut env_count_only, mut env_cut) = (0u64, 0u64);
    let mut unknown_protocol = 0u64;
    let mut untraced_children = 0u64;

    for it in &p.items {
        let pid = groups.tgid(it.tid);
        match &it.kind {
            ItemKind::Call { call: Call::Clone(c), ret } => {
                let child = child_of(*ret);
                let thread = c.flags & flags::CLONE_THREAD != 0;
                let ptrace_event = child.map(|_| {
                    if c.flags & flags::CLONE_VFORK != 0 {
                        PtraceEvent::Vfork
                    } else if c.exit_signal == 17 {
                        PtraceEvent::Fork
                    } else {
                        PtraceEvent::Clone
                    }
                });
                // When did the kernel finish creating the child? A fork-style
                // parent returns right after; a CLONE_VM (vfork) parent only
                // after the child's exec, so there only a line of the child
                // before its exec tells, and without one the clone entry
                // stands in (sharing memory, such a clone costs little).
                let seen = child.and_then(|ch| p.first_seen.get(&ch).copied());
                if child.is_some() && seen.is_none() && !thread {
                    untraced_children += 1;
                }
                let t_event = creation_time(&p, it, c.flags, child);
                let parent_threads = from_start.contains(&pid).then(|| threads.get(&pid).copied().unwrap_or(1));
                records.push(Record::Spawn(SpawnEvent {
                    pid,
                    tid: it.tid,
                    child,
                    syscall: c.syscall,
                    flags: c.flags,
                    exit_signal: c.exit_signal,
                    stack: c.stack,
                    clone_args: c.clone_args.clone(),
                    ptrace_event,
                    thread,
                    result: ret.errno(),
                    t_entry: Some(rel(it.t_entry)),
                    t_event: rel(t_event),
                    t_resume: Some(rel(it.t_done)),
                    parent_mem: None,
                    parent_threads,
                    stack_id: p.stacks.get(&(it.tid, it.t_entry, it.t_done, it.file)).and_then(|l| stack_builder.intern(l)),
                }));
                if let Some(ch) = child {
                    if thread {
                        stats.threads += 1;
                        *threads.entry(pid).or_insert(1) += 1;
                    } else {
                        stats.spawns += 1;
                        from_start.insert(ch);
                        threads.insert(ch, 1);
                    }
                }
            }
            ItemKind::Call { call: Call::Exec(e), ret } => {
                let result = ret.errno();
                stats.execs += 1;
                if result != 0 {
                    stats.failed_execs += 1;
                } else {
                    // exec leaves one thread.
                    from_start.insert(pid);
                    threads.insert(pid, 1);
                    if command.is_none() && Some(pid) == root {
                        command = Some(e.argv.clone());
                    }
                }
                env_count_only += u64::from(e.env.count_only);
                env_cut += u64::from(e.env.truncated && !e.env.count_only);
                records.push(Record::Exec(ExecEvent {
                    pid,
                    tid: it.tid,
                    syscall: e.syscall,
                    path: e.path.clone(),
                    dirfd: e.dirfd,
                    at_flags: e.at_flags,
                    argv: e.argv.clone(),
                    argv_truncated: e.argv_truncated,
                    env_count: e.env.count,
                    env_bytes: e.env.bytes,
                    env_hash: e.env.hash.map(|s| env_key.hash(&s)).unwrap_or_default(),
                    env: if opts.capture_env { e.env.values.clone() } else { None },
                    result,
                    t_entry: Some(rel(it.t_entry)),
                    t_exit: rel(it.t_done),
                }));
            }
            ItemKind::Call { call: Call::Socketpair { domain, socket_type, protocol, fds }, ret } => {
                unknown_protocol += u64::from(*protocol < 0);
                records.push(Record::Socketpair(SocketpairEvent {
                    pid,
                    tid: it.tid,
                    domain: *domain,
                    socket_type: *socket_type,
                    protocol: *protocol,
                    fds: *fds,
                    result: ret.errno(),
                    t: rel(it.t_entry),
                }));
            }
            ItemKind::Call { call: Call::Pipe { flags, fds }, ret } => {
                records.push(Record::Pipe(PipeEvent {
                    pid,
                    tid: it.tid,
                    flags: *flags,
                    fds: *fds,
                    result: ret.errno(),
                    t: rel(it.t_entry),
                }));
            }
            ItemKind::Call { call: Call::ExitGroup(code), .. } => {
                exit_groups.entry(pid).or_insert((*code, it.t_entry));
            }
            ItemKind::Exit { code, signal, core } => {
                let thread = it.tid != pid;
                if thread {
                    if let Some(n) = threads.get_mut(&pid) {
                        *n = n.saturating_sub(1).max(1);
                    }
                } else {
                    exited.insert(pid);
                    if Some(pid) == root {
                        exit_code = code.or(signal.map(|s| s.saturating_add(128)));
                    }
                }
                records.push(Record::Exit(ExitEvent {
                    pid,
                    tid: it.tid,
                    code: *code,
                    signal: *signal,
                    core_dumped: *core,
                    thread,
                    t: rel(it.t_done),
                }));
            }
        }
    }

    // A log cut short may show exit_group without the "+++ exited" line.
    let mut late: Vec<(i32, (i32, u64))> = exit_groups.into_iter().filter(|(pid, _)| !exited.contains(pid)).collect();
    late.sort_by_key(|&(pid, (_, t))| (t, pid));
    for (pid, (code, t)) in late {
        if Some(pid) == root {
            exit_code = Some(code);
        }
        records.push(Record::Exit(ExitEvent {
            pid,
            tid: pid,
            code: Some(code),
            signal: None,
            core_dumped: false,
            thread: false,
            t: rel(t),
        }));
    }
    stats.processes = (stats.spawns as usize + roots.len()) as u64;

    let lossy =
        Lossy { env_count_only, env_cut, untraced_children, unknown_protocol, extra_roots: roots.len().saturating_sub(1) };
    notes.extend(what_the_log_lacks(&p, &lossy));

    let mut all = Vec::with_capacity(records.len() + notes.len());
    all.extend(notes.iter().map(|n| Record::Warning(WarningEvent { pid: None, message: n.clone(), t: 0 })));
    all.extend(records);
    // strace -k stacks: modules and stacks before the spawns, strace's names last.
    let had_stacks = !stack_builder.is_empty();
    let (stack_head, stack_syms) = stack_builder.into_records();
    all.splice(0..0, stack_head);
    all.extend(stack_syms);

    let header = Header {
        format: FORMAT_NAME.to_string(),
        format_version: FORMAT_VERSION.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        command: command.unwrap_or_default(),
        cwd: String::new(),
        start_unix_ns: if p.clocks.len() == 1 && p.clocks.contains(&Clock::Unix) { t0 } else { 0 },
        host: opts.host.clone(),
        tracer: spawnscope_format::TracerInfo {
            mode: TracerMode::Imported,
            syscall_info: false,
            attached_pid: None,
            capture_env: opts.capture_env,
            env_count: 0,
            env_bytes: 0,
            // strace -k walks at most 256 frames (libdw).
            stacks: had_stacks.then_some(spawnscope_format::StackCapture { max_depth: 256 }),
        },
        source: Some("strace".to_string()),
        env_hash: Some(env_key.info()),
        redaction: None,
    };
    Imported { header, records: all, end_t: rel(p.max_t), exit_code, notes, stats }
}
