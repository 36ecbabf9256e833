#!/usr/bin/env bash
# Memory recording on a real interpreter: the binary-trees benchmark in Lua
# (tools/bench/binary_trees.lua, Debian lua5.4), where every tree node is an
# allocation. In one interleaved run (BENCH_RUNS rounds, medians):
#   - plain, profshim full (PROFSHIM_RECORD=mem), profshim sampled and
#     heaptrack: wall and CPU ratios to the plain run;
#   - bytes on disk per allocation call, profshim against heaptrack;
#   - analysis time and peak memory: profanalyze against heaptrack_print;
#   - start-up: ms per process of /bin/true under the shim (every recorder),
#     interleaved loops, medians (BENCH_STARTUP_LOOPS).
# Environment: BENCH_LUA_DEPTH (default 15), BENCH_RUNS (default 3),
# BENCH_MEM_SAMPLE (bytes, default 524288).
# BENCH_MEM_SAMPLED=instructions: the same three under callgrind
# (instructions executed, ratios to plain).
# BENCH_MEM_SAMPLED=1: only sampled mode's overhead with its spread
# (tools/bench/paired_ratio.py: BENCH_RUNS rounds, default 15; per-round
# CPU ratios min / median / max, ratios of medians and of minima): plain,
# the shim recording nothing (PROFSHIM_RECORD=none: interposition,
# start-up and exit alone) and sampled.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build}"
DEPTH="${BENCH_LUA_DEPTH:-15}"
RUNS="${BENCH_RUNS:-3}"
SAMPLE="${BENCH_MEM_SAMPLE:-524288}"
SHIM="$BUILD/libprofshim.so"
ANALYZE="$BUILD/profanalyze"
LUA=$(command -v lua5.4 || true)
if [ -z "$LUA" ]; then
	echo "bench-mem-lua: lua5.4 is not installed (tools/install-bench-deps.sh installs it); skipped"
	exit 0
fi
make -s -C "$ROOT" all >/dev/null
TMP="$(mktemp -d "${TMPDIR:-/tmp}/bench-lua.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
SCRIPT="$ROOT/tools/bench/binary_trees.lua"
HT=""
command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null && HT=1

# BENCH_MEM_SAMPLED=instructions: the same three under callgrind, the
# instructions each executes (deterministic: the figure that resolves a few
# % on a loaded machine, where CPU time cannot). The RSS timer is off in
# the shim's runs: valgrind can fail to deliver its signal when the
# compressed writer is at the stack's deepest ("Can't extend stack").
if [ "${BENCH_MEM_SAMPLED:-}" = instructions ]; then
	command -v valgrind >/dev/null || {
		echo "bench-mem-lua: valgrind is not installed; skipped"
		exit 0
	}
	echo "bench-mem-lua: instructions (callgrind), binary trees depth $DEPTH, mean $SAMPLE bytes"
	instr() { # LABEL ENV... : the run's instruction count and its ratio to plain
		local label=$1
		shift
		env "$@" PROFSHIM_QUIET=1 PROFSHIM_RSS_MS=0 PROFSHIM_OUTPUT="$TMP/$label.%p" \
			valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.$label" "$LUA" "$SCRIPT" "$DEPTH" \
			>/dev/null 2>"$TMP/cg.$label.log"
		sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$TMP/cg.$label.log"
	}
	plain=$(instr plain)
	none=$(instr none PROFSHIM_RECORD=none LD_PRELOAD="$SHIM")
	sampled=$(instr sampled PROFSHIM_RECORD=mem PROFSHIM_MEM_SAMPLE="$SAMPLE" LD_PRELOAD="$SHIM")
	for row in "plain $plain" "none $none" "sampled $sampled"; do
		set -- $row
		awk -v l="$1" -v n="$2" -v p="$plain" 'BEGIN { printf "  %-8s %15.0f instructions  x %.4f\n", l, n, n / p }'
	done
	exit 0
fi
if [ "${BENCH_MEM_SAMPLED:-}" = 1 ]; then
	RUNS="${BENCH_RUNS:-15}"
	echo "bench-mem-lua: sampled mode's overhead, binary trees depth $DEPTH, mean $SAMPLE bytes"
	# no rm or mkdir in the timed commands: their time would count
	python3 "$ROOT/tools/bench/paired_ratio.py" --runs "$RUNS" plain="$LUA $SCRIPT $DEPTH" \
		none="PROFSHIM_QUIET=1 PROFSHIM_OUTPUT=$TMP/n.%p PROFSHIM_RECORD=none LD_PRELOAD=$SHIM $LUA $SCRIPT $DEPTH" \
		sampled="PROFSHIM_QUIET=1 PROFSHIM_OUTPUT=$TMP/s.%p PROFSHIM_RECORD=mem PROFSHIM_MEM_SAMPLE=$SAMPLE LD_PRELOAD=$SHIM $LUA $SCRIPT $DEPTH"
	exit 0
fi
args=(plain="$LUA $SCRIPT $DEPTH"
	full="rm -rf $TMP/full.d; mkdir -p $TMP/full.d; PROFSHIM_QUIET=1 PROFSHIM_OUTPUT=$TMP/full.d/t PROFSHIM_RECORD=mem LD_PRELOAD=$SHIM $LUA $SCRIPT $DEPTH"
	sampled="rm -rf $TMP/s.d; mkdir -p $TMP/s.d; PROFSHIM_QUIET=1 PROFSHIM_OUTPUT=$TMP/s.d/t PROFSHIM_RECORD=mem PROFSHIM_MEM_SAMPLE=$SAMPLE LD_PRELOAD=$SHIM $LUA $SCRIPT $DEPTH")
[ -n "$HT" ] && args+=(heaptrack="rm -f $TMP/ht.*; heaptrack -o $TMP/ht $LUA $SCRIPT $DEPTH")
echo "bench-mem-lua: binary trees, depth $DEPTH, lua5.4 ($RUNS interleaved rounds)"
python3 "$ROOT/tools/bench/measure.py" --runs "$RUNS" "${args[@]}"

# The last rounds' files are still there: sizes and analysis.
calls=$("$ANALYZE" "$TMP/full.d/t" -q --format=json | python3 -c '
import json, sys
m = json.load(sys.stdin)["memory_metrics"]
print(m["total_allocations"])')
# On disk = allocated blocks (st_blocks): compressed traces free their raw
# runs' blocks (holes), so the file length is shown too.
disk() { stat -c '%b %B' "$@" | awk '{ s += $1 * $2 } END { print s }'; }
length() { stat -c %s "$@" | awk '{ s += $1 } END { print s }'; }
pbytes=$(disk "$TMP"/full.d/t*)
plen=$(length "$TMP"/full.d/t*)
echo
printf "  allocation calls: %s\n" "$calls"
awk -v b="$pbytes" -v l="$plen" -v n="$calls" 'BEGIN { printf "  profshim trace on disk: %d bytes, %.2f bytes per allocation call (file length %d, %.2f per call)\n", b, b / n, l, l / n }'
if [ -n "$HT" ]; then
	hbytes=$(disk "$TMP"/ht.*)
	awk -v b="$hbytes" -v n="$calls" 'BEGIN { printf "  heaptrack file on disk: %d bytes, %.2f bytes per allocation call\n", b, b / n }'
fi

# analysis: wall s and peak RSS (KiB), median of 3
analyse() { # LABEL CMD...
	local label=$1
	shift
	for _ in 1 2 3; do
		/usr/bin/time -f "%e %M" -o "$TMP/at" "$@" >/dev/null 2>&1
		cat "$TMP/at"
	done | sort -n | sed -n 2p | awk -v l="$label" '{ printf "  %-16s %7.2f s, peak %7.1f MB\n", l, $1, $2 / 1024 }'
}
echo "  analysis (median of 3):"
analyse profanalyze "$ANALYZE" "$TMP/full.d/t" -q --format=json
[ -n "$HT" ] && analyse heaptrack_print heaptrack_print "$TMP"/ht.*

# Start-up: /bin/true with and without the shim (every recorder), in
# interleaved loops of 100 processes (BENCH_STARTUP_LOOPS, default 15),
# medians per process: one sequential loop of each followed the machine's
# load more than the shim. Wall and CPU (user + system of the processes).
st=$(python3 "$ROOT/tools/bench/startup.py" --values --loops "${BENCH_STARTUP_LOOPS:-15}" \
	--per-loop 100 --dir "$TMP" shim="$SHIM")
read -r _ plain_wall plain_cpu < <(grep '^plain ' <<<"$st")
read -r _ shim_wall shim_cpu < <(grep '^shim ' <<<"$st")
awk -v p="$plain_wall" -v s="$shim_wall" 'BEGIN { printf "  start-up: /bin/true %.2f ms plain, %.2f ms under the shim (every recorder): +%.2f ms per process\n", p, s, s - p }'
awk -v p="$plain_cpu" -v s="$shim_cpu" 'BEGIN { printf "  start-up CPU: /bin/true %.2f ms plain, %.2f ms under the shim: +%.2f ms per process\n", p, s, s - p }'
