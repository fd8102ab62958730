#!/usr/bin/env bash
# Tracer overhead, measured side by side in one run with the commands alternating.
#
# Workloads:
#   spawn     the fixture `spawn-loop N`: N x Command::new("/bin/true").status(), one after another
#   dd        dd if=/dev/zero of=/dev/null bs=1 count=1000000: syscall-bound, spawns nothing
#   dd-small  the same with count=100000, only untraced and under --mode syscall (which stops
#             at every syscall: 1,000,000 of them would take minutes per run)
# Each runs untraced, under `spawnscope record --mode M` for each mode, and under
#   strace -f -qq --seccomp-bpf -o /dev/null -e trace=<the recorded syscall set>
# Prints wall-time medians and the ratio to untraced. Release builds.
#
# Usage: bench/overhead.sh [--runs N] [--spawns N] [--dd-count N] [--modes "seccomp syscall events"]
#                          [--no-strace] [--no-build]
# Env:   SPAWNSCOPE=path/to/spawnscope  SPAWN_LOOP=path/to/spawn-loop  (default: the release builds)
set -euo pipefail

runs=7 spawns=1000 dd_count=1000000 dd_small=100000 modes="seccomp syscall events" use_strace=1 build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --spawns) spawns=$2; shift 2 ;;
    --dd-count) dd_count=$2; dd_small=$(( dd_count / 10 )); shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --no-strace) use_strace=0; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "overhead.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
for n in "$runs" "$spawns" "$dd_count"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "overhead.sh: not a positive number: $n" >&2; exit 2; }
done

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
if [ "$build" = 1 ]; then
  (cd "$root" && cargo build --release --quiet -p spawnscope --bin spawnscope -p spawnscope-fixtures --bin spawn-loop)
fi
spawnscope=${SPAWNSCOPE:-$target/release/spawnscope}
spawn_loop=${SPAWN_LOOP:-$target/release/spawn-loop}
for b in "$spawnscope" "$spawn_loop"; do
  [ -x "$b" ] || { echo "overhead.sh: $b not found (build it, or set SPAWNSCOPE / SPAWN_LOOP)" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
syscalls=clone,clone3,fork,vfork,execve,execveat,socketpair,pipe,pipe2

# The variants that work on this machine.
variants=(untraced)
for m in $modes; do
  if "$spawnscope" record -o "$tmp/probe.jsonl" --mode "$m" -- /bin/true >/dev/null 2>"$tmp/probe.err"; then
    variants+=("record-$m")
  else
    echo "note: spawnscope record --mode $m does not work here, skipped: $(head -c 300 "$tmp/probe.err" | tr '\n' ' ')"
  fi
done
if [ "$use_strace" = 1 ]; then
  if command -v strace >/dev/null && strace -f -qq --seccomp-bpf -o /dev/null -e trace=$syscalls /bin/true 2>/dev/null; then
    variants+=(strace)
  else
    echo "note: strace with --seccomp-bpf not available, skipped"
  fi
fi

workload_cmd() { # name -> command words
  case "$1" in
    spawn) echo "$spawn_loop $spawns" ;;
    dd) echo "dd if=/dev/zero of=/dev/null bs=1 count=$dd_count" ;;
    dd-small) echo "dd if=/dev/zero of=/dev/null bs=1 count=$dd_small" ;;
  esac
}
applies() { # workload variant -> whether to run it
  case "$1:$2" in
    dd:record-syscall) return 1 ;;
    dd-small:untraced|dd-small:record-syscall) return 0 ;;
    dd-small:*) return 1 ;;
  esac
  return 0
}
workloads=(spawn dd)
case " ${variants[*]} " in *" record-syscall "*) workloads+=(dd-small) ;; esac

run_one() { # workload variant -> prints elapsed microseconds
  local w=$1 v=$2 cmd t0 t1
  read -r -a cmd <<<"$(workload_cmd "$w")"
  case "$v" in
    untraced) set -- "${cmd[@]}" ;;
    record-*) set -- "$spawnscope" record -o "$tmp/trace.jsonl" --mode "${v#record-}" -- "${cmd[@]}" ;;
    strace) set -- strace -f -qq --seccomp-bpf -o /dev/null -e trace=$syscalls "${cmd[@]}" ;;
  esac
  # GNU time gives the CPU time (user + sys) of the command and everything it
  # waited for (tracer and tracees alike): less sensitive to other load than wall time.
  [ -n "$gnu_time" ] && set -- "$gnu_time" -f '%U %S' -o "$tmp/cpu" "$@"
  t0=$(date +%s%N)
  if ! "$@" >/dev/null 2>"$tmp/err"; then
    echo "overhead.sh: failed: $* : $(head -c 300 "$tmp/err")" >&2
    exit 1
  fi
  t1=$(date +%s%N)
  cpu=0
  [ -n "$gnu_time" ] && cpu=$(awk 'END { printf "%d", ($1 + $2) * 1e6 }' "$tmp/cpu")
  echo "$(( (t1 - t0) / 1000 )) $cpu"
}
gnu_time=""
if [ -x /usr/bin/time ] && /usr/bin/time -f '%U' -o /dev/null true 2>/dev/null; then gnu_time=/usr/bin/time; fi

echo "spawnscope tracer overhead: $runs runs, alternating; spawn = spawn-loop $spawns, dd = bs=1 count=$dd_count"
echo "machine: $(nproc) cpus, $(uname -r), glibc $(getconf GNU_LIBC_VERSION | awk '{print $2}'), $(date -u +%Y-%m-%d), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "variants: ${variants[*]}"
: >"$tmp/samples"
nv=${#variants[@]}
for ((r = 0; r < runs; r++)); do
  for w in "${workloads[@]}"; do
    # Rotate the order each run so no variant always follows the same one.
    for ((i = 0; i < nv; i++)); do
      v=${variants[(( (i + r) % nv ))]}
      applies "$w" "$v" || continue
      us=$(run_one "$w" "$v")
      echo "$w $v $us" >>"$tmp/samples"
      if [ "$r" = 0 ] && [ "$w" = spawn ] && [[ "$v" == record-* ]]; then
        n=$(grep -c '"kind":"spawn"' "$tmp/trace.jsonl" || true)
        e=$(grep -c '"kind":"exec"' "$tmp/trace.jsonl" || true)
        echo "check: $v recorded $n spawn and $e exec events for $spawns spawns ($(wc -c <"$tmp/trace.jsonl") bytes)"
      fi
    done
  done
  printf '.' >&2
done
echo >&2

echo
stat() { # workload variant column -> "median min max" in seconds
  awk -v w="$1" -v v="$2" -v c="$3" '$1==w && $2==v {print $c}' "$tmp/samples" | sort -n |
    awk '{a[NR]=$1} END {m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.3f %.3f %.3f", m/1e6, a[1]/1e6, a[NR]/1e6}'
}
printf '%-9s %-16s %9s %8s %8s %7s   %8s %7s\n' workload variant "wall med" min max ratio "cpu med" ratio
for w in "${workloads[@]}"; do
  base="" cbase=""
  for v in "${variants[@]}"; do
    applies "$w" "$v" || continue
    read -r med min max <<<"$(stat "$w" "$v" 3)"
    read -r cmed _ _ <<<"$(stat "$w" "$v" 4)"
    [ "$v" = untraced ] && base=$med cbase=$cmed
    ratio=$(awk -v m="$med" -v b="$base" 'BEGIN { if (b > 0) printf "%.2fx", m / b; else print "-" }')
    cratio=$(awk -v m="$cmed" -v b="$cbase" 'BEGIN { if (b > 0) printf "%.2fx", m / b; else print "-" }')
    printf '%-9s %-16s %9.3f %8.3f %8.3f %7s   %8.3f %7s\n' "$w" "$v" "$med" "$min" "$max" "$ratio" "$cmed" "$cratio"
  done
done
echo
echo "wall: median / min / max wall seconds; ratio = median / median untraced of the same workload."
echo "cpu: median user+sys seconds of the command and all it waited for (tracer included), and its ratio."
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other load inflates wall times)"
