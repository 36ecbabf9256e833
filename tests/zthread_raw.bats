#!/usr/bin/env bats
# The compressor as a raw thread (issue 15n): made with clone(), not
# pthread_create, so glibc still sees a single-threaded process and its
# malloc takes no locks. tests/progs/core_zraw prints glibc's
# __libc_single_threaded and its threads as /proc/self/task shows them.

load helpers

setup() { setup_tmp; }
teardown() { teardown_tmp; }

blocks() { python3 "$ROOT/tests/tools/zblocks.py" "$@"; }
# Allowed a single CPU, or not on x86-64: no raw compressor.
one_cpu() { [ "$(nproc)" -lt 2 ]; }
raw_kind() { [ "$(uname -m)" = x86_64 ] && ! one_cpu; }
# sites with exactly N allocations and N frees
sites_with() { jqr "[.memory_metrics.top_sites[] | select(.allocations == $1 and .frees == $1)] | length"; }

zraw() {
	local trace="$1"
	shift
	PROFSHIM_RECORD=mem PROFSHIM_BUFFER_KB=256 run_shim "$trace" "$PROGS/core_zraw" "$@"
}

@test "a single-threaded program stays single-threaded for glibc with the compressor running" {
	raw_kind || skip "no raw compressor here (one CPU or not x86-64)"
	out=$(zraw "$TMP/p" plain 200000)
	assert_eq "$out" "single=1 threads=1 compressors=1"
	[ "$(blocks "$TMP/p.t1" | wc -l)" -ge 2 ]
	analyze_json "$TMP/p" -q
	assert_eq "$(sites_with 200000)" 1 "site zraw_alloc <- main"
	assert_eq "$(jqr .memory_metrics.unknown_frees)" 0
	assert_eq "$(jqr '[.dropped[]] | add')" 0 "dropped"
	assert_eq "$(jqr '.session.threads | length')" 1 "the compressor is not in the report"
	# the compressor made with pthread_create (PROFSHIM_COMPRESS_THREAD=2):
	# glibc turns multi-threaded, the figures are the same
	out=$(PROFSHIM_COMPRESS_THREAD=2 zraw "$TMP/q" plain 200000)
	assert_eq "$out" "single=0 threads=1 compressors=1"
	analyze_json "$TMP/q" -q
	assert_eq "$(sites_with 200000)" 1
	# none: compressed in place
	out=$(PROFSHIM_COMPRESS_THREAD=0 zraw "$TMP/n" plain 200000)
	assert_eq "$out" "single=1 threads=0 compressors=0"
}

@test "a program that creates a thread after the raw compressor started: both run, exact counts" {
	raw_kind || skip "no raw compressor here (one CPU or not x86-64)"
	out=$(zraw "$TMP/t" thread 200000)
	assert_eq "$out" "single=1 threads=1 compressors=1
after single=0 threads=1 compressors=1"
	for f in "$TMP/t.t1" "$TMP/t.t2"; do
		[ "$(blocks "$f" | wc -l)" -ge 1 ]
	done
	analyze_json "$TMP/t" -q
	assert_eq "$(jqr '.session.threads | length')" 2 "main and the worker"
	# zraw_alloc from main's two rounds and from the worker
	assert_eq "$(sites_with 200000)" 3 "sites of 200000"
	assert_eq "$(jqr '[.memory_metrics.top_sites[] | select(.allocations == 200000) | .stack[] | select(test("worker"))] | length')" 1 "the worker's"
	assert_eq "$(jqr '[.dropped[]] | add')" 0 "dropped"
}

@test "fork and exec after the raw compressor started: each image makes its own, every count reads" {
	raw_kind || skip "no raw compressor here (one CPU or not x86-64)"
	out=$(zraw "$TMP/f" fork 200000)
	# the child was not given the parent's compressor: it made its own
	assert_eq "$out" "single=1 threads=1 compressors=1
child single=1 threads=1 compressors=1"
	analyze_json "$TMP/f" -q
	assert_eq "$(sites_with 200000)" 1
	child=$(ls "$TMP" | grep -E '^f\.[0-9]+$')
	[ -n "$child" ]
	analyze_json "$TMP/$child" -q
	assert_eq "$(sites_with 200000)" 1 "the child's own allocations"
	[ "$(blocks "$TMP/$child.t1" | wc -l)" -ge 1 ]
	out=$(zraw "$TMP/e" exec 200000)
	assert_eq "$out" "single=1 threads=1 compressors=1
single=1 threads=1 compressors=1"
	second=$(ls "$TMP" | grep -E '^e\.[0-9]+$')
	[ -n "$second" ]
	for t in e "$second"; do
		analyze_json "$TMP/$t" -q
		assert_eq "$(sites_with 200000)" 1 "$t"
		[ "$(blocks "$TMP/$t.t1" | wc -l)" -ge 1 ]
	done
}

@test "SIGKILL with the raw compressor: every marker reads" {
	raw_kind || skip "no raw compressor here (one CPU or not x86-64)"
	run run_shim "$TMP/k" "$PROGS/core_crash" kill 200000
	[ "$status" -eq 137 ]
	# the blocks the compressor wrote went into room after their runs
	[ "$(blocks --after "$TMP/k.t1" | wc -l)" -ge 1 ]
	assert_eq "$(blocks --after "$TMP/k.t1" | awk '{ print $5 }' | sort -u)" pad
	analyze_json "$TMP/k" -q
	assert_eq "$(jqr '[.markers[] | select(.name == "before-death")] | length')" 200000
}

@test "reports show how many runs were compressed in the background and how many were left raw" {
	# the program waits before it exits: the compressor has started on
	# the last run it was handed, so at least that one is its own
	zraw "$TMP/b" pause 200000 >/dev/null
	nblocks=$(blocks "$TMP/b.t1" | wc -l)
	[ "$nblocks" -ge 2 ]
	analyze_json "$TMP/b" -q
	bg=$(jqr .compression.runs_compressed_in_background)
	assert_eq "$(jqr .compression.runs_left_raw)" 0
	if one_cpu; then
		assert_eq "$bg" 0 "no compressor on one CPU"
	else
		[ "$bg" -ge 1 ]
		# each is one of the file's blocks (the others: taken back, or the
		# last run, compressed in place)
		[ "$bg" -le "$nblocks" ]
		run "$PROFANALYZE" "$TMP/b" -q
		[ "$status" -eq 0 ]
		line=$(echo "$output" | grep -E '^  compressed_in_background +[0-9]+$')
		assert_eq "$(echo "$line" | awk '{ print $2 }')" "$bg"
		[[ "$output" == *"Compression (finished windows of the trace files)"* ]]
	fi
	# compressed in place: both 0, and the text report has no such section
	PROFSHIM_COMPRESS_THREAD=0 zraw "$TMP/i" pause 200000 >/dev/null
	analyze_json "$TMP/i" -q
	assert_eq "$(jqr .compression.runs_compressed_in_background)" 0
	assert_eq "$(jqr .compression.runs_left_raw)" 0
	run "$PROFANALYZE" "$TMP/i" -q
	[ "$status" -eq 0 ]
	[[ "$output" != *"Compression ("* ]]
}
