#!/usr/bin/env bash
# make demo: profile the bundled example with every recorder and write every
# report format into demo-out/, then print the text report.
set -euo pipefail
cd "$(dirname "$0")/.."
out=demo-out
mkdir -p "$out"
rm -f "$out"/demo.trace*
cc -std=gnu11 -O1 -g -fno-omit-frame-pointer -finstrument-functions -rdynamic -pthread -Iinclude \
	-o build/demo tools/demo/demo.c
# Calls as a full trace, so the timeline shows every call next to the CPU
# samples, heap and RSS counters and markers.
PROFSHIM_CPU_HZ=1000 PROFSHIM_CALLS=trace tools/profshim -o "$out/demo.trace" -- build/demo
A=build/profanalyze
$A "$out/demo.trace" -q --format=json -o "$out/report.json"
$A "$out/demo.trace" -q --format=chrome -o "$out/demo.cpuprofile"
$A "$out/demo.trace" -q --format=heapprofile -o "$out/demo.heapprofile"
$A "$out/demo.trace" -q --format=trace --max-size=25 -o "$out/demo.trace.json"
$A "$out/demo.trace" -q --format=speedscope --max-size=25 -o "$out/demo.speedscope.json"
$A "$out/demo.trace" -q --format=folded --data=cpu -o "$out/demo.cpu.folded"
$A "$out/demo.trace" -q --format=folded --data=mem -o "$out/demo.mem.folded"
$A "$out/demo.trace" -q --format=folded --data=calls -o "$out/demo.calls.folded"
$A "$out/demo.trace" -q --format=flamegraph -o "$out/demo.svg"
$A "$out/demo.trace" -q --format=flamegraph --data=mem -o "$out/demo.mem.svg"
$A "$out/demo.trace" -q --format=flamegraph --data=calls -o "$out/demo.calls.svg"
$A "$out/demo.trace" -q --format=pprof -o "$out/demo.cpu.pb.gz"
$A "$out/demo.trace" -q --format=pprof --data=mem -o "$out/demo.mem.pb.gz"
$A "$out/demo.trace" -q --format=pprof --data=calls -o "$out/demo.calls.pb.gz"
$A "$out/demo.trace" -q --format=html -o "$out/report.html"
$A "$out/demo.trace" --format=text -o "$out/report.txt"
cat "$out/report.txt"
cat <<MSG

Reports in $out/:
  report.html                 everything on one page: open in a browser
  report.txt, report.json     the text and JSON reports
  demo.cpuprofile             Chrome DevTools > Performance > Load profile (or speedscope)
  demo.heapprofile            Chrome DevTools > Memory > Load (or speedscope)
  demo.trace.json             the timeline: DevTools > Performance > Load trace, or
                              https://ui.perfetto.dev (CPU samples, calls, heap, RSS, markers)
  demo.speedscope.json        https://www.speedscope.app
  demo.svg, demo.*.svg        flame graphs (CPU, heap bytes, call time): any image viewer;
                              a browser adds hover, zoom and search
  demo.*.pb.gz                pprof: go tool pprof -http=: demo-out/demo.cpu.pb.gz
  demo.*.folded               folded stacks for flamegraph.pl / inferno
MSG
