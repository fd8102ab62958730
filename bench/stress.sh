#!/usr/bin/env bash
# Stress the recorder through the CLI and print figures (issue 7): for each
# workload, the spawns and exec attempts `spawnscope record` wrote next to what
# `strace -f` sees on the same workload, the events lost (the difference), the
# recorder's peak RSS and the wall time.
#
#   bench/stress.sh [--no-build]
#
# Workloads: 10,000 posix_spawn in a row; 32 threads x 20 spawns at once; a
# fork chain 500 deep; 2,000 short-lived processes; 100 three-stage bash
# pipelines. C fixtures from fixtures/c are compiled with gcc into a temp dir.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
bin="$target/release/spawnscope"
if [ "${1:-}" != "--no-build" ]; then
  (cd "$root" && cargo build -q --release -p spawnscope)
fi
command -v strace >/dev/null || { echo "stress.sh: strace is needed for the comparison" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for f in posix_spawn threads_spawner fork_chain fork_no_exec; do
  gcc -O2 -pthread -o "$work/$f" "$root/fixtures/c/$f.c"
done

# name|command
workloads=(
  "10k posix_spawn in a row|$work/posix_spawn 10000"
  "32 threads x 20 spawns|$work/threads_spawner 32 20"
  "fork chain 500 deep|$work/fork_chain 500"
  "2,000 short-lived processes|$work/fork_no_exec 2000"
  "100 bash pipelines|bash -c 'for i in \$(seq 100); do echo \$i | cat | wc -c >/dev/null; done'"
)

printf '%-30s %9s %9s %9s %9s %6s %10s %8s\n' workload spawns strace execs strace lost "peak RSS" wall
for w in "${workloads[@]}"; do
  name="${w%%|*}"
  cmd="${w#*|}"
  # spawnscope: peak RSS of the recorder process itself (getrusage of the child).
  read -r rss wall < <(python3 - "$bin" "$work/t.jsonl" "$cmd" <<'EOF'
import resource, subprocess, sys, time
bin_, out, cmd = sys.argv[1:]
t = time.monotonic()
subprocess.run([bin_, "record", "-q", "-o", out, "--", "sh", "-c", cmd], check=True,
               stdout=subprocess.DEVNULL)
wall = time.monotonic() - t
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, f"{wall:.2f}")
EOF
)
  # Processes and threads created by the workload (not the `sh -c` wrapper's own exec).
  spawns=$(grep -c '"kind":"spawn".*"thread":false' "$work/t.jsonl" || true)
  execs=$(grep -c '"kind":"exec"' "$work/t.jsonl" || true)
  strace -f -qq -o "$work/s.log" -e trace=clone,clone3,fork,vfork,execve,execveat sh -c "$cmd" >/dev/null
  read -r s_spawns s_execs < <(python3 "$root/bench/strace_count.py" "$work/s.log")
  lost=$(( (s_spawns - spawns) + (s_execs - execs) ))
  printf '%-30s %9d %9d %9d %9d %6d %7d KiB %7ss\n' "$name" "$spawns" "$s_spawns" "$execs" "$s_execs" "$lost" "$rss" "$wall"
done
echo "machine: $(nproc) cpus, $(uname -r), $(date -u +%F), load average $(cut -d' ' -f1-3 /proc/loadavg)"
