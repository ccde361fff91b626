#!/usr/bin/env bash
# run.sh - Vigil overhead benchmark (see bench/README.md).
#
#   sudo bench/run.sh
#   sudo BENCH_OPEN=200000 BENCH_EXEC=1000 BENCH_CONNECT=10000 BENCH_PAIRS=3 bench/run.sh
#
# Builds build/vigil (if missing; VIGIL=/path/to/vigil benchmarks another
# build instead) and build/bench/loops, enables
# kernel.bpf_stats_enabled for the run (the previous value is restored on any
# exit), then bench/bench.py runs the interleaved pairs and prints the table.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

if [ "$(id -u)" -ne 0 ]; then
	echo "bench/run.sh: must run as root (it loads the eBPF sensor and sets" \
	     "kernel.bpf_stats_enabled)" >&2
	exit 1
fi
for tool in gcc make python3 bpftool sysctl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "bench/run.sh: '$tool' not found (see scripts/install-deps.sh)" >&2
		exit 1
	fi
done

cd "$root"
if [ -n "${VIGIL:-}" ]; then
	vigil=$(realpath "$VIGIL")
	if [ ! -x "$vigil" ]; then
		echo "bench/run.sh: VIGIL=$VIGIL is not an executable" >&2
		exit 1
	fi
else
	vigil="$root/build/vigil"
	if [ ! -x "$vigil" ]; then
		make
	fi
fi
mkdir -p build/bench
gcc -O2 -Wall -Wextra -Werror -o build/bench/loops bench/loops.c

tmp=$(mktemp -d /tmp/vigil-bench.XXXXXX)
prev_stats=$(sysctl -n kernel.bpf_stats_enabled)
py=""

# Stops a process we started (recorded by bench.py in $tmp/NAME.pid) if
# bench.py could not: only that pid, and only if it is still the same program.
# shellcheck disable=SC2317  # called from the EXIT trap
stop_recorded() { # NAME COMM SIGNAL [group]
	local f="$tmp/$1.pid" pid comm
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 0
	[ "$comm" = "$2" ] || return 0
	if [ "${4:-}" = group ]; then
		kill "-$3" -- "-$pid" 2>/dev/null || true
	else
		kill "-$3" "$pid" 2>/dev/null || true
	fi
}

# shellcheck disable=SC2317  # the EXIT trap
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	if [ -n "$py" ] && kill -0 "$py" 2>/dev/null; then
		kill -TERM "$py" 2>/dev/null || true
		wait "$py" 2>/dev/null || true
	fi
	stop_recorded loop loops KILL group
	stop_recorded agent vigil INT
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		if [ ! -f "$tmp/agent.pid" ] ||
		   [ ! -d "/proc/$(cat "$tmp/agent.pid")" ]; then
			break
		fi
		sleep 0.5
	done
	stop_recorded agent vigil KILL
	sysctl -q -w kernel.bpf_stats_enabled="$prev_stats" >/dev/null || true
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

sysctl -q -w kernel.bpf_stats_enabled=1 >/dev/null

# In the background so that a signal to this script is handled at once
# (bash runs traps only between foreground commands).
python3 "$here/bench.py" --vigil "$vigil" \
	--loops "$root/build/bench/loops" --tmp "$tmp" \
	--results "$root/build/bench/results.json" &
py=$!
set +e
wait "$py"
rc=$?
set -e
py=""
exit "$rc"
