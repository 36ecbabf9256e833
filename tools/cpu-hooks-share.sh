#!/usr/bin/env bash
# Where CPU samples go on an allocation-heavy workload (tests/progs/mem_bench,
# 5 million small allocations through three call paths), run by
# tools/bench-cpu.sh after its overhead table: with every recorder on
# (cpu,mem,calls) and with cpu alone, at 100 and 1000 Hz, the median over
# BENCH_HOOK_REPS runs (default 3) of
#   profshim%   weight in the [profshim] frame (the profiler's own time)
#   dropped%    weight dropped (samples in the loader, a full queue)
#   unsampled%  CPU time no sample carried (threads that could not be sampled)
#   alloc%      the malloc family's share of the program's own user time (all
#               weight but [profshim] and [kernel], whose owner is unknown:
#               page faults on the trace files are in it): the two
#               configurations should agree
#   bytes/sample  trace bytes per sample of a cpu-only run (SAMPLE record and
#               its new STACK nodes)
#   tools/cpu-hooks-share.sh     (after make)
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build}"
SHIM="$BUILD/libprofshim.so"
PA="$BUILD/profanalyze"
PROG="$BUILD/tests/mem_bench"
REPS="${BENCH_HOOK_REPS:-3}"
TMP=$(mktemp -d /tmp/bench-hooks.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
[ -x "$PROG" ] || make -C "$ROOT" "$PROG" >/dev/null
[ -f "$SHIM" ] && [ -x "$PA" ] || { echo "build first: make" >&2; exit 1; }

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# one RECORD HZ : "profshim% dropped% unsampled% alloc% bytes/sample" of one run
one() {
	rm -f "$TMP"/t.trace*
	PROFSHIM_RECORD="$1" PROFSHIM_CPU_HZ="$2" PROFSHIM_QUIET=1 PROFSHIM_OUTPUT="$TMP/t.trace" \
		LD_PRELOAD="$SHIM" "$PROG" 5000000 2 >/dev/null || return 1
	"$PA" -q "$TMP/t.trace" --format=json -o "$TMP/r.json" || return 1
	local bytes
	bytes=$(cat "$TMP"/t.trace.t* | wc -c)
	jq -r --arg bytes "$bytes" '.cpu as $c
		| ($c.weight + $c.dropped_weight + $c.unsampled_weight) as $all
		| ([$c.functions[] | select((.module // "") | test("libc\\.so"))
		    | select(.name | test("^(__libc_)?(malloc|free|calloc|realloc)$|^_int_|^malloc_consolidate$|^unlink_chunk|^tcache"))
		    | .self_samples] | add // 0) as $m
		| ([$c.functions[] | select(.name == "[kernel]") | .self_samples] | add // 0) as $k
		| "\(100 * $c.profshim_weight / $all) \(100 * $c.dropped_weight / $all) \(100 * $c.unsampled_weight / $all) \(100 * $m / ($c.weight - $c.profshim_weight - $k)) \(($bytes | tonumber) / $c.samples)"' "$TMP/r.json"
}

for rep in $(seq "$REPS"); do
	for hz in 100 1000; do
		for rec in cpu,mem,calls cpu; do
			one "$rec" "$hz" >>"$TMP/$rec.$hz" || echo "run failed: $rec $hz" >&2
		done
	done
done
echo "Where CPU samples go, allocation-heavy workload (mem_bench), median of $REPS runs"
printf "%-14s %6s %10s %9s %11s %8s %13s\n" recorders Hz profshim% dropped% unsampled% alloc% bytes/sample
for hz in 100 1000; do
	for rec in cpu,mem,calls cpu; do
		f="$TMP/$rec.$hz"
		[ -s "$f" ] || continue
		printf "%-14s %6s" "$rec" "$hz"
		for col in 1 2 3 4; do
			printf " %9.2f%%" "$(cut -d' ' -f$col "$f" | median)"
		done
		if [ "$rec" = cpu ]; then
			printf " %13.0f\n" "$(cut -d' ' -f5 "$f" | median)"
		else
			printf " %13s\n" - # the trace holds memory records too
		fi
	done
done
