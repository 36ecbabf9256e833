#!/usr/bin/env bats
# Tree mode with its default (sampled) timing estimates most calls' times;
# the estimates are reconciled so that they satisfy what exact times do:
# self <= total per function, a node holds its children, a recursion's
# total counts its outermost calls once, a thread's self times add up to its
# outermost calls. tests/calls_identities.jq checks every function and node.

load helpers

setup() { setup_tmp; }
teardown() { teardown_tmp; }

# identities TRACE : no identity broken in the JSON report
identities() {
	analyze_json "$1" -q
	jq -r -f "$ROOT/tests/calls_identities.jq" "$TMP/report.json" >"$TMP/broken"
	if [ -s "$TMP/broken" ]; then
		head -20 "$TMP/broken" >&2
		return 1
	fi
	# the check saw a tree (a report without one passes anything)
	[ "$(jqr '[.call_graph | .. | objects | select(has("children"))] | length')" -gt 3 ]
}

@test "the demo (recursive fib, threads), every recorder, default timing: identities hold, estimates marked" {
	cc -std=gnu11 -O1 -g -fno-omit-frame-pointer -finstrument-functions -rdynamic -pthread \
		-I"$ROOT/include" -o "$TMP/demo" "$ROOT/tools/demo/demo.c"
	PROFSHIM_RECORD=cpu,mem,calls run_shim "$TMP/d.trace" "$TMP/demo" >/dev/null
	identities "$TMP/d.trace"
	assert_eq "$(jqr .time_metrics.timing)" sampled "timing"
	# the API header's helper (profshim_active) is the profiler's, not a call of the program
	assert_eq "$(jqr '[.time_metrics.functions[] | select(.name | startswith("profshim"))] | length')" 0 "profshim functions"
	# fib's 600k calls are estimated, and say so
	assert_eq "$(jqr '.time_metrics.functions[] | select(.name == "fib") | .estimated')" true "fib estimated"
	"$PROFANALYZE" -q "$TMP/d.trace" >"$TMP/r.txt"
	grep -q "~ fib" "$TMP/r.txt"
	[ "$(jqr '[.call_graph | .. | objects | select(.name? == "fib" and .estimated? == true)] | length')" -gt 0 ]
}

@test "a call-dense parser (calls_workload), default timing: identities hold" {
	cc -std=gnu11 -O2 -g -finstrument-functions -o "$TMP/calls_dense" "$ROOT/tools/bench/calls_workload.c"
	PROFSHIM_RECORD=calls run_shim "$TMP/w.trace" "$TMP/calls_dense" 300 >/dev/null
	identities "$TMP/w.trace"
	assert_eq "$(jqr .time_metrics.timing)" sampled "timing"
}

@test "recursion in tree mode at 1 in 64 and exact timing, trace mode: identities hold" {
	for timing in "" exact; do
		PROFSHIM_CALLS_TIMING=$timing PROFSHIM_RECORD=calls run_shim "$TMP/r$RANDOM.trace" \
			"$PROGS/fi_recurse" 24 0 1000 >/dev/null
	done
	PROFSHIM_CALLS=trace PROFSHIM_RECORD=calls run_shim "$TMP/t.trace" "$PROGS/fi_recurse" 22 0 1000 >/dev/null
	for t in "$TMP"/r*.trace "$TMP/t.trace"; do
		identities "$t"
		assert_eq "$(jqr '.time_metrics.functions[] | select(.name == "fib") | .calls')" \
			"$(jqr '[.edges[] | select(.callee == "fib") | .count] | add')" "fib calls = its edges"
	done
}
