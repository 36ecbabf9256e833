#!/usr/bin/env python3
"""Calls recorder benchmark (tools/bench-calls.sh runs it).

For one -finstrument-functions binary: the instrumented binary alone
(glibc's empty hooks: the baseline), profshim in tree and in trace mode,
and `uftrace record`, run interleaved, median of several rounds. Then, from
one more recording each: calls, trace bytes per call, and the time to
analyze (profanalyze text report vs `uftrace report`) per million calls.

usage: calls_bench.py --runs N --label NAME --plain BIN --instrumented BIN ARGS...
"""
import json, os, shutil, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(__file__))
from measure import calls_bench_args, dir_size, files_size, run_once, timed  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHIM = os.path.join(ROOT, "build", "libprofshim.so")
ANALYZE = os.path.join(ROOT, "build", "profanalyze")
FLOOR = os.path.join(ROOT, "build", "bench", "clock_floor_hooks.so")
ANALYSIS_ROUNDS = 5  # median of this many runs of each analysis


def main():
    a = calls_bench_args()
    tmp = tempfile.mkdtemp(prefix="profshim-bench-calls.")
    args = " ".join(a.args)
    have_uftrace = shutil.which("uftrace") is not None

    def shim(mode, out, timing="64"):
        return (f"rm -rf {tmp}/{out}*; PROFSHIM_RECORD=calls PROFSHIM_CALLS={mode} PROFSHIM_QUIET=1 "
                f"PROFSHIM_CALLS_TIMING={timing} "
                f"PROFSHIM_OUTPUT={tmp}/{out} LD_PRELOAD={SHIM} {a.instrumented} {args}")

    cmds = [
        ("instrumented (baseline)", f"{a.instrumented} {args}"),
        ("plain build", f"{a.plain} {args}"),
        ("profshim tree", shim("tree", "tree.trace")),
        ("profshim tree, exact", shim("tree", "exact.trace", "exact")),
        ("profshim trace", shim("trace", "trace.trace")),
    ]
    if os.path.exists(FLOOR):
        # what any recorder that times every call costs here at the least
        cmds.append(("clock floor (2 TSC reads)", f"LD_PRELOAD={FLOOR} {a.instrumented} {args}"))
    if have_uftrace:
        cmds.append(("uftrace record", f"rm -rf {tmp}/uft; uftrace record -d {tmp}/uft {a.instrumented} {args}"))
    try:
        walls = {l: [] for l, _ in cmds}
        for _, c in cmds:
            run_once(c)  # warm-up
        for _ in range(a.runs):
            for l, c in cmds:
                walls[l].append(run_once(c)[0])
        med = {l: statistics.median(v) for l, v in walls.items()}
        base = med[cmds[0][0]]

        # what the last recordings hold
        rep = json.loads(subprocess.run([ANALYZE, f"{tmp}/trace.trace", "--format=json", "-q"],
                                        check=True, capture_output=True, text=True).stdout)
        calls = rep["time_metrics"]["calls"]
        trace_bytes = files_size(f"{tmp}/trace.trace")
        tree_bytes = files_size(f"{tmp}/tree.trace")
        # analysis times: the tools interleaved, so that a burst of load
        # on this (shared, noisy) machine hits both alike
        an_cmds = {"trace": f"{ANALYZE} {tmp}/trace.trace -q", "tree": f"{ANALYZE} {tmp}/tree.trace -q"}
        if have_uftrace:
            an_cmds["uftrace"] = f"uftrace report -d {tmp}/uft"
        an = {k: [] for k in an_cmds}
        for _ in range(ANALYSIS_ROUNDS):
            for k, c in an_cmds.items():
                an[k].append(timed(c))
        t_an = statistics.median(an["trace"])
        t_an_tree = statistics.median(an["tree"])

        print(f"== calls: {a.label}: {calls / 1e6:.2f} M calls, median of {a.runs} interleaved runs")
        print(f"{'run':<26} {'wall s':>8} {'x instr':>8} {'ns/call extra':>14}")
        for l, _ in cmds:
            extra = (med[l] - base) / calls * 1e9 if calls else 0
            print(f"{l:<26} {med[l]:8.3f} {med[l] / base:8.2f} {extra:14.1f}")
        print(f"trace bytes per call: profshim trace {trace_bytes / calls:.2f}, "
              f"profshim tree {tree_bytes / calls:.4f} (whole files)", end="")
        if have_uftrace:
            ub = dir_size(f"{tmp}/uft")
            print(f", uftrace {ub / calls:.2f}")
        else:
            print()
        print(f"analysis per million calls: profanalyze (trace mode, text report) "
              f"{t_an / calls * 1e6 * 1e3:.1f} ms, (tree mode) {t_an_tree / calls * 1e6 * 1e3:.2f} ms", end="")
        if have_uftrace:
            t_u = statistics.median(an["uftrace"])
            print(f", uftrace report {t_u / calls * 1e6 * 1e3:.1f} ms (profanalyze {t_u / t_an:.1f}x faster)")
        else:
            print()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
