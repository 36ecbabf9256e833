#!/usr/bin/env python3
"""Start-up cost per process: /bin/true (or another short command) run N
times per loop, plain and under one or more shims, loops interleaved, several
rounds, medians. Wall from a monotonic clock around each loop; CPU from
getrusage(RUSAGE_CHILDREN) around the same loop (user + system of the
processes the loop started, kernel work on their behalf included).

usage: startup.py [--loops R] [--per-loop N] [--dir D] [--record R]
                  [--cmd PROG] LABEL=SHIM_PATH[?VAR=VALUE&...] ...
The trace files go under D (default: a new directory under the current
directory, the usual place of a trace) and are deleted after each loop,
outside the timed part. After '?', PROFSHIM_ settings of that variant
(e.g. shim=build/libprofshim.so?PROFSHIM_CPU_TIMER=posix); NOFILE=N there
sets the soft descriptor limit the processes start with (the shim keeps
its descriptors from 3/4 of it up). Prints per process: median wall and CPU in ms, and
each shim's cost over plain."""
import argparse, os, resource, shutil, statistics, tempfile, time


def loop(argv, env, n, nofile=None):
    """Run argv n times, one after the other; (wall s, cpu s) of the loop.
    nofile: the soft RLIMIT_NOFILE the processes start with."""
    saved = resource.getrlimit(resource.RLIMIT_NOFILE)
    if nofile:
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, saved[1]))
    try:
        return timed_loop(argv, env, n)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, saved)


def timed_loop(argv, env, n):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    for _ in range(n):
        pid = os.posix_spawn(argv[0], argv, env)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{argv[0]} failed with status {status} (env {env.get('LD_PRELOAD')})")
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loops", type=int, default=7, help="rounds (median over them)")
    ap.add_argument("--per-loop", type=int, default=100, help="processes per loop")
    ap.add_argument("--dir", default=None, help="where trace files go")
    ap.add_argument("--record", default="cpu,mem,calls,io")
    ap.add_argument("--cmd", default="/bin/true")
    ap.add_argument("--values", action="store_true",
                    help="print only the medians, ms per process, one line per variant: "
                         "LABEL WALL CPU (plain first), for scripts")
    ap.add_argument("shims", nargs="+", help="LABEL=PATH of a libprofshim.so")
    a = ap.parse_args()

    base = a.dir or os.getcwd()
    tmp = tempfile.mkdtemp(prefix="startup.", dir=base)
    variants = [("plain", None)] + [tuple(s.split("=", 1)) for s in a.shims]
    walls = {l: [] for l, _ in variants}
    cpus = {l: [] for l, _ in variants}
    try:
        for rnd in range(a.loops + 1):  # round 0 warms caches, not counted
            for label, shim in variants:
                env = {k: v for k, v in os.environ.items()
                       if k != "LD_PRELOAD" and not k.startswith("PROFSHIM_")}
                nofile = None
                if shim:
                    shim, _, extra = shim.partition("?")
                    env.update(LD_PRELOAD=os.path.abspath(shim), PROFSHIM_QUIET="1",
                               PROFSHIM_RECORD=a.record,
                               PROFSHIM_OUTPUT=os.path.join(tmp, "t.%p"))
                    env.update(kv.split("=", 1) for kv in extra.split("&") if kv)
                    nofile = env.pop("NOFILE", None)
                    nofile = int(nofile) if nofile else None
                w, c = loop([a.cmd], env, a.per_loop, nofile)
                for f in os.listdir(tmp):
                    os.unlink(os.path.join(tmp, f))
                if rnd:
                    walls[label].append(w / a.per_loop)
                    cpus[label].append(c / a.per_loop)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if a.values:
        for label, _ in variants:
            w, c = statistics.median(walls[label]), statistics.median(cpus[label])
            print(f"{label} {w * 1e3:.3f} {c * 1e3:.3f}")
        return
    fs = os.popen(f"stat -f -c %T {base}").read().strip()
    print(f"start-up of {a.cmd}, PROFSHIM_RECORD={a.record}, traces on {fs} ({base}); "
          f"median of {a.loops} loops of {a.per_loop}, interleaved")
    pw, pc = statistics.median(walls["plain"]), statistics.median(cpus["plain"])
    print(f"  {'':<12} {'wall ms':>8} {'cpu ms':>8} {'+wall ms':>9} {'+cpu ms':>8}")
    for label, _ in variants:
        w, c = statistics.median(walls[label]), statistics.median(cpus[label])
        print(f"  {label:<12} {w * 1e3:8.2f} {c * 1e3:8.2f} {(w - pw) * 1e3:9.2f} {(c - pc) * 1e3:8.2f}")


if __name__ == "__main__":
    main()
