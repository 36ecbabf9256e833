#!/usr/bin/env bash
# make bench: every benchmark (tools/bench-*.sh), one after the other.
# BENCH_RUNS sets the rounds per measurement (default 7; medians reported).
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
[ -f tools/install-bench-deps.sh ] && bash tools/install-bench-deps.sh
status=0
for b in tools/bench-*.sh; do
	bash "$b" || { echo "benchmark $b failed"; status=1; }
	echo
done
exit $status
