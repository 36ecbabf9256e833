#!/usr/bin/env python3
"""Calls recorder benchmark on a real C code base (tools/bench-calls-real.sh
runs it; the same figures as calls_bench.py, plus CPU time, tree mode with
exact timing, and checks that the runs agree).

For one program built plain and with -finstrument-functions: the plain
build, the instrumented build alone (glibc's empty hooks: the baseline),
profshim tree mode (default timing and PROFSHIM_CALLS_TIMING=exact), trace
mode, and `uftrace record`, run interleaved, median of several rounds. Each
run's output is removed before the run, outside the timed part. From the
last recordings: exact calls, trace bytes per call, time to analyze per
million calls (profanalyze text report vs `uftrace report`), and the checks:
the same output from every build, the same call counts per function from
every profshim mode (the program is deterministic) and from uftrace.

usage: calls_real.py --runs N --label NAME --plain BIN --instrumented BIN ARGS...
"""
import json, os, re, shutil, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(__file__))
from measure import calls_bench_args, dir_size, files_size, run_once, timed  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHIM = os.path.join(ROOT, "build", "libprofshim.so")
ANALYZE = os.path.join(ROOT, "build", "profanalyze")


def remove_prefix(prefix):
    d, base = os.path.split(prefix)
    for f in os.listdir(d):
        if f.startswith(base):
            p = os.path.join(d, f)
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)


def profshim_counts(trace):
    """Calls per function from profanalyze's JSON report of one recording."""
    rep = json.loads(subprocess.run([ANALYZE, trace, "--format=json", "-q"], check=True,
                                    capture_output=True, text=True).stdout)
    counts = {}
    for f in rep["time_metrics"]["functions"]:
        counts[f["name"]] = counts.get(f["name"], 0) + f["calls"]
    return counts


UFTRACE_ROW = re.compile(r"^\s*[\d.]+\s+\S+\s+[\d.]+\s+\S+\s+(\d+)\s+(\S.*?)\s*$")


def uftrace_counts(report_file):
    """Calls per function from `uftrace report` text; kernel events left out."""
    counts = {}
    with open(report_file) as f:
        for line in f:
            m = UFTRACE_ROW.match(line)
            if m and not m.group(2).startswith("linux:"):
                counts[m.group(2)] = counts.get(m.group(2), 0) + int(m.group(1))
    return counts


def compare_counts(name, counts, ref, only_ref=False):
    """One line: does COUNTS equal REF (the tree mode counts) function by
    function? ONLY_REF: functions REF does not have are left out and counted
    apart (uftrace also records the library calls made through the PLT)."""
    extra = {f: n for f, n in counts.items() if only_ref and f not in ref}
    counts = {f: n for f, n in counts.items() if f not in extra}
    diff = sorted(f for f in set(counts) | set(ref) if counts.get(f, 0) != ref.get(f, 0))
    total = sum(counts.values())
    line = f"  {name:<24} {total:>12} calls, {len(counts)} functions: "
    if not diff:
        line += "equal"
    else:
        shown = ", ".join(f"{f} {counts.get(f, 0)} vs {ref.get(f, 0)}" for f in diff[:5])
        line += f"MISMATCH in {len(diff)} functions ({shown}{', ...' if len(diff) > 5 else ''})"
    if extra:
        line += (f"; plus {sum(extra.values())} calls of {len(extra)} functions not instrumented "
                 f"(library calls)")
    print(line)
    return not diff


def main():
    a = calls_bench_args()
    tmp = tempfile.mkdtemp(prefix="profshim-bench-real.")
    args = " ".join(a.args)
    have_uftrace = shutil.which("uftrace") is not None

    def shim(env, out):
        return (f"PROFSHIM_RECORD=calls {env} PROFSHIM_QUIET=1 PROFSHIM_OUTPUT={tmp}/{out} "
                f"LD_PRELOAD={SHIM} {a.instrumented} {args}")

    # (label, command, output to remove before each run)
    cmds = [
        ("instrumented (baseline)", f"{a.instrumented} {args}", None),
        ("plain build", f"{a.plain} {args}", None),
        ("profshim tree", shim("PROFSHIM_CALLS=tree", "tree.trace"), f"{tmp}/tree.trace"),
        ("profshim tree, exact", shim("PROFSHIM_CALLS=tree PROFSHIM_CALLS_TIMING=exact",
                                      "exact.trace"), f"{tmp}/exact.trace"),
        ("profshim trace", shim("PROFSHIM_CALLS=trace", "trace.trace"), f"{tmp}/trace.trace"),
    ]
    floor = os.path.join(ROOT, "build", "bench", "clock_floor_hooks.so")
    if os.path.exists(floor):
        # what any recorder that times every call costs here at the least
        cmds.append(("clock floor (2 TSC reads)", f"LD_PRELOAD={floor} {a.instrumented} {args}", None))
    if have_uftrace:
        cmds.append(("uftrace record", f"uftrace record -d {tmp}/uft {a.instrumented} {args}",
                     f"{tmp}/uft"))
    try:
        outputs = {}
        for l, c, _ in cmds[:2]:
            outputs[l] = subprocess.run(c, shell=True, check=True, capture_output=True,
                                        text=True).stdout
        walls = {l: [] for l, _, _ in cmds}
        cpus = {l: [] for l, _, _ in cmds}
        for rnd in range(a.runs + 1):  # round 0 warms caches and is not counted
            for l, c, out in cmds:
                if out:
                    remove_prefix(out)
                w, cpu = run_once(c)
                if rnd:
                    walls[l].append(w)
                    cpus[l].append(cpu)
        med = {l: statistics.median(v) for l, v in walls.items()}
        medc = {l: statistics.median(v) for l, v in cpus.items()}
        base, basec = med[cmds[0][0]], medc[cmds[0][0]]

        counts = {m: profshim_counts(f"{tmp}/{m}.trace") for m in ("tree", "exact", "trace")}
        calls = sum(counts["trace"].values())
        trace_bytes = files_size(f"{tmp}/trace.trace")
        tree_bytes = files_size(f"{tmp}/tree.trace")
        t_an = statistics.median(timed(f"{ANALYZE} {tmp}/trace.trace -q") for _ in range(3))
        t_an_tree = statistics.median(timed(f"{ANALYZE} {tmp}/tree.trace -q") for _ in range(3))

        print(f"== calls on a real code base: {a.label}: {calls / 1e6:.2f} M calls, "
              f"median of {a.runs} interleaved runs")
        print(f"{'run':<26} {'wall s':>8} {'cpu s':>8} {'x instr':>8} {'cpu x':>8} "
              f"{'ns/call extra':>14}")
        for l, _, _ in cmds:
            extra = (med[l] - base) / calls * 1e9 if calls else 0
            print(f"{l:<26} {med[l]:8.3f} {medc[l]:8.3f} {med[l] / base:8.2f} "
                  f"{medc[l] / basec if basec else 0:8.2f} {extra:14.1f}")
        print(f"trace bytes per call: profshim trace {trace_bytes / calls:.2f}, "
              f"profshim tree {tree_bytes / calls:.4f} (whole files)", end="")
        if have_uftrace:
            ub = dir_size(f"{tmp}/uft")
            print(f", uftrace {ub / calls:.2f} (profshim trace {ub / trace_bytes:.1f}x smaller)")
        else:
            print()
        print(f"analysis per million calls: profanalyze (trace mode, text report) "
              f"{t_an / calls * 1e6 * 1e3:.1f} ms, (tree mode) {t_an_tree / calls * 1e6 * 1e3:.2f} ms",
              end="")
        if have_uftrace:
            t_u = statistics.median(timed(f"uftrace report -d {tmp}/uft", f"{tmp}/uft.txt")
                                    for _ in range(3))
            print(f", uftrace report {t_u / calls * 1e6 * 1e3:.1f} ms "
                  f"(profanalyze {t_u / t_an:.1f}x faster)")
        else:
            print()

        print("checks:")
        same = outputs[cmds[0][0]] == outputs[cmds[1][0]]
        print(f"  program output, plain vs instrumented: {'equal' if same else 'DIFFERENT'} "
              f"({outputs[cmds[1][0]].strip()[:60]})")
        print("  calls per function, compared with profshim tree mode:")
        compare_counts("profshim tree, exact", counts["exact"], counts["tree"])
        compare_counts("profshim trace", counts["trace"], counts["tree"])
        if have_uftrace:
            compare_counts("uftrace report", uftrace_counts(f"{tmp}/uft.txt"), counts["tree"],
                           only_ref=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
