#!/usr/bin/env bash
# Core overhead: the shim preloaded with every recorder off, against the plain
# run of the same workload. Goal: wall ratio below 1.01.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/bench
cc -O2 -g -o build/bench/core_workload tools/bench/core_workload.c
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
shim="PROFSHIM_RECORD=none PROFSHIM_OUTPUT=$tmp/t.%p.trace LD_PRELOAD=$PWD/build/libprofshim.so"
echo "== core: preloaded with every recorder off vs plain (tools/bench-core.sh)"
echo "-- allocation-bound: ~20 M malloc/free per second (the worst case: every call passes a hook)"
python3 tools/bench/measure.py --runs "${BENCH_RUNS:-7}" \
	"plain=build/bench/core_workload" \
	"shim, recorders off=$shim build/bench/core_workload"
echo "-- compute-bound with occasional allocations"
python3 tools/bench/measure.py --runs "${BENCH_RUNS:-7}" \
	"plain=build/bench/core_workload 300000 2000" \
	"shim, recorders off=$shim build/bench/core_workload 300000 2000"
