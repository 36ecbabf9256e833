#!/usr/bin/env bash
# CPU sampling benchmark: profshim against the plain run, gperftools
# (LD_PRELOAD libprofiler.so) and perf record, at 100, 1000 and 4000 Hz,
# on a CPU-bound single-threaded program and a two-thread one. "floor" is
# the program taking the same per-thread perf_event signals with an empty
# handler: what the kernel's timers and signal delivery cost by themselves.
#
# For each: the median over BENCH_REPS runs (default 7) of the process CPU
# time (user+sys, of everything the run started: robust against other load
# on the machine) and of the wall time, as ratios to the plain run; and the
# samples actually delivered per CPU second.
#
#   tools/bench-cpu.sh            (after make; BENCH_REPS, BENCH_ROUNDS)
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build}"
SHIM="$BUILD/libprofshim.so"
PA="$BUILD/profanalyze"
PROG="$BUILD/tests/bench_cpu"
REPS="${BENCH_REPS:-7}"
ROUNDS="${BENCH_ROUNDS:-150}"
RATES="${BENCH_RATES:-100 1000 4000}"
PROFILER=$(ls /usr/lib/*/libprofiler.so 2>/dev/null | head -1)
PPROF=$(command -v google-pprof || command -v pprof || true)
HAVE_PERF=0
command -v perf >/dev/null && perf record -q -F 100 -o /dev/null -- true >/dev/null 2>&1 && HAVE_PERF=1
TMP=$(mktemp -d /tmp/bench-cpu.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

[ -x "$PROG" ] || make -C "$ROOT" "$PROG" >/dev/null
[ -f "$SHIM" ] && [ -x "$PA" ] || { echo "build first: make" >&2; exit 1; }

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# run_timed OUTFILE CMD... : appends "wall cpu" of one run to OUTFILE
run_timed() {
	local f="$1"
	shift
	/usr/bin/time -f "%e %U %S" -o "$TMP/time" "$@" >"$TMP/stdout" 2>"$TMP/stderr" || {
		echo "failed: $*" >&2
		cat "$TMP/stderr" >&2
		return 1
	}
	awk '{ print $1, $2 + $3 }' "$TMP/time" >>"$f"
}

# samples of the last run of a tool, per CPU second of the program
shim_samples() { "$PA" -q "$TMP/s.trace" --format=json | jq '.cpu.samples'; }
gperf_samples() { "$PPROF" --text "$PROG" "$TMP/g.prof" 2>/dev/null | sed -n 's/^Total: \([0-9]*\) samples/\1/p'; }
perf_samples() { perf script -i "$TMP/p.data" -G -F ip 2>/dev/null | wc -l; }
prog_cpu() { sed -n 's/^cpu_s //p' "$TMP/stdout"; }

# run_one THREADS TOOL HZ : one run, timed into $TMP/THREADS.TOOL.HZ.times,
# delivered samples per CPU second into .rates
run_one() {
	local threads="$1" tool="$2" hz="$3"
	local f="$TMP/$threads.$tool.$hz.times" rates="$TMP/$threads.$tool.$hz.rates"
	rm -rf "$TMP"/s.trace* "$TMP/g.prof" "$TMP/p.data"
	case "$tool" in
	plain) run_timed "$f" "$PROG" "$threads" "$ROUNDS" ;;
	floor)
		run_timed "$f" env BENCH_FLOOR_HZ="$hz" "$PROG" "$threads" "$ROUNDS" &&
			echo "$(sed -n 's/^signals //p' "$TMP/stdout") $(prog_cpu)" >>"$rates" ;;
	profshim)
		run_timed "$f" env PROFSHIM_RECORD=cpu PROFSHIM_QUIET=1 PROFSHIM_CPU_HZ="$hz" \
			PROFSHIM_OUTPUT="$TMP/s.trace" LD_PRELOAD="$SHIM" "$PROG" "$threads" "$ROUNDS" &&
			echo "$(shim_samples) $(prog_cpu)" >>"$rates" ;;
	gperftools)
		run_timed "$f" env CPUPROFILE="$TMP/g.prof" CPUPROFILE_FREQUENCY="$hz" \
			LD_PRELOAD="$PROFILER" "$PROG" "$threads" "$ROUNDS" &&
			echo "$(gperf_samples) $(prog_cpu)" >>"$rates" ;;
	perf)
		run_timed "$f" perf record -q -g -B -F "$hz" -e cpu-clock -o "$TMP/p.data" -- \
			"$PROG" "$threads" "$ROUNDS" &&
			echo "$(perf_samples) $(prog_cpu)" >>"$rates" ;;
	esac
}

# report NAME THREADS TOOL HZ : one line of the table
report() {
	local name="$1" threads="$2" tool="$3" hz="$4"
	local f="$TMP/$threads.$tool.$hz.times" rates="$TMP/$threads.$tool.$hz.rates"
	local bf="$TMP/$threads.plain.-.times"
	[ -s "$f" ] || return
	local wall cpu base_wall base_cpu rate="-"
	wall=$(cut -d' ' -f1 "$f" | median)
	cpu=$(cut -d' ' -f2 "$f" | median)
	base_wall=$(cut -d' ' -f1 "$bf" | median)
	base_cpu=$(cut -d' ' -f2 "$bf" | median)
	[ -s "$rates" ] && rate=$(awk '$2 > 0 { print $1 / $2 }' "$rates" | median)
	printf "%-10s %-11s %6s %9.3f %9.3f %8.3f %8.3f %10s\n" "$name" "$tool" "$hz" "$wall" "$cpu" \
		"$(awk -v a="$wall" -v b="$base_wall" 'BEGIN { print a / b }')" \
		"$(awk -v a="$cpu" -v b="$base_cpu" 'BEGIN { print a / b }')" \
		"$([ "$rate" = - ] && echo - || printf '%.0f' "$rate")"
}

tools=(floor profshim)
[ -n "$PROFILER" ] && [ -n "$PPROF" ] && tools+=(gperftools)
[ "$HAVE_PERF" = 1 ] && tools+=(perf)
configs=()
for threads in 1 2; do
	configs+=("$threads plain -")
	for hz in $RATES; do
		for tool in "${tools[@]}"; do
			configs+=("$threads $tool $hz")
		done
	done
done

# Runs interleaved (every configuration once per round) so slow drifts of
# the machine's load hit all of them alike.
for rep in $(seq "$REPS"); do
	for cfg in "${configs[@]}"; do
		run_one $cfg || echo "run failed: $cfg" >&2
	done
	echo "round $rep of $REPS done" >&2
done

echo "CPU sampling benchmark: median of $REPS interleaved runs; x = run / plain run"
echo "cpu_s = user+sys of the whole run; rate/s = samples delivered per CPU second (asked: Hz)"
printf "%-10s %-11s %6s %9s %9s %8s %8s %10s\n" program tool Hz wall_s cpu_s wall_x cpu_x rate/s
for cfg in "${configs[@]}"; do
	set -- $cfg
	report "$([ "$1" = 1 ] && echo cpu-bound || echo "$1-threads")" $cfg
done
bash "$ROOT/tools/cpu-hooks-share.sh"
