#!/usr/bin/env python3
"""Replay a .cpuprofile the way DevTools and speedscope read it: each sample
is charged with the interval AFTER it (up to the next sample; the last one
up to endTime). Prints "FUNCTION SELF_US" per function, heaviest first."""
import json
import sys

p = json.load(open(sys.argv[1]))
nodes = {n["id"]: n for n in p["nodes"]}
times = []
t = p["startTime"]
for d in p["timeDeltas"]:
    t += d
    times.append(t)
self_us = {}
for i, node_id in enumerate(p["samples"]):
    end = times[i + 1] if i + 1 < len(times) else p["endTime"]
    name = nodes[node_id]["callFrame"]["functionName"]
    self_us[name] = self_us.get(name, 0) + (end - times[i])
for name, us in sorted(self_us.items(), key=lambda kv: -kv[1]):
    print(name, us)
