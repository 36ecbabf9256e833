#!/usr/bin/env bats
# Calls recorder (-finstrument-functions): exact counts, times, call trees,
# timelines, in both recording modes.

load helpers

setup() { setup_tmp; }
teardown() { teardown_tmp; }

# calls_run MODE PROG ARGS... : record PROG with PROFSHIM_CALLS=MODE into a
# new trace (the shim never overwrites) and write the JSON report.
RUNS=0
calls_run() {
	local mode="$1"
	shift
	RUNS=$((RUNS + 1))
	PROFSHIM_CALLS="$mode" run_shim "$TMP/c$RUNS.trace" "$@" >"$TMP/stdout"
	analyze_json "$TMP/c$RUNS.trace" -q
}

# A function by name: C names exactly, C++ ones with their parameters.
is_fn() {
	echo "(. == \"$1\" or startswith(\"$1(\"))"
}
fcalls() { # NAME : its calls
	jqr "[.time_metrics.functions[] | select(.name | $(is_fn "$1")) | .calls] | add // 0"
}
ffield() { # NAME FIELD
	jqr "[.time_metrics.functions[] | select(.name | $(is_fn "$1")) | .$2] | add // 0"
}
edge() { # CALLER CALLEE : calls from CALLER to CALLEE
	jqr "[.edges[] | select((.caller | $(is_fn "$1")) and (.callee | $(is_fn "$2"))) | .count] | add // 0"
}

@test "recursion: exact call counts and edges, both modes" {
	for mode in trace tree; do
		calls_run $mode "$PROGS/fi_recurse" 20 0 1000
		assert_eq "$(jqr .time_metrics.mode)" $mode mode
		assert_eq "$(fcalls fib)" 21891 "fib calls ($mode)"
		assert_eq "$(fcalls leaf)" 1000 "leaf calls ($mode)"
		assert_eq "$(fcalls main)" 1 "main calls ($mode)"
		assert_eq "$(edge fib fib)" 21890 "fib->fib ($mode)"
		assert_eq "$(edge main fib)" 1 "main->fib ($mode)"
		assert_eq "$(edge main leaf)" 1000 "main->leaf ($mode)"
		assert_eq "$(jqr '.time_metrics.functions[] | select(.name == "fib") | .file | endswith("fi_recurse.c")')" true "file"
		# recursion is not counted twice: fib's total <= main's total
		jqr '(.time_metrics.functions | map({(.name): .total_ms}) | add) as $t | $t.fib <= $t.main' | grep -qx true
	done
}

@test "threads: known call counts per function and per thread, both modes" {
	for mode in trace tree; do
		calls_run $mode "$PROGS/fi_threads" 4 5000
		assert_eq "$(fcalls work)" 20000 "work ($mode)"
		assert_eq "$(fcalls step)" 40000 "step ($mode)"
		assert_eq "$(fcalls spawn)" 1 "spawn ($mode)"
		assert_eq "$(jqr '[.time_metrics.threads[] | select(.name | startswith("worker-")) | .calls] | unique | join(",")')" 15001 "calls per worker ($mode)"
		assert_eq "$(jqr '[.time_metrics.threads[] | select(.name | startswith("worker-"))] | length')" 4 "workers ($mode)"
	done
}

@test "longjmp out of nested frames: exact counts, the stack does not drift" {
	for mode in trace tree; do
		calls_run $mode "$PROGS/fi_longjmp" 200
		for f in outer middle inner after; do
			assert_eq "$(fcalls $f)" 200 "$f ($mode)"
		done
		# abandoned frames are closed: the tree stays small and shallow
		nodes=$(jqr '[.call_graph | .. | objects | select(has("children"))] | length')
		[ "$nodes" -le 8 ] || { echo "call tree grew to $nodes nodes ($mode)"; false; }
		depth=$(jqr '[.call_graph | paths(objects) | length] | max')
		[ "$depth" -le 12 ] || { echo "call tree depth path $depth ($mode)"; false; }
		assert_eq "$(jqr .dropped.call_exits_unmatched)" 0 "unmatched exits ($mode)"
	done
}

@test "C++ exception through instrumented frames: exact counts" {
	for mode in trace tree; do
		calls_run $mode "$PROGS/fi_except" 100
		grep -qx caught=100 "$TMP/stdout"
		for f in thrower_outer thrower_mid thrower_leaf after_catch; do
			assert_eq "$(fcalls $f)" 100 "$f ($mode)"
		done
		assert_eq "$(edge thrower_mid thrower_leaf)" 100 "mid->leaf ($mode)"
		assert_eq "$(edge main after_catch)" 100 "main->after_catch ($mode)"
	done
}

@test "known sleep and busy times: inclusive times as the program measured them, self times add up" {
	for mode in trace tree; do
		calls_run $mode "$PROGS/fi_timed" 200 100 1000
		# every time is compared with what the program measured itself from
		# the same first statement: a loaded machine stretches both alike
		slept=$(sed -n 's/^sleeper_ms=//p' "$TMP/stdout")
		spun=$(sed -n 's/^spinner_ms=//p' "$TMP/stdout")
		main_ms=$(sed -n 's/^main_ms=//p' "$TMP/stdout")
		# a sleep never ends early
		awk -v s="$slept" 'BEGIN { exit !(s >= 199.9) }'
		assert_span "$(ffield sleeper total_ms)" "$slept" 2 "sleeper vs its own clock ($mode)"
		assert_span "$(ffield spinner total_ms)" "$spun" 2 "spinner vs its own clock ($mode)"
		assert_span "$(ffield main total_ms)" "$main_ms" 2 "main vs its own clock ($mode)"
		assert_eq "$(fcalls tiny)" 1000 "tiny ($mode)"
		# the thread's self times add up to its outermost calls (main)...
		self=$(jqr '.time_metrics.threads[0].self_ms')
		outer=$(jqr '.time_metrics.threads[0].outermost_ms')
		assert_within "$self" "$outer" 0.01 "self sum vs outermost calls ($mode)"
		assert_within "$outer" "$(ffield main total_ms)" 0.01 "outermost calls vs main ($mode)"
		# ...which fit in the thread's recorded life (that also holds the
		# start-up before main and the exit after it)
		dur=$(jqr '.time_metrics.threads[0].duration_ms')
		awk -v s="$self" -v d="$dur" 'BEGIN { exit !(s <= d + 0.01) }'
	done
}

@test "instrumented signal handler: every call kept, main's counts exact" {
	for mode in trace tree; do
		calls_run $mode "$PROGS/fi_signal" 1000000
		handled=$(sed -n 's/^handled=//p' "$TMP/stdout")
		[ "$handled" -gt 0 ]
		assert_eq "$(fcalls busy)" 1000000 "busy ($mode)"
		assert_eq "$(fcalls on_signal)" "$handled" "handler calls ($mode)"
		assert_eq "$(fcalls handler_work)" "$handled" "handler_work ($mode)"
		assert_eq "$(edge on_signal handler_work)" "$handled" "edge ($mode)"
		assert_eq "$(jqr .dropped.reentrant_hooks)" 0 "dropped ($mode)"
	done
}

@test "depth limit: deeper calls are counted, not lost silently" {
	for mode in trace tree; do
		PROFSHIM_CALLS_MAX_DEPTH=100 calls_run $mode "$PROGS/fi_recurse" 10 300 10
		assert_eq "$(fcalls deep)" 99 "recorded deep ($mode)"
		assert_eq "$(jqr .dropped.calls_too_deep)" 201 "too deep ($mode)"
		assert_eq "$(fcalls fib)" 177 "fib after the deep part ($mode)"
		assert_eq "$(fcalls leaf)" 10 "leaf ($mode)"
		# the JSON call tree stops at 64 levels (JSON tools reject deeper
		# nesting) and says so
		assert_eq "$(jqr '[.call_graph | .. | objects | select(.truncated == true)] | length')" 1 "truncated ($mode)"
	done
}

@test "minimum duration filter at record time (trace mode)" {
	PROFSHIM_CALLS_MIN_NS=1000000 calls_run trace "$PROGS/fi_timed" 20 10 1000
	assert_eq "$(fcalls tiny)" 0 "tiny calls written"
	assert_eq "$(jqr .dropped.calls_under_min_duration)" 1000 "dropped short calls"
	assert_eq "$(fcalls sleeper)" 1 sleeper
	assert_eq "$(fcalls spinner)" 1 spinner
	assert_eq "$(edge main sleeper)" 1 "held-back main written before its child"
	# a sleep is never shorter than asked (the filter is what is tested)
	awk -v t="$(ffield sleeper total_ms)" 'BEGIN { exit !(t >= 19.9 && t < 1000) }'
}

@test "trace mode is compact: at most 4 bytes per call" {
	PROFSHIM_CALLS=trace run_shim "$TMP/c.trace" "$PROGS/fi_recurse" 22 0 100000
	size=$(stat -c %s "$TMP/c.trace.t1")
	calls=$((57313 + 100000 + 1))
	per=$(awk -v s="$size" -v c="$calls" 'BEGIN { printf "%.2f", (s - 4096) / c }')
	awk -v p="$per" 'BEGIN { exit !(p <= 4) }' || { echo "bytes per call: $per"; false; }
}

@test "--format=trace: X events per call with names, filters" {
	PROFSHIM_CALLS=trace run_shim "$TMP/c.trace" "$PROGS/fi_threads" 2 100
	"$PROFANALYZE" "$TMP/c.trace" --format=trace -o "$TMP/t.json" -q
	assert_eq "$(jq '[.traceEvents[] | select(.ph == "X")] | length' "$TMP/t.json")" $((2 + 2 * 301)) "X events"
	# (a thread the CPU sampler caught under load has a companion samples track)
	assert_eq "$(jq '[.traceEvents[] | select(.ph == "M" and .name == "thread_name" and (.args.name | endswith("CPU samples") | not))] | length' "$TMP/t.json")" 3 "thread names"
	assert_eq "$(jq '[.traceEvents[] | select(.ph == "X" and .name == "step")] | length' "$TMP/t.json")" 400 "step events"
	# depth 1: only the outermost call of each thread
	"$PROFANALYZE" "$TMP/c.trace" --format=trace --depth=1 -o "$TMP/t.json" -q
	assert_eq "$(jq -r '[.traceEvents[] | select(.ph == "X") | .name] | sort | join(",")' "$TMP/t.json")" "main,worker,worker" "depth 1"
	# one thread
	tid=$(jq -r '[.traceEvents[] | select(.ph == "M" and .name == "thread_name" and (.args.name | startswith("worker-0")))][0].tid' "$TMP/t.json")
	"$PROFANALYZE" "$TMP/c.trace" --format=trace --thread="$tid" -o "$TMP/t.json" -q
	assert_eq "$(jq '[.traceEvents[] | select(.ph == "X") | .tid] | unique | length' "$TMP/t.json")" 1 "one thread"
	assert_eq "$(jq '[.traceEvents[] | select(.ph == "X")] | length' "$TMP/t.json")" 301 "its calls"
	# minimum duration keeps only calls that long
	"$PROFANALYZE" "$TMP/c.trace" --format=trace --min-duration=100000 -o "$TMP/t.json" -q
	assert_eq "$(jq '[.traceEvents[] | select(.ph == "X")] | length' "$TMP/t.json")" 0 "none 100 ms long"
	# time range: nothing after the end
	"$PROFANALYZE" "$TMP/c.trace" --format=trace --from=100000 -o "$TMP/t.json" -q
	assert_eq "$(jq '[.traceEvents[] | select(.ph == "X")] | length' "$TMP/t.json")" 0 "from after the end"
}

@test "--format=trace of a tree-mode recording: the timeline without calls, and why" {
	PROFSHIM_CALLS=tree run_shim "$TMP/c.trace" "$PROGS/fi_recurse" 5
	run "$PROFANALYZE" "$TMP/c.trace" --format=trace -o "$TMP/t.json"
	[ "$status" -eq 0 ]
	[[ "$output" == *"PROFSHIM_CALLS=trace"* ]]
	assert_eq "$(jq '[.traceEvents[] | select(.ph == "X")] | length' "$TMP/t.json")" 0 "call events"
	assert_eq "$(jq '[.traceEvents[] | select(.ph == "M")] | length > 0' "$TMP/t.json")" true "names"
}

@test "--format=speedscope: one evented profile per thread, balanced events" {
	PROFSHIM_CALLS=trace run_shim "$TMP/c.trace" "$PROGS/fi_threads" 2 50
	"$PROFANALYZE" "$TMP/c.trace" --format=speedscope --data=calls -o "$TMP/s.json" -q
	assert_eq "$(jq '.profiles | length' "$TMP/s.json")" 3 profiles
	assert_eq "$(jq '[.profiles[] | .type] | unique | join(",")' -r "$TMP/s.json")" evented type
	assert_eq "$(jq '[.profiles[] | ([.events[] | select(.type == "O")] | length) == ([.events[] | select(.type == "C")] | length)] | all' "$TMP/s.json")" true balanced
	assert_eq "$(jq '[.profiles[] | [.events[].at] | . == sort] | all' "$TMP/s.json")" true "time order"
	assert_eq "$(jq '[.profiles[].events[] | select(.type == "O")] | length' "$TMP/s.json")" $((2 + 2 * 151)) opens
	# tree mode: a sampled profile of self times
	PROFSHIM_CALLS=tree run_shim "$TMP/d.trace" "$PROGS/fi_threads" 2 50
	"$PROFANALYZE" "$TMP/d.trace" --format=speedscope --data=calls -o "$TMP/s.json" -q
	assert_eq "$(jq -r '.profiles[0].type' "$TMP/s.json")" sampled "tree mode"
	assert_eq "$(jq '.profiles[0] | (.samples | length) == (.weights | length)' "$TMP/s.json")" true samples
}

@test "--format=folded: stacks by self time" {
	run run_shim "$TMP/c.trace" "$PROGS/fi_timed" 100 20 10
	[ "$status" -eq 0 ]
	# what the program measured itself (the machine may be loaded)
	measured_ms=$(echo "$output" | sed -n 's/^sleeper_ms=//p')
	"$PROFANALYZE" "$TMP/c.trace" --format=folded --data=calls -o "$TMP/f.txt" -q
	grep -qE '^main;sleeper [0-9]+$' "$TMP/f.txt"
	run grep -vE '^[^ ]+ [0-9]+$' "$TMP/f.txt" # must select nothing
	[ "$status" -eq 1 ]
	us=$(sed -n 's/^main;sleeper //p' "$TMP/f.txt")
	assert_span "$(awk -v u="$us" 'BEGIN { print u / 1000 }')" "$measured_ms" 2 "sleeper self ms"
}

@test "text report: tables, callers and callees, the call tree" {
	PROFSHIM_CALLS=trace run_shim "$TMP/c.trace" "$PROGS/fi_timed" 20 10 100
	"$PROFANALYZE" "$TMP/c.trace" -o "$TMP/r.txt" -q
	grep -q "Top functions by total (inclusive) time" "$TMP/r.txt"
	grep -q "Top functions by self time" "$TMP/r.txt"
	grep -q "p95 us" "$TMP/r.txt"
	grep -q "called by: main (1)" "$TMP/r.txt"
	grep -qE '^main \([0-9.]+ms, 1 call\)$' "$TMP/r.txt"
	grep -qE '^  ├─ sleeper \(' "$TMP/r.txt"
	grep -qE '^  └─ ' "$TMP/r.txt"
	"$PROFANALYZE" "$TMP/c.trace" --depth=1 -o "$TMP/r.txt" -q
	run grep -q '├─ sleeper' "$TMP/r.txt" # must select nothing
	[ "$status" -eq 1 ]
	grep -q 'below --depth' "$TMP/r.txt"
}

@test "bad PROFSHIM_CALLS value: one message, the program runs unchanged" {
	PROFSHIM_CALLS=bogus run run_shim "$TMP/c.trace" "$PROGS/fi_recurse" 10
	[ "$status" -eq 0 ]
	[[ "$output" == *"PROFSHIM_CALLS"* ]]
	[[ "$output" == *"fib(10)=55"* ]]
}

@test "bad PROFSHIM_CALLS_TIMING value: one message, the program runs unchanged" {
	for v in bogus 0 -3; do
		PROFSHIM_CALLS_TIMING=$v run run_shim "$TMP/t$RANDOM.trace" "$PROGS/fi_recurse" 10
		[ "$status" -eq 0 ]
		[[ "$output" == *"PROFSHIM_CALLS_TIMING"* ]]
		[[ "$output" == *"fib(10)=55"* ]]
	done
}

# fi_sampled: short_work() 300000 short calls inside run_short(), which
# measures itself; long_work() 50 calls of 2 ms.
@test "tree mode timing: sampled by default, exact on request; counts exact, times near the program's own clock" {
	for timing in "" exact 16; do
		PROFSHIM_CALLS_TIMING=$timing calls_run tree "$PROGS/fi_sampled"
		assert_eq "$(fcalls short_work)" 300000 "short_work calls ($timing)"
		assert_eq "$(fcalls long_work)" 50 "long_work calls ($timing)"
		assert_eq "$(fcalls run_short)" 1 "run_short calls ($timing)"
		short=$(sed -n 's/^short_ms=//p' "$TMP/stdout")
		long=$(sed -n 's/^long_ms=//p' "$TMP/stdout")
		# long calls are timed exactly whatever the setting
		assert_span "$(ffield long_work total_ms)" "$long" 2 "long_work vs its own clock ($timing)"
		assert_eq "$(ffield long_work timed_calls)" 50 "long_work timed ($timing)"
		# short ones: every call, or the first 256 and then 1 in N
		timed=$(ffield short_work timed_calls)
		case "$timing" in
		exact)
			assert_eq "$timed" 300000 "short_work timed (exact)"
			assert_eq "$(jqr .time_metrics.timing)" exact "timing (exact)"
			assert_eq "$(jqr '.time_metrics.functions[] | select(.name == "short_work") | .estimated')" false "short_work estimated (exact)" ;;
		*)
			every=${timing:-64}
			assert_within "$timed" $((256 + 300000 / every)) 10 "short_work timed (1 in $every)"
			assert_eq "$(jqr .time_metrics.timing)" sampled "timing ($timing)"
			assert_eq "$(jqr '.time_metrics.functions[] | select(.name == "short_work") | .estimated')" true "short_work estimated ($timing)"
			"$PROFANALYZE" -q "$TMP/c$RUNS.trace" >"$TMP/r.txt"
			grep -q "~ short_work" "$TMP/r.txt"   # the tables
			grep -q "short_work (~" "$TMP/r.txt"  # the call tree
			assert_eq "$(jqr '[.. | objects | select(.name? == "short_work" and .estimated? == true)] | length')" 2 "estimated in functions and call_graph" ;;
		esac
		# short_work's total (estimated unless exact) is most of run_short's
		# CPU time (the loop and the hooks are the rest) and at most its wall
		# time (on a busy machine that also holds preemption, which sampled
		# timing mostly leaves with run_short): never 16x or 64x off
		cpu=$(sed -n 's/^short_cpu_ms=//p' "$TMP/stdout")
		est=$(ffield short_work total_ms)
		awk -v e="$est" -v c="$cpu" -v w="$short" -v t="$timing" 'BEGIN {
			if (e < 0.6 * c || e > 1.1 * w) {
				printf "short_work %s ms vs run_short %s ms, %s ms of CPU (%s)\n", e, w, c, t
				exit 1 } }'
		assert_span "$(ffield run_short total_ms)" "$short" 2 "run_short vs its own clock ($timing)"
		# exclusive times still add up to the outermost calls (estimates
		# are reconciled: see calls_identities.bats)
		self=$(jqr '.time_metrics.threads[0].self_ms')
		outer=$(jqr '.time_metrics.threads[0].outermost_ms')
		assert_within "$self" "$outer" 0.01 "self sum vs outermost calls ($timing)"
	done
}

@test "CPU samples with calls: hook time is [profshim] under the instrumented stack, none dropped" {
	PROFSHIM_RECORD=cpu,calls PROFSHIM_CPU_HZ=2000 run_shim "$TMP/s.trace" "$PROGS/fi_sampled" 600000 >/dev/null
	"$PROFANALYZE" -q --format=folded --data=cpu "$TMP/s.trace" >"$TMP/cpu.folded"
	[ -s "$TMP/cpu.folded" ]
	if grep "__cyg_profile_func" "$TMP/cpu.folded"; then
		echo "a hook in CPU sample stacks"
		return 1
	fi
	# the hooks' time: under the instrumented function that called them
	grep -q ';short_work;\[profshim\] [0-9]*$' "$TMP/cpu.folded"
	analyze_json "$TMP/s.trace" -q
	assert_eq "$(jqr .dropped.samples_in_hooks)" 0 "samples dropped in hooks"
	assert_eq "$(jqr '.cpu.dropped_weight * 100 <= .cpu.weight')" true "dropped weight <= 1%"
	[ "$(jqr .cpu.profshim_weight)" -gt 0 ]
	# weight conservation
	assert_eq "$(jqr '[.cpu.threads[] | .weight + .dropped_weight + .unsampled_weight + .paused_weight == .periods] | all')" true "conservation"
}

@test "calls off (PROFSHIM_RECORD without calls): no call data" {
	PROFSHIM_RECORD=mem run_shim "$TMP/c.trace" "$PROGS/fi_recurse" 10
	analyze_json "$TMP/c.trace" -q
	assert_eq "$(jqr '.time_metrics // "none"')" none "no time_metrics"
}

@test "percentiles: ordered, within min and max, also past the reservoir" {
	for mode in trace tree; do
		calls_run $mode "$PROGS/fi_recurse" 25 0 100000
		assert_eq "$(fcalls fib)" 242785 "fib ($mode)"
		assert_eq "$(jqr '[.time_metrics.functions[] | .min_us <= .p50_us + 1e-9 and .p50_us <= .p95_us + 1e-9 and .p95_us <= .p99_us + 1e-9 and .p99_us <= .max_us + 1e-9] | all')" true "order ($mode)"
		assert_eq "$(jqr '[.time_metrics.functions[] | .avg_us >= .min_us - 1e-9 and .avg_us <= .max_us + 1e-9] | all')" true "avg ($mode)"
	done
}

@test "exec: the tree is written before exec; a failed exec is not counted twice" {
	for mode in tree trace; do
		calls_run $mode "$PROGS/fi_exec"
		grep -qx again "$TMP/stdout"
		assert_eq "$(fcalls main)" 1 "main ($mode)"
		assert_eq "$(fcalls outer)" 1 "outer ($mode)"
		assert_eq "$(fcalls try_exec)" 2 "try_exec ($mode)"
		assert_eq "$(fcalls leaf)" 8 "leaf ($mode)"
		assert_eq "$(edge outer leaf)" 8 "outer->leaf ($mode)"
		assert_eq "$(jqr '.session.related_processes[0].how')" exec
		analyze_json "$(jqr '.session.related_processes[0].trace')" -q
		assert_eq "$(fcalls main)" 1 "image 2 main ($mode)"
		assert_eq "$(fcalls leaf)" 2 "image 2 leaf ($mode)"
	done
}

@test "tree mode: a thread still running at exit keeps its tree (blocked or spinning)" {
	for how in block spin; do
		calls_run tree "$PROGS/fi_running" 1000 $how
		grep -qx ticks=1000 "$TMP/stdout"
		assert_eq "$(fcalls tick)" 1000 "tick ($how)"
		assert_eq "$(edge loop tick)" 1000 "loop->tick ($how)"
		assert_eq "$(edge worker_main loop)" 1 "worker_main->loop ($how)"
		assert_eq "$(fcalls worker_main)" 1 "worker_main ($how)"
		assert_eq "$(fcalls leaf)" 3 "leaf ($how)"
		f=wait_forever
		[ $how = spin ] && f=spin_forever
		assert_eq "$(edge loop $f)" 1 "loop->$f ($how)"
		assert_eq "$(jqr '.time_metrics.threads[] | select(.name == "runner") | .calls')" 1003 "runner calls ($how)"
	done
}

@test "fork inside nested calls: the child continues the open calls, counts exact in both" {
	for mode in tree trace; do
		calls_run $mode "$PROGS/fi_fork"
		child=$(sed -n 's/^child=//p' "$TMP/stdout")
		assert_eq "$(fcalls leaf)" 6 "parent leaf ($mode)"
		assert_eq "$(fcalls child_only)" 0 "parent child_only ($mode)"
		for f in main outer middle; do
			assert_eq "$(fcalls $f)" 1 "parent $f ($mode)"
		done
		analyze_json "$TMP/c$RUNS.trace.$child" -q
		for f in main outer middle; do
			assert_eq "$(fcalls $f)" 1 "child $f ($mode)"
		done
		assert_eq "$(fcalls leaf)" 2 "child leaf ($mode)"
		assert_eq "$(fcalls child_only)" 3 "child child_only ($mode)"
		assert_eq "$(edge middle leaf)" 2 "child middle->leaf ($mode)"
		assert_eq "$(edge outer middle)" 1 "child outer->middle ($mode)"
		assert_eq "$(edge main outer)" 1 "child main->outer ($mode)"
		assert_eq "$(jqr .dropped.call_exits_unmatched)" 0 "child unmatched exits ($mode)"
	done
}

# A leak of the calls state would cost at least a few touched pages per
# thread (state, shadow stack, function table, tree root): >= 40 MB over
# 9,900 threads. Reused states keep the growth to noise (a few hundred kB
# measured); 8 MB leaves room for the C library's own caches.
@test "10,000 short threads: shim memory stays bounded" {
	calls_run tree "$PROGS/fi_manythreads" 10000 100
	read -r warm end < <(sed -n 's/^rss_warm=\([0-9]*\) rss_end=\([0-9]*\).*/\1 \2/p' "$TMP/stdout")
	[ "$warm" -gt 0 ]
	[ $((end - warm)) -lt 8192 ] || { echo "VmRSS grew from $warm kB to $end kB"; false; }
	assert_eq "$(fcalls work)" 100000 "work calls"
}

# mem_site_threads has no instrumented function; every recorder is on, and
# the CPU sampler lists the running threads at start (it once did so with
# opendir, whose 32 KiB showed as the program's allocation).
@test "no instrumented code, every recorder on: no shim frame or allocation anywhere; empty parts say why" {
	PROFSHIM_RECORD=cpu,mem,calls PROFSHIM_CPU_HZ=2000 run_shim "$TMP/t" "$PROGS/mem_site_threads" 20000 >/dev/null
	local shim='libprofshim|preload/|cover_running_threads|opendir|__alloc_dir|ps_[a-z_]+ \('
	analyze_json "$TMP/t" -q --top=1000
	assert_eq "$(jq --arg re "$shim" '[.. | objects | .stack? // empty | .[] | select(test($re))] | length' "$TMP/report.json")" 0 "shim frames in JSON stacks"
	[ "$(jqr '[.memory_metrics.top_sites[]] | length')" -gt 0 ]
	assert_eq "$(jqr '.empty_sections.calls')" \
		"no function in this program was built with -finstrument-functions; rebuild with it to get call counts" "JSON: why no calls"
	assert_eq "$(jqr '.time_metrics // "none"')" none "no time_metrics"
	"$PROFANALYZE" "$TMP/t" -q --top=1000 >"$TMP/r.txt"
	grep -qF "Function calls: no function in this program was built with -finstrument-functions; rebuild with it to get call counts." "$TMP/r.txt"
	"$PROFANALYZE" "$TMP/t" -q --format=folded --data=mem -o "$TMP/m.folded"
	"$PROFANALYZE" "$TMP/t" -q --format=heapprofile -o "$TMP/h.json"
	"$PROFANALYZE" "$TMP/t" -q --format=folded --data=cpu -o "$TMP/c.folded" 2>/dev/null || true
	for f in r.txt m.folded h.json c.folded; do
		[ -e "$TMP/$f" ] || continue
		if grep -E "$shim" "$TMP/$f"; then
			echo "the shim in $f"
			return 1
		fi
	done
}

@test "calls-only run of uninstrumented code: every part says why it is empty; errors name only the options given" {
	PROFSHIM_RECORD=calls run_shim "$TMP/t" "$PROGS/mem_site_threads" 10 >/dev/null
	"$PROFANALYZE" "$TMP/t" -q >"$TMP/r.txt"
	# never an empty header
	grep -A1 '^Events$' "$TMP/r.txt" | grep -q 'none recorded'
	grep -qF "Function calls: no function in this program was built with -finstrument-functions" "$TMP/r.txt"
	grep -qF "Memory: the memory recorder was off" "$TMP/r.txt"
	grep -qF "CPU samples: the CPU recorder was off" "$TMP/r.txt"
	analyze_json "$TMP/t" -q
	assert_eq "$(jqr '.empty_sections.memory')" "the memory recorder was off (PROFSHIM_RECORD without mem)" "JSON memory"
	# folded without --data: no --data in the error, and why each part is empty
	run "$PROFANALYZE" "$TMP/t" -q --format=folded
	[ "$status" -eq 1 ]
	[[ "$output" != *"--data"* ]]
	[[ "$output" == *"--format=folded: this trace has no data for it"* ]]
	[[ "$output" == *"rebuild with it to get call counts"* ]]
	[[ "$output" == *"memory recorder was off"* ]]
	# with --data given, it is named, and only its part explained
	run "$PROFANALYZE" "$TMP/t" -q --format=folded --data=mem
	[ "$status" -eq 1 ]
	[[ "$output" == *"--format=folded --data=mem: this trace has no data for it"* ]]
	[[ "$output" != *"call counts"* ]]
	run "$PROFANALYZE" "$TMP/t" -q --format=chrome
	[ "$status" -eq 1 ]
	[[ "$output" != *"--data"* ]]
	[[ "$output" == *"CPU recorder was off"* ]]
}
