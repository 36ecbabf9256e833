#!/usr/bin/env bats
# Memory recorder: known-answer programs under glibc, jemalloc and tcmalloc,
# the memory reports and formats, sampling mode, bad input.
load helpers

JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
TCMALLOC=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4

setup() { setup_tmp; }
teardown() { teardown_tmp; }

# Sums over the sites whose innermost frame is in the test program
# (its own calls; glibc, libstdc++ and the allocators allocate too), or,
# with an argument, the sites with any frame matching that regex.
own_sums() {
	local sel='.stack[0] | test("mem_[a-z_]*[.]cp?p?:[0-9]+[)]$|/mem_[a-z_]*[+]")'
	[ -n "${1:-}" ] && sel="any(.stack[]; test(\"$1\"))"
	jqr "[.memory_metrics.top_sites[] | select($sel)]
	     | \"\\(map(.allocations)|add) \\(map(.bytes)|add) \\(map(.frees)|add) \\(map(.leaked_blocks)|add) \\(map(.leaked_bytes)|add) \\(map(.temporary_allocations)|add)\""
}

# run PROG under the shim with extra preloads, then the JSON report
profile() {
	local prog="$1" pre="$2"
	shift 2
	PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM${pre:+ $pre}" "$PROGS/$prog" "$@"
	analyze_json "$TMP/t" --top=1000 -q
}

known_answers() {
	profile mem_known "$1"
	assert_eq "$(own_sums)" "42 5428 29 9 1800 17" "allocs bytes frees leaked-blocks leaked-bytes temporary"
	assert_eq "$(jqr .memory_metrics.failed_allocations)" 2 "failed allocations"
}

@test "mem_known: exact counts under glibc" {
	known_answers ""
}

@test "mem_known: exact counts with jemalloc preloaded after the shim" {
	[ -e "$JEMALLOC" ] || skip "no jemalloc"
	known_answers "$JEMALLOC"
}

@test "mem_known: exact counts with tcmalloc preloaded after the shim" {
	[ -e "$TCMALLOC" ] || skip "no tcmalloc"
	known_answers "$TCMALLOC"
}

@test "mem_known: exact counts with jemalloc linked into the program" {
	profile mem_known_jemalloc ""
	assert_eq "$(own_sums)" "42 5428 29 9 1800 17"
}

# The frame names the function and the line of its malloc call
# (symbolized), or, without symbols, its address lies in the function
# according to nm (module+offset).
frame_in_function() {
	local frame="$1" fn="$2" bin="$3" line="$4"
	case "$frame" in
	"$fn ("*) assert_eq "$frame" "$fn (tests/progs/mem_known.c:$line)" "leak frame"; return ;;
	*+0x*) ;;
	*) echo "frame '$frame' is not in $fn" >&2; return 1 ;;
	esac
	local off=$((16#${frame##*+0x}))
	read -r start size < <(nm -S "$bin" | awk -v f="$fn" '$4 == f { print $1, $2 }')
	[ -n "$start" ] || return 1
	start=$((16#$start))
	size=$((16#$size))
	[ "$off" -gt "$start" ] && [ "$off" -le $((start + size)) ]
}

@test "mem_known: leaks are attributed to their functions and lines" {
	profile mem_known ""
	local frame line
	frame=$(jqr '.memory_metrics.leaks[] | select(.leaked_bytes == 1000 and .leaked_blocks == 1) | .stack[0]')
	line=$(grep -n 'keep\[0\] = malloc(1000)' "$ROOT/tests/progs/mem_known.c" | cut -d: -f1)
	frame_in_function "$frame" leak_one "$PROGS/mem_known" "$line"
	frame=$(jqr '.memory_metrics.leaks[] | select(.leaked_bytes == 800) | .stack[0]')
	assert_eq "$(jqr '.memory_metrics.leaks[] | select(.leaked_bytes == 800) | .leaked_blocks')" 8
	line=$(grep -n 'slots\[i\] = malloc(100)' "$ROOT/tests/progs/mem_known.c" | cut -d: -f1)
	frame_in_function "$frame" worker "$PROGS/mem_known" "$line"
}

@test "mem_known: summary figures and text report" {
	profile mem_known ""
	[ "$(jqr .memory_metrics.total_allocations)" -ge 44 ]
	[ "$(jqr .memory_metrics.peak_memory_bytes)" -ge 1000 ]
	[ "$(jqr .memory_metrics.peak_rss_bytes)" -gt 0 ]
	assert_eq "$(jqr .memory_metrics.estimated)" false
	"$PROFANALYZE" "$TMP/t" -q > "$TMP/report.txt"
	grep -q "^Memory" "$TMP/report.txt"
	grep -q "peak heap" "$TMP/report.txt"
	grep -q "Top sites by leaked bytes" "$TMP/report.txt"
	grep -q "Allocation sizes" "$TMP/report.txt"
}

@test "C++: new/delete and vector growth, all allocators" {
	for pre in "" "$JEMALLOC" "$TCMALLOC"; do
		[ -z "$pre" ] || [ -e "$pre" ] || continue
		rm -f "$TMP"/t*
		profile mem_cxx "$pre"
		# inline frames of std::allocator come first: any frame in
		# the program counts (nothing else here is called from it)
		assert_eq "$(own_sums 'mem_cxx[.]cpp:|/mem_cxx[+]')" "15 8420 14 1 64 4" "C++ under '${pre:-glibc}'"
	done
}

@test "allocation in a signal handler is counted" {
	profile mem_signal ""
	assert_eq "$(own_sums | cut -d' ' -f1-5)" "10 400 5 5 240"
}

@test "signals interrupting the hooks: no crash" {
	PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM" "$PROGS/mem_signal" stress
	analyze_json "$TMP/t" --top=1000 -q
	[ "$(jqr .memory_metrics.total_allocations)" -gt 1000 ]
}

@test "allocations in a constructor, an atexit handler and a destructor" {
	for pre in "" "$JEMALLOC" "$TCMALLOC"; do
		[ -z "$pre" ] || [ -e "$pre" ] || continue
		rm -f "$TMP"/t*
		profile mem_lifecycle "$pre"
		assert_eq "$(own_sums | cut -d' ' -f1-5)" "4 1110 1 3 777" "lifecycle under '${pre:-glibc}'"
	done
}

@test "heapprofile: DevTools shape; sizes per --heap" {
	profile mem_known ""
	local alloc leaked peak
	alloc=$(jqr .memory_metrics.total_allocation_bytes)
	leaked=$(jqr .memory_metrics.leaked_bytes)
	peak=$(jqr .memory_metrics.peak_memory_bytes)
	for what in allocated leaked peak; do
		"$PROFANALYZE" "$TMP/t" -q --format=heapprofile --heap=$what -o "$TMP/h.json"
		# every node has callFrame, selfSize, id and a children array
		assert_eq "$(jq '[.head | recurse(.children[]) | select((.children|type) != "array" or (.callFrame.functionName|type) != "string" or (.id|type) != "number" or (.selfSize|type) != "number")] | length' "$TMP/h.json")" 0
		assert_eq "$(jq '[.head | recurse(.children[]) | .id] | (length == (unique|length))' "$TMP/h.json")" true
		local sum
		sum=$(jq '[.head | recurse(.children[]) | .selfSize] | add' "$TMP/h.json")
		case $what in
		allocated) assert_eq "$sum" "$alloc" "allocated bytes" ;;
		leaked) assert_eq "$sum" "$leaked" "leaked bytes" ;;
		peak) assert_eq "$sum" "$peak" "peak bytes" ;;
		esac
		assert_eq "$(jq '.samples | length > 0' "$TMP/h.json")" true
	done
}

@test "folded: one line per stack, weighted by bytes" {
	profile mem_known ""
	"$PROFANALYZE" "$TMP/t" -q --format=folded --data=mem -o "$TMP/f.txt"
	run grep -vE '^[^ ]+ [0-9]+$' "$TMP/f.txt" # must select nothing
	[ "$status" -eq 1 ]
	assert_eq "$(awk '{ s += $NF } END { print s }' "$TMP/f.txt")" "$(jqr .memory_metrics.total_allocation_bytes)"
}

@test "trace: heap and RSS counters, markers" {
	profile mem_known ""
	"$PROFANALYZE" "$TMP/t" -q --format=trace -o "$TMP/tr.json"
	[ "$(jq '[.traceEvents[] | select(.ph == "C" and .name == "heap")] | length' "$TMP/tr.json")" -gt 0 ]
	[ "$(jq '[.traceEvents[] | select(.ph == "C" and .name == "rss")] | length' "$TMP/tr.json")" -gt 0 ]
	assert_eq "$(jq '[.traceEvents[] | select(.ph == "C") | .args.bytes] | max' "$TMP/tr.json" | cut -d. -f1)" \
		"$(jq -n "[$(jqr .memory_metrics.peak_memory_bytes), $(jqr .memory_metrics.peak_rss_bytes)] | max")"
	assert_eq "$(jq -r '[.traceEvents[] | select(.ph == "i") | .name] | join(",")' "$TMP/tr.json")" "begin,end"
}

@test "--between: allocated between the markers and live at the second" {
	PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM" "$PROGS/mem_known"
	analyze_json "$TMP/t" -q --top=1000 --between=begin,end
	assert_eq "$(jqr '[.memory_metrics.between.sites[] | select(.stack[0] | test("mem_[a-z_]*[.]cp?p?:[0-9]+[)]$|/mem_[a-z_]*[+]")) | .bytes] | add')" 1800
	assert_eq "$(jqr '[.memory_metrics.between.sites[] | select(.stack[0] | test("mem_[a-z_]*[.]cp?p?:[0-9]+[)]$|/mem_[a-z_]*[+]")) | .blocks] | add')" 9
}

@test "--between with a marker that never came: clear error" {
	PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM" "$PROGS/mem_known"
	run "$PROFANALYZE" "$TMP/t" -q --between=begin,nosuchmark
	[ "$status" -ne 0 ]
	[[ "$output" == *"nosuchmark"* ]]
	run "$PROFANALYZE" "$TMP/t" -q --between=nosuch,end
	[ "$status" -ne 0 ]
	[[ "$output" == *"never came"* ]]
}

@test "bad --heap value: clear error" {
	PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM" "$PROGS/mem_known"
	run "$PROFANALYZE" "$TMP/t" --format=heapprofile --heap=sometimes
	[ "$status" -ne 0 ]
	[[ "$output" == *"--heap"* ]]
}

@test "heapprofile of a trace without memory data: clear error" {
	PROFSHIM_RECORD=cpu PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM" "$PROGS/mem_known"
	run "$PROFANALYZE" "$TMP/t" -q --format=heapprofile
	[ "$status" -ne 0 ]
	[[ "$output" == *"no data for it (recorded: cpu)"* ]]
	[[ "$output" == *"memory recorder was off"* ]]
	analyze_json "$TMP/t" -q
	assert_eq "$(jqr '.memory_metrics // "none"')" none
}

@test "sampling mode: exact call counts, bytes estimated within 5%" {
	local out bytes
	out=$(PROFSHIM_MEM_SAMPLE=4096 PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM" "$PROGS/mem_bench" 200000)
	bytes=${out#bytes=}
	analyze_json "$TMP/t" -q
	assert_eq "$(jqr .memory_metrics.estimated)" true
	assert_eq "$(jqr .memory_metrics.sample_bytes)" 4096
	[ "$(jqr .memory_metrics.total_allocations)" -ge 200000 ]
	[ "$(jqr .memory_metrics.total_frees)" -ge 200000 ]
	assert_within "$(jqr .memory_metrics.total_allocation_bytes)" "$bytes" 5 "estimated bytes"
	# far fewer records than calls
	[ "$(jqr .operation_metrics.allocations)" -lt 50000 ]
	"$PROFANALYZE" "$TMP/t" -q | grep -q "estimates from sampling"
}

# mem_sampled: the same 302,000 allocations on every run (fixed seed), a
# leak of about 3% of the bytes and a peak halfway: exact and sampled runs
# of it must agree within the stated bounds, with no impossible figure.
@test "sampling mode vs exact on a known program: within bounds, nothing impossible" {
	PROFSHIM_RECORD=mem PROFSHIM_OUTPUT="$TMP/e" LD_PRELOAD="$SHIM" "$PROGS/mem_sampled" >/dev/null
	analyze_json "$TMP/e" -q
	cp "$TMP/report.json" "$TMP/exact.json"
	ex() { jq -r ".memory_metrics.$1" "$TMP/exact.json"; }
	[ "$(ex total_allocations)" -ge 302000 ]
	[ "$(ex temporary_allocations)" -ge 100000 ]
	for mean in 4096 8192; do
		PROFSHIM_RECORD=mem PROFSHIM_MEM_SAMPLE=$mean PROFSHIM_OUTPUT="$TMP/s$mean" LD_PRELOAD="$SHIM" \
			"$PROGS/mem_sampled" >/dev/null
		analyze_json "$TMP/s$mean" -q --top=1000
		assert_eq "$(jqr .memory_metrics.estimated)" true "estimated ($mean)"
		# no figure negative, anywhere in the memory report
		assert_eq "$(jqr '[.memory_metrics | .. | numbers | select(. < 0)] | length')" 0 "negative figures ($mean)"
		# no count above its total
		assert_eq "$(jqr '.memory_metrics | .leaked_bytes <= .total_allocation_bytes
			and .leaked_blocks <= .total_allocations and .total_frees <= .total_allocations
			and .peak_memory_bytes >= .leaked_bytes and .peak_memory_bytes <= .total_allocation_bytes')" true "bounds ($mean)"
		# temporary allocations need every call: said, not guessed
		assert_eq "$(jqr .memory_metrics.temporary_allocations)" "not estimable in sampled mode" "temporary ($mean)"
		assert_eq "$(jqr '[.memory_metrics.top_sites[].temporary_allocations] | unique | join(",")')" \
			"not estimable in sampled mode" "temporary per site ($mean)"
		# close to exact mode: calls and bytes within 5%, peak and the
		# leak (here 3% of the bytes) within 10%
		for f in total_allocations total_allocation_bytes total_frees; do
			assert_within "$(jqr .memory_metrics.$f)" "$(ex $f)" 5 "$f ($mean)"
		done
		assert_within "$(jqr .memory_metrics.peak_memory_bytes)" "$(ex peak_memory_bytes)" 10 "peak ($mean)"
		assert_within "$(jqr .memory_metrics.leaked_bytes)" "$(ex leaked_bytes)" 10 "leaked bytes ($mean)"
		# the report says how far off its estimates may be (one standard
		# deviation; here a few %)
		assert_eq "$(jqr '.memory_metrics.estimate_error_pct | .peak_memory_bytes > 0 and .peak_memory_bytes < 5
			and .leaked_bytes > 0 and .leaked_bytes < 5')" true "stated errors ($mean)"
		"$PROFANALYZE" "$TMP/s$mean" -q >"$TMP/r.txt"
		grep -qE '^  temporary +- +\(not estimable in sampled mode' "$TMP/r.txt"
		grep -qE '^  peak heap .*\(estimate, \+-[0-9.]+%\)$' "$TMP/r.txt"
		if grep -E -- ' -[0-9]' "$TMP/r.txt"; then
			echo "a negative figure in the text report ($mean)"
			return 1
		fi
	done
}

# At the 64 KiB mean a 5 MB heap holds ~75 samples: the sampled estimate
# of live bytes alone is off by ~12% (one sd). The shim counts every
# block's allocator size per thread exactly (MEM_USABLE), which makes this
# single-threaded program's peak and leak exact in allocator bytes; only
# the slack share (allocator minus requested bytes, a few % here) is
# estimated from the samples, so even a wholly wrong share stays within a
# few %: the 10% bound holds by design in every run, not by luck.
@test "sampling at the 64 KiB mean, a 5 MB heap: peak and leak within 10% in every run" {
	PROFSHIM_RECORD=mem PROFSHIM_OUTPUT="$TMP/e" LD_PRELOAD="$SHIM" "$PROGS/mem_sampled" 60000 512 150 >/dev/null
	analyze_json "$TMP/e" -q
	cp "$TMP/report.json" "$TMP/exact.json"
	ex() { jq -r ".memory_metrics.$1" "$TMP/exact.json"; }
	# a small heap: a few MB at the peak, a leak of over 1% of the bytes
	[ "$(ex peak_memory_bytes)" -lt $((8 << 20)) ]
	[ "$(ex peak_memory_bytes)" -gt $((2 << 20)) ]
	[ "$(jq '.memory_metrics.leaked_bytes * 100 > .memory_metrics.total_allocation_bytes' "$TMP/exact.json")" = true ]
	for run in 1 2 3 4 5; do
		PROFSHIM_RECORD=mem PROFSHIM_MEM_SAMPLE=65536 PROFSHIM_OUTPUT="$TMP/s$run" LD_PRELOAD="$SHIM" \
			"$PROGS/mem_sampled" 60000 512 150 >/dev/null
		analyze_json "$TMP/s$run" -q
		assert_eq "$(jqr '[.memory_metrics | .. | numbers | select(. < 0)] | length')" 0 "negative figures ($run)"
		assert_within "$(jqr .memory_metrics.peak_memory_bytes)" "$(ex peak_memory_bytes)" 10 "peak ($run)"
		assert_within "$(jqr .memory_metrics.leaked_bytes)" "$(ex leaked_bytes)" 10 "leaked bytes ($run)"
		# the stated error says the same: the slack share's, under 2%
		assert_eq "$(jqr '.memory_metrics.estimate_error_pct | .peak_memory_bytes < 2 and .leaked_bytes < 2')" \
			true "stated errors ($run)"
		assert_eq "$(jqr '.memory_metrics | .peak_memory_bytes >= .leaked_bytes')" true "peak >= leak ($run)"
	done
}

# mem_realloc_mix allocates the way interpreters do (Lua: realloc(NULL, n)
# for a new block, realloc(p, n) to grow it, free): sampling mode's realloc
# fast paths count every call, the requested bytes and each block's
# allocator size (old block out, new block in) exactly, so calls and bytes
# equal exact mode's and peak and leak (live bytes counted exactly, only
# the slack share estimated) stay within 10% in every run.
@test "sampling mode through realloc: calls and bytes exact, peak and leak within 10%" {
	PROFSHIM_RECORD=mem PROFSHIM_OUTPUT="$TMP/e" LD_PRELOAD="$SHIM" "$PROGS/mem_realloc_mix" >/dev/null
	analyze_json "$TMP/e" -q
	cp "$TMP/report.json" "$TMP/exact.json"
	ex() { jq -r ".memory_metrics.$1" "$TMP/exact.json"; }
	[ "$(ex total_allocations)" -ge 267267 ]
	[ "$(ex peak_memory_bytes)" -gt $((4 << 20)) ]
	for run in 1 2 3; do
		PROFSHIM_RECORD=mem PROFSHIM_MEM_SAMPLE=65536 PROFSHIM_OUTPUT="$TMP/s$run" LD_PRELOAD="$SHIM" \
			"$PROGS/mem_realloc_mix" >/dev/null
		analyze_json "$TMP/s$run" -q
		assert_eq "$(jqr .memory_metrics.estimated)" true "estimated ($run)"
		for f in total_allocations total_frees total_allocation_bytes; do
			assert_eq "$(jqr .memory_metrics.$f)" "$(ex $f)" "$f ($run)"
		done
		assert_within "$(jqr .memory_metrics.peak_memory_bytes)" "$(ex peak_memory_bytes)" 10 "peak ($run)"
		assert_within "$(jqr .memory_metrics.leaked_bytes)" "$(ex leaked_bytes)" 10 "leaked bytes ($run)"
	done
}

# mem_realloc_fail: a realloc of a 1 MiB block to 64 MiB fails (address
# space limit) on sampling mode's fast path (a 1 TiB mean: the sample
# point is not reached, but once in ~16,000 runs, when the recorded path
# takes the call: same figures). The call is counted, the old block stays
# live: the peak is p + q, as exact mode sees it. (Bytes: sampling mode
# counts a failed call's requested bytes, exact mode does not.)
@test "sampling mode: a realloc failing on the fast path counted as in exact mode, its block live" {
	run env PROFSHIM_RECORD=mem PROFSHIM_OUTPUT="$TMP/e" LD_PRELOAD="$SHIM" "$PROGS/mem_realloc_fail"
	[ "$status" -eq 0 ]
	[ "$output" = "failed=1 errno=ENOMEM" ] || skip "no address-space limit here ($output)"
	analyze_json "$TMP/e" -q
	cp "$TMP/report.json" "$TMP/exact.json"
	ex() { jq -r ".memory_metrics.$1" "$TMP/exact.json"; }
	assert_eq "$(ex failed_allocations)" 1 "exact mode saw the failure"
	out=$(PROFSHIM_RECORD=mem PROFSHIM_MEM_SAMPLE=1099511627776 PROFSHIM_OUTPUT="$TMP/s" \
		LD_PRELOAD="$SHIM" "$PROGS/mem_realloc_fail")
	assert_eq "$out" "failed=1 errno=ENOMEM" "the program's own view"
	analyze_json "$TMP/s" -q
	assert_eq "$(jqr .memory_metrics.bytes_exact)" true "live bytes counted"
	for f in total_allocations total_frees; do
		assert_eq "$(jqr .memory_metrics.$f)" "$(ex $f)" "$f"
	done
	# p (1 MiB) + q (2 MiB): 2 MiB if the failed call had counted p freed
	assert_within "$(jqr .memory_metrics.peak_memory_bytes)" "$(ex peak_memory_bytes)" 2 "peak"
	assert_within "$(jqr .memory_metrics.leaked_bytes)" "$(ex leaked_bytes)" 5 "leaked bytes"
}

# mem_exec_fail: the shim writes what the thread holds before an exec and
# closes sampling mode's fast paths; the exec fails and the program goes
# on: the calls after it are counted all the same (5,001 / 5,000 with the
# program's stdout buffer).
@test "sampling mode: calls after a failed exec counted as in exact mode" {
	local out
	for mode in exact 4096; do
		if [ "$mode" = exact ]; then
			out=$(PROFSHIM_RECORD=mem PROFSHIM_OUTPUT="$TMP/x.$mode" LD_PRELOAD="$SHIM" "$PROGS/mem_exec_fail")
		else
			out=$(PROFSHIM_RECORD=mem PROFSHIM_MEM_SAMPLE=$mode PROFSHIM_OUTPUT="$TMP/x.$mode" \
				LD_PRELOAD="$SHIM" "$PROGS/mem_exec_fail")
		fi
		assert_eq "$out" "exec_failed=1" "the program's view ($mode)"
		analyze_json "$TMP/x.$mode" -q
		jqr '.memory_metrics | "\(.total_allocations) \(.total_frees) \(.total_allocation_bytes)"' >"$TMP/x.$mode.counts"
		[ "$(cut -d' ' -f1 "$TMP/x.$mode.counts")" -ge 5000 ]
	done
	assert_eq "$(cat "$TMP/x.4096.counts")" "$(cat "$TMP/x.exact.counts")" "calls, frees, bytes"
}

# Memory not recorded (PROFSHIM_RECORD without mem): malloc, free, realloc
# and calloc jump straight to the allocator (no bootstrap block was handed
# out); the programs' results are unchanged.
@test "memory not recorded: the hooks are the allocator's functions, programs unchanged" {
	for rec in none cpu; do
		for prog in mem_realloc_zero mem_realloc_fail; do
			want=$("$PROGS/$prog")
			got=$(PROFSHIM_RECORD=$rec PROFSHIM_OUTPUT="$TMP/n.$rec.$prog" LD_PRELOAD="$SHIM" "$PROGS/$prog")
			assert_eq "$got" "$want" "$prog under PROFSHIM_RECORD=$rec"
		done
	done
}

# With an allocator other than glibc's below, sampling mode counts each
# block's size with malloc_usable_size: the live bytes are counted (the
# JSON says so) and the 5 MB peak and leak come out close to exact mode's
# (before, nothing was counted there and both were sample estimates).
@test "sampling mode with jemalloc below: live bytes counted, peak and leak within 10%" {
	[ -e "$JEMALLOC" ] || skip "no jemalloc"
	PROFSHIM_RECORD=mem PROFSHIM_OUTPUT="$TMP/e" LD_PRELOAD="$SHIM $JEMALLOC" \
		"$PROGS/mem_sampled" 60000 512 150 >/dev/null
	analyze_json "$TMP/e" -q
	cp "$TMP/report.json" "$TMP/exact.json"
	ex() { jq -r ".memory_metrics.$1" "$TMP/exact.json"; }
	PROFSHIM_RECORD=mem PROFSHIM_MEM_SAMPLE=65536 PROFSHIM_OUTPUT="$TMP/s" LD_PRELOAD="$SHIM $JEMALLOC" \
		"$PROGS/mem_sampled" 60000 512 150 >/dev/null
	analyze_json "$TMP/s" -q
	assert_eq "$(jqr .memory_metrics.live_bytes_counted)" true "live bytes counted"
	assert_eq "$(jqr .memory_metrics.total_allocations)" "$(ex total_allocations)" "calls"
	assert_within "$(jqr .memory_metrics.peak_memory_bytes)" "$(ex peak_memory_bytes)" 10 "peak"
	assert_within "$(jqr .memory_metrics.leaked_bytes)" "$(ex leaked_bytes)" 10 "leaked bytes"
}

# A MEM_USABLE record (EXT 64) cut short inside its length: a clear error
# naming the file and offset, no crash.
# mem_gate: sampling mode's fast paths count through a per-thread gate
# (mem.c, sample_hot) that must stay shut while recording is stopped, be
# shut at a thread's end (its state is reused) and in a forked child. The
# calls and frees counted must be exact mode's, in the parent and in the
# child, and the stopped stretch (4,000 calls) must not be counted.
@test "sampling mode's fast paths: stop/start, ended threads and a forked child counted as in exact mode" {
	local mode child counted
	for mode in exact 65536; do
		rm -f "$TMP"/g.*
		if [ $mode = exact ]; then
			PROFSHIM_RECORD=mem PROFSHIM_OUTPUT="$TMP/g.$mode" LD_PRELOAD="$SHIM" "$PROGS/mem_gate" >"$TMP/out"
		else
			PROFSHIM_RECORD=mem PROFSHIM_MEM_SAMPLE=$mode PROFSHIM_OUTPUT="$TMP/g.$mode" LD_PRELOAD="$SHIM" \
				"$PROGS/mem_gate" >"$TMP/out"
		fi
		child=$(sed -n 's/^child=//p' "$TMP/out")
		counted=$(sed -n 's/^counted=//p' "$TMP/out")
		analyze_json "$TMP/g.$mode" -q
		jqr '.memory_metrics | "\(.total_allocations) \(.total_frees)"' >"$TMP/parent.$mode"
		# the program's own calls, a few of libc's at most; not the 4,000
		# made while stopped
		local allocs=$(cut -d' ' -f1 "$TMP/parent.$mode")
		[ "$allocs" -ge "$counted" ] && [ "$allocs" -le $((counted + 50)) ]
		analyze_json "$TMP/g.$mode.$child" -q
		jqr '.memory_metrics | "\(.total_allocations) \(.total_frees)"' >"$TMP/child.$mode"
		[ "$(cut -d' ' -f1 "$TMP/child.$mode")" -ge "$(sed -n 's/^child_counted=//p' "$TMP/out")" ]
	done
	assert_eq "$(cat "$TMP/parent.65536")" "$(cat "$TMP/parent.exact")" "parent: calls, frees"
	assert_eq "$(cat "$TMP/child.65536")" "$(cat "$TMP/child.exact")" "child: calls, frees"
	assert_eq "$(jqr .memory_metrics.estimated)" true "the child's report knows it was sampled"
}

@test "sampling mode: a process ended by _exit says its counts are lower bounds; calls with no block sampled are still reported" {
	# every block sampled (a 1-byte mean): both processes have figures
	PROFSHIM_RECORD=mem PROFSHIM_MEM_SAMPLE=1 run_shim "$TMP/f" "$PROGS/mem_ids" fork >"$TMP/out"
	child=$(sed -n 's/^child=//p' "$TMP/out")
	analyze_json "$TMP/f.$child" -q
	assert_eq "$(jqr .memory_metrics.counts_complete)" false "the child ended with _exit"
	"$PROFANALYZE" "$TMP/f.$child" | grep -q "lower bounds: call counts"
	analyze_json "$TMP/f" -q
	assert_eq "$(jqr .memory_metrics.counts_complete)" true "the parent ended normally"
	"$PROFANALYZE" "$TMP/f" | grep -q "exact: call counts"
	# a mean far above what the program allocates: no block sampled (but
	# once in 200,000 runs); the parent's calls are counted all the same,
	# and the child's report does not say it made no allocation
	PROFSHIM_RECORD=mem PROFSHIM_MEM_SAMPLE=1073741824 run_shim "$TMP/n" "$PROGS/mem_ids" fork >"$TMP/out"
	child=$(sed -n 's/^child=//p' "$TMP/out")
	analyze_json "$TMP/n" -q
	[ "$(jqr .memory_metrics.total_allocations)" -ge 100 ]
	[ "$(jqr .memory_metrics.total_frees)" -ge 100 ]
	! "$PROFANALYZE" "$TMP/n" | grep -q "made no allocation"
	"$PROFANALYZE" "$TMP/n.$child" >"$TMP/child.txt"
	! grep -q "made no allocation" "$TMP/child.txt"
	grep -q "call counts were never written" "$TMP/child.txt"
}

@test "sampling mode: a truncated MEM_USABLE record fails cleanly" {
	PROFSHIM_RECORD=mem PROFSHIM_MEM_SAMPLE=4096 PROFSHIM_OUTPUT="$TMP/s" LD_PRELOAD="$SHIM" \
		"$PROGS/mem_sampled" 2000 >/dev/null
	# EXT tag (64 << 4 | 15 = 0x40f: varint 8f 08), length 1, one field of six
	printf '\x8f\x08\x01\x00' | dd of="$TMP/s.t1" bs=1 seek=4096 conv=notrunc status=none
	run timeout 20 "$PROFANALYZE" -q "$TMP/s"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$TMP/s.t1: offset 4096: malformed or cut-short record"* ]]
}

@test "full tracking of the benchmark workload: exact totals" {
	local out
	out=$(PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM" "$PROGS/mem_bench" 100000)
	analyze_json "$TMP/t" -q --top=1000
	assert_eq "$(own_sums | cut -d' ' -f1-5)" "100000 ${out#bytes=} 100000 0 0"
}

@test "bad PROFSHIM_MEM_SAMPLE: one message, program unchanged" {
	run env PROFSHIM_MEM_SAMPLE=lots PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM" "$PROGS/mem_signal"
	[ "$status" -eq 0 ]
	[[ "$output" == *"PROFSHIM_MEM_SAMPLE"* ]]
}

# RSS readings come from a timer on the process's CPU clock, not only from
# allocations: mem_rss touches 64 MiB over ~320 ms of spinning without
# allocating, and its sleep before that must not be cut short (status 2).
@test "RSS: timer readings rise in steps through a phase without allocations" {
	PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM" "$PROGS/mem_rss"
	"$PROFANALYZE" "$TMP/t" -q --format=trace -o "$TMP/tr.json"
	local phase='([.traceEvents[] | select(.ph == "i") | {(.name): .ts}] | add) as $m
		| [.traceEvents[] | select(.ph == "C" and .name == "rss"
			and .ts > $m.touch_begin and .ts < $m.touch_end) | .args.bytes]'
	# rising steps inside the phase: ~30 at 10 ms; at least 5 on a loaded machine
	local steps
	steps=$(jq "$phase | [range(1; length) as \$i | select(.[\$i] > .[\$i - 1])] | length" "$TMP/tr.json")
	[ "$steps" -ge 5 ] || { echo "rising RSS steps in the phase: $steps" >&2; return 1; }
	# from less than half the block to (nearly) all of it
	[ "$(jq "$phase | .[0]" "$TMP/tr.json")" -lt $((32 << 20)) ]
	analyze_json "$TMP/t" -q
	[ "$(jqr .memory_metrics.peak_rss_bytes)" -ge $((64 << 20)) ]
}

@test "RSS: PROFSHIM_RSS_MS=0 takes no readings" {
	PROFSHIM_RSS_MS=0 PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM" "$PROGS/mem_rss"
	"$PROFANALYZE" "$TMP/t" -q --format=trace -o "$TMP/tr.json"
	assert_eq "$(jq '[.traceEvents[] | select(.ph == "C" and .name == "rss")] | length' "$TMP/tr.json")" 0
}

# glibc 2.36 frees p in realloc(p, 0) and returns NULL (not a failure, errno
# unchanged); realloc(NULL, 0) is a fresh zero-byte block. jemalloc and
# tcmalloc do the same here. The report counts realloc(p, 0) as a free of
# p's block (temporary: nothing was allocated in between), not as a failed
# allocation; the zero-byte block's site is listed and nothing leaks.
@test "realloc(p, 0): frees p, returns NULL, counted truthfully (all allocators)" {
	for pre in "" "$JEMALLOC" "$TCMALLOC"; do
		[ -z "$pre" ] || [ -e "$pre" ] || continue
		rm -f "$TMP"/t*
		out=$(PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM${pre:+ $pre}" "$PROGS/mem_realloc_zero")
		assert_eq "$out" "p0=null null0=block errno=0" "what the allocator did ($pre)"
		analyze_json "$TMP/t" --top=1000 -q
		assert_eq "$(own_sums)" "2 100 2 0 0 1" "allocs bytes frees leaked-blocks leaked-bytes temporary ($pre)"
		assert_eq "$(jqr .memory_metrics.failed_allocations)" 0 "failed allocations ($pre)"
		assert_eq "$(jqr '[.memory_metrics.top_sites[] | select(.bytes == 0 and (.stack[0] | test("mem_realloc_zero"))) | .allocations] | add')" 1 "zero-byte site ($pre)"
	done
	# the same program without the shim
	assert_eq "$("$PROGS/mem_realloc_zero")" "p0=null null0=block errno=0"
}

# With calls recorded, an allocation made by an instrumented function itself
# takes its stack from the shadow stack (no unwinding): the call site, then
# each instrumented function's call site, ending one frame into libc's
# start code. Through uninstrumented code (strdup) the stack is unwound.
fi_line() { grep -n "$1" "$ROOT/tests/progs/fi_memleak.c" | head -1 | cut -d: -f1; }
fi_leak_stack() { jqr "[.memory_metrics.leaks[] | select(.leaked_bytes == $1) | .stack[]] | join(\"|\")"; }

@test "calls on: allocation stacks from the shadow stack name the right functions and lines" {
	local src=tests/progs/fi_memleak.c
	local deep="leak_deep ($src:$(fi_line 'keep\[0\] = malloc'))|middle ($src:$(fi_line '^	leak_deep();'))|outer ($src:$(fi_line '^	middle();'))|main ($src:$(fi_line '^	outer();'))"
	local direct="leak_direct ($src:$(fi_line 'keep\[1\] = malloc'))|main ($src:$(fi_line '^	leak_direct();'))"
	PROFSHIM_RECORD=mem,calls PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM" "$PROGS/fi_memleak" 1000
	analyze_json "$TMP/t" -q --top=1000
	assert_eq "$(jqr '[.memory_metrics.leaks[] | .leaked_blocks] | add')" 3 "leaked blocks"
	[[ "$(fi_leak_stack 300)" == "$deep|__libc_start_call_main ("* ]] || { fi_leak_stack 300 >&2; return 1; }
	# shadow stacks stop one frame into libc's start code
	assert_eq "$(jqr '[.memory_metrics.leaks[] | select(.leaked_bytes == 300) | .stack | length] | .[0]')" 5
	[[ "$(fi_leak_stack 100)" == "$direct|__libc_start_call_main ("* ]]
	[[ "$(fi_leak_stack 6)" == *strdup*"|leak_strdup ($src:$(fi_line 'keep\[2\] = strdup'))|main ("* ]]
	assert_eq "$(jqr '[.memory_metrics.top_sites[] | select(.stack[0] | startswith("churn (")) | .allocations, .frees, .temporary_allocations] | join(" ")')" "1000 1000 1000"
	# without calls the same functions and lines, unwound to _start
	rm -f "$TMP"/t*
	PROFSHIM_RECORD=mem PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM" "$PROGS/fi_memleak" 10
	analyze_json "$TMP/t" -q --top=1000
	[[ "$(fi_leak_stack 300)" == "$deep|__libc_start_call_main ("*"|_start" ]] || { fi_leak_stack 300 >&2; return 1; }
}

@test "RSS: a program taking every real-time signal never gets the RSS timer's" {
	run env PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM" "$PROGS/mem_rtsig"
	[ "$status" -eq 0 ]
	[[ "$output" == *"handlers=31 shown_taken=0 caught=0"* ]]
	assert_eq "$(grep -c "RSS is read at allocations only" <<<"$output")" 1 "one message"
	analyze_json "$TMP/t" -q
	[ "$(jqr .memory_metrics.peak_rss_bytes)" -gt 0 ]
}

# mem_site_threads: make() reached from two threads and from two return
# addresses on one line; 2 x 2 x 1000 allocations of 64 bytes, 20 leaked.
@test "one site reached from two threads and two return addresses: one site in every report, summed" {
	PROFSHIM_RECORD=mem PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM" "$PROGS/mem_site_threads" >"$TMP/out"
	analyze_json "$TMP/t" -q --top=1000
	local make='select(.stack[0] | startswith("make ("))'
	assert_eq "$(jqr "[.memory_metrics.top_sites[] | $make] | length")" 1 "JSON sites"
	assert_eq "$(jqr "[.memory_metrics.top_sites[] | $make | .allocations, .bytes, .leaked_blocks] | join(\" \")")" \
		"4000 256000 20" "JSON site figures"
	assert_eq "$(jqr "[.memory_metrics.leaks[] | $make] | length")" 1 "JSON leaks"
	"$PROFANALYZE" "$TMP/t" -q --top=1000 >"$TMP/r.txt"
	# a row in the tables by bytes, by count and by leaks (and by peak
	# when the peak came while the workers ran)
	[ "$(grep -c '  #[0-9]*  4000 allocations, 250.00 KiB' "$TMP/r.txt")" -ge 3 ]
	if grep -q '  #[0-9]*  2000 allocations' "$TMP/r.txt"; then
		echo "a per-thread row in the text report"
		return 1
	fi
	"$PROFANALYZE" "$TMP/t" -q --format=folded --data=mem -o "$TMP/f.txt"
	assert_eq "$(grep -c ';make ' "$TMP/f.txt")" 1 "folded lines"
	grep -qE '(^|;)worker;make 256000$' "$TMP/f.txt"
	"$PROFANALYZE" "$TMP/t" -q --format=heapprofile -o "$TMP/h.json"
	assert_eq "$(jq '[.head | .. | objects | select(.callFrame?.functionName == "make" and .selfSize > 0) | .selfSize] | join(",")' -r "$TMP/h.json")" \
		256000 "heapprofile make nodes"
	# a thread's own view: half of it
	local tid
	tid=$(sed -n '1s/^tid=//p' "$TMP/out")
	analyze_json "$TMP/t" -q --top=1000 --thread="$tid"
	assert_eq "$(jqr "[.memory_metrics.top_sites[] | $make | .allocations, .bytes, .leaked_blocks] | join(\" \")")" \
		"2000 128000 10" "one thread's site"
	"$PROFANALYZE" "$TMP/t" -q --format=folded --data=mem --thread="$tid" -o "$TMP/f1.txt"
	grep -qE '(^|;)worker;make 128000$' "$TMP/f1.txt"
}

# The cached unwinder (PROFSHIM_UNWIND, default cached) against libunwind
# on stacks it could get wrong without proof (tests/progs/mem_unwind.c):
# the same sites with the same counts and bytes, to the line.
unwind_sites() { # MODE
	PROFSHIM_UNWIND="$1" PROFSHIM_OUTPUT="$TMP/$1" LD_PRELOAD="$SHIM" "$PROGS/mem_unwind" >/dev/null
	"$PROFANALYZE" "$TMP/$1" -q --format=json --top=1000 |
		jq -c '.memory_metrics.top_sites[] | [.stack, .allocations, .bytes]' | sort >"$TMP/$1.sites"
}

@test "cached unwinder: the same stacks as libunwind, to the line, call site by call site" {
	for mode in libunwind nocache cached; do unwind_sites "$mode"; done
	[ "$(wc -l <"$TMP/cached.sites")" -ge 20 ]
	diff "$TMP/libunwind.sites" "$TMP/nocache.sites"
	diff "$TMP/libunwind.sites" "$TMP/cached.sites"
	# known answers: main's two calls of outer, told apart by main's line
	local a b
	a=$(grep -n 'SITE_A' "$BATS_TEST_DIRNAME/progs/mem_unwind.c" | cut -d: -f1)
	b=$(grep -n 'SITE_B' "$BATS_TEST_DIRNAME/progs/mem_unwind.c" | cut -d: -f1)
	sums() { grep "\"main (tests/progs/mem_unwind.c:$1)\"" "$TMP/cached.sites" |
		jq -s 'map(.[1]) | add' ; }
	assert_eq "$(sums "$a")" 300 "allocations under main's first call"
	assert_eq "$(sums "$b")" 200 "allocations under main's second call"
	# stacks cut at a depth limit: the same cut
	for mode in libunwind cached; do PROFSHIM_STACK_DEPTH=4 unwind_sites "$mode"; done
	diff "$TMP/libunwind.sites" "$TMP/cached.sites"
	[ "$(grep -c '"leaf ' "$TMP/cached.sites")" -ge 3 ]
}

@test "bad PROFSHIM_UNWIND: one message, stacks as by default" {
	PROFSHIM_UNWIND=bogus PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$SHIM" "$PROGS/mem_unwind" >"$TMP/out" 2>"$TMP/err"
	assert_eq "$(cat "$TMP/out")" "done" "program output"
	assert_eq "$(grep -c 'PROFSHIM_UNWIND' "$TMP/err")" 1 "messages"
}
