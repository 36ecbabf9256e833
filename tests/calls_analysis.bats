#!/usr/bin/env bats
# profanalyze's analysis of trace-mode calls: figures per thread summed from
# the call tree, percentiles past the exact-durations limit, every section of
# the text report, and calls mixed with other records in one trace.

load helpers

setup() {
	setup_tmp
}

teardown() {
	teardown_tmp
}

ffield() { # FUNCTION FIELD : a field of time_metrics.functions[]
	jqr ".time_metrics.functions[] | select(.name == \"$1\") | .$2"
}

@test "calls of threads running at once: each function's total counts every thread's calls" {
	PROFSHIM_RECORD=calls PROFSHIM_CALLS=trace run_shim "$TMP/c.trace" "$PROGS/fi_threads" 4 20000 >/dev/null
	analyze_json "$TMP/c.trace" -q
	assert_eq "$(ffield step calls)" 160000 "step calls"
	assert_eq "$(ffield work calls)" 80000 "work calls"
	assert_eq "$(ffield worker calls)" 4 "worker calls"
	# each worker call is the outermost call of its thread: worker's total
	# is the sum of the workers' outermost times, however they overlap
	outer=$(jqr '[.time_metrics.threads[] | select(.name | startswith("worker")) | .outermost_ms] | add')
	assert_within "$(ffield worker total_ms)" "$outer" 0.01 "worker total vs its threads"
	# step calls nothing: its total is its self time
	assert_within "$(ffield step total_ms)" "$(ffield step self_ms)" 0.01 "step total vs self"
	assert_eq "$(jqr '[.time_metrics.functions[] | .total_ms >= .self_ms - 1e-9] | all')" true "total >= self"
	assert_eq "$(jqr '.operation_metrics.call_enters')" 240006 "enters counted"
	assert_eq "$(jqr '.operation_metrics.call_exits')" 240006 "exits counted"
}

@test "percentiles of a function with more calls than the exact limit: in order, within min and max" {
	PROFSHIM_RECORD=calls PROFSHIM_CALLS=trace run_shim "$TMP/c.trace" "$PROGS/fi_threads" 1 100000 >/dev/null
	analyze_json "$TMP/c.trace" -q
	assert_eq "$(ffield step calls)" 200000 "step calls"
	for f in step work; do
		assert_eq "$(jqr ".time_metrics.functions[] | select(.name == \"$f\") |
			.min_us <= .p50_us and .p50_us <= .p95_us and .p95_us <= .p99_us and .p99_us <= .max_us")" \
			true "percentiles of $f"
	done
}

@test "text report of a trace: tables, callers and callees, call tree" {
	PROFSHIM_RECORD=calls PROFSHIM_CALLS=trace run_shim "$TMP/c.trace" "$PROGS/fi_threads" 2 1000 >/dev/null
	"$PROFANALYZE" "$TMP/c.trace" -q >"$TMP/r.txt"
	for want in "Top functions by total (inclusive) time" "Top functions by self time" \
		"p50 us" "p95 us" "p99 us" "% run" "called by:" "calls:" "Call tree" "└─ "; do
		grep -qF "$want" "$TMP/r.txt" || {
			echo "missing: $want" >&2
			return 1
		}
	done
	grep -E '^ +2000 .* work ' "$TMP/r.txt"
}

@test "calls and allocations in one trace: exact call counts, allocations still seen" {
	PROFSHIM_RECORD=calls,mem PROFSHIM_CALLS=trace run_shim "$TMP/c.trace" "$PROGS/fi_threads" 4 20000 >/dev/null
	analyze_json "$TMP/c.trace" -q
	assert_eq "$(ffield step calls)" 160000 "step calls"
	assert_eq "$(ffield work calls)" 80000 "work calls"
	assert_eq "$(jqr '.operation_metrics.call_enters')" 240006 "enters counted"
	[ "$(jqr '.operation_metrics.allocations')" -gt 0 ]
	# the timeline carries every call of the threads
	"$PROFANALYZE" "$TMP/c.trace" -q --format=trace -o "$TMP/t.json"
	assert_eq "$(jq '[.traceEvents[] | select(.ph == "X" and .name == "step")] | length' "$TMP/t.json")" 160000 "step X events"
}
