#!/bin/sh
# Model benchmark: 1,000 simulated containers replayed from a recording.
# Targets (issue 3): >= 2M model checks per second on one core, <= 256 KiB
# per container model on average.
set -eu
cd "$(dirname "$0")/.."
make -s build/bench/model_bench
rec=build/bench/model-bench.vrec
n=${BENCH_CONTAINERS:-1000}
e=${BENCH_EVENTS:-200}
/usr/bin/python3 tests/tools/mkrec.py bench -n "$n" -e "$e" -o "$rec" >/dev/null
echo "model benchmark: $n containers x $e events"
build/bench/model_bench "$rec"
