#!/usr/bin/env bats
# profanalyze diff and check --budget: two builds of one program (diff_v2
# makes changed_work twice as slow and make_records allocate twice as
# much), the same build twice, runs without data in common, budgets.

load helpers

setup() { setup_tmp; }
teardown() { teardown_tmp; }

# run_v NAME PROG [ENV...]: PROG under the shim into $TMP/NAME.trace, its
# stdout into $TMP/NAME.out
# (an extra word without '=' is the program's argument)
run_v() {
	local name="$1" prog="$2" envs=() args=()
	shift 2
	for a in "$@"; do [[ "$a" == *=* ]] && envs+=("$a") || args+=("$a"); done
	env PROFSHIM_CPU_HZ=1000 "${envs[@]}" PROFSHIM_OUTPUT="$TMP/$name.trace" LD_PRELOAD="$SHIM" \
		"$PROGS/$prog" "${args[@]}" > "$TMP/$name.out"
}

measured() { awk -v n="$2" '$1 == n { print $2 }' "$TMP/$1.out"; }

diff_json() { "$PROFANALYZE" diff "$@" --format=json -q -o "$TMP/report.json"; }

@test "diff: a slower function and a larger site rank first, within 10% of the truth" {
	run_v base diff_v1
	run_v new diff_v2
	diff_json "$TMP/base.trace" "$TMP/new.trace"
	assert_eq "$(jqr '.cpu_functions.rows[0].name')" changed_work
	assert_eq "$(jqr '.cpu_functions.rows[0].status')" regressed
	# (the kernel's time follows the machine's load: see the next test)
	assert_eq "$(jqr '[.cpu_functions.rows[] | select(.status == "regressed" and .name != "[kernel]")] | length')" 1
	# the ratio of self times against what the program measured itself
	local truth got
	truth=$(awk -v b="$(measured base changed_work_s)" -v n="$(measured new changed_work_s)" 'BEGIN { print n / b }')
	got=$(jqr '.cpu_functions.rows[0].metrics.self_s | .new / .base')
	assert_within "$got" "$truth" 10 "changed_work self-time ratio"
	# the allocation site: exact bytes, twice as many
	jqr '.allocation_sites.rows[0].name' | grep -q '^make_records'
	assert_eq "$(jqr '.allocation_sites.rows[0].status')" regressed
	assert_eq "$(jqr '.allocation_sites.rows[0].metrics.bytes | .new / .base')" 2
	assert_eq "$(jqr '.allocation_sites.rows[0].metrics.allocations | .new == .base')" true
	assert_eq "$(jqr '[.allocation_sites.rows[] | select(.status == "regressed")] | length')" 1
	# summary figures before -> after
	assert_eq "$(jqr '.summary[] | select(.name == "allocations") | .change_pct')" 0
	assert_eq "$(jqr '.summary[] | select(.name == "io_bytes") | .compared')" false
	assert_eq "$(jqr '.calls.compared')" false
}

@test "diff: the same binary twice has no change above noise" {
	run_v a diff_v1
	run_v b diff_v1
	diff_json "$TMP/a.trace" "$TMP/b.trace"
	# Every function of the program is the same. [kernel] is left out: the
	# kernel's time for the same binary follows the machine's load (page
	# faults, the trace's pages; under a second suite's I/O, 1 to 24 ms of
	# a 200 ms run, getrusage's system time 0 to 40 ms), a real change the
	# diff is right to show.
	jqr '.cpu_functions.rows[] | select(.status != "same")' >&2
	assert_eq "$(jqr '[.cpu_functions.rows[] | select(.status != "same" and .name != "[kernel]")] | length')" 0
	assert_eq "$(jqr '[.allocation_sites.rows[] | select(.status != "same")] | length')" 0
}

@test "diff: text report lists regressions first, the flame graph is NEW's shape in colour" {
	run_v base diff_v1
	run_v new diff_v2
	"$PROFANALYZE" diff "$TMP/base.trace" "$TMP/new.trace" -q > "$TMP/diff.txt"
	grep -A1 '^CPU by function' "$TMP/diff.txt" | grep -q 'regressed changed_work'
	grep -q '^Summary' "$TMP/diff.txt"
	"$PROFANALYZE" diff "$TMP/base.trace" "$TMP/new.trace" -q --format=flamegraph -o "$TMP/d.svg"
	xmllint --noout "$TMP/d.svg"
	# changed_work grew: red, with its change on hover and its name as text
	grep '<title>changed_work:' "$TMP/d.svg" | cut -c1-200 >&2 # shown when it fails
	grep '<title>changed_work:' "$TMP/d.svg" | grep -q 'fill="rgb(255,'
	grep -q '<text[^>]*>changed_work</text>' "$TMP/d.svg"
	# steady_work stayed: neutral
	grep '<title>steady_work:' "$TMP/d.svg" | grep -q 'fill="rgb(240,240,240)"'
}

@test "diff: --normalize per marker compares runs of different lengths" {
	run_v short mem_known
	run_v long mem_known
	diff_json "$TMP/short.trace" "$TMP/long.trace" --normalize=begin
	assert_eq "$(jqr '.normalize.base')" 1
	run "$PROFANALYZE" diff "$TMP/short.trace" "$TMP/long.trace" --normalize=nosuchmarker
	[ "$status" -eq 1 ]
	[[ "$output" == *"nosuchmarker"* ]]
}

@test "diff: runs without data in common say what cannot be compared and compare the rest" {
	run_v cpu diff_v1 PROFSHIM_RECORD=cpu
	run_v mem diff_v1 PROFSHIM_RECORD=mem
	diff_json "$TMP/cpu.trace" "$TMP/mem.trace"
	assert_eq "$(jqr '.cpu_functions.compared')" false
	jqr '.cpu_functions.why' | grep -q 'BASE only'
	assert_eq "$(jqr '.allocation_sites.compared')" false
	jqr '.allocation_sites.why' | grep -q 'NEW only'
	assert_eq "$(jqr '.summary[] | select(.name == "wall_seconds") | .compared')" true
	"$PROFANALYZE" diff "$TMP/cpu.trace" "$TMP/mem.trace" -q | grep -q 'cannot compare: CPU samples recorded in BASE only'
}

@test "diff: bad arguments are refused" {
	run_v a diff_v1
	run "$PROFANALYZE" diff "$TMP/a.trace"
	[ "$status" -eq 2 ]
	[[ "$output" == *usage* ]]
	run "$PROFANALYZE" diff "$TMP/a.trace" "$TMP/missing.trace"
	[ "$status" -eq 1 ]
	run "$PROFANALYZE" diff "$TMP/a.trace" "$TMP/a.trace" --format=chrome
	[ "$status" -eq 2 ]
	run "$PROFANALYZE" diff "$TMP/a.trace" "$TMP/a.trace" --bogus
	[ "$status" -eq 2 ]
	run "$PROFANALYZE" diff "$TMP/a.trace" "$TMP/a.trace" --thread=1
	[ "$status" -eq 2 ]
	[[ "$output" == *"--thread is not supported"* ]]
	run "$PROFANALYZE" diff "$TMP/a.trace" "$TMP/a.trace" "$TMP/a.trace"
	[ "$status" -eq 2 ]
	# a side that is not a trace: a clear error naming it, no crash
	head -c 5000 /bin/sh > "$TMP/garbage"
	run "$PROFANALYZE" diff "$TMP/garbage" "$TMP/a.trace"
	[ "$status" -eq 1 ]
	[[ "$output" == *garbage* ]]
	run "$PROFANALYZE" check "$TMP/garbage" --budget=/dev/null
	[ "$status" -eq 4 ]
	echo 'max_cpu_seconds = 1' > "$TMP/ok.budget"
	run "$PROFANALYZE" check "$TMP/garbage" --budget="$TMP/ok.budget"
	[ "$status" -eq 1 ]
	[[ "$output" == *garbage* ]]
}

@test "budget: check passes within budget (0) and fails on a breach (3), one line each" {
	run_v a diff_v1
	cat > "$TMP/ok.budget" <<'B'
# generous limits: the run uses about 0.2 s of CPU and 1000 KiB of heap
max_cpu_seconds = 30
max_peak_heap = 64M
max_leaked_bytes = 1MiB
max_allocations = 100000
max_self_seconds.changed_work = 10
B
	run "$PROFANALYZE" check "$TMP/a.trace" --budget="$TMP/ok.budget" -q
	[ "$status" -eq 0 ]
	[[ "$output" == *"within budget (5 limits)"* ]]
	cat > "$TMP/tight.budget" <<'B'
max_cpu_seconds = 0.01
max_peak_heap = 100K
max_allocations = 100000
max_self_seconds.no_such_function = 1
max_p99_ms.changed_work = 5
B
	run "$PROFANALYZE" check "$TMP/a.trace" --budget="$TMP/tight.budget" -q
	[ "$status" -eq 3 ]
	[ "$(grep -c '^BREACH' <<<"$output")" -eq 4 ]
	grep '^BREACH max_cpu_seconds (line 1): limit 0.01 s, value' <<<"$output"
	grep '^BREACH max_peak_heap (line 2): limit 100.00 KiB, value 1000' <<<"$output"
	grep "^BREACH max_self_seconds.no_such_function (line 4): no function named 'no_such_function'" <<<"$output"
	grep '^BREACH max_p99_ms.changed_work (line 5): no calls recorded' <<<"$output"
	[[ "$output" == *"4 breaches"* ]]
}

@test "budget: relative limits against a baseline in diff" {
	run_v base diff_v1
	run_v new diff_v2
	printf 'max_self_growth_pct = 20\nmax_peak_heap_growth_pct = 50\nmax_allocations_growth_pct = 5\n' > "$TMP/rel.budget"
	run "$PROFANALYZE" diff "$TMP/base.trace" "$TMP/new.trace" --budget="$TMP/rel.budget" -q -o "$TMP/d.txt"
	[ "$status" -eq 3 ]
	grep -q '^BREACH max_self_growth_pct (line 1): limit +20%, value +[0-9.]*%, in changed_work' <<<"$output"
	grep -q '^BREACH max_peak_heap_growth_pct (line 2): limit +50%, value +100.0%' <<<"$output"
	# no other breach; [kernel]'s time follows the machine's load (page
	# faults, softirqs), as in the diff tests above, so it is left out
	[ "$(grep '^BREACH' <<<"$output" | grep -vc 'in \[kernel\]$')" -eq 2 ] || { echo "$output"; false; }
	# the same build twice stays within it
	run_v again diff_v1
	run "$PROFANALYZE" diff "$TMP/base.trace" "$TMP/again.trace" --budget="$TMP/rel.budget" -q -o "$TMP/d.txt"
	[ "$status" -eq 0 ]
	# check has no baseline: relative limits are skipped with a note
	run "$PROFANALYZE" check "$TMP/new.trace" --budget="$TMP/rel.budget"
	[ "$status" -eq 0 ]
	[[ "$output" == *"needs a baseline"* ]]
}

@test "budget: a malformed budget file is a clear error naming the line (status 4)" {
	run_v a diff_v1
	printf 'max_cpu_seconds = 1\nmax_peak_heap = lots\n' > "$TMP/bad.budget"
	run "$PROFANALYZE" check "$TMP/a.trace" --budget="$TMP/bad.budget"
	[ "$status" -eq 4 ]
	[[ "$output" == *"line 2"*"lots"* ]]
	printf '# no equals sign\nmax_cpu_seconds 1\n' > "$TMP/bad.budget"
	run "$PROFANALYZE" check "$TMP/a.trace" --budget="$TMP/bad.budget"
	[ "$status" -eq 4 ]
	[[ "$output" == *"line 2: expected key = value"* ]]
	printf 'max_cpu_secnds = 1\n' > "$TMP/bad.budget"
	run "$PROFANALYZE" check "$TMP/a.trace" --budget="$TMP/bad.budget"
	[ "$status" -eq 4 ]
	[[ "$output" == *"line 1: unknown key"* ]]
	printf 'max_p99_ms = 3\n' > "$TMP/bad.budget"
	run "$PROFANALYZE" check "$TMP/a.trace" --budget="$TMP/bad.budget"
	[ "$status" -eq 4 ]
	[[ "$output" == *"needs a name"* ]]
	: > "$TMP/empty.budget"
	run "$PROFANALYZE" check "$TMP/a.trace" --budget="$TMP/empty.budget"
	[ "$status" -eq 4 ]
	run "$PROFANALYZE" check "$TMP/a.trace" --budget="$TMP/missing.budget"
	[ "$status" -eq 4 ]
	[[ "$output" == *"cannot read"* ]]
	run "$PROFANALYZE" check "$TMP/a.trace"
	[ "$status" -eq 2 ]
	run "$PROFANALYZE" "$TMP/a.trace" --budget="$TMP/bad.budget"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--budget goes with check or diff"* ]]
	run "$PROFANALYZE" diff "$TMP/a.trace" "$TMP/a.trace" --budget="$TMP/bad.budget"
	[ "$status" -eq 4 ]
}

@test "budget: io limits and p99 of a span that is there" {
	run_v t fi_find_tail trigger
	printf 'max_p99_ms.handle_request = 1000\nmax_io_bytes = 1M\n' > "$TMP/b.budget"
	run "$PROFANALYZE" check "$TMP/t.trace" --budget="$TMP/b.budget" -q
	[ "$status" -eq 3 ]
	[ "$(grep -c '^BREACH' <<<"$output")" -eq 1 ]
	grep -q '^BREACH max_io_bytes (line 2): no I/O recorded' <<<"$output"
	# with the io recorder: the bytes the report counts, against the limit
	PROFSHIM_RECORD=io PROFSHIM_OUTPUT="$TMP/io.trace" LD_PRELOAD="$SHIM" "$PROGS/io_known" "$TMP" >/dev/null
	analyze_json "$TMP/io.trace" -q
	bytes=$(jqr '.io_metrics.file_system.bytes_read + .io_metrics.file_system.bytes_written + .io_metrics.network.bytes_sent + .io_metrics.network.bytes_received')
	[ "$bytes" -gt 0 ]
	printf 'max_io_bytes = %d\n' "$bytes" > "$TMP/io.budget"
	run "$PROFANALYZE" check "$TMP/io.trace" --budget="$TMP/io.budget" -q
	[ "$status" -eq 0 ]
	printf 'max_io_bytes = %d\n' $((bytes - 1)) > "$TMP/io.budget"
	run "$PROFANALYZE" check "$TMP/io.trace" --budget="$TMP/io.budget" -q
	[ "$status" -eq 3 ]
	grep -q "^BREACH max_io_bytes (line 1): limit" <<<"$output"
	# and the diff's summary compares the bytes when both runs have them
	"$PROFANALYZE" diff "$TMP/io.trace" "$TMP/io.trace" --format=json -q -o "$TMP/report.json"
	assert_eq "$(jqr '.summary[] | select(.name == "io_bytes") | .compared')" true
	assert_eq "$(jqr '.summary[] | select(.name == "io_bytes") | .base')" "$bytes"
	printf 'max_p99_ms.handle_request = 5\n' > "$TMP/b.budget"
	run "$PROFANALYZE" check "$TMP/t.trace" --budget="$TMP/b.budget" -q
	[ "$status" -eq 3 ]
	grep -q '^BREACH max_p99_ms.handle_request (line 1): limit 5 ms, value [0-9.]* ms, in handle_request' <<<"$output"
}

@test "budget: max_p99_ms of a span (profshim.h), and of a span that is not there" {
	run_v s find_span_tail trigger
	p99=$("$PROFANALYZE" "$TMP/s.trace" --format=json -q | jq '.io_metrics.spans[] | select(.name == "request") | .p99_ms' | head -1)
	[ -n "$p99" ]
	printf 'max_p99_ms.request = 1000\n' > "$TMP/b.budget"
	run "$PROFANALYZE" check "$TMP/s.trace" --budget="$TMP/b.budget" -q
	[ "$status" -eq 0 ]
	printf 'max_p99_ms.request = 5\n' > "$TMP/b.budget"
	run "$PROFANALYZE" check "$TMP/s.trace" --budget="$TMP/b.budget" -q
	[ "$status" -eq 3 ]
	grep -q '^BREACH max_p99_ms.request (line 1): limit 5 ms, value [0-9.]* ms, in span request (300 spans)' <<<"$output"
	# the value is the report's p99
	value=$(grep -o 'value [0-9.]* ms' <<<"$output" | awk '{ print $2 }')
	assert_within "$value" "$p99" 0.1 "span p99"
	printf 'max_p99_ms.no_such_span = 5\n' > "$TMP/b.budget"
	run "$PROFANALYZE" check "$TMP/s.trace" --budget="$TMP/b.budget" -q
	[ "$status" -eq 3 ]
	grep -q "^BREACH max_p99_ms.no_such_span (line 1): no calls recorded in .* and no span named 'no_such_span'" <<<"$output"
}

@test "diff: calls recorded on both sides compare per function (exact counts, latency)" {
	run_v base fi_find_tail control
	run_v new fi_find_tail trigger
	diff_json "$TMP/base.trace" "$TMP/new.trace"
	assert_eq "$(jqr '.calls.compared')" true
	# control: 300 calls of 3 ms (0.9 s); trigger: 294 of 1 ms and 6 of
	# 60 ms (0.65 s): less time in all, a far worse tail
	assert_eq "$(jqr '.calls.rows[0].name')" handle_request
	assert_eq "$(jqr '.calls.rows[0].status')" improved
	assert_eq "$(jqr '.calls.rows[0].metrics.calls | [.base, .new] | join(" ")')" "300 300"
	awk -v p="$(jqr '.calls.rows[0].metrics.p99_s.new')" 'BEGIN { exit !(p > 0.03 && p < 0.2) }'
	awk -v p="$(jqr '.calls.rows[0].metrics.p99_s.base')" 'BEGIN { exit !(p > 0.002 && p < 0.03) }'
	# per call of handle_request: self time per call is the average
	diff_json "$TMP/base.trace" "$TMP/new.trace" --normalize=handle_request
	assert_eq "$(jqr '.normalize | [.base, .new] | join(" ")')" "300 300"
	assert_within "$(jqr '.calls.rows[0].metrics.self_s.new')" "$(jqr '.calls.rows[0].metrics.avg_s.new')" 1
}

@test "diff: --normalize=share compares shares of each run (runs of different lengths)" {
	run_v base diff_v1
	run_v new diff_v2
	diff_json "$TMP/base.trace" "$TMP/new.trace" --normalize=share
	assert_eq "$(jqr '.normalize')" share
	assert_eq "$(jqr '.cpu_functions.rows[0].name')" changed_work
	assert_eq "$(jqr '.cpu_functions.rows[0].status')" regressed
	# truth from the program's own figures: 100 of 200 ms, then 200 of 300 ms
	local truth
	truth=$(awk -v s="$(measured new steady_work_s)" -v c="$(measured new changed_work_s)" 'BEGIN { print 100 * c / (s + c) }')
	assert_within "$(jqr '.cpu_functions.rows[0].metrics.self_pct.new')" "$truth" 10
	# make_records: 1000 KiB of 1256 KiB, then 2000 KiB of 2256 KiB
	assert_eq "$(jqr '.allocation_sites.rows[0].status')" regressed
	jqr '.allocation_sites.rows[0].name' | grep -q '^make_records'
}

@test "diff of two run directories sums every process when no --pid or --comm is given" {
	# BASE: a shell running diff_v1 twice; NEW: diff_v2, then diff_v1
	for side in base new; do
		local first=diff_v1
		[ "$side" = new ] && first=diff_v2
		PROFSHIM_CPU_HZ=1000 PROFSHIM_OUTPUT="$TMP/$side/" LD_PRELOAD="$SHIM" \
			sh -c "'$PROGS/$first' > '$TMP/$side.1.out'; '$PROGS/diff_v1' > '$TMP/$side.2.out'"
	done
	diff_json "$TMP/base" "$TMP/new"
	# the shell's images and both programs, on each side
	[ "$(jqr '.base.processes')" -ge 3 ]
	[ "$(jqr '.new.processes')" -ge 3 ]
	assert_eq "$(jqr '.cpu_functions.rows[0].name')" changed_work
	assert_eq "$(jqr '.cpu_functions.rows[0].status')" regressed
	# (the kernel's time follows the machine's load: see the next test)
	assert_eq "$(jqr '[.cpu_functions.rows[] | select(.status == "regressed" and .name != "[kernel]")] | length')" 1
	# summed over both programs: (200 + 100) / (100 + 100) by the programs' own CPU clocks
	local truth got
	truth=$(awk -v b1="$(measured base.1 changed_work_s)" -v b2="$(measured base.2 changed_work_s)" \
		-v n1="$(measured new.1 changed_work_s)" -v n2="$(measured new.2 changed_work_s)" \
		'BEGIN { print (n1 + n2) / (b1 + b2) }')
	got=$(jqr '.cpu_functions.rows[0].metrics.self_s | .new / .base')
	assert_within "$got" "$truth" 10 "changed_work self-time ratio over the run"
	# make_records: 2 x 1000 KiB before, 2000 + 1000 KiB after: exactly 1.5
	jqr '.allocation_sites.rows[0].name' | grep -q '^make_records'
	assert_eq "$(jqr '.allocation_sites.rows[0].metrics.bytes | .new / .base')" 1.5
	assert_eq "$(jqr '.allocation_sites.rows[0].metrics.bytes.base')" 2048000
	# the summary's CPU is the sum of the processes' (each about 200 ms or more)
	[ "$(jqr '.summary[] | select(.name == "cpu_seconds") | .base > 0.35')" = true ]
	# the same run twice: nothing above noise
	diff_json "$TMP/base" "$TMP/base"
	assert_eq "$(jqr '[.cpu_functions.rows[], .allocation_sites.rows[] | select(.status != "same")] | length')" 0
	# --comm selecting several processes sums them too; --pid picks one
	diff_json "$TMP/base" "$TMP/new" --comm=diff_v1
	assert_eq "$(jqr '.base.processes')" 2
	assert_eq "$(jqr '.new.processes')" 1
	# the text names what is summed; a flame graph and a budget need one process
	"$PROFANALYZE" diff "$TMP/base" "$TMP/new" -q | grep -q "^  BASE $TMP/base: [0-9]* processes summed"
	run "$PROFANALYZE" diff "$TMP/base" "$TMP/new" --format=flamegraph -q
	[ "$status" -eq 2 ]
	[[ "$output" == *"--format=flamegraph compares one process"* ]]
}

@test "diff: I/O per file and peer (io recorder): the same bytes in 1400 times the calls regress" {
	for m in control trigger; do
		PROFSHIM_RECORD=io PROFSHIM_OUTPUT="$TMP/$m.trace" LD_PRELOAD="$SHIM" "$PROGS/find_smallio" "$m" "$TMP" > /dev/null
	done
	diff_json "$TMP/control.trace" "$TMP/trigger.trace"
	assert_eq "$(jqr '.io.compared')" true
	assert_eq "$(jqr '.io.rows[0].name')" "$TMP/records.txt"
	assert_eq "$(jqr '.io.rows[0].status')" regressed
	# open, 2 writes of 64 KiB and 16 KiB, 2 reads + the read at EOF, close;
	# then open, 5000 writes, 5000 reads + EOF, close
	assert_eq "$(jqr '.io.rows[0].metrics.calls | "\(.base) \(.new)"')" "7 10003"
	assert_eq "$(jqr '.io.rows[0].metrics.bytes | "\(.base) \(.new)"')" "160000 160000"
	assert_eq "$(jqr '[.io.rows[] | select(.status == "regressed")] | length')" 1
	# a run without the io recorder: the section says why
	run_v cpu diff_v1
	diff_json "$TMP/cpu.trace" "$TMP/trigger.trace"
	assert_eq "$(jqr '.io.compared')" false
	jqr '.io.why' | grep -q 'recorded in NEW only'
}
