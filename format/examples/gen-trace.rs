//! Writes a synthetic but realistic build-driver trace of N events, for the
//! scale benchmarks (`bench/scale.sh`) and for trying big traces by hand.
//!
//! ```text
//! cargo run --release -p spawnscope-format --example gen-trace -- \
//!     --events 1000000 --out /tmp/t.jsonl [--host node07] [--seed 7]
//! ```
//!
//! The trace is what a busy build driver (make -j8, ninja, a task runtime's
//! worker) looks like through the tracer:
//! - a driver process with 4 worker threads keeps up to 8 jobs in flight, so
//!   exits of earlier jobs interleave with later spawns;
//! - 70% of jobs are posix_spawn (clone3 CLONE_VM|CLONE_VFORK with a stack;
//!   the child's exec is written before the spawn line, as the tracer does),
//!   20% fork + execvp with a PATH search (3 failed ENOENT attempts), 10% the
//!   Rust std fork fallback (socketpair first);
//! - 30% of jobs run `sh -c`, whose shell vforks the compiler; compilers
//!   spawn `as` (vfork syscall) and `rustc` starts threads that exit again;
//! - the driver now and then starts and ends a helper thread;
//! - 5% of execs carry a large environment (184 variables, 27 KB);
//! - pids wrap at 32768, so pids are reused as on a real machine;
//! - with `--stacks`, call stacks as the default recording has them: the
//!   `module` and `stack` lines after the header, every spawn naming its
//!   stack (the driver's three call sites, the shell, the compiler), and the
//!   `symbols` lines at the end, where the tracer writes them.
//!
//! Output is deterministic for a seed; `.zst` names are compressed.

use std::collections::VecDeque;

use spawnscope_format::*;

/// splitmix64: small, fast and good enough for a workload mix.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

const PID_MAX: i32 = 32768;
const PROGS: [&str; 8] = ["cc", "ld", "as", "ar", "sh", "python3", "rustc", "git"];
const DIRS: [&str; 3] = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin"];
const VM_VFORK: u64 = 0x4100; // CLONE_VM | CLONE_VFORK
const THREAD_FLAGS: u64 = 0x3d0f00;

/// One event of each kind, parsed from JSON once and cloned per event: fields
/// that later format versions add (optional, with defaults) need no change here.
struct Templates {
    spawn: SpawnEvent,
    exec: ExecEvent,
    exit: ExitEvent,
    socketpair: SocketpairEvent,
}

impl Templates {
    fn new() -> Templates {
        let p = |s: &str| match serde_json::from_str::<Record>(s) {
            Ok(r) => r,
            Err(e) => die(&format!("template {s}: {e}")),
        };
        let (Record::Spawn(spawn), Record::Exec(exec), Record::Exit(exit), Record::Socketpair(socketpair)) = (
            p(
                r#"{"kind":"spawn","pid":0,"tid":0,"child":null,"syscall":"clone3","flags":0,"exit_signal":17,"ptrace_event":null,"thread":false,"t_entry":null,"t_event":0,"t_resume":null}"#,
            ),
            p(
                r#"{"kind":"exec","pid":0,"tid":0,"syscall":"execve","path":"","argv":[],"env_count":0,"env_bytes":0,"env_hash":"","result":0,"t_entry":null,"t_exit":0}"#,
            ),
            p(r#"{"kind":"exit","pid":0,"tid":0,"code":0,"signal":null,"t":0}"#),
            p(
                r#"{"kind":"socketpair","pid":0,"tid":0,"domain":1,"socket_type":524293,"protocol":0,"fds":[7,8],"result":0,"t":0}"#,
            ),
        ) else {
            die("templates: wrong kinds")
        };
        Templates { spawn, exec, exit, socketpair }
    }
}

/// The stack records of `--stacks`, as the tracer writes them.
const MODULES: &str = r#"{"kind":"module","id":1,"path":"/usr/lib/x86_64-linux-gnu/libc.so.6","type":"file","build_id":"aa01","stripped":false,"unwind":"eh-frame"}
{"kind":"module","id":2,"path":"/build/driver","type":"file","build_id":"bb02","stripped":false,"unwind":"eh-frame","debug_lines":true,"rustc":"1.85.0"}
{"kind":"module","id":3,"path":"/usr/bin/dash","type":"file","build_id":"cc03","stripped":true,"unwind":"eh-frame"}
{"kind":"module","id":4,"path":"/usr/bin/cc","type":"file","build_id":"dd04","stripped":false,"unwind":"eh-frame"}
{"kind":"stack","id":1,"frames":[[1,1087705],[1,1087805],[1,1010754],[1,1010331],[2,212885],[2,282140],[2,97408],[2,97985]],"end":"complete"}
{"kind":"stack","id":2,"frames":[[1,869203],[1,868043],[2,99200],[2,97408],[2,97985]],"end":"complete"}
{"kind":"stack","id":3,"frames":[[1,869203],[1,868043],[2,210774],[2,282140],[2,98384],[2,97408],[2,97985]],"end":"complete"}
{"kind":"stack","id":4,"frames":[[1,870001],[3,61234],[3,60111],[3,40000]],"end":"complete"}
{"kind":"stack","id":5,"frames":[[1,1087705],[1,1087805],[1,1010754],[1,1010400],[4,51000],[4,50500],[4,42000]],"end":"complete"}"#;
const SYMBOLS: &str = r#"{"kind":"symbols","module":1,"offset":1087705,"frames":[{"function":"clone3","file":"../sysdeps/unix/sysv/linux/x86_64/clone3.S","line":62}]}
{"kind":"symbols","module":1,"offset":1087805,"frames":[{"function":"__GI___clone_internal","file":"../sysdeps/unix/sysv/linux/clone-internal.c","line":54}]}
{"kind":"symbols","module":1,"offset":1010754,"frames":[{"function":"__spawnix","file":"../sysdeps/unix/sysv/linux/spawni.c","line":390}]}
{"kind":"symbols","module":1,"offset":1010331,"frames":[{"function":"__posix_spawnp","file":"./posix/spawnp.c","line":30}]}
{"kind":"symbols","module":1,"offset":1010400,"frames":[{"function":"__posix_spawn","file":"./posix/spawn.c","line":103}]}
{"kind":"symbols","module":1,"offset":869203,"frames":[{"function":"arch_fork","file":"../sysdeps/unix/sysv/linux/arch-fork.h","line":52,"inlined":true},{"function":"__GI__Fork","file":"../sysdeps/nptl/_Fork.c","line":25}]}
{"kind":"symbols","module":1,"offset":868043,"frames":[{"function":"__libc_fork","file":"./posix/fork.c","line":74}]}
{"kind":"symbols","module":1,"offset":870001,"frames":[{"function":"vfork","file":"../sysdeps/unix/sysv/linux/x86_64/vfork.S","line":44}]}
{"kind":"symbols","module":2,"offset":212885,"frames":[{"function":"std::sys::process::unix::common::Command::posix_spawn","file":"library/std/src/sys/process/unix/unix.rs","line":816,"inlined":true},{"function":"std::sys::process::unix::common::Command::spawn","file":"library/std/src/sys/process/unix/unix.rs","line":102}]}
{"kind":"symbols","module":2,"offset":210774,"frames":[{"function":"std::sys::process::unix::common::Command::do_fork","file":"library/std/src/sys/process/unix/unix.rs","line":188,"inlined":true},{"function":"std::sys::process::unix::common::Command::spawn","file":"library/std/src/sys/process/unix/unix.rs","line":110}]}
{"kind":"symbols","module":2,"offset":282140,"frames":[{"function":"std::process::Command::status","file":"library/std/src/process.rs","line":1109}]}
{"kind":"symbols","module":2,"offset":99200,"frames":[{"function":"driver::legacy::fork_exec","file":"src/legacy.rs","line":88}]}
{"kind":"symbols","module":2,"offset":97408,"frames":[{"function":"driver::jobs::run","file":"src/jobs.rs","line":42}]}
{"kind":"symbols","module":2,"offset":98384,"frames":[{"function":"driver::sandbox::spawn_restricted","file":"src/sandbox.rs","line":17}]}
{"kind":"symbols","module":2,"offset":97985,"frames":[{"function":"driver::main","file":"src/main.rs","line":9}]}
{"kind":"symbols","module":4,"offset":51000,"frames":[{"function":"pex_unix_exec_child"}]}
{"kind":"symbols","module":4,"offset":50500,"frames":[{"function":"pex_run"}]}
{"kind":"symbols","module":4,"offset":42000,"frames":[{"function":"main"}]}"#;
/// Stack ids of MODULES, by who spawns how.
const STACK_POSIX_SPAWN: u32 = 1;
const STACK_FORK: u32 = 2;
const STACK_RUST_FALLBACK: u32 = 3;
const STACK_SHELL: u32 = 4;
const STACK_CC: u32 = 5;

struct Gen {
    tpl: Templates,
    /// `--stacks`: spawns name their stack.
    stacks: bool,
    /// The stack of the next spawn line.
    next_stack: Option<u32>,
    w: FileWriter,
    rng: Rng,
    t: u64,
    next_pid: i32,
    written: u64,
    /// Pids in use (alive), so a wrapped pid is never handed out twice at once.
    alive: Vec<bool>,
}

impl Gen {
    fn emit(&mut self, rec: Record) {
        self.w.write_record(&rec).unwrap_or_else(|e| die(&e.to_string()));
        self.written += 1;
    }

    fn pid(&mut self) -> i32 {
        for _ in 0..PID_MAX {
            self.next_pid += 1;
            if self.next_pid >= PID_MAX {
                self.next_pid = 300;
            }
            if !self.alive[self.next_pid as usize] {
                self.alive[self.next_pid as usize] = true;
                return self.next_pid;
            }
        }
        die("every pid is in use: a process of the workload never exits (a generator bug)")
    }

    fn exec(&mut self, pid: i32, path: &str, argv: &[String], result: i32, big_env: bool) {
        let (env_count, env_bytes) = if big_env { (184, 27_750) } else { (40, 3_000) };
        let t0 = self.t;
        // Exec cost varies with the binary and the page cache: 60-600 µs.
        self.t += if result == 0 { self.rng.range(60_000, 600_000) } else { self.rng.range(20_000, 80_000) };
        let mut e = self.tpl.exec.clone();
        (e.pid, e.tid, e.path, e.argv, e.env_count, e.env_bytes) =
            (pid, pid, path.to_string(), argv.to_vec(), env_count, env_bytes);
        e.env_hash = if big_env { "9f3c0a77e1d2b645".into() } else { "0123456789abcdef".into() };
        (e.result, e.t_entry, e.t_exit) = (result, Some(t0), self.t);
        self.emit(Record::Exec(e));
    }

    #[allow(clippy::too_many_arguments)]
    fn spawn(
        &mut self,
        pid: i32,
        tid: i32,
        child: i32,
        syscall: CloneSyscall,
        flags: u64,
        stack: u64,
        ev: PtraceEvent,
        thread: bool,
        t0: u64,
        fork_mem: bool,
    ) {
        // A fork's cost grows with the parent's memory; a vfork's is flat.
        let clone = match ev {
            PtraceEvent::Fork => self.rng.range(250_000, 900_000),
            _ => self.rng.range(30_000, 90_000),
        };
        let (t_event, t_resume) = match ev {
            PtraceEvent::Fork => (t0 + clone, Some(t0 + clone + 50_000)),
            _ => (t0 + clone, Some(self.t.max(t0 + clone + 5_000) + 20_000)),
        };
        let mut e = self.tpl.spawn.clone();
        (e.pid, e.tid, e.child, e.syscall, e.flags, e.stack) = (pid, tid, Some(child), syscall, flags, stack);
        (e.exit_signal, e.ptrace_event, e.thread) = (if thread { 0 } else { 17 }, Some(ev), thread);
        (e.t_entry, e.t_event, e.t_resume) = (Some(t0), t_event, t_resume);
        e.parent_mem = fork_mem.then_some(MemInfo { rss_kb: 80_000, pte_kb: 400 });
        e.parent_threads = (!thread).then_some(4);
        e.stack_id = self.next_stack.take().filter(|_| self.stacks);
        self.emit(Record::Spawn(e));
    }

    /// Writes the stack records of `text` (one per line).
    fn records(&mut self, text: &str) {
        for line in text.lines() {
            match serde_json::from_str::<Record>(line) {
                Ok(r) => self.emit(r),
                Err(e) => die(&format!("stack record {line}: {e}")),
            }
        }
    }

    fn exit(&mut self, pid: i32, tid: i32, thread: bool) {
        self.t += 5_000;
        let mut e = self.tpl.exit.clone();
        (e.pid, e.tid, e.thread, e.t) = (pid, tid, thread, self.t);
        self.emit(Record::Exit(e));
        self.alive[if thread { tid } else { pid } as usize] = false;
    }

    /// A posix_spawn-style spawn: the child's exec line comes before the spawn line.
    fn posix_spawn(&mut self, parent: i32, tid: i32, path: &str, argv: &[String], big_env: bool, stack: u32) -> i32 {
        let c = self.pid();
        let t0 = self.t;
        self.t += 70_000;
        self.exec(c, path, argv, 0, big_env);
        self.next_stack = Some(stack);
        self.spawn(parent, tid, c, CloneSyscall::Clone3, VM_VFORK, 0x7f00_0000_0000, PtraceEvent::Vfork, false, t0, false);
        c
    }

    /// What a job's program does once it runs: maybe spawn helpers or threads.
    /// Returns pids to exit (innermost first).
    fn run_program(&mut self, pid: i32, prog: &str, argv: &[String], big_env: bool) -> Vec<i32> {
        let mut done = Vec::new();
        match prog {
            "sh" => {
                // dash: vfork() then exec the compiler.
                let c = self.pid();
                let t0 = self.t;
                self.t += 30_000;
                self.next_stack = Some(STACK_SHELL);
                self.spawn(pid, pid, c, CloneSyscall::Vfork, VM_VFORK, 0, PtraceEvent::Vfork, false, t0, false);
                let cc: Vec<String> = argv.iter().skip(2).cloned().collect();
                self.exec(c, "/usr/bin/cc", &cc, 0, big_env);
                done.extend(self.run_program(c, "cc", &cc, big_env));
                done.push(c);
            }
            "cc" if self.rng.chance(0.5) => {
                let a = vec!["as".to_string(), "-o".into(), "x.o".into(), "/tmp/cc.s".into()];
                let c = self.posix_spawn(pid, pid, "/usr/bin/as", &a, big_env, STACK_CC);
                self.t += 300_000;
                done.push(c);
            }
            "rustc" => {
                let tids = [self.pid(), self.pid()];
                for tid in tids {
                    let t0 = self.t;
                    self.t += 40_000;
                    self.spawn(
                        pid,
                        pid,
                        tid,
                        CloneSyscall::Clone3,
                        THREAD_FLAGS,
                        0x7f00_0000_0000,
                        PtraceEvent::Clone,
                        true,
                        t0,
                        false,
                    );
                }
                self.t += 200_000;
                for tid in tids {
                    self.exit(pid, tid, true);
                }
            }
            _ => {}
        }
        done
    }
}

fn die(msg: &str) -> ! {
    eprintln!("gen-trace: {msg}");
    std::process::exit(2)
}

fn main() {
    let mut events: u64 = 1_000_000;
    let mut out: Option<String> = None;
    let mut host = "bench".to_string();
    let mut seed: u64 = 42;
    let mut stacks = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| die(&format!("{a} needs a value")));
        match a.as_str() {
            "--events" => events = val().parse().unwrap_or_else(|_| die("--events: not a number")),
            "--out" => out = Some(val()),
            "--host" => host = val(),
            "--seed" => seed = val().parse().unwrap_or_else(|_| die("--seed: not a number")),
            "--stacks" => stacks = true,
            _ => die("usage: gen-trace --events N --out FILE [--host NAME] [--seed S] [--stacks]"),
        }
    }
    let out = out.unwrap_or_else(|| die("--out FILE is required"));
    let w = FileWriter::create(&out).unwrap_or_else(|e| die(&e.to_string()));
    let mut g = Gen {
        tpl: Templates::new(),
        stacks,
        next_stack: None,
        w,
        rng: Rng(seed),
        t: 1_000_000,
        next_pid: 1000,
        written: 0,
        alive: vec![false; PID_MAX as usize],
    };

    let mut header = Header::new(vec!["./driver".into(), "--jobs".into(), "8".into()], TracerMode::Seccomp);
    header.cwd = "/build".into();
    header.start_unix_ns = 1_796_000_000_000_000_000 + seed * 1_000_000_000;
    header.host = HostFacts {
        hostname: Some(host),
        kernel_release: Some("6.1.0-18-amd64".into()),
        glibc_version: Some("2.36".into()),
        arch: Some("x86_64".into()),
        cpus: Some(64),
        memory_bytes: Some(256 << 30),
        clone3: Some(true),
    };
    header.tracer.syscall_info = true;
    header.tracer.env_count = 40;
    header.tracer.env_bytes = 3_000;
    if stacks {
        header.format_version = "1.1".into();
        header.tracer.stacks = Some(StackCapture { max_depth: 64 });
    }
    g.w.write_header(&header).unwrap_or_else(|e| die(&e.to_string()));
    if stacks {
        g.records(MODULES);
    }

    let root = 1000;
    g.alive[root as usize] = true;
    let argv0: Vec<String> = header.command.clone();
    g.exec(root, "/build/driver", &argv0, 0, false);
    let mut threads = vec![root];
    for i in 1..=3 {
        let t0 = g.t;
        g.t += 40_000;
        g.alive[(root + i) as usize] = true;
        g.spawn(root, root, root + i, CloneSyscall::Clone3, THREAD_FLAGS, 0x7f00_0000_0000, PtraceEvent::Clone, true, t0, false);
        threads.push(root + i);
    }

    let mut in_flight: VecDeque<Vec<i32>> = VecDeque::new();
    let mut job: u64 = 0;
    // Leave room for the closing exits (at most ~4 per job in flight, +
    // threads) and the symbols.
    let reserve = 8 * 4 + 8 + if stacks { SYMBOLS.lines().count() as u64 } else { 0 };
    while g.written + reserve < events {
        job += 1;
        g.t += g.rng.range(20_000, 200_000);
        if in_flight.len() >= 8 {
            for pid in in_flight.pop_front().unwrap_or_default() {
                g.exit(pid, pid, false);
            }
        }
        if job.is_multiple_of(200) {
            // A short-lived helper thread of the driver.
            let tid = g.pid();
            let t0 = g.t;
            g.t += 40_000;
            g.spawn(root, root, tid, CloneSyscall::Clone3, THREAD_FLAGS, 0x7f00_0000_0000, PtraceEvent::Clone, true, t0, false);
            g.exit(root, tid, true);
        }
        let tid = threads[g.rng.below(threads.len() as u64) as usize];
        let prog = PROGS[g.rng.below(PROGS.len() as u64) as usize];
        let n = g.rng.below(10_000);
        let mut argv = vec![prog.to_string(), "-c".into(), format!("src/file{n}.c"), "-o".into(), format!("obj/file{job}.o")];
        if prog == "sh" {
            argv = vec!["sh".into(), "-c".into(), "cc".into(), "-c".into(), format!("src/file{n}.c")];
        }
        let big_env = g.rng.chance(0.05);
        let path = format!("/usr/bin/{prog}");
        let r = g.rng.below(100);
        let child = if r < 70 {
            g.posix_spawn(root, tid, &path, &argv, big_env, STACK_POSIX_SPAWN)
        } else {
            if r >= 90 {
                let t = g.t;
                let mut e = g.tpl.socketpair.clone();
                (e.pid, e.tid, e.t) = (root, tid, t);
                g.emit(Record::Socketpair(e));
                g.t += 20_000;
            }
            let c = g.pid();
            let t0 = g.t;
            g.next_stack = Some(if r >= 90 { STACK_RUST_FALLBACK } else { STACK_FORK });
            g.spawn(root, tid, c, CloneSyscall::Clone, 0x0120_0000, 0, PtraceEvent::Fork, false, t0, true);
            g.t += g.rng.range(300_000, 1_000_000);
            if r < 90 {
                for d in DIRS {
                    g.exec(c, &format!("{d}/{prog}"), &argv, 2, big_env);
                }
            }
            g.exec(c, &path, &argv, 0, big_env);
            c
        };
        let mut pids = g.run_program(child, prog, &argv, big_env);
        pids.push(child);
        in_flight.push_back(pids);
    }
    while let Some(pids) = in_flight.pop_front() {
        for pid in pids {
            g.exit(pid, pid, false);
        }
    }
    for &tid in &threads[1..] {
        g.exit(root, tid, true);
    }
    g.exit(root, root, false);
    if stacks {
        g.records(SYMBOLS);
    }
    let t = g.t + 1_000;
    let written = g.written;
    g.w.finish(t, Some(0)).unwrap_or_else(|e| die(&e.to_string()));
    eprintln!("gen-trace: {written} events, {job} jobs -> {out}");
}
