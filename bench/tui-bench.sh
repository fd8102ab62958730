#!/bin/sh
# How fast `spawnscope view` opens a 1,000,000-event trace and redraws.
# Prints: open time (read + analyse + first frame) and per-frame times of
# every view (a key press and the redraw it causes, 120x40).
# Targets: open <= 2 s, frame <= 16 ms. SPAWNSCOPE_BENCH_EVENTS=N changes the size.
set -eu
cd "$(dirname "$0")/.."
exec cargo bench -p spawnscope-tui --bench tui "$@"
