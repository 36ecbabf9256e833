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
PROFSHIM_CPU_HZ=1000 tools/profshim -o "$out/demo.trace" -- build/demo
A=build/profanalyze
$A "$out/demo.trace" -q --format=json -o "$out/report.json"
$A "$out/demo.trace" -q --format=chrome -o "$out/demo.cpuprofile"
$A "$out/demo.trace" -q --format=heapprofile -o "$out/demo.heapprofile"
$A "$out/demo.trace" -q --format=trace -o "$out/demo.trace.json"
$A "$out/demo.trace" -q --format=speedscope -o "$out/demo.speedscope.json"
$A "$out/demo.trace" -q --format=folded --data=cpu -o "$out/demo.cpu.folded"
$A "$out/demo.trace" -q --format=folded --data=mem -o "$out/demo.mem.folded"
$A "$out/demo.trace" -q --format=folded --data=calls -o "$out/demo.calls.folded"
$A "$out/demo.trace" -q --format=flamegraph -o "$out/demo.svg"
$A "$out/demo.trace" --format=text -o "$out/report.txt"
cat "$out/report.txt"
cat <<MSG

Reports in $out/:
  report.txt, report.json     the text and JSON reports
  demo.cpuprofile             Chrome DevTools > Performance > Load profile (or speedscope)
  demo.heapprofile            Chrome DevTools > Memory > Load (or speedscope)
  demo.trace.json             chrome://tracing or https://ui.perfetto.dev
  demo.speedscope.json        https://www.speedscope.app
  demo.svg                    interactive flame graph: open in a browser
  demo.*.folded               folded stacks for flamegraph.pl / inferno
MSG
