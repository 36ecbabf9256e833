#!/usr/bin/env bash
# io recorder benchmark.
#  1. A file copy with 64-byte reads and writes (tests/progs/bench_io.c):
#     ns per call plain, under the shim with io off (wrappers pass through)
#     and with PROFSHIM_RECORD=io; and uncontended mutex lock/unlock pairs
#     (the lock wrapper's try-lock). Interleaved runs, medians. A loop of
#     read(-1) (EBADF: the cheapest system call) shows the ns per wrapped
#     and recorded call.
#  2. redis-server + redis-benchmark -q -n N -t get,set on 127.0.0.1:
#     requests per second plain against PROFSHIM_RECORD=io (goal: at most
#     5% fewer), interleaved, medians; then `strace -f -c` and `perf trace
#     -s` on the same workload, the references people reach for.
# Environment: BENCH_RUNS (default 5), BENCH_IO_REQUESTS (default 200000).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build}"
RUNS="${BENCH_RUNS:-5}"
REQ="${BENCH_IO_REQUESTS:-200000}"
SHIM="$BUILD/libprofshim.so"
PROG="$BUILD/tests/bench_io"
make -s -C "$ROOT" all "$PROG" >/dev/null
TMP="$(mktemp -d "${TMPDIR:-/tmp}/bench-io.XXXXXX")"
SERVER_PID=
cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

echo "== io recorder: file copy, 64-byte reads and writes (median of $RUNS) =="
for r in $(seq "$RUNS"); do
	"$PROG" "$TMP" >>"$TMP/plain"
	PROFSHIM_RECORD=none PROFSHIM_OUTPUT="$TMP/n.%p" LD_PRELOAD="$SHIM" "$PROG" "$TMP" >>"$TMP/none"
	PROFSHIM_RECORD=io PROFSHIM_OUTPUT="$TMP/i.%p" LD_PRELOAD="$SHIM" "$PROG" "$TMP" >>"$TMP/io"
	rm -f "$TMP"/n.* "$TMP"/i.*
done
for k in copy_ns_per_call ebadf_ns_per_call lock_ns_per_pair; do
	p=$(field "$k" <"$TMP/plain" | median)
	n=$(field "$k" <"$TMP/none" | median)
	i=$(field "$k" <"$TMP/io" | median)
	printf '%-22s plain %9.1f  shim(io off) %9.1f  shim(io) %9.1f  io/plain %.2fx  (+%.1f ns)\n' \
		"$k" "$p" "$n" "$i" "$(echo "if ($p > 0) $i / $p else 0" | bc -l)" "$(echo "$i - $p" | bc -l)"
done

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
	echo "redis-server/redis-benchmark not installed (tools/install-bench-deps.sh): skipped"
	exit 0
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_redis() { # PREFIX-COMMAND... : redis on a free port, sets PORT and SERVER_PID
	PORT=$(free_port)
	"$@" redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$TMP" >"$TMP/redis.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 100); do
		redis-cli -p "$PORT" ping >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "redis did not start" >&2
	cat "$TMP/redis.log" >&2
	exit 1
}
server_cpu_us_per_req() { # the server's CPU time (user+sys) per request so far
	local hz
	hz=$(getconf CLK_TCK)
	awk -v hz="$hz" -v n="$((2 * REQ))" '{ printf "%.2f\n", ($14 + $15) / hz * 1e6 / n }' \
		"/proc/$SERVER_PID/stat"
}
stop_redis() {
	redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || kill "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}
rps() { # requests per second of GET and SET, summed
	redis-benchmark -q -n "$REQ" -t get,set -p "$PORT" 2>/dev/null | tr '\r' '\n' |
		sed -n 's/^\(GET\|SET\): \([0-9.]*\) requests per second.*/\2/p' | awk '{ s += $1 } END { print s / 2 }'
}

echo
echo "== redis-server, redis-benchmark -q -n $REQ -t get,set (requests/s, mean of GET and SET; median of $RUNS) =="
for r in $(seq "$RUNS"); do
	start_redis env
	rps >>"$TMP/redis.plain"
	server_cpu_us_per_req >>"$TMP/cpu.plain"
	stop_redis
	start_redis env PROFSHIM_RECORD=io PROFSHIM_OUTPUT="$TMP/r.trace.%p" LD_PRELOAD="$SHIM"
	rps >>"$TMP/redis.io"
	server_cpu_us_per_req >>"$TMP/cpu.io"
	stop_redis
done
p=$(median <"$TMP/redis.plain")
i=$(median <"$TMP/redis.io")
printf 'plain %.0f  io %.0f  io/plain %.3f (%.1f%% fewer)\n' "$p" "$i" "$(echo "$i / $p" | bc -l)" \
	"$(echo "(1 - $i / $p) * 100" | bc -l)"
# the server's own CPU time per request: less sensitive than requests/s to
# what else runs on the machine
cp=$(median <"$TMP/cpu.plain")
ci=$(median <"$TMP/cpu.io")
printf 'server CPU per request: plain %.2f us  io %.2f us  (+%.2f us, %.3fx)\n' "$cp" "$ci" \
	"$(echo "$ci - $cp" | bc -l)" "$(echo "if ($cp > 0) $ci / $cp else 0" | bc -l)"
t=$(ls "$TMP"/r.trace.* | grep -v '\.t[0-9]*$' | tail -1)
"$BUILD/profanalyze" "$t" -q --format=json -o "$TMP/r.json"
calls=$(jq '.io_metrics.calls' "$TMP/r.json")
echo "last io run: $calls calls recorded; trace $(du -cb "$t"* | tail -1 | cut -f1) bytes"

echo
echo "== references on the same workload =="
start_redis strace -f -c -o "$TMP/strace.txt"
s=$(rps)
stop_redis
printf 'strace -f -c: %.0f requests/s (%.3f of plain)\n' "$s" "$(echo "$s / $p" | bc -l)"
head -8 "$TMP/strace.txt"
if perf trace -s -- true >/dev/null 2>&1; then
	start_redis perf trace -s -o "$TMP/perf.txt" --
	s=$(rps)
	stop_redis
	printf 'perf trace -s: %.0f requests/s (%.3f of plain)\n' "$s" "$(echo "$s / $p" | bc -l)"
else
	echo "perf trace -s: not permitted here (needs tracepoints): skipped"
fi
