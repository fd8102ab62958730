#!/usr/bin/env bash
# Scale: spawnscope on a day of a cluster node and on a whole job's traces (issue 15).
#
#   bench/scale.sh [--sizes "1000000 3000000 10000000"] [--many 16] [--many-events 1000000]
#                  [--runs 1] [--no-build] [--keep] [--only report|many|view|parquet|check|reader]
#                  [--stacks]
#
# Generates build-driver traces (format/examples/gen-trace.rs: a driver with 4
# threads and 8 jobs in flight, posix_spawn / fork + PATH search / Rust
# fallback, shells and compilers spawning helpers, threads, pid reuse) into a
# temporary directory, then measures with /usr/bin/time -v:
#   - `report` text and `-f json`: wall time, peak RSS, events/s, bytes/event;
#   - `report` of --many traces together (16 x 1M: one per node of a job);
#   - `view`: first frame, whole trace read and peak RSS in a 120x40 tmux window,
#     and the frames while it reads (tui bench; SPAWNSCOPE_VIEW_BIN: another build);
#   - `export --format parquet`: wall time, events/s, output size;
#   - `check` with three rules (all in one pass over the spawns read back from disk);
#   - the reader against a plain serde_json pass (format/examples/read-cost.rs).
# Targets (issue 15, 2 cores): 10M events <= 10 s and <= 500 MB; 1M <= 1 s;
# memory flat within 2x from 1M to 10M; many traces >= 1M events/s; view open <= 3 s.
# `report` text runs in bounded memory, `-f json` streams its spawns[] back from
# a temporary file, `report DIR` reads one trace per core (docs/reference/report.md).
# The machine's load average is printed first: on a shared machine compare CPU
# times, wall times follow the load.
# --stacks: traces with call stacks, as the default recording makes them
# (module/stack lines, a stack per spawn, symbols at the end): bounded
# analyses then read each file twice (a first pass for the stack records).
# Figures, not tests: nothing fails when a target is missed.
set -euo pipefail

sizes="1000000 3000000 10000000"
many=16
many_events=1000000
runs=1
build=1
keep=0
only=""
stacks=""
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes="$2"; shift 2 ;;
    --many) many="$2"; shift 2 ;;
    --many-events) many_events="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --keep) keep=1; shift ;;
    --only) only="$2"; shift 2 ;;
    --stacks) stacks="--stacks"; shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "scale.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }

root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
bin="$target/release/spawnscope"
gen="$target/release/examples/gen-trace"
readcost="$target/release/examples/read-cost"
if [ "$build" = 1 ]; then
  (cd "$root" && cargo build -q --release -p spawnscope \
    && cargo build -q --release -p spawnscope-format --example gen-trace --example read-cost)
fi
for b in "$bin" "$gen" "$readcost"; do
  [ -x "$b" ] || { echo "scale.sh: $b not built (run without --no-build)" >&2; exit 2; }
done
if [ ! -x /usr/bin/time ]; then
  echo "scale.sh: needs GNU time (/usr/bin/time -v): apt-get install time" >&2
  exit 2
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/spawnscope-scale.XXXXXX")"
if [ "$keep" = 0 ]; then trap 'rm -rf "$tmp"' EXIT; fi

echo "machine: $(nproc) cpus, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r), $(date -u +%Y-%m-%d), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), load avg $(cut -d' ' -f1-3 /proc/loadavg)${stacks:+, traces with call stacks}"

# gen N FILE [HOST SEED]: a trace of N events (cached within this run).
gen() {
  [ -f "$2" ] || "$gen" --events "$1" --out "$2" --host "${3:-node00}" --seed "${4:-42}" $stacks 2>/dev/null
}
mib() { du -m "$1" | cut -f1; }

# measure NAME CMD...: runs CMD (stdout discarded) $runs times; prints a line
# with the median wall time and the largest peak RSS; sets $wall, $rss_mb and
# $cpu (least user+sys seconds: less sensitive to other load than wall time).
measure() {
  local name="$1"; shift
  local walls=() rss=0 w m c
  cpu=999999
  for _ in $(seq "$runs"); do
    if ! /usr/bin/time -v -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err"; then
      echo "  $name: FAILED: $(head -c 300 "$tmp/err")"
      wall=0; rss_mb=0; cpu=0
      return 0
    fi
    w=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$tmp/time")
    m=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time")
    c=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$tmp/time")
    cpu=$(awk -v a="$cpu" -v b="$c" 'BEGIN { print (b < a) ? b : a }')
    walls+=("$w")
    [ "$m" -gt "$rss" ] && rss=$m
  done
  wall=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  rss_mb=$(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }')
}

per_event() { # EVENTS WALL RSS_MB -> "X.XX M events/s, N B/event"
  awk -v n="$1" -v w="$2" -v r="$3" 'BEGIN { if (w <= 0) w = 0.001; printf "%5.2f M events/s, %4.0f B/event", n / w / 1e6, r * 1048576 / n }'
}

declare -A rss_at wall_at
if want report || want reader || want view || want parquet; then
  echo
  echo "== report (targets: 1M <= 1 s; 10M <= 10 s and <= 500 MB; RSS 10M/1M <= 2)"
  for n in $sizes; do
    trace="$tmp/t$n.jsonl"
    gen "$n" "$trace"
    want report || continue
    for fmt in text json; do
      measure "report -f $fmt" "$bin" report "$trace" -f "$fmt"
      printf '  %9s events (%5s MiB)  report -f %-4s  %6.2f s (cpu %6.2f s)  %5s MB peak RSS   %s\n' \
        "$n" "$(mib "$trace")" "$fmt" "$wall" "$cpu" "$rss_mb" "$(per_event "$n" "$wall" "$rss_mb")"
      wall_at[$fmt$n]=$wall; rss_at[$fmt$n]=$rss_mb
    done
  done
  if want report; then
    first=$(echo $sizes | awk '{ print $1 }'); last=$(echo $sizes | awk '{ print $NF }')
    for fmt in text json; do
      awk -v a="${rss_at[$fmt$first]}" -v b="${rss_at[$fmt$last]}" -v ta="${wall_at[$fmt$first]}" -v tb="${wall_at[$fmt$last]}" \
        -v f="$fmt" -v n1="$first" -v n2="$last" \
        'BEGIN { if (a > 0 && ta > 0) printf "  ratio %s %s -> %s events: peak RSS x%.1f, wall x%.1f (flat memory: x1)\n", f, n1, n2, b / a, tb / ta }'
    done
  fi
fi

if want many; then
  echo
  echo "== $many traces x $many_events events reported together (target: >= 1M events/s, memory as one trace)"
  mdir="$tmp/job"
  mkdir -p "$mdir"
  for i in $(seq 1 "$many"); do
    gen "$many_events" "$mdir/node$(printf %02d "$i").jsonl" "node$(printf %02d "$i")" "$i"
  done
  if "$bin" report --help 2>/dev/null | grep -q '\[TRACE\]\.\.\.'; then
    total=$((many * many_events))
    for fmt in text json; do
      measure "report $many traces" "$bin" report "$mdir" -f "$fmt"
      printf '  %9s events in %s files  report DIR -f %-4s  %6.2f s (cpu %6.2f s)  %5s MB peak RSS   %s\n' \
        "$total" "$many" "$fmt" "$wall" "$cpu" "$rss_mb" "$(per_event "$total" "$wall" "$rss_mb")"
    done
  else
    echo "  report of several traces: not yet supported by this build"
  fi
fi

if want view; then
  echo
  echo "== view: first frame, whole trace read, peak RSS (tmux 120x40); frames (tui bench) (targets: first frame <= 3 s at 10M, frames <= 16 ms)"
  # SPAWNSCOPE_VIEW_BIN=/path/to/spawnscope measures another build (before/after).
  vbin="${SPAWNSCOPE_VIEW_BIN:-$bin}"
  if ! command -v tmux >/dev/null; then
    echo "  skipped: needs tmux"
  else
    for n in $sizes; do
      trace="$tmp/t$n.jsonl"
      sock="$tmp/tmux.sock"
      rm -f "$tmp/view-time"
      start=$(date +%s.%N)
      tmux -S "$sock" -f /dev/null new-session -d -x 120 -y 40 "/usr/bin/time -v -o $tmp/view-time $vbin view $trace; sleep 60"
      first=""; whole=""
      # Polled every 50 ms: the first frame has the tab bar; the trace is
      # all read when the overview shows and no "reading" line is left.
      for _ in $(seq 1 6000); do
        screen=$(tmux -S "$sock" capture-pane -p 2>/dev/null || true)
        if [ -z "$first" ] && printf '%s' "$screen" | grep -q '1 Overview'; then first=$(date +%s.%N); fi
        if [ -n "$first" ] && printf '%s' "$screen" | grep -q 'Findings' && ! printf '%s' "$screen" | grep -q ' reading '; then
          whole=$(date +%s.%N); break
        fi
        sleep 0.05
      done
      tmux -S "$sock" send-keys q 2>/dev/null || true
      for _ in $(seq 1 600); do [ -s "$tmp/view-time" ] && break; sleep 0.05; done
      tmux -S "$sock" kill-server 2>/dev/null || true
      rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$tmp/view-time" 2>/dev/null)
      awk -v a="$start" -v b="${first:-0}" -v c="${whole:-0}" -v n="$n" -v r="${rss:-?}" 'BEGIN {
        printf "  %9s events: first frame after %5.2f s, whole trace read after %6.2f s, %s MB peak RSS\n", n, (b > 0 ? b - a : -1), (c > 0 ? c - a : -1), r }'
    done
    # Frames while the trace is read and after (the TUI benchmark on the same traces).
    if [ -z "${SPAWNSCOPE_VIEW_BIN:-}" ]; then
      for n in $sizes; do
        (cd "$root" && SPAWNSCOPE_BENCH_TRACE="$tmp/t$n.jsonl" SPAWNSCOPE_BENCH_ONLY_OPEN=1 cargo bench -q -p spawnscope-tui --bench tui 2>/dev/null) \
          | grep -E 'first frame|frames while|resize|memory' | sed "s/^/  $n events: /"
      done
    fi
  fi
fi

if want parquet; then
  echo
  echo "== export --format parquet"
  if "$bin" export --help 2>/dev/null | grep -q parquet; then
    for n in $sizes; do
      trace="$tmp/t$n.jsonl"
      out="$tmp/pq$n"
      rm -rf "$out"
      measure "export parquet" "$bin" export "$trace" --format parquet -o "$out"
      size=$(du -sm "$out" 2>/dev/null | cut -f1)
      printf '  %9s events (%5s MiB JSON)  export parquet  %6.2f s (cpu %6.2f s)  %5s MB peak RSS  %s MiB Parquet   %s\n' \
        "$n" "$(mib "$trace")" "$wall" "$cpu" "$rss_mb" "${size:-?}" "$(per_event "$n" "$wall" "$rss_mb")"
      rm -rf "$out"
    done
  else
    echo "  export --format parquet: not yet supported by this build"
  fi
fi

if want check; then
  echo
  echo "== check TRACE --max-spawns 100 --deny-style fork --max-failed-exec-attempts 0"
  for n in $sizes; do
    trace="$tmp/t$n.jsonl"
    gen "$n" "$trace"
    # Exit 1: the rules fail (that is the point: offenders are listed).
    measure "check" sh -c '"$0" check "$1" --max-spawns 100 --deny-style fork --max-failed-exec-attempts 0; [ $? -le 1 ]' "$bin" "$trace"
    printf '  %9s events  check  %6.2f s (cpu %6.2f s)  %5s MB peak RSS   %s\n' \
      "$n" "$wall" "$cpu" "$rss_mb" "$(per_event "$n" "$wall" "$rss_mb")"
  done
fi

if want reader; then
  echo
  echo "== reader vs a plain serde_json pass (1.00 = no overhead)"
  first=$(echo $sizes | awk '{ print $1 }')
  "$readcost" "$tmp/t$first.jsonl" 3 | sed 's/^/  /'
fi
if [ "$keep" = 1 ]; then echo "traces kept in $tmp"; fi
