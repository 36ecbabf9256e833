#!/usr/bin/env bash
# Calls recorder (-finstrument-functions): profshim tree and trace mode and
# uftrace record against the same instrumented binary with glibc's empty
# hooks; ns per call, trace bytes per call, analysis time per million calls
# (profanalyze vs uftrace report). Goals (issue 4): trace +50%, tree +25%,
# bytes per call <= 4 (uftrace: 32), analysis >= 8x faster than uftrace.
#
# Two builds of one workload (tools/bench/calls_workload.c, a parser and
# evaluator of expressions): "dense" instruments every function, even the
# one-line helpers the compiler inlines (a call every ~4 ns: the worst case);
# "typical" leaves those helpers out, as a project would with
# -finstrument-functions-exclude-function-list.
# Rows: profshim tree (default timing: each call path's first calls, then 1
# in 64), tree with PROFSHIM_CALLS_TIMING=exact, trace, and "clock floor":
# hooks that read the TSC at every enter and exit and nothing else, the
# least any recorder that times every call costs on this machine.
# BENCH_RUNS (default 5) rounds; BENCH_CALLS_ROUNDS workload size.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/bench
src=tools/bench/calls_workload.c
cc -O2 -g -o build/bench/calls_plain $src
# hooks that only read the TSC: the floor of timing every call
cc -O2 -fPIC -shared -o build/bench/clock_floor_hooks.so tools/bench/clock_floor_hooks.c
cc -O2 -g -finstrument-functions -o build/bench/calls_dense $src
cc -O2 -g -finstrument-functions \
	-finstrument-functions-exclude-function-list=is_space,is_digit,is_alpha,skip_space,peek,apply \
	-o build/bench/calls_typical $src
command -v uftrace >/dev/null || echo "(uftrace not installed: apt-get install uftrace)"
runs=${BENCH_RUNS:-5}
rounds=${BENCH_CALLS_ROUNDS:-2000}
python3 tools/bench/calls_bench.py --runs "$runs" --label "dense (every function)" \
	--plain build/bench/calls_plain --instrumented build/bench/calls_dense "$rounds"
echo
python3 tools/bench/calls_bench.py --runs "$runs" --label "typical (one-line helpers excluded)" \
	--plain build/bench/calls_plain --instrumented build/bench/calls_typical "$((rounds * 3))"
