#!/usr/bin/env bash
# Runs `spawnscope lab` for the main comparisons of the study "Process spawning
# performance in Rust" and prints this machine's ratios next to the study's
# laptop and cluster ratios, computed from its published CSVs.
#
# Usage: bench/lab-compare.sh [--quick] [--no-build] [--data DIR]
#   --quick    fewer spawns (about 4x faster, noisier)
#   --data     the study's CSVs (default: bench/study-data)
# Env: SPAWNSCOPE=path/to/spawnscope (default: the release build)
#
# Per-spawn figures are wall time / count (the study's duration / process_count);
# compare the ratios, not the absolute times: the machines differ.
set -euo pipefail
quick=0 build=1
root=$(cd "$(dirname "$0")/.." && pwd)
data=$root/bench/study-data
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --no-build) build=0; shift ;;
    --data) data=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "lab-compare.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[ -d "$data" ] || { echo "lab-compare.sh: no study data in $data (use --data DIR)" >&2; exit 2; }
target=${CARGO_TARGET_DIR:-$root/target}
if [ "$build" = 1 ]; then
  (cd "$root" && cargo build --release --quiet -p spawnscope --bin spawnscope)
fi
spawnscope=${SPAWNSCOPE:-$target/release/spawnscope}
[ -x "$spawnscope" ] || { echo "lab-compare.sh: $spawnscope not found (build it or set SPAWNSCOPE)" >&2; exit 2; }
cluster_env=$root/fixtures/env/cluster-envs.txt

echo "machine: $(nproc) cpus, $(uname -r), glibc $(getconf GNU_LIBC_VERSION | awk '{print $2}'), $(date -u +%Y-%m-%d)"
SPAWNSCOPE="$spawnscope" DATA="$data" QUICK="$quick" CLUSTER_ENV="$cluster_env" python3 - <<'PY'
import csv, json, os, statistics, subprocess, sys

exe, data, quick = os.environ["SPAWNSCOPE"], os.environ["DATA"], os.environ["QUICK"] == "1"
cluster_env = os.environ["CLUSTER_ENV"]

def study(file, **want):
    """Median duration / process_count (µs) of the rows matching `want`."""
    path = os.path.join(data, file)
    if not os.path.exists(path):
        return None
    vals = [float(r["duration"]) / int(r["process_count"]) * 1e6
            for r in csv.DictReader(open(path))
            if all(r.get(k) == str(v) for k, v in want.items())]
    return statistics.median(vals) if vals else None

def lab(args, count):
    if quick:
        count = max(10, count // 4)
    out = subprocess.run([exe, "lab", "--json", "--count", str(count)] + args,
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"lab-compare.sh: spawnscope lab {' '.join(args)} failed: {out.stderr.strip()}")
    v = json.loads(out.stdout)
    return v["wall_per_spawn_ns"] / 1e3, v["spawn_call_ns"]["median"] / 1e3

G = 1 << 30
rows = [
    # (what, lab A, lab B, count, (laptop A, laptop B), (cluster A, cluster B))
    ("fork vs vfork, 1 GiB parent",
     ["--method", "fork", "--rss", "1G"], ["--method", "vfork", "--rss", "1G"], 60,
     (("local-fork-4.csv", dict(vfork=0, allocated=G)), ("local-fork-3.csv", dict(vfork=1, allocated=G))),
     (("karolina-fork-4.csv", dict(vfork=0, allocated=G)), ("karolina-fork-3.csv", dict(vfork=1, allocated=G)))),
    ("fork: 2 GiB vs 1 GiB parent",
     ["--method", "fork", "--rss", "2G"], ["--method", "fork", "--rss", "1G"], 40,
     (("local-fork-4.csv", dict(vfork=0, allocated=2 * G)), ("local-fork-4.csv", dict(vfork=0, allocated=G))),
     (("karolina-fork-4.csv", dict(vfork=0, allocated=2 * G)), ("karolina-fork-4.csv", dict(vfork=0, allocated=G)))),
    ("Command::spawn vs C posix_spawn",
     ["--method", "rust-std"], ["--method", "posix-spawn"], 2000,
     (("local.csv", dict(process_count=1000)), ("local-cpp.csv", dict(process_count=1000))),
     (("karolina.csv", dict(process_count=1000)), ("karolina-cpp.csv", dict(process_count=1000)))),
    ("Command fork fallback (--pre-exec) vs posix_spawn",
     ["--method", "rust-std", "--pre-exec"], ["--method", "posix-spawn"], 2000,
     None,
     (("karolina.csv", dict(process_count=1000)), ("karolina-cpp.csv", dict(process_count=1000)))),
    ("Command fork fallback: 1 GiB parent vs none",
     ["--method", "rust-std", "--pre-exec", "--rss", "1G"], ["--method", "rust-std", "--pre-exec"], 60,
     None,
     (("karolina-mem.csv", dict(allocated=G)), ("karolina.csv", dict(process_count=10000)))),
    ("Command: bare name (PATH search) vs absolute",
     ["--method", "rust-std", "--path-search"], ["--method", "rust-std"], 2000,
     (("local-sleep.csv", dict(process_count=1000)), ("local-usr-bin-sleep.csv", dict(process_count=1000))),
     None),
    ("Command: 100 vars set per command vs inherited",
     ["--method", "rust-std", "--env-vars", "100", "--env-per-command"], ["--method", "rust-std", "--env-vars", "100"], 2000,
     (("local-env-set.csv", dict(env_count=101)), ("local-env-noset.csv", dict(env_count=101))),
     (("karolina-env-set.csv", dict(env_count=101)), ("karolina-env-noset.csv", dict(env_count=101)))),
    ("Command: 4 threads vs 1 thread",
     ["--method", "rust-std", "--threads", "4"], ["--method", "rust-std"], 4000,
     (("local-noenv-multi-4.csv", {}), ("local-noenv-single.csv", {})),
     (("karolina-noenv-multi-4.csv", {}), ("karolina-noenv-single.csv", {}))),
]
if os.path.exists(cluster_env):
    rows.append(("cluster job env: PATH search vs absolute",
                 ["--method", "rust-std", "--env-file", cluster_env, "--path-search"],
                 ["--method", "rust-std", "--env-file", cluster_env], 2000, None, None))

def ratio(pair):
    if pair is None:
        return "-"
    a, b = study(pair[0][0], **pair[0][1]), study(pair[1][0], **pair[1][1])
    return f"{a / b:5.2f}x ({a:.0f}/{b:.0f} µs)" if a and b else "-"

print(f"{'comparison':<50} {'this machine (wall/spawn)':<30} {'laptop (study)':<24} {'cluster (study)'}")
for what, a, b, count, laptop, cluster in rows:
    (wa, ma), (wb, mb) = lab(a, count), lab(b, count)
    here = f"{wa / wb:5.2f}x ({wa:.0f}/{wb:.0f} µs)"
    print(f"{what:<50} {here:<30} {ratio(laptop):<24} {ratio(cluster)}", flush=True)
print("\nCluster row 4: std took its fork fallback there because glibc 2.17 < 2.24.")
print("A/B ratios of per-spawn wall time (A = first named). laptop: glibc 2.35, kernel 5.15;")
print("cluster: glibc 2.17 (Rust std always takes its fork fallback there), kernel 3.10, 128 cores.")
PY
