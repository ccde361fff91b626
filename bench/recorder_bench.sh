#!/bin/sh
# Flight recorder benchmark: 1,000 simulated containers replayed from a
# recording into a fresh events.db (no root needed).
# Targets (flight recorder issue): >= 200k stored events per second on one
# core; <= 100 bytes per stored event on disk on average.
set -eu
cd "$(dirname "$0")/.."
make -s build/bench/recorder_bench
rec=build/bench/recorder-bench.vrec
n=${BENCH_CONTAINERS:-1000}
e=${BENCH_EVENTS:-200}
mkdir -p build/bench
/usr/bin/python3 tests/tools/mkrec.py bench -n "$n" -e "$e" -o "$rec" >/dev/null 2>&1
echo "recorder benchmark: $n containers x $e events"
build/bench/recorder_bench "$rec"
