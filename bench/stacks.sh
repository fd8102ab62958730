#!/usr/bin/env bash
# Cost of call-stack capture (issue 10), measured interleaved in one run:
# two spawn loops, each untraced, recorded with stacks off, recorded with
# stacks on (the default), and under `strace -f -k --seccomp-bpf`.
#
#   bench/stacks.sh [--runs N] [--spawns N] [--no-build]
#
# Loops: fixtures/stacks/rust_loop.rs (N x Command::new("/bin/true").status(),
# rustc -O) and fixtures/stacks/loop.c (N x posix_spawn, gcc -O2 -g). The
# recorder is the tracer library in a release build (tracer/examples/
# stacks_bench.rs: record to a .jsonl file, seccomp mode, as `spawnscope
# record` does; RECORDER=path overrides). Prints the median wall time of each
# variant, the ratios (targets: stacks on within 1.5x of untraced and within
# 10% of stacks off), the recorder's peak RSS, and the tracer's own figures:
# walk cost per spawn with and without the per-process set-up, and the
# symbolization time of the first job and in all.
set -euo pipefail
runs=7 spawns=1000 build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --spawns) spawns=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "usage: bench/stacks.sh [--runs N] [--spawns N] [--no-build]" >&2; exit 2 ;;
  esac
done
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
if [ "$build" = 1 ]; then
  (cd "$root" && cargo build --release --quiet -p spawnscope-tracer --example stacks_bench)
fi
recorder=${RECORDER:-$target/release/examples/stacks_bench}
rustc=${RUSTC:-$(dirname "$(command -v cargo)")/rustc}
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
gcc -O2 -g -o "$work/c-loop" "$root/fixtures/stacks/loop.c"
"$rustc" -O -g -o "$work/rust-loop" "$root/fixtures/stacks/rust_loop.rs"

python3 - "$recorder" "$work" "$runs" "$spawns" <<'PY'
import os, shutil, statistics, subprocess, sys, time
rec, work, runs, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
strace = shutil.which("strace", path="/usr/bin:/bin")
loops = {"rust Command": [f"{work}/rust-loop", n], "C posix_spawn": [f"{work}/c-loop", n]}
variants = {
    "untraced": lambda cmd: cmd,
    "stacks off": lambda cmd: [rec, "off", f"{work}/off.jsonl"] + cmd,
    "stacks on": lambda cmd: [rec, "on", f"{work}/on.jsonl"] + cmd,
}
if strace:
    variants["strace -f -k"] = lambda cmd: [strace, "-f", "-k", "--seccomp-bpf", "-e", "trace=clone,clone3,fork,vfork,execve", "-o", f"{work}/strace.log"] + cmd
times = {(l, v): [] for l in loops for v in variants}
rss = {}
for r in range(runs):
    for l, cmd in loops.items():
        for v, wrap in variants.items():
            t = time.monotonic()
            p = subprocess.Popen(wrap(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, ru = os.wait4(p.pid, 0)
            times[(l, v)].append(time.monotonic() - t)
            rss[(l, v)] = max(rss.get((l, v), 0), ru.ru_maxrss)
            if status != 0:
                sys.exit(f"{l} / {v}: exit status {status}")
print(f"{runs} runs interleaved, {n} spawns per loop; median wall time")
print(f"{'loop':<14} {'variant':<13} {'median s':>9} {'/untraced':>10} {'/off':>7} {'peak RSS':>9}")
for l in loops:
    base = statistics.median(times[(l, "untraced")])
    off = statistics.median(times[(l, "stacks off")])
    for v in variants:
        m = statistics.median(times[(l, v)])
        print(f"{l:<14} {v:<13} {m:9.3f} {m/base:9.2f}x {m/off:6.2f}x {rss[(l, v)]/1024:6.1f} MB")
for l, cmd in loops.items():
    env = dict(os.environ, SPAWNSCOPE_STACK_STATS="1")
    p = subprocess.run([rec, "on", f"{work}/stats.jsonl"] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, env=env, text=True)
    line = [x for x in p.stderr.splitlines() if x.startswith("spawnscope: stacks:")]
    print(f"{l}: {line[-1][len('spawnscope: stacks: '):] if line else '(no stack figures)'}")
PY
