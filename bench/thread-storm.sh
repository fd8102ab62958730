#!/usr/bin/env bash
# Issue 11 stress: the thread storm (8 threads each create 200 short detached
# threads) recorded N times (default 50) through the CLI, `record` then
# `report -f json`; prints processes and threads per run. Truth: 1 process,
# 1,608 threads. Exits 1 if any run differs.
#
#   bench/thread-storm.sh [RUNS] [--no-build] [--mode MODE]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
runs=50
build=1
mode=auto
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --mode) mode="$2"; shift ;;
    *) runs="$1" ;;
  esac
  shift
done
target="${CARGO_TARGET_DIR:-$root/target}"
bin="$target/release/spawnscope"
if [ "$build" = 1 ]; then
  (cd "$root" && cargo build -q --release -p spawnscope)
fi
for tool in gcc python3; do
  [ -x "/usr/bin/$tool" ] || [ -x "/bin/$tool" ] || { echo "thread-storm.sh: needs $tool" >&2; exit 2; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
/usr/bin/gcc -O2 -pthread -o "$work/thread_storm" "$root/fixtures/c/thread_storm.c"

bad=0
printf '%4s %9s %8s %8s %8s\n' run processes threads spawns wall_s
for i in $(seq "$runs"); do
  t0=$(date +%s.%N)
  "$bin" record -q --mode "$mode" -o "$work/t.jsonl" -- "$work/thread_storm" 8 200
  t1=$(date +%s.%N)
  "$bin" report -f json "$work/t.jsonl" >"$work/r.json"
  read -r p t s < <(/usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print(s["processes"], s["threads"], s["spawns"])' "$work/r.json")
  w=$(/usr/bin/python3 -c "print(f'{$t1 - $t0:.2f}')")
  mark=""
  if [ "$p" != 1 ] || [ "$t" != 1608 ] || [ "$s" != 0 ]; then mark="  <-- wrong"; bad=$((bad + 1)); fi
  printf '%4s %9s %8s %8s %8s%s\n' "$i" "$p" "$t" "$s" "$w" "$mark"
done
echo "thread-storm: $((runs - bad)) of $runs runs exact (1 process, 1608 threads, 0 spawns; mode $mode)"
[ "$bad" = 0 ]
