#!/usr/bin/env bats
# One run, one place: privilege drops, disk use in every ending, run
# directories and the process tree (issue 10).

load helpers

setup() { setup_tmp; chmod 755 "$TMP"; }
teardown() { teardown_tmp; }

# allocations whose stack passes through function $1, from the last report
allocs_in() {
	jqr "[.memory_metrics.top_sites[] | select(any(.stack[]; test(\"$1\"))) | .allocations] | add // 0"
}

@test "setuid after filling several windows: every allocation is recorded, no warning" {
	[ "$(id -u)" = 0 ] || skip "needs root to drop privileges"
	PROFSHIM_BUFFER_KB=256 run_shim "$TMP/t" "$PROGS/run_privdrop" "$(id -u nobody)" "$(id -g nobody)"
	# several windows were filled before the drop
	[ "$(stat -c %s "$TMP/t.t1")" -gt $((4 * 256 * 1024)) ]
	run "$PROFANALYZE" "$TMP/t" --format=json -o "$TMP/report.json" --top=1000
	[ "$status" -eq 0 ]
	[[ "$output" != *"could not be written"* ]]
	assert_eq "$(allocs_in after_drop)" 5000 "allocations after the drop"
	assert_eq "$(jqr .dropped.no_space)" 0 "dropped"
}

@test "events that cannot be written are counted and warned about" {
	(
		trap '' XFSZ
		ulimit -f 1000
		PROFSHIM_BUFFER_KB=256 run_shim "$TMP/t" "$PROGS/run_privdrop" "$(id -u)" "$(id -g)"
	)
	run "$PROFANALYZE" "$TMP/t" --format=json -o "$TMP/report.json"
	[ "$status" -eq 0 ]
	[[ "$output" == *"events could not be written"* ]]
	[ "$(jqr .dropped.no_space)" -gt 1000 ]
}
