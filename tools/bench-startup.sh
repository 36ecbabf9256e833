#!/usr/bin/env bash
# Start-up per process (issue 15): /bin/true with every recorder on against
# plain, interleaved loops, medians; traces on disk (build/bench, where a
# trace usually goes: the filesystem of the work tree) and on tmpfs
# (/dev/shm) when there is one.
# Goal: at most +2 ms per process, wall and CPU.
#   BENCH_LOOPS=7 (or BENCH_RUNS) BENCH_PER_LOOP=100 tools/bench-startup.sh [LABEL=other.so ...]
# A variant may carry settings: LABEL=build/libprofshim.so?PROFSHIM_CPU_TIMER=posix
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/libprofshim.so ] || make -s build/libprofshim.so
args=(--loops "${BENCH_LOOPS:-${BENCH_RUNS:-7}}" --per-loop "${BENCH_PER_LOOP:-100}")
echo "== start-up per process (tools/bench-startup.sh)"
mkdir -p build/bench
python3 tools/bench/startup.py "${args[@]}" --dir build/bench shim=build/libprofshim.so "$@"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	python3 tools/bench/startup.py "${args[@]}" --dir /dev/shm shim=build/libprofshim.so "$@"
fi
