#!/usr/bin/env python3
"""Overhead of a few variants of one command against its plain run, with
its spread: CPU time (user+sys of the child, from wait4) and wall time.

usage: paired_ratio.py [--runs N] LABEL=CMD [LABEL=CMD ...]
The first command is the baseline. Every round runs each command once,
in an order rotated from round to round (no variant always runs right
after another); a round's ratio is a variant's time over the baseline's
in the same round, so slow drifts of a loaded machine cancel. Prints per
variant the min / median / max of the per-round CPU ratios, the ratio of
the median CPU times, the ratio of the minimum CPU times (the least
disturbed run of each: the steadiest figure on a busy machine) and the
median wall ratio."""
import os, statistics, subprocess, sys, time


def run_once(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"paired_ratio: '{cmd}' exited with {p.returncode}")
    # the shell's own time is in ru too: the same in every variant
    return wall, ru.ru_utime + ru.ru_stime


def main():
    args = sys.argv[1:]
    runs = 15
    if args and args[0] == "--runs":
        runs = int(args[1])
        args = args[2:]
    if len(args) < 2 or any("=" not in a for a in args):
        sys.exit(__doc__)
    cmds = [a.split("=", 1) for a in args]
    cpu = {l: [] for l, _ in cmds}
    wall = {l: [] for l, _ in cmds}
    for _, cmd in cmds:  # warm-up: page cache, dynamic loader cache
        run_once(cmd)
    for r in range(runs):
        k = r % len(cmds)
        for label, cmd in cmds[k:] + cmds[:k]:
            w, c = run_once(cmd)
            wall[label].append(w)
            cpu[label].append(c)
    base = cmds[0][0]
    print(f"{'run':<12} {'cpu s':>8} {'cpu x min':>10} {'median':>8} {'max':>8}"
          f" {'x of medians':>13} {'x of mins':>10} {'wall x':>8}   ({runs} rounds)")
    for label, _ in cmds:
        ratios = sorted(c / b for c, b in zip(cpu[label], cpu[base]))
        wr = statistics.median(w / b for w, b in zip(wall[label], wall[base]))
        print(f"{label:<12} {statistics.median(cpu[label]):8.3f} {ratios[0]:10.4f}"
              f" {statistics.median(ratios):8.4f} {ratios[-1]:8.4f}"
              f" {statistics.median(cpu[label]) / statistics.median(cpu[base]):13.4f}"
              f" {min(cpu[label]) / min(cpu[base]):10.4f} {wr:8.4f}")


if __name__ == "__main__":
    main()
