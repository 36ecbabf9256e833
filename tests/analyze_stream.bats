#!/usr/bin/env bats
# profanalyze streams a trace: its memory is bounded by what the models
# keep (live blocks, sites), not by the trace's length.

load helpers

setup() {
	setup_tmp
}

teardown() {
	teardown_tmp
}

# peak_rss_kb CMD... : the peak resident memory (KiB) of CMD, run to
# completion with its output thrown away.
peak_rss_kb() {
	python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}

@test "a long memory trace is read in the memory of a short one, figures exact" {
	# ASan's quarantine holds freed memory back: no measure of the reader's
	[[ "$PROFANALYZE" != *build-asan* ]] || skip "profanalyze built with ASan"
	# the same workload (a ring of 1024 live blocks) short and long; raw
	# windows, since numbered blocks compress to under a byte per call.
	# The reader gives mapped pages back every 8 MiB, so up to that much
	# of the trace is resident at once: the trace must be well above 4
	# times that for the bound below to tell streaming from reading whole
	PROFSHIM_COMPRESS=0 run_shim "$TMP/short" "$PROGS/mem_bench" 20000 >/dev/null
	PROFSHIM_COMPRESS=0 run_shim "$TMP/long" "$PROGS/mem_bench" 10000000 >/dev/null
	trace_kb=$(($(cat "$TMP"/long* | wc -c) / 1024))
	[ "$trace_kb" -gt 60000 ] # large enough to tell
	short_kb=$(peak_rss_kb "$PROFANALYZE" "$TMP/short" -q --format=json)
	long_kb=$(peak_rss_kb "$PROFANALYZE" "$TMP/long" -q --format=json)
	echo "trace ${trace_kb} KiB; analyzer peak: short ${short_kb} KiB, long ${long_kb} KiB"
	# read whole, the long trace alone would add its size
	[ $((long_kb - short_kb)) -lt $((trace_kb / 4)) ]
	analyze_json "$TMP/long" -q
	assert_eq "$(jqr .memory_metrics.total_allocations)" 10000000 "allocations"
	assert_eq "$(jqr .memory_metrics.total_frees)" 10000000 "frees"
	assert_eq "$(jqr .memory_metrics.leaked_blocks)" 0 "leaked blocks"
}
