#!/bin/sh
# How fast `spawnscope view` opens a large trace and redraws (issue 15).
# Prints, for a synthetic 1,000,000-event trace:
#  - view as it opens a big trace: time to the first frame, every frame while
#    the trace is read behind the UI (worst, p99, CPU), time until all is read,
#    peak RSS;
#  - reading it whole (read + analyse + tables), per-view frame times after a
#    key at 120x40, and the events filter (on its own thread over the index).
# Targets: first frame <= 3 s (10M events), frame <= 16 ms.
# SPAWNSCOPE_BENCH_EVENTS=N changes the size; SPAWNSCOPE_BENCH_TRACE=FILE opens a
# trace of yours (e.g. from format/examples/gen-trace.rs); SPAWNSCOPE_BENCH_ONLY_OPEN=1
# stops after the first part.
set -eu
cd "$(dirname "$0")/.."
exec cargo bench -p spawnscope-tui --bench tui "$@"
