//! Bad input never panics the importer: real log lines cut, spliced and
//! mutated, and lines built from strace's syntax at random, each imported
//! alone and as a whole log. (A fixed-seed generator keeps it reproducible.)

use spawnscope_strace::{import, ImportOptions, LogInput};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn import_bytes(bytes: Vec<u8>) {
    // Ok or a clean error: both fine; a panic fails the test.
    let _ = import(vec![LogInput::from_bytes("fuzz.log", None, bytes)], &ImportOptions::default());
}

const TOKENS: &[&str] = &[
    "1234 ",
    "[pid  99] ",
    "1700000000.000001 ",
    "23:59:59.999999 ",
    "0.000001 ",
    "execve(",
    "clone(",
    "clone3(",
    "vfork(",
    "fork(",
    "pipe2(",
    "socketpair(",
    "exit_group(",
    "\"",
    "\\",
    "\\x",
    "\\3",
    "\\377",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ", ",
    "=",
    " = ",
    "0",
    "-1",
    "ENOENT",
    " (No such file)",
    " <0.000010>",
    " <unfinished ...>",
    "<... vfork resumed>",
    "<... clone3 resumed>",
    "<pid changed to ",
    "<pid changed to ...>",
    " ...>",
    "+++ exited with ",
    "+++ killed by SIGKILL",
    " +++",
    "--- SIGCHLD ",
    " ---",
    "/*",
    "*/",
    " vars */",
    "...",
    "flags=",
    "CLONE_VM|",
    "SIGCHLD",
    "child_stack=NULL",
    "exit_signal=",
    "stack=0x",
    "AF_UNIX",
    "SOCK_SEQPACKET",
    "O_CLOEXEC",
    "strace: Process 12 attached",
    "Process 7 detached",
    "% time",
    "\t",
    " ",
    "é",
    "\u{1b}[2J",
    "\n",
    "99999999999999999999",
    "18446744073709551615.999999999 ",
];

#[test]
fn random_strace_syntax_never_panics() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for _ in 0..4_000 {
        let n = 1 + rng.below(24);
        let mut line = String::new();
        for _ in 0..n {
            line.push_str(TOKENS[rng.below(TOKENS.len())]);
        }
        import_bytes(line.into_bytes());
    }
}

#[test]
fn mutated_real_logs_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/strace");
    let mut rng = Rng(0xfeed_0bad_cafe_0002);
    for name in ["spawn_all.log", "spawn_all-stderr.log", "thread_exec.log", "rust_spawns.log"] {
        let text = std::fs::read(dir.join(name)).unwrap();
        let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
        for _ in 0..600 {
            let mut out: Vec<u8> = Vec::new();
            for l in &lines {
                let mut l = l.to_vec();
                match rng.below(8) {
                    0 if !l.is_empty() => l.truncate(rng.below(l.len())),
                    1 if !l.is_empty() => {
                        let i = rng.below(l.len());
                        l.remove(i);
                    }
                    2 => {
                        let i = rng.below(l.len() + 1);
                        l.insert(i, b"\"()[]{}<>\\ ,=|x9\xff"[rng.below(17)]);
                    }
                    3 => continue,
                    _ => {}
                }
                out.extend_from_slice(&l);
                out.push(b'\n');
            }
            import_bytes(out);
        }
    }
}
