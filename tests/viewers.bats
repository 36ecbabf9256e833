#!/usr/bin/env bats
# The outputs as viewers read them: DevTools' sample-weight rule, --data for
# every stack format, heap stacks rooted one way, SVG labels without script,
# timeline sections, names, errors and -o, size caps.

load helpers

setup() { setup_tmp; }
teardown() { teardown_tmp; }

@test "cpuprofile replayed with the viewers' rule (interval after each sample) equals the text report within 1%, both timers" {
	for timer in posix perf; do
		PROFSHIM_CPU_TIMER=$timer PROFSHIM_CPU_HZ=1000 run_shim "$TMP/t" "$PROGS/cpu_burn" 2 150 >/dev/null
		"$PROFANALYZE" -q "$TMP/t" --format=chrome -o "$TMP/p.cpuprofile"
		analyze_json "$TMP/t" -q
		python3 "$ROOT/tests/tools/cpuprofile_replay.py" "$TMP/p.cpuprofile" >"$TMP/replay"
		period_us=$(jqr '1e6 / .cpu.hz')
		for fn in burn_worker burn_main; do
			want=$(jqr ".cpu.functions[] | select(.name == \"$fn\") | .self_samples * $period_us")
			got=$(awk -v f="$fn" '$1 == f { print $2 }' "$TMP/replay")
			[ -n "$want" ] && [ -n "$got" ]
			assert_within "$got" "$want" 1 "$timer: $fn self us"
		done
		total=$(awk '{ s += $2 } END { print s }' "$TMP/replay")
		assert_within "$total" "$(jqr ".cpu.weight * $period_us")" 1 "$timer: total us"
		rm -f "$TMP"/t "$TMP"/t.*
	done
}

@test "--data=mem and --data=calls for flamegraph, folded and speedscope; a memory-only run gets them by default" {
	PROFSHIM_RECORD=mem run_shim "$TMP/m" "$PROGS/fi_memleak" 10 >/dev/null
	"$PROFANALYZE" -q "$TMP/m" --format=flamegraph -o "$TMP/m.svg"
	grep -q 'data-n="leak_deep"' "$TMP/m.svg"
	grep -q '<title>leak_deep (300 bytes' "$TMP/m.svg"
	"$PROFANALYZE" -q "$TMP/m" --format=speedscope -o "$TMP/m.json"
	assert_eq "$(jq -r '.profiles[0].unit' "$TMP/m.json")" bytes
	assert_eq "$(jq '.profiles[0].weights | add' "$TMP/m.json")" "$(("$PROFANALYZE" -q "$TMP/m" --format=folded) | awk '{ s += $NF } END { print s }')"
	PROFSHIM_RECORD=mem,calls run_shim "$TMP/c" "$PROGS/fi_memleak" 10 >/dev/null
	for d in mem calls; do
		"$PROFANALYZE" -q "$TMP/c" --format=flamegraph --data=$d -o "$TMP/$d.svg"
		"$PROFANALYZE" -q "$TMP/c" --format=speedscope --data=$d -o "$TMP/$d.json"
		"$PROFANALYZE" -q "$TMP/c" --format=folded --data=$d -o "$TMP/$d.folded"
		grep -q 'data-n="leak_deep"' "$TMP/$d.svg"
		assert_eq "$(jq '.profiles | length' "$TMP/$d.json")" 1 "$d speedscope profiles"
	done
	grep -q '^main;outer;middle;leak_deep 300$' "$TMP/mem.folded"
	grep -q 'bytes' <(grep -o '<text class="title"[^<]*' "$TMP/mem.svg")
	grep -q ' us' <(grep -o '<text class="title"[^<]*' "$TMP/calls.svg")
}

@test "heap stacks start at main whether unwound or from the shadow stack; one node per function per context" {
	PROFSHIM_RECORD=mem,calls run_shim "$TMP/c" "$PROGS/fi_memleak" 10 >/dev/null
	"$PROFANALYZE" -q "$TMP/c" --format=folded --data=mem -o "$TMP/f"
	# the shadow-stack sites and the unwound strdup site share one main
	run grep -v '^main;' "$TMP/f"
	[ "$status" -eq 1 ]
	grep -q '^main;leak_strdup;' "$TMP/f"
	"$PROFANALYZE" -q "$TMP/c" --format=heapprofile -o "$TMP/h"
	assert_eq "$(jq '[.head.children[].callFrame.functionName]' -c "$TMP/h")" '["main"]'
	# no function twice among one node's children, no main > main
	assert_eq "$(jq '[.. | objects | select(has("children")) | [.children[].callFrame.functionName] | (length - (unique | length))] | add' "$TMP/h")" 0
	assert_eq "$(jq '[.head.children[0].children[].callFrame.functionName | select(. == "main")] | length' "$TMP/h")" 0
	assert_eq "$(jq '[.samples[].size] | add' "$TMP/h")" "$(awk '{ s += $NF } END { print s }' "$TMP/f")"
}

@test "flame graph SVG: labels are text (reads without script), title names the unit" {
	run_shim "$TMP/t" "$PROGS/cpu_burn" 1 200 >/dev/null
	"$PROFANALYZE" -q "$TMP/t" --format=flamegraph -o "$TMP/f.svg"
	# strip the script: the picture still names the hot function
	python3 - "$TMP/f.svg" <<'PY'
import sys, xml.dom.minidom
d = xml.dom.minidom.parse(sys.argv[1])
texts = [t.firstChild.data for t in d.getElementsByTagName("text") if t.firstChild]
assert any(t.startswith("burn_worker") or t.startswith("burn_w") for t in texts), texts
title = [t for t in d.getElementsByTagName("text") if t.getAttribute("class") == "title"][0]
assert "CPU samples" in title.firstChild.data, title.firstChild.data
PY
}

@test "trace: names not doubled, threads sorted by tid, every section there or a note on stderr with -q" {
	PROFSHIM_CALLS=trace run_shim "$TMP/t" "$PROGS/fi_threads" 3 2000 >/dev/null
	run "$PROFANALYZE" -q "$TMP/t" --format=trace -o "$TMP/t.json"
	[ "$status" -eq 0 ]
	j="$TMP/t.json"
	assert_eq "$(jq '[.traceEvents[] | select(.name == "thread_name") | .args.name | select(test("tid"))] | length' "$j")" 0 "ids in names"
	assert_eq "$(jq -r '[.traceEvents[] | select(.name == "thread_name")] | map(.args.name) | map(select(startswith("worker") and (endswith(": CPU samples") | not))) | join(",")' "$j")" "worker-0,worker-1,worker-2"
	assert_eq "$(jq '[.traceEvents[] | select(.name == "thread_sort_index")] | (map(.tid) == (map(.tid) | sort))' "$j")" true
	assert_eq "$(jq '[.traceEvents[] | select(.ph == "X" and .name == "work")] | length' "$j")" 6000
	assert_eq "$(jq '[.traceEvents[] | select(.ph == "C" and .name == "heap")] | length > 0' "$j")" true
	# a CPU-only run: samples per thread, and notes for what is not there
	PROFSHIM_RECORD=cpu run_shim "$TMP/p" "$PROGS/cpu_burn" 2 100 >/dev/null
	run "$PROFANALYZE" -q "$TMP/p" --format=trace -o "$TMP/p.json"
	[ "$status" -eq 0 ]
	[[ "$output" == *"no calls: the recorder was off"* ]]
	[[ "$output" == *"no heap or RSS counters: the recorder was off"* ]]
	assert_eq "$(jq '[.traceEvents[] | select(.name == "Profile")] | length' "$TMP/p.json")" 3
	# samples in the chunks: at most two per sample record (the sample, then
	# idle); back-to-back samples of one stack merge, so a busy thread needs fewer
	analyze_json "$TMP/p" -q
	n=$(jq '[.traceEvents[] | select(.name == "ProfileChunk") | .args.data.cpuProfile.samples | length] | add' "$TMP/p.json")
	[ "$n" -ge 3 ] && [ "$n" -le "$(( $(jqr .cpu.samples) * 2 ))" ]
	# every sample's node is defined in its thread's chunk
	assert_eq "$(jq '[.traceEvents[] | select(.name == "ProfileChunk")] | group_by(.tid) | map((map(.args.data.cpuProfile.nodes // [] | .[].id)) as $ids | [.[].args.data.cpuProfile.samples[] | select(($ids | index(.)) == null)] | length) | add' "$TMP/p.json")" 0
}

@test "errors are the same in every format; a failed -o leaves no file" {
	PROFSHIM_RECORD=mem run_shim "$TMP/t" "$PROGS/mem_known" >/dev/null
	for f in text json chrome heapprofile trace folded flamegraph speedscope; do
		run "$PROFANALYZE" -q "$TMP/t" --format=$f --thread=99999 -o "$TMP/out.$f"
		[ "$status" -eq 1 ]
		assert_eq "$output" "profanalyze: --thread=99999: no such thread in this trace" "$f"
		[ ! -e "$TMP/out.$f" ]
	done
	# a report that fails half-way leaves nothing either
	run "$PROFANALYZE" -q "$TMP/t" --format=chrome -o "$TMP/x.cpuprofile"
	[ "$status" -ne 0 ]
	[ ! -e "$TMP/x.cpuprofile" ]
	[ -z "$(ls "$TMP" | grep tmp)" ]
	# devices and pipes are written in place, never renamed over
	"$PROFANALYZE" -q "$TMP/t" --format=folded -o /dev/null
	[ -c /dev/null ]
	assert_eq "$("$PROFANALYZE" -q "$TMP/t" --format=folded -o /dev/stdout | wc -l)" "$("$PROFANALYZE" -q "$TMP/t" --format=folded | wc -l)"
	# /dev/stdout onto a file: the file gets it, the symlink stays
	"$PROFANALYZE" -q "$TMP/t" --format=folded -o /dev/stdout >"$TMP/via-stdout"
	[ -s "$TMP/via-stdout" ]
	[ -L /dev/stdout ] || [ -c /dev/stdout ]
	# an existing file survives a failed run
	echo keep >"$TMP/keep"
	run "$PROFANALYZE" -q "$TMP/t" --format=trace --thread=99999 -o "$TMP/keep"
	assert_eq "$(cat "$TMP/keep")" keep
}

# pprof_top FILE [ARGS...] : "NAME FLAT" per function from go tool pprof -top
pprof_top() {
	local f="$1"
	shift
	HOME="$TMP" GOTOOLCHAIN=local go tool pprof -top -nodecount=100000 -nodefraction=0 -edgefraction=0 "$@" "$f" 2>/dev/null |
		awk 'found && NF >= 6 { print $6, $1 + 0 } /flat%/ { found = 1 }'
}

@test "pprof: go tool pprof reads CPU, memory and calls profiles; its top functions and totals equal profanalyze's" {
	command -v go >/dev/null || skip "go (Debian golang-go) is not installed: tools/install-deps.sh"
	PROFSHIM_CPU_HZ=1000 run_shim "$TMP/t" "$PROGS/cpu_burn" 2 100 >/dev/null
	"$PROFANALYZE" -q "$TMP/t" --format=pprof -o "$TMP/cpu.pb.gz"
	# gzip, and string_table[0] is "" (go tool pprof refuses it otherwise)
	gzip -t "$TMP/cpu.pb.gz"
	analyze_json "$TMP/t" -q
	HOME="$TMP" go tool pprof -raw "$TMP/cpu.pb.gz" >"$TMP/raw" 2>&1
	grep -q '^samples/count cpu/nanoseconds' "$TMP/raw"
	grep -q 'thread_id:\[' "$TMP/raw"
	grep -q '^Mappings' "$TMP/raw"
	# the program's mapping carries its build-id
	bid=$(jqr '.modules[] | select(.path | endswith("/cpu_burn")) | .build_id')
	[ -n "$bid" ] && sed -n '/^Mappings/,$p' "$TMP/raw" | grep "cpu_burn" | grep -q "$bid"
	pprof_top "$TMP/cpu.pb.gz" -sample_index=samples -unit=samples >"$TMP/top"
	for fn in burn_worker burn_main; do
		assert_eq "$(awk -v f=$fn '$1 == f { print $2 }' "$TMP/top")" "$(jqr ".cpu.functions[] | select(.name == \"$fn\") | .self_samples")" "$fn flat"
	done
	assert_eq "$(awk '{ s += $2 } END { print s }' "$TMP/top")" "$(jqr .cpu.weight)" "total samples"
	# memory: the four Go sample types, totals as the report's
	PROFSHIM_RECORD=mem run_shim "$TMP/m" "$PROGS/mem_known" >/dev/null
	"$PROFANALYZE" -q "$TMP/m" --format=pprof -o "$TMP/mem.pb.gz"
	analyze_json "$TMP/m" -q
	HOME="$TMP" go tool pprof -raw "$TMP/mem.pb.gz" 2>&1 | grep -qE '^alloc_objects/count alloc_space/bytes(\[dflt\])? inuse_objects/count inuse_space/bytes'
	# (the report's allocation count includes failed calls, which no site holds)
	for t in alloc_space:.total_allocation_bytes alloc_objects:'.total_allocations - .failed_allocations' \
		inuse_space:.leaked_bytes inuse_objects:.leaked_blocks; do
		got=$(pprof_top "$TMP/mem.pb.gz" -sample_index=${t%%:*} -unit=bytes | awk '{ s += $2 } END { print s + 0 }')
		assert_eq "$got" "$(jqr ".memory_metrics | ${t#*:}")" "${t%%:*}"
	done
	# inlined frames: several lines of one location, innermost first
	PROFSHIM_RECORD=mem run_shim "$TMP/i" "$PROGS/mem_inline" 3
	"$PROFANALYZE" -q "$TMP/i" --format=pprof -o "$TMP/inl.pb.gz"
	HOME="$TMP" go tool pprof -raw "$TMP/inl.pb.gz" 2>/dev/null | sed -n '/^Locations/,/^Mappings/p' >"$TMP/locs"
	grep -A1 -E '^ +[0-9]+: 0x[0-9a-f]+ M=[0-9]+ make_block .*mem_inline.c:' "$TMP/locs" | grep -qE '^ +builder .*mem_inline.c:'
	assert_eq "$(pprof_top "$TMP/inl.pb.gz" -sample_index=alloc_space -unit=bytes | awk '$1 == "make_block" { print $2 }')" 192
	# calls: calls/count per function as the report counts them
	PROFSHIM_RECORD=calls run_shim "$TMP/c" "$PROGS/fi_threads" 2 500 >/dev/null
	"$PROFANALYZE" -q "$TMP/c" --format=pprof --data=calls -o "$TMP/calls.pb.gz"
	analyze_json "$TMP/c" -q
	pprof_top "$TMP/calls.pb.gz" -sample_index=calls >"$TMP/top"
	assert_eq "$(awk '$1 == "work" { print $2 }' "$TMP/top")" 1000 "work calls"
	assert_eq "$(awk '$1 == "step" { print $2 }' "$TMP/top")" 2000 "step calls"
}

# --- in a real browser: Debian chromium through puppeteer-core (npm) ---

# browser_ready : install the npm packages of tests/browser when missing;
# skip only when chromium cannot start.
browser_ready() {
	command -v node >/dev/null || skip "node is not installed (tools/install-deps.sh installs nodejs)"
	if [ ! -d "$ROOT/tests/browser/node_modules/puppeteer-core" ] ||
		[ ! -d "$ROOT/tests/browser/node_modules/speedscope" ] ||
		[ ! -d "$ROOT/tests/browser/node_modules/@paulirish/trace_engine" ]; then
		bash "$ROOT/tests/browser/setup.sh" >&2
	fi
	SHOTS="$BUILD/browser"
	mkdir -p "$SHOTS"
}

# browser SCRIPT ARGS... : run a check; its JSON result in $TMP/b.json
browser() {
	local rc=0
	node "$ROOT/tests/browser/$1" "${@:2}" >"$TMP/b.json" 2>"$TMP/b.err" || rc=$?
	if [ "$rc" -eq 77 ]; then
		skip "chromium cannot start: $(jq -r .cannot_start "$TMP/b.json")"
	fi
	if [ "$rc" -ne 0 ]; then
		cat "$TMP/b.json" "$TMP/b.err" >&2
		return 1
	fi
}

bj() {
	jq -r "$1" "$TMP/b.json"
}

@test "HTML report in chromium: no console error, no network, flame graphs and heap chart drawn, search finds a function" {
	browser_ready
	PROFSHIM_CALLS=trace PROFSHIM_CPU_HZ=1000 run_shim "$TMP/t" "$PROGS/fi_memleak" 20000 >/dev/null
	"$PROFANALYZE" -q "$TMP/t" --format=html -o "$TMP/report.html"
	KIND=mem browser check_html.js "$TMP/report.html" "$SHOTS/report.png" leak_deep
	assert_eq "$(bj '.errors | length')" 0 "console errors: $(bj '.errors')"
	assert_eq "$(bj '.external | length')" 0 "requests leaving the machine"
	# a flame graph per kind recorded (cpu only when the sampler caught the short run)
	assert_eq "$(bj '[.flame_tabs[] | select(. == "mem" or . == "calls")] | length')" 2 "flame graph tabs"
	[ "$(bj .frames)" -gt 3 ]
	assert_eq "$(bj '.kind_frames.mem | index("leak_deep") != null')" true "mem flame graph"
	assert_eq "$(bj '.kind_frames.calls | index("leak_deep") != null')" true "calls flame graph"
	assert_eq "$(bj .heap_lines)" 1
	[ "$(bj .heap_points)" -gt 2 ]
	assert_eq "$(bj .heap_peak)" 1
	[ "$(bj .thread_bars)" -ge 1 ]
	assert_eq "$(bj '.matches | join(",")')" leak_deep
	[[ "$(bj .match_status)" == "Matched: "* ]]
	[ -s "$SHOTS/report.png" ]
	for s in summary flame heap threads mem-top calls-top; do
		assert_eq "$(bj ".sections | index(\"$s\") != null")" true "section $s"
	done
}

@test "HTML report: markers on the heap chart, tables sort by a click" {
	browser_ready
	PROFSHIM_RECORD=mem run_shim "$TMP/t" "$PROGS/mem_known" >/dev/null
	"$PROFANALYZE" -q "$TMP/t" --format=html -o "$TMP/report.html"
	browser check_html.js "$TMP/report.html" "$SHOTS/report-mem.png"
	assert_eq "$(bj '.errors | length')" 0
	assert_eq "$(bj .markers)" 2
	assert_eq "$(bj '.marker_labels | join(",")')" "begin,end"
	# the first table (heap sites) by its allocations: descending, then ascending
	assert_eq "$(bj '.sorted[0] | map(gsub(","; "") | tonumber) as $v | $v == ($v | sort | reverse)')" true
	assert_eq "$(bj '.sorted[1] | map(gsub(","; "") | tonumber) as $v | $v == ($v | sort)')" true
	[ "$(bj '.sorted[0] | length')" -gt 3 ]
}

@test "HTML report of a CPU-only run: only CPU panels, says which recorders were off" {
	browser_ready
	PROFSHIM_RECORD=cpu run_shim "$TMP/t" "$PROGS/cpu_burn" 2 100 >/dev/null
	"$PROFANALYZE" -q "$TMP/t" --format=html -o "$TMP/report.html"
	browser check_html.js "$TMP/report.html" "$SHOTS/report-cpu.png" burn_worker
	assert_eq "$(bj '.errors | length')" 0
	assert_eq "$(bj '.flame_tabs | join(",")')" cpu
	assert_eq "$(bj '.sections | index("heap")')" null
	assert_eq "$(bj '[.notes[] | select(test("memory recorder was off"))] | length')" 1
	assert_eq "$(bj '[.notes[] | select(test("calls recorder was off"))] | length')" 1
	assert_eq "$(bj '.matches | length > 0')" true
	# a trace with no data still gets a page that says why
	PROFSHIM_RECORD=calls run_shim "$TMP/n" "$PROGS/mem_known" >/dev/null
	"$PROFANALYZE" -q "$TMP/n" --format=html -o "$TMP/none.html"
	browser check_html.js "$TMP/none.html" ""
	assert_eq "$(bj '.errors | length')" 0
	assert_eq "$(bj '.sections | index("flame")')" null
	assert_eq "$(bj '[.notes[] | select(test("calls recorder saw no instrumented calls"))] | length')" 1
}

@test "speedscope (npm, served on 127.0.0.1) loads the .speedscope.json, .cpuprofile and trace outputs: names and totals" {
	browser_ready
	PROFSHIM_RECORD=cpu PROFSHIM_CPU_HZ=1000 run_shim "$TMP/t" "$PROGS/cpu_burn" 2 100 >/dev/null
	analyze_json "$TMP/t" -q
	tids=$(jqr '[.cpu.threads[].tid] | sort | map(tostring) | join(",")')
	cpu_us=$(jqr '.cpu.weight * 1e6 / .cpu.hz')
	"$PROFANALYZE" -q "$TMP/t" --format=speedscope -o "$TMP/p.speedscope.json"
	browser check_speedscope.js "$TMP/p.speedscope.json" "$SHOTS/speedscope.png"
	assert_eq "$(bj '.errors | length')" 0
	# one profile per thread, by tid, named after it
	assert_eq "$(bj '[.profiles[].name | capture("\\((?<t>[0-9]+)\\)$").t] | join(",")')" "$tids" "profile names"
	assert_within "$(bj '[.profiles[].total] | add')" "$cpu_us" 1 "speedscope total"
	assert_within "$(bj '[.profiles[].functions.burn_worker // 0] | add')" "$(jqr ".cpu.functions[] | select(.name == \"burn_worker\") | .self_samples * 1e6 / $(jqr .cpu.hz)")" 1 "burn_worker"
	"$PROFANALYZE" -q "$TMP/t" --format=chrome -o "$TMP/p.cpuprofile"
	browser check_speedscope.js "$TMP/p.cpuprofile"
	assert_eq "$(bj '.profiles | length')" 1
	assert_within "$(bj '.profiles[0].total')" "$cpu_us" 1 "cpuprofile total"
	assert_within "$(bj '.profiles[0].functions.burn_main')" "$(jqr ".cpu.functions[] | select(.name == \"burn_main\") | .self_samples * 1e6 / $(jqr .cpu.hz)")" 1 "burn_main"
	"$PROFANALYZE" -q "$TMP/t" --format=trace -o "$TMP/p.trace.json"
	browser check_speedscope.js "$TMP/p.trace.json" "$SHOTS/speedscope-trace.png"
	assert_eq "$(bj '.errors | length')" 0
	assert_eq "$(bj '.profiles | length')" 3 "a profile per thread from the timeline's samples"
	assert_within "$(bj '[.profiles[].functions.burn_worker // 0] | add')" "$(jqr ".cpu.functions[] | select(.name == \"burn_worker\") | .self_samples * 1e6 / $(jqr .cpu.hz)")" 1 "timeline burn_worker"
}

@test "size caps: a 5 M-call trace-mode recording gives every format under its cap by default, says what it cut; --full keeps all" {
	PROFSHIM_CALLS=trace PROFSHIM_RECORD=calls,mem run_shim "$TMP/t" "$PROGS/fi_threads" 4 420000 >/dev/null
	analyze_json "$TMP/t" -q
	assert_eq "$(jqr .time_metrics.calls)" 5040006 "calls recorded"
	mb=$((1024 * 1024))
	for f in trace:100 speedscope:50 folded:50 flamegraph:50 heapprofile:50 json:100 text:100 html:10 pprof:50; do
		fmt=${f%%:*} cap=${f#*:}
		run "$PROFANALYZE" -q "$TMP/t" --format=$fmt -o "$TMP/out"
		[ "$status" -eq 0 ]
		size=$(stat -c %s "$TMP/out")
		[ "$size" -le $((cap * mb)) ] || { echo "$fmt: $size bytes, over $cap MB" >&2; false; }
		case $fmt in trace | speedscope)
			# what was cut, and the option that keeps more
			[[ "$output" == *"left out the "*" shortest"*"--full keeps more"* ]] || { echo "$fmt: $output" >&2; false; }
			;;
		esac
	done
	# the timeline keeps the longest calls: every outermost call is there
	"$PROFANALYZE" -q "$TMP/t" --format=trace -o "$TMP/t.json" 2>/dev/null
	assert_eq "$(jq '[.traceEvents[] | select(.ph == "X" and (.name == "spawn" or .name == "main"))] | length' "$TMP/t.json")" 2
	# a smaller cap cuts more, --full cuts nothing
	"$PROFANALYZE" -q "$TMP/t" --format=trace --max-size=10 -o "$TMP/small.json" 2>/dev/null
	[ "$(stat -c %s "$TMP/small.json")" -le $((10 * mb)) ]
	# (one worker thread: worker, 420,000 work, 840,000 step; a quarter of the disk and time)
	tid=$(jqr '.session.threads[] | select(.name == "worker-0") | .tid')
	run "$PROFANALYZE" -q "$TMP/t" --format=speedscope --data=calls --full --thread="$tid" -o "$TMP/full.json"
	[ "$status" -eq 0 ]
	[[ "$output" != *"left out"* ]]
	[ "$(stat -c %s "$TMP/full.json")" -gt $((50 * mb)) ]
	assert_eq "$(grep -o '"type":"O"' "$TMP/full.json" | wc -l)" 1260001 "every call of the thread in the file"
}

@test "a damaged trace: the same clear error in every format (pprof and html too), and -o leaves no file" {
	PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM" "$PROGS/core_crash" exit 5
	printf '\x0d' | dd of="$TMP/t.t1" bs=1 seek=4096 conv=notrunc status=none
	for f in text json chrome heapprofile trace folded flamegraph speedscope pprof html; do
		run "$PROFANALYZE" -q "$TMP/t" --format=$f -o "$TMP/out.$f"
		[ "$status" -eq 1 ]
		assert_eq "$output" "profanalyze: $TMP/t.t1: offset 4096: unknown record kind 13" "$f"
		[ ! -e "$TMP/out.$f" ]
	done
	[ -z "$(ls "$TMP" | grep '\.tmp\.')" ]
}

@test "--help names every format and which --data each weighs by" {
	run "$PROFANALYZE" --help
	for f in text json chrome heapprofile trace folded flamegraph speedscope pprof html; do
		[[ "$output" == *"$f "* ]]
	done
	[[ "$output" == *"--data=KIND"*"folded, flamegraph, speedscope and pprof"* ]]
	[[ "$output" == *"--max-size=MB"* ]]
	[[ "$output" == *"--full"* ]]
}

@test "DevTools trace engine (npm) reads the timeline: each thread's samples as its CPU time, calls as slices" {
	browser_ready # the npm packages
	PROFSHIM_RECORD=cpu PROFSHIM_CPU_HZ=1000 run_shim "$TMP/t" "$PROGS/cpu_burn" 2 100 >/dev/null
	analyze_json "$TMP/t" -q
	"$PROFANALYZE" -q "$TMP/t" --format=trace -o "$TMP/t.json" 2>/dev/null
	node "$ROOT/tests/browser/check_trace_engine.mjs" "$TMP/t.json" >"$TMP/b.json"
	# no calls: the samples are on the threads' own tracks
	for tid in $(jqr '.cpu.threads[].tid'); do
		want=$(jqr ".cpu.threads[] | select(.tid == $tid) | .weight * 1e6 / $(jqr .cpu.hz)")
		got=$(bj ".tracks[] | select(.tid == $tid) | .busy_us")
		assert_within "$got" "$want" 1 "thread $tid sampled CPU us"
	done
	# calls and samples: calls as slices on the thread, samples on the track below it
	PROFSHIM_CALLS=trace PROFSHIM_CPU_HZ=1000 run_shim "$TMP/c" "$PROGS/fi_timed" >/dev/null
	analyze_json "$TMP/c" -q
	"$PROFANALYZE" -q "$TMP/c" --format=trace -o "$TMP/c.json" 2>/dev/null
	node "$ROOT/tests/browser/check_trace_engine.mjs" "$TMP/c.json" >"$TMP/b.json"
	pid=$(jqr .session.pid)
	[ "$(bj ".tracks[] | select(.tid == $pid) | .slices")" -ge 1003 ] # main, sleeper, spinner, 1000 tiny
	want=$(jqr ".cpu.threads[] | select(.tid == $pid) | .weight * 1e6 / $(jqr .cpu.hz)")
	assert_within "$(bj ".tracks[] | select(.name | endswith(\": CPU samples\")) | .busy_us")" "$want" 1 "sampled CPU of the main thread"
	[ "$(bj ".tracks[] | select(.name | endswith(\": CPU samples\")) | .sampled.spinner")" != null ]
}

# island FILE.html : the data island of an HTML report, as JSON
island() {
	sed -n 's/.*<script type="application\/json" id="data">\(.*\)<\/script>$/\1/p' "$1"
}

@test "run directory in chromium: HTML shows every process (tree, times, CPU, peak heap, ended) and each one's report; trace has a pid per process" {
	browser_ready
	mkdir "$TMP/own"
	PROFSHIM_CPU_HZ=1000 run_shim "$TMP/run/" "$PROGS/run_tree" "$TMP/own"
	n=$(ls "$TMP"/run/*.trace | wc -l)
	analyze_json "$TMP/run" -q
	"$PROFANALYZE" -q "$TMP/run" --format=html -o "$TMP/run.html"
	island "$TMP/run.html" >"$TMP/island.json"
	# the page's figures are the run report's, process by process
	assert_eq "$(jq '.run.processes | length' "$TMP/island.json")" "$n" "processes on the page"
	assert_eq "$(jq -c '[.run.processes[] | [.pid, .command, (.cpu_ms // 0)]]' "$TMP/island.json")" \
		"$(jqr '[.run.processes[] | [.pid, .command, (.cpu_ms // 0)]] | tojson')" "pid, command, CPU"
	assert_eq "$(jq -r '[.run.processes[] | select(.command == "tr" or .command == "cat") | .ended] | unique | join(",")' "$TMP/island.json")" "exit 0"
	assert_eq "$(jq '[.run.processes[] | select(.ended == "exec")] | length' "$TMP/island.json")" \
		"$(jqr '[.run.processes[] | select(.exec_index > 0)] | length')" "exec'd images"
	[ "$(jq '[.run.processes[] | select(.command == "tr") | .peak_heap] | .[0]' "$TMP/island.json")" -gt 0 ]
	browser check_html.js "$TMP/run.html" "$SHOTS/report-run.png" burn
	assert_eq "$(bj '.errors | length')" 0 "console errors: $(bj '.errors')"
	assert_eq "$(bj '.external | length')" 0
	assert_eq "$(bj '.run_rows | length')" "$n" "table rows"
	assert_eq "$(bj .proc_bars)" "$n" "timeline bars"
	assert_eq "$(bj '.pages | length')" "$n" "a report per process"
	# the page opens on the process with the most CPU (the first of a tie); its flame graph has burn
	busiest=$(jqr '[.run.processes | to_entries[] | {k: .key, c: (.value.cpu_ms // 0)}] | (map(.c) | max) as $m | map(select(.c == $m))[0].k')
	assert_eq "$(bj .shown)" "$busiest" "first process shown"
	assert_eq "$(bj ".pages[$busiest].frames | index(\"burn\") != null")" true
	assert_eq "$(bj '[.pages[] | select(.command == "tr x y")][0].flame_tabs | index("mem") != null')" true "tr's memory flame graph"
	assert_eq "$(bj '.row_clicks | join(",")')" "$(seq -s, 0 $((n - 1)))" "a click on a row shows that process"
	# --comm narrows the page to that command's processes
	"$PROFANALYZE" -q "$TMP/run" --format=html --comm=sh -o "$TMP/sh.html"
	assert_eq "$(island "$TMP/sh.html" | jq '.pages | length')" "$(jqr '[.run.processes[] | select(.command == "sh")] | length')"
	# one timeline: a pid per process, named by command, on the run's clock
	"$PROFANALYZE" -q "$TMP/run" --format=trace -o "$TMP/t.json" 2>/dev/null
	assert_eq "$(jq -c '[.traceEvents[].pid] | unique' "$TMP/t.json")" "$(jqr '[.run.processes[].pid] | unique | tojson')" "pids"
	assert_eq "$(jq -r '[.traceEvents[] | select(.name == "process_name") | .args.name] | index("tr") != null' "$TMP/t.json")" true
	a=$(ls "$TMP"/own/cpu.*.stage2 | sed 's/.*cpu\.\([0-9]*\)\.stage2/\1/')
	start_us=$(jq "[.run.processes[] | select(.pid == $a)][0].start_ms * 1000" "$TMP/island.json")
	first_us=$(jq "[.traceEvents[] | select(.pid == $a and .ph == \"P\") | .args.data.startTime // .ts] | min" "$TMP/t.json")
	awk -v f="$first_us" -v s="$start_us" 'BEGIN { exit !(f >= s - 1) }'
	# speedscope holds every process: its profiles named by command and pid
	"$PROFANALYZE" -q "$TMP/run" --format=speedscope -o "$TMP/run.speedscope.json"
	assert_eq "$(jq '[.profiles[] | select(.name | test("^tr [0-9]+: heap"))] | length' "$TMP/run.speedscope.json")" 1 "tr's heap profile"
	assert_within "$(jq '[.profiles[] | select((.name | startswith("run_tree ")) and .unit == "milliseconds") | .weights | add] | add' "$TMP/run.speedscope.json")" \
		"$(jqr '[.run.processes[] | select(.command == "run_tree") | .cpu_ms // 0] | add')" 0.5 "run_tree CPU in speedscope"
	browser check_speedscope.js "$TMP/run.speedscope.json"
	assert_eq "$(bj '.errors | length')" 0
	assert_eq "$(bj '.profiles | length')" "$(jq '.profiles | length' "$TMP/run.speedscope.json")" "profiles speedscope shows"
	# a format of one process: the first with data for it, and how to pick another
	"$PROFANALYZE" -q "$TMP/run" --format=heapprofile -o "$TMP/h.heapprofile" 2>"$TMP/err"
	grep -q -- "--pid=N or --comm=NAME" "$TMP/err"
	pid=$(sed -n 's/.*this is process \([0-9]*\) .*/\1/p' "$TMP/err")
	assert_eq "$(jqr "[.run.processes[] | select(.allocations > 0)][0].pid")" "$pid" "first process with allocations"
	[ "$(jq '.head.children | length' "$TMP/h.heapprofile")" -gt 0 ]
	run "$PROFANALYZE" "$TMP/run" --format=html -o "$TMP/no/such/dir.html"
	[ "$status" -eq 1 ]
	[ ! -e "$TMP/no" ]
	# a damaged process file: the page of the others, and it named on the page
	f=$(ls "$TMP"/run/cat.*.trace)
	head -c 300 "$f" >"$TMP/x" && mv "$TMP/x" "$f"
	"$PROFANALYZE" -q "$TMP/run" --format=html -o "$TMP/bad.html"
	assert_eq "$(island "$TMP/bad.html" | jq '.pages | length')" $((n - 1)) "pages without the damaged one"
	island "$TMP/bad.html" | jq -r '.run.notes[]' | grep -q "^$(basename "$f"): left out of the run: .*truncated"
}

@test "DevTools Performance panel (chromium's own front end) loads the .cpuprofile and the timeline: track names, Bottom-up self times = text report within 1%, no error dialog" {
	browser_ready
	PROFSHIM_RECORD=cpu PROFSHIM_CPU_HZ=1000 run_shim "$TMP/t" "$PROGS/cpu_burn" 2 100 >/dev/null
	analyze_json "$TMP/t" -q
	ms() { jqr "[.cpu.functions[] | select(.name == \"$1\") | .self_samples][0] * 1000 / .cpu.hz"; }
	"$PROFANALYZE" -q "$TMP/t" --format=chrome -o "$TMP/p.cpuprofile"
	browser check_devtools.js "$TMP/p.cpuprofile" "$SHOTS/devtools-cpuprofile.png"
	assert_eq "$(bj .status_dialog)" null "load error: $(bj .status_dialog)"
	assert_eq "$(bj '.errors | length')" 0 "console errors: $(bj .errors)"
	assert_eq "$(bj '.tracks | map(.name) | join(",")')" Main
	for fn in burn_worker burn_main; do
		assert_within "$(bj ".bottom_up.Main.$fn")" "$(ms $fn)" 1 "cpuprofile Bottom-up $fn ms"
	done
	assert_within "$(bj '.bottom_up.Main | add')" "$(jqr '.cpu.weight * 1000 / .cpu.hz')" 1 "cpuprofile Bottom-up total"
	"$PROFANALYZE" -q "$TMP/t" --format=trace -o "$TMP/p.json" 2>/dev/null
	browser check_devtools.js "$TMP/p.json" "$SHOTS/devtools-trace.png"
	assert_eq "$(bj .status_dialog)" null "load error: $(bj .status_dialog)"
	assert_eq "$(bj '.errors | length')" 0 "console errors: $(bj .errors)"
	# a track per thread, named once: "cpu_burn (TID)"
	assert_eq "$(bj '[.tracks[] | select(.level == 1) | .name] | sort | join(",")')" \
		"$(jqr '[.cpu.threads[] | "cpu_burn (\(.tid))"] | sort | join(",")')" "thread tracks"
	# each thread's Bottom-up: its CPU time; the whole run's functions as the text report
	for tid in $(jqr '.cpu.threads[].tid'); do
		want=$(jqr ".cpu.threads[] | select(.tid == $tid) | .weight * 1000 / $(jqr .cpu.hz)")
		got=$(bj "[.bottom_up | to_entries[] | select(.key | endswith(\"($tid)\")) | .value | to_entries[] | select(.key != \"off CPU (between samples)\") | .value] | add")
		assert_within "$got" "$want" 1 "thread $tid CPU ms"
	done
	for fn in burn_worker burn_main; do
		assert_within "$(bj "[.bottom_up[].$fn // 0] | add")" "$(ms $fn)" 1 "timeline Bottom-up $fn ms"
	done
}

@test "DevTools Memory panel loads the .heapprofile: Bottom Up shares of each function = profanalyze's folded heap stacks" {
	browser_ready
	PROFSHIM_RECORD=mem run_shim "$TMP/t" "$PROGS/fi_memleak" 100 >/dev/null
	"$PROFANALYZE" -q "$TMP/t" --format=heapprofile -o "$TMP/p.heapprofile"
	"$PROFANALYZE" -q "$TMP/t" --format=folded --data=mem -o "$TMP/p.folded"
	browser check_devtools.js "$TMP/p.heapprofile" "$SHOTS/devtools-memory.png"
	assert_eq "$(bj '.errors | length')" 0 "console errors: $(bj .errors)"
	# each function's self share as the folded stacks give it (leaf = self)
	awk '{ w = $NF; $NF = ""; n = split($0, f, ";"); sub(/ +$/, "", f[n]); self[f[n]] += w; all += w }
		END { for (k in self) printf "%s %.6f\n", k, 100 * self[k] / all }' "$TMP/p.folded" >"$TMP/want"
	[ "$(wc -l <"$TMP/want")" -ge 2 ]
	while read -r fn pct; do
		got=$(bj ".memory[\"$fn\"].self_pct")
		# the panel shows two decimals
		awk -v g="$got" -v w="$pct" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(g != "null" && d <= 0.006 + w * 0.01) }' ||
			{ echo "$fn: panel $got%, folded $pct%" >&2; return 1; }
	done <"$TMP/want"
	# one row per function, callers with no self size among them
	assert_eq "$(bj '.memory.leak_deep.self_pct > 0')" true
}
