#!/usr/bin/env python3
"""Run commands interleaved, several rounds, and report median wall and CPU
time of each and their ratio to the first (the plain run).

usage: measure.py [--runs N] [--env-NAME K=V ...] LABEL=CMD [LABEL=CMD ...]
A command is a shell string; the first one is the baseline. Prints one line
per command: label, median wall s, median cpu s, wall ratio, cpu ratio."""
import os, resource, statistics, subprocess, sys, time


def run_once(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def timed(cmd, out=None):
    """Wall time of one command; its stdout goes to the file OUT if given."""
    t0 = time.perf_counter()
    with open(out or os.devnull, "w") as f:
        subprocess.run(cmd, shell=True, check=True, stdout=f, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def files_size(prefix):
    """Bytes in the files whose path starts with PREFIX (a trace and its
    thread files)."""
    d, base = os.path.split(prefix)
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.startswith(base))


def dir_size(d):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)


def calls_bench_args():
    """The command line of the calls benchmarks (calls_bench.py,
    calls_real.py): one workload, plain and -finstrument-functions builds."""
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--label", required=True)
    ap.add_argument("--plain", required=True)
    ap.add_argument("--instrumented", required=True)
    ap.add_argument("args", nargs="*")
    return ap.parse_args()


def main():
    args = sys.argv[1:]
    runs = 5
    if args and args[0] == "--runs":
        runs = int(args[1])
        args = args[2:]
    cmds = [a.split("=", 1) for a in args]
    walls = {l: [] for l, _ in cmds}
    cpus = {l: [] for l, _ in cmds}
    for label, cmd in cmds:  # warm-up: caches, page cache
        run_once(cmd)
    for _ in range(runs):
        for label, cmd in cmds:
            w, c = run_once(cmd)
            walls[label].append(w)
            cpus[label].append(c)
    base_w = statistics.median(walls[cmds[0][0]])
    base_c = statistics.median(cpus[cmds[0][0]])
    print(f"{'run':<28} {'wall s':>9} {'cpu s':>9} {'wall x':>8} {'cpu x':>8}   (median of {runs})")
    for label, _ in cmds:
        w = statistics.median(walls[label])
        c = statistics.median(cpus[label])
        print(f"{label:<28} {w:9.3f} {c:9.3f} {w / base_w:8.3f} {c / base_c if base_c else 0:8.3f}")


if __name__ == "__main__":
    main()
