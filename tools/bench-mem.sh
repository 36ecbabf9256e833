#!/usr/bin/env bash
# Memory recorder benchmark: the bundled allocation-heavy workload
# (tests/progs/mem_bench.c) plain, under profshim with full tracking, under
# profshim in sampling mode, and under heaptrack, in the same run.
# Reports median wall and CPU (user+sys) time ratios against the plain run,
# trace bytes per allocation+free pair, and the analysis time per million
# events of profanalyze against heaptrack_print.
#
# Two workloads: an allocation-heavy program (one checksum pass over each
# block: millions of allocations per second) and the bare allocation loop
# (tens of millions per second: the worst case for any interposer). The
# trace size and analysis figures come from the second.
#
# Environment: BENCH_MEM_N (allocations, default 5000000), BENCH_RUNS
# (runs per configuration, default 5), BENCH_MEM_SAMPLE (bytes, default
# 524288).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build}"
N="${BENCH_MEM_N:-5000000}"
RUNS="${BENCH_RUNS:-5}"
SAMPLE="${BENCH_MEM_SAMPLE:-524288}"
SHIM="$BUILD/libprofshim.so"
PROG="$BUILD/tests/mem_bench"
FIPROG="$BUILD/tests/fi_mem_bench" # the same, built with -finstrument-functions
ANALYZE="$BUILD/profanalyze"

make -s -C "$ROOT" all "$PROG" "$FIPROG" >/dev/null
TMP="$(mktemp -d "${TMPDIR:-/tmp}/bench-mem.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

# time_run LABEL CMD... : appends "wall cpu" of one run to $TMP/LABEL
time_run() {
	local label="$1"
	shift
	/usr/bin/time -f "%e %U %S" -o "$TMP/time" "$@" >/dev/null 2>"$TMP/stderr" || {
		echo "bench-mem: '$label' failed:" >&2
		cat "$TMP/stderr" >&2
		exit 1
	}
	awk '{ printf "%s %.3f\n", $1, $2 + $3 }' "$TMP/time" >>"$TMP/$label"
}

median() { # column of $TMP/LABEL
	sort -n -k"$2" "$TMP/$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}

have_heaptrack=0
command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null && have_heaptrack=1

# run_workload PASSES WHAT: the four configurations on mem_bench N PASSES.
run_workload() {
	PASSES="$1"
	WHAT="$2"
	rm -f "$TMP"/plain "$TMP"/full "$TMP"/sample "$TMP"/heaptrack
	# Interleave the configurations so drifting machine load hits all alike.
	for ((r = 0; r < RUNS; r++)); do
		time_run plain "$PROG" "$N" "$PASSES"
		rm -f "$TMP"/full.trace*
		time_run full env PROFSHIM_OUTPUT="$TMP/full.trace" PROFSHIM_RECORD=mem LD_PRELOAD="$SHIM" "$PROG" "$N" "$PASSES"
		rm -f "$TMP"/sample.trace*
		time_run sample env PROFSHIM_OUTPUT="$TMP/sample.trace" PROFSHIM_RECORD=mem PROFSHIM_MEM_SAMPLE="$SAMPLE" \
			LD_PRELOAD="$SHIM" "$PROG" "$N" "$PASSES"
		if [ $have_heaptrack = 1 ]; then
			rm -f "$TMP"/ht*
			time_run heaptrack heaptrack -o "$TMP/ht" "$PROG" "$N" "$PASSES"
		fi
	done

	pw=$(median plain 1)
	pc=$(median plain 2)
	printf "\nbench-mem: mem_bench %s %s (%s), median of %s runs\n" "$N" "$PASSES" "$WHAT" "$RUNS"
	printf "  %-22s %9s %9s %9s %9s\n" configuration "wall s" "cpu s" "wall x" "cpu x"
	for label in plain full sample heaptrack; do
		[ -s "$TMP/$label" ] || continue
		w=$(median "$label" 1)
		c=$(median "$label" 2)
		case $label in
		full) name="profshim full" ;;
		sample) name="profshim sample $SAMPLE" ;;
		*) name=$label ;;
		esac
		awk -v n="$name" -v w="$w" -v c="$c" -v pw="$pw" -v pc="$pc" \
			'BEGIN { printf "  %-22s %9.3f %9.3f %9.2f %9.2f\n", n, w, c, w / pw, c / pc }'
	done
	if [ $have_heaptrack = 1 ]; then
		awk -v f="$(median full 1)" -v h="$(median heaptrack 1)" -v p="$pw" \
			'BEGIN { printf "  slowdown (wall - plain): profshim full is %.2f of heaptrack'"'"'s (goal <= 0.5)\n", (f - p) / (h - p) }'
	fi
	awk -v s="$(median sample 1)" -v p="$pw" \
		'BEGIN { printf "  sampling overhead: %+.1f%% wall (goal within 5%%)\n", (s / p - 1) * 100 }'
}

run_workload 1 "allocation-heavy program: ~7M allocations/s, one pass over each block"
run_workload 0 "allocation-bound microbenchmark: nothing but malloc/free"

# Allocation stacks from the calls recorder's shadow stack against
# unwinding, on the instrumented build of the bare loop: the memory
# recorder's own cost is (mem,calls - calls) against (mem - plain).
rm -f "$TMP"/fplain "$TMP"/fcalls "$TMP"/fmemcalls "$TMP"/fmem
for ((r = 0; r < RUNS; r++)); do
	time_run fplain "$FIPROG" "$N" 0
	for cfg in calls:fcalls mem,calls:fmemcalls mem:fmem; do
		rm -f "$TMP"/fi.trace*
		time_run "${cfg#*:}" env PROFSHIM_OUTPUT="$TMP/fi.trace" PROFSHIM_RECORD="${cfg%%:*}" \
			LD_PRELOAD="$SHIM" "$FIPROG" "$N" 0
	done
done
rm -f "$TMP"/fi.trace*
printf "\nbench-mem: fi_mem_bench %s 0 (instrumented), median of %s runs\n" "$N" "$RUNS"
awk -v p="$(median fplain 1)" -v c="$(median fcalls 1)" -v mc="$(median fmemcalls 1)" -v m="$(median fmem 1)" \
	'BEGIN { printf "  plain %.3f s, calls %.3f s, mem+calls %.3f s, mem %.3f s\n", p, c, mc, m
		 printf "  memory recording cost: %.3f s with shadow stacks, %.3f s unwinding (%.2fx less)\n", mc - c, m - p, (m - p) / (mc - c) }'

# Trace size per allocation+free pair.
bytes=$(cat "$TMP"/full.trace* | wc -c)
awk -v b="$bytes" -v n="$N" 'BEGIN { printf "  trace bytes per alloc+free pair: %.1f (%d bytes)\n", b / n, b }'
if [ $have_heaptrack = 1 ]; then
	hbytes=$(cat "$TMP"/ht* | wc -c)
	awk -v b="$hbytes" -v n="$N" 'BEGIN { printf "  heaptrack file bytes per pair: %.1f (compressed)\n", b / n }'
fi

# Analysis time per million events (allocations + frees).
for ((r = 0; r < 3; r++)); do
	time_run analyze "$ANALYZE" "$TMP/full.trace" -q --format=json -o "$TMP/report.json"
	[ $have_heaptrack = 1 ] && time_run heaptrack_print heaptrack_print "$TMP"/ht.zst
done
events=$((2 * N))
awk -v w="$(median analyze 1)" -v e="$events" \
	'BEGIN { printf "  profanalyze: %.3f s for %d events = %.3f s per million\n", w, e, w / (e / 1e6) }'
if [ $have_heaptrack = 1 ]; then
	awk -v w="$(median heaptrack_print 1)" -v e="$events" \
		'BEGIN { printf "  heaptrack_print: %.3f s for %d events = %.3f s per million\n", w, e, w / (e / 1e6) }'
fi
