#!/usr/bin/env bash
# enforce_bench.sh - added cost of enforcement (src/enforce) per exec and
# per connect, as interleaved-pair ratios.
#
#   sudo bench/enforce_bench.sh
#   sudo BENCH_EXEC=3000 BENCH_OPEN=50000 BENCH_CONNECT=30000 BENCH_PAIRS=7 bench/enforce_bench.sh
#
# Workloads: bench/loops.c (`exec`: fork + execve /bin/true + wait; `open`:
# open + close of /etc/hostname, which the guard watches (FAN_OPEN_PERM) and
# has a deny rule for another file; `connect`:
# socket + connect 127.0.0.1:PORT + close against its own listener), each run
# in a cgroup v2 directory of its own. Per pair, in alternating order:
#   base  - no guard running;
#   host  - build/tests/guard_demo enforcing on another cgroup: the cost every
#           unprotected process pays (a fanotify round trip per exec and per
#           open of a watched file, one BPF hash lookup per connect);
#   prot  - the workload's own cgroup protected (protect mode) with the exec,
#           the port and the listen port allowed: the full decision path.
# Ratios are time(config) / time(base) of the same pair; the table gives the
# median and the range over pairs, and the added microseconds per operation.
# Everything this script starts is stopped by pid on exit; the two cgroups
# are removed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
N_EXEC=${BENCH_EXEC:-2000}
N_CONNECT=${BENCH_CONNECT:-20000}
N_OPEN=${BENCH_OPEN:-20000}
PAIRS=${BENCH_PAIRS:-5}
PORT=${BENCH_PORT:-47311}

if [ "$(id -u)" -ne 0 ]; then
	echo "bench/enforce_bench.sh: must run as root (BPF, fanotify, cgroups)" >&2
	exit 1
fi
cd "$root"
make -s build/tests/guard_demo
mkdir -p build/bench
gcc -O2 -Wall -Wextra -Werror -o build/bench/loops bench/loops.c
LOOPS=$root/build/bench/loops
GUARD=$root/build/tests/guard_demo

if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
	CGM=/sys/fs/cgroup
else
	CGM=/sys/fs/cgroup/unified
fi
PROT=vigil-bench-prot-$$
FREE=vigil-bench-free-$$
mkdir "$CGM/$PROT" "$CGM/$FREE"
tmp=$(mktemp -d /tmp/vigil-enforce-bench.XXXXXX)
guard_pid=""

stop_guard() {
	if [ -n "$guard_pid" ]; then
		kill -TERM "$guard_pid" 2>/dev/null || true
		wait "$guard_pid" 2>/dev/null || true
		guard_pid=""
	fi
}

cleanup() {
	trap - EXIT INT TERM HUP
	stop_guard
	rmdir "$CGM/$PROT" "$CGM/$FREE" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM HUP

start_guard() {
	: > "$tmp/guard.out"
	"$GUARD" --cgroup "/$PROT" --mode protect --allow "tcp:$PORT" \
		--listen "tcp:$PORT" --exec /usr/bin/true --exec /bin/true \
		--exec "$LOOPS" --no-drift --watch /etc/hostname \
		--deny-open /etc/vigil-bench-denied \
		> "$tmp/guard.out" 2> "$tmp/guard.err" &
	guard_pid=$!
	for _ in $(seq 200); do
		grep -q '"ready"' "$tmp/guard.out" && return 0
		kill -0 "$guard_pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "guard_demo did not start: $(cat "$tmp/guard.err")" >&2
	exit 1
}

# run CGROUP WORKLOAD ARGS... -> prints elapsed seconds
run() {
	local cg=$1
	shift
	sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' _ "$CGM/$cg" \
		"$LOOPS" "$@" > "$tmp/run.out"
	sed -n 's/^elapsed=//p' "$tmp/run.out"
}

results=$tmp/results
: > "$results"
for pair in $(seq "$PAIRS"); do
	for w in exec open connect; do
		case $w in
		exec) args=(exec "$N_EXEC") ;;
		open) args=(open "$N_OPEN") ;;
		*) args=(connect "$N_CONNECT" "$PORT") ;;
		esac
		if [ $((pair % 2)) -eq 1 ]; then
			base=$(run "$FREE" "${args[@]}")
			start_guard
			host=$(run "$FREE" "${args[@]}")
			prot=$(run "$PROT" "${args[@]}")
			stop_guard
		else
			start_guard
			prot=$(run "$PROT" "${args[@]}")
			host=$(run "$FREE" "${args[@]}")
			stop_guard
			base=$(run "$FREE" "${args[@]}")
		fi
		echo "$w $pair $base $host $prot" >> "$results"
		echo "pair $pair $w: base=${base}s host=${host}s protected=${prot}s" >&2
	done
done

python3 - "$results" "$N_EXEC" "$N_CONNECT" "$N_OPEN" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
n = {"exec": int(sys.argv[2]), "connect": int(sys.argv[3]), "open": int(sys.argv[4])}
print(f"{'workload':9} {'config':10} {'ratio median':>12} {'range':>15} {'added us/op':>12}")
for w in ("exec", "open", "connect"):
    rs = [r for r in rows if r[0] == w]
    base = [float(r[2]) for r in rs]
    for i, cfg in ((3, "host"), (4, "protected")):
        vals = [float(r[i]) for r in rs]
        ratios = [v / b for v, b in zip(vals, base)]
        added = [(v - b) / n[w] * 1e6 for v, b in zip(vals, base)]
        print(f"{w:9} {cfg:10} {statistics.median(ratios):12.3f} "
              f"{min(ratios):7.3f}-{max(ratios):<7.3f} {statistics.median(added):12.2f}")
    print(f"{w:9} {'base':10} {'':>12} {'':>15} {statistics.median(base) / n[w] * 1e6:9.2f} us/op")
PY
