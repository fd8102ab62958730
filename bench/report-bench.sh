#!/usr/bin/env bash
# Throughput of `spawnscope report` (release build) on a generated trace of
# 1,000,000 events, with its peak memory. Targets: <= 2 s, <= 500 MB.
#
#   bench/report-bench.sh [--events N] [--runs R] [--no-build] [--keep]
#
# The trace is what a busy build driver looks like: a process with 4 threads
# spawning mostly with posix_spawn (exec before spawn line, as the tracer
# writes it), some glibc fork + exec after a PATH search (3 failed attempts),
# some Rust std fork fallbacks (socketpair first), pids wrapping at 32768 so
# pids are reused, a large environment on some execs. Prints time and peak RSS
# (from /usr/bin/time -v, else getrusage) for text and JSON output, median of R runs.
set -euo pipefail

events=1000000
runs=3
build=1
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --events) events="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "report-bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
bin="$target/release/spawnscope"
if [ "$build" = 1 ]; then
  (cd "$root" && cargo build -q --release -p spawnscope)
fi
[ -x "$bin" ] || { echo "report-bench.sh: $bin not built (run without --no-build)" >&2; exit 2; }

tmp="$(mktemp -d)"
if [ "$keep" = 0 ]; then trap 'rm -rf "$tmp"' EXIT; fi
trace="$tmp/bench.jsonl"

python3 - "$events" "$trace" <<'EOF'
import json, random, sys
n, out = int(sys.argv[1]), sys.argv[2]
random.seed(42)
dumps = json.JSONEncoder(separators=(",", ":")).encode
w = open(out, "w", buffering=1 << 20)
counts = {}
def ev(d):
    counts[d["kind"]] = counts.get(d["kind"], 0) + 1
    w.write(dumps(d)); w.write("\n")
w.write(dumps({"kind": "header", "format": "spawnscope-trace", "format_version": "1.0",
    "tool_version": "0.1.0", "command": ["./driver", "--jobs", "4"], "cwd": "/build",
    "start_unix_ns": 0, "host": {"hostname": "bench", "kernel_release": "6.1.0",
    "glibc_version": "2.36", "arch": "x86_64", "cpus": 8, "memory_bytes": 1 << 34, "clone3": True},
    "tracer": {"mode": "seccomp", "syscall_info": True, "env_count": 40, "env_bytes": 3000}}) + "\n")
root, t, pid, written = 1000, 1_000_000, 1000, 0
ev({"kind": "exec", "pid": root, "tid": root, "syscall": "execve", "path": "/build/driver",
    "argv": ["./driver", "--jobs", "4"], "env_count": 40, "env_bytes": 3000, "env_hash": "0" * 16,
    "result": 0, "t_entry": t, "t_exit": t + 200_000})
threads = [root]
for i in range(3):
    tid = root + 1 + i
    threads.append(tid)
    ev({"kind": "spawn", "pid": root, "tid": root, "child": tid, "syscall": "clone3", "flags": 0x3d0f00,
        "exit_signal": 0, "stack": 1, "ptrace_event": "clone", "thread": True, "result": 0,
        "t_entry": t, "t_event": t + 30_000, "t_resume": t + 40_000})
pid = root + 10
written = 4
dirs = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin"]
progs = ["cc", "ld", "as", "ar", "sh", "python3", "rustc", "git"]
def next_pid():
    global pid
    pid += 1
    if pid >= 32768:
        pid = 1100
    return pid
def exec_(p, path, argv, t0, result=0, env=(40, 3000)):
    ev({"kind": "exec", "pid": p, "tid": p, "syscall": "execve", "path": path, "argv": argv,
        "env_count": env[0], "env_bytes": env[1], "env_hash": "0123456789abcdef", "result": result,
        "t_entry": t0, "t_exit": t0 + (30_000 if result else 150_000)})
while written < n - 1:
    t += random.randint(50_000, 400_000)
    tid = random.choice(threads)
    prog = random.choice(progs)
    argv = [prog, "-c", f"src/file{random.randint(0, 9999)}.c", "-o", f"obj/file{written}.o"]
    env = (184, 27750) if random.random() < 0.05 else (40, 3000)
    r = random.random()
    c = next_pid()
    if r < 0.7:  # posix_spawn: child's exec, then the spawn line
        exec_(c, f"/usr/bin/{prog}", argv, t + 70_000, env=env)
        ev({"kind": "spawn", "pid": root, "tid": tid, "child": c, "syscall": "clone3", "flags": 0x4100,
            "exit_signal": 17, "stack": 140000000000000, "ptrace_event": "vfork", "thread": False,
            "result": 0, "t_entry": t, "t_event": t + 55_000, "t_resume": t + 240_000, "parent_threads": 4})
        written += 2
    else:
        if r >= 0.9:  # Rust fallback: socketpair first
            ev({"kind": "socketpair", "pid": root, "tid": tid, "domain": 1, "socket_type": 524293,
                "protocol": 0, "fds": [7, 8], "result": 0, "t": t - 20_000})
            written += 1
        ev({"kind": "spawn", "pid": root, "tid": tid, "child": c, "syscall": "clone", "flags": 0x1200000,
            "exit_signal": 17, "stack": 0, "ptrace_event": "fork", "thread": False, "result": 0,
            "t_entry": t, "t_event": t + 400_000, "t_resume": t + 450_000,
            "parent_mem": {"rss_kb": 80_000, "pte_kb": 400}, "parent_threads": 4})
        t0 = t + 500_000
        if r < 0.9:  # execvp's PATH walk
            for d in dirs[:3]:
                exec_(c, f"{d}/{prog}", argv, t0, result=2, env=env)
                t0 += 40_000
                written += 1
        exec_(c, f"/usr/bin/{prog}", argv, t0, env=env)
        written += 2
    ev({"kind": "exit", "pid": c, "tid": c, "code": 0, "signal": None, "core_dumped": False,
        "thread": False, "t": t + 2_000_000})
    written += 1
t += 10_000_000
ev({"kind": "exit", "pid": root, "tid": root, "code": 0, "signal": None, "core_dumped": False, "thread": False, "t": t})
w.write(dumps({"kind": "end", "t": t + 1000, "exit_code": 0, "counts": counts}) + "\n")
w.close()
EOF

lines=$(wc -l <"$trace")
size=$(du -m "$trace" | cut -f1)
echo "machine: $(nproc) cpus, $(uname -r), $(date -u +%Y-%m-%d), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "trace: $lines lines ($((lines - 2)) events), ${size} MiB"

measure() { # prints "wall_s cpu_s peak_kib" for one run of spawnscope report "$@"
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$bin" report "$@" >/dev/null
    awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$tmp/time"
  else
    python3 - "$bin" "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
subprocess.run([sys.argv[1], "report", *sys.argv[2:]], stdout=subprocess.DEVNULL, check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{time.monotonic() - t:.2f} {r.ru_utime + r.ru_stime:.2f} {r.ru_maxrss}")
PY
  fi
}

for fmt in text json; do
  res=()
  for _ in $(seq "$runs"); do res+=("$(measure "$trace" -f "$fmt")"); done
  load=$(cut -d' ' -f1 /proc/loadavg)
  printf '%s\n' "${res[@]}" | sort -n | awk -v fmt="$fmt" -v n="$runs" -v load="$load" '
    { t[NR] = $1; c[NR] = $2; m[NR] = $3 }
    END {
      med = t[int((n + 1) / 2)]; peak = 0; cmin = c[1]
      for (i = 1; i <= n; i++) { if (m[i] > peak) peak = m[i]; if (c[i] < cmin) cmin = c[i] }
      printf "report -f %-5s wall median %.2f s, cpu (user+sys) min %.2f s, peak RSS %.0f MB (%s runs, load avg %s)   [targets: <= 2 s, <= 500 MB]\n",
        fmt, med, cmin, peak / 1024, n, load
    }'
done
if [ "$keep" = 1 ]; then echo "trace kept: $trace"; fi
