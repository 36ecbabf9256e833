#!/usr/bin/env bats
# Compressed runs (issue 15): finished windows of a thread file are stored
# as zstd blocks (COMPRESSED RUNS in include/profshim_trace.h).

load helpers

setup() { setup_tmp; }
teardown() { teardown_tmp; }

blocks() { python3 "$ROOT/tests/tools/zblocks.py" "$@"; }
disk_bytes() { echo $(($(stat -c %b "$1") * $(stat -c %B "$1"))); }

mem_figures() {
	jqr '.memory_metrics | "\(.total_allocations) \(.total_allocation_bytes) \(.total_frees) \(.leaked_blocks) \(.leaked_bytes) \(.peak_memory_bytes) \(.temporary_allocations) \(.unknown_frees)"'
}

@test "a busy thread's file holds compressed blocks that read to the raw trace's figures" {
	PROFSHIM_RECORD=mem run_shim "$TMP/c" "$PROGS/mem_bench" 300000 >/dev/null
	PROFSHIM_COMPRESS=0 PROFSHIM_RECORD=mem run_shim "$TMP/r" "$PROGS/mem_bench" 300000 >/dev/null
	nblocks=$(blocks "$TMP/c.t1" | wc -l)
	[ "$nblocks" -ge 2 ]
	assert_eq "$(blocks "$TMP/r.t1" | wc -l)" 0 "blocks with PROFSHIM_COMPRESS=0"
	# blocks number 1, 2, ... in file order
	assert_eq "$(blocks "$TMP/c.t1" | awk '{ printf "%s ", $2 }')" "$(seq -s ' ' 1 "$nblocks") "
	# smaller on disk, and (rewritten at the clean exit) no holes: the
	# file is its header and its data
	[ "$(disk_bytes "$TMP/c.t1")" -lt "$(disk_bytes "$TMP/r.t1")" ]
	[ "$(stat -c %s "$TMP/c.t1")" -lt "$(stat -c %s "$TMP/r.t1")" ]
	committed=$(od -An -tu8 -j16 -N8 "$TMP/c.t1" | tr -d ' ')
	assert_eq "$(stat -c %s "$TMP/c.t1")" $((4096 + committed))
	[ ! -e "$TMP/c.t1.zc" ]
	analyze_json "$TMP/r" -q
	raw=$(mem_figures)
	analyze_json "$TMP/c" -q
	assert_eq "$(mem_figures)" "$raw"
	# mem_bench's known answer: N allocations, N frees, nothing leaked
	assert_eq "$(jqr .memory_metrics.total_allocations)" 300000
	assert_eq "$(jqr .memory_metrics.unknown_frees)" 0
}

@test "short threads stay in the plain format (no run records)" {
	PROFSHIM_RECORD=mem run_shim "$TMP/t" "$PROGS/mem_known"
	assert_eq "$(blocks "$TMP"/t.t* | wc -l)" 0
	# no RUN record either: records start right at the data offset and the
	# file is its header plus its data
	f=$(ls "$TMP"/t.t* | head -1)
	committed=$(od -An -tu8 -j16 -N8 "$f" | tr -d ' ')
	assert_eq "$(stat -c %s "$f")" $((4096 + committed))
}

@test "killed mid-run after several blocks: every marker up to the kill is read" {
	# 200000 markers: about 4 MB of records, 3-4 windows
	run run_shim "$TMP/k.trace" "$PROGS/core_crash" kill 200000
	[ "$status" -eq 137 ]
	[ "$(blocks "$TMP/k.trace.t1" | wc -l)" -ge 2 ]
	# not rewritten (no clean exit): the raw runs are holes, freed on disk
	[ "$(disk_bytes "$TMP/k.trace.t1")" -lt "$(stat -c %s "$TMP/k.trace.t1")" ]
	analyze_json "$TMP/k.trace" -q
	assert_eq "$(jqr '[.markers[] | select(.name == "before-death")] | length')" 200000
}

@test "a damaged block: an error names the file and the block's offset, exit 1; what came before it reads" {
	run_shim "$TMP/d.trace" "$PROGS/core_crash" exit 200000
	blocks "$TMP/d.trace.t1" >"$TMP/blocks"
	[ "$(wc -l <"$TMP/blocks")" -ge 2 ]
	read -r off1 _ _ zlen1 < <(sed -n 1p "$TMP/blocks")
	read -r off2 _ _ zlen2 < <(sed -n 2p "$TMP/blocks")
	# every marker of the intact trace
	analyze_json "$TMP/d.trace" -q
	assert_eq "$(jqr '.markers | length')" 200000
	# the middle of block 2's zstd frame
	cp "$TMP/d.trace.t1" "$TMP/intact.t1"
	printf '\xde\xad\xbe\xef' | dd of="$TMP/d.trace.t1" bs=1 seek=$((off2 + zlen2 / 2)) conv=notrunc status=none
	run "$PROFANALYZE" "$TMP/d.trace" --format=json -o "$TMP/report.json"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$TMP/d.trace.t1: offset $off2: compressed block damaged"* ]]
	[[ "$output" == *"error: the trace is damaged"* ]]
	[[ "$output" == *"the 1 blocks and raw records before it are read"* ]]
	two=$(jqr '.markers | length')
	# block 1 and the raw window before it: more than a megabyte of markers
	[ "$two" -gt 20000 ]
	[ "$two" -lt 200000 ]
	# block 1 damaged instead: only the first (raw) window reads
	cp "$TMP/intact.t1" "$TMP/d.trace.t1"
	printf '\xde\xad\xbe\xef' | dd of="$TMP/d.trace.t1" bs=1 seek=$((off1 + zlen1 / 2)) conv=notrunc status=none
	run "$PROFANALYZE" "$TMP/d.trace" --format=json -o "$TMP/report.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$TMP/d.trace.t1: offset $off1: compressed block damaged"* ]]
	one=$(jqr '.markers | length')
	[ "$one" -gt 0 ]
	[ "$one" -lt "$two" ]
}

@test "a run record pointing outside the data: the damage is named, exit 1, the process is read" {
	run_shim "$TMP/p.trace" "$PROGS/core_crash" exit 200000
	read -r off1 _ < <(blocks "$TMP/p.trace.t1" | head -1)
	# compacted at the clean exit: block 1's RUN record (and its 8-byte
	# zpos) is right before it
	at=$((off1 - 8))
	assert_eq "$(od -An -tu8 -j"$at" -N8 "$TMP/p.trace.t1" | tr -d ' ')" $((off1 - 4096))
	[ "$at" -gt 0 ]
	printf '\xff\xff\xff\x7f' | dd of="$TMP/p.trace.t1" bs=1 seek="$at" conv=notrunc status=none
	run "$PROFANALYZE" "$TMP/p.trace" --format=json -o "$TMP/report.json"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"compressed block damaged (its run points outside the data)"* ]]
	[ "$(jqr '.markers | length')" -gt 0 ]
}

@test "two threads compressing at once: the site's known answer, both threads' blocks read" {
	# mem_site_threads: 2 workers x 2 allocations x ROUNDS, 10 leaked each
	PROFSHIM_RECORD=mem PROFSHIM_BUFFER_KB=256 run_shim "$TMP/m" "$PROGS/mem_site_threads" 60000 >/dev/null
	n=0
	for f in "$TMP"/m.t*; do
		[ "$(blocks "$f" | wc -l)" -ge 1 ] && n=$((n + 1))
	done
	[ "$n" -ge 2 ]
	analyze_json "$TMP/m" -q
	assert_eq "$(jqr '.memory_metrics.unknown_frees')" 0
	assert_eq "$(jqr '[.memory_metrics.top_sites[] | select(.allocations == 240000)] | length')" 1
	assert_eq "$(jqr '[.memory_metrics.top_sites[] | select(.allocations == 240000)][0].leaked_blocks')" 20
}

# --- the compressor thread (issue 15f) ---

# Allowed a single CPU: the shim makes no compressor thread there.
one_cpu() { [ "$(nproc)" -lt 2 ]; }

@test "many threads writing at once: exact counts, one compressor thread that no report shows" {
	out=$(PROFSHIM_RECORD=mem PROFSHIM_BUFFER_KB=256 run_shim "$TMP/m" "$PROGS/core_zthreads" 8 100000)
	# after the workers: the compressor is the one thread left (none in a
	# process allowed one CPU: it compresses in place)
	assert_eq "$out" "$(one_cpu && echo "threads=0 compressors=0" || echo "threads=1 compressors=1")"
	n=0
	for f in "$TMP"/m.t*; do
		[ "$(blocks "$f" | wc -l)" -ge 1 ] && n=$((n + 1))
	done
	assert_eq "$n" 8 "workers' files with blocks"
	analyze_json "$TMP/m" -q
	assert_eq "$(jqr '.session.threads | length')" 9 "threads: main and 8 workers"
	assert_eq "$(jqr '[.session.threads[] | select(.name == "profshim-z")] | length')" 0
	assert_eq "$(jqr '[.memory_metrics.top_sites[] | select(.allocations == 800000 and .frees == 800000)] | length')" 1
	assert_eq "$(jqr .memory_metrics.unknown_frees)" 0
	assert_eq "$(jqr '[.dropped[]] | add')" 0 "dropped"
	# the same in place (PROFSHIM_COMPRESS_THREAD=0): no compressor
	out=$(PROFSHIM_COMPRESS_THREAD=0 PROFSHIM_RECORD=mem PROFSHIM_BUFFER_KB=256 run_shim "$TMP/i" "$PROGS/core_zthreads" 8 100000)
	assert_eq "$out" "threads=0 compressors=0"
	analyze_json "$TMP/i" -q
	assert_eq "$(jqr '.session.threads | length')" 9
	assert_eq "$(jqr '[.memory_metrics.top_sites[] | select(.allocations == 800000 and .frees == 800000)] | length')" 1
}

@test "PROFSHIM_COMPRESS_THREAD: blocks go into room after their run (1) or right after it (0); same figures" {
	run run_shim "$TMP/k1" "$PROGS/core_crash" kill 200000
	[ "$status" -eq 137 ]
	PROFSHIM_COMPRESS_THREAD=0 run run_shim "$TMP/k0" "$PROGS/core_crash" kill 200000
	[ "$status" -eq 137 ]
	# killed: not rewritten, the layout is the writer's
	[ "$(blocks --after "$TMP/k1.t1" | wc -l)" -ge 1 ]
	assert_eq "$(blocks --after "$TMP/k1.t1" | awk '{ print $5 }' | sort -u)" "$(one_cpu && echo run || echo pad)"
	[ "$(blocks --after "$TMP/k0.t1" | wc -l)" -ge 2 ]
	assert_eq "$(blocks --after "$TMP/k0.t1" | awk '{ print $5 }' | sort -u)" run
	for t in k1 k0; do
		analyze_json "$TMP/$t" -q
		assert_eq "$(jqr '[.markers[] | select(.name == "before-death")] | length')" 200000
	done
	PROFSHIM_COMPRESS_THREAD=3 run run_shim "$TMP/b" "$PROGS/mem_known"
	[ "$status" -eq 0 ]
	[[ "$output" == *"PROFSHIM_COMPRESS_THREAD"* ]]
	# a clean exit: both compacted, the same figures as raw
	PROFSHIM_RECORD=mem run_shim "$TMP/c1" "$PROGS/mem_bench" 300000 >/dev/null
	PROFSHIM_COMPRESS_THREAD=0 PROFSHIM_RECORD=mem run_shim "$TMP/c0" "$PROGS/mem_bench" 300000 >/dev/null
	PROFSHIM_COMPRESS=0 PROFSHIM_RECORD=mem run_shim "$TMP/r" "$PROGS/mem_bench" 300000 >/dev/null
	for t in c1 c0; do
		[ "$(blocks "$TMP/$t.t1" | wc -l)" -ge 2 ]
		committed=$(od -An -tu8 -j16 -N8 "$TMP/$t.t1" | tr -d ' ')
		assert_eq "$(stat -c %s "$TMP/$t.t1")" $((4096 + committed)) "$t: compacted"
	done
	analyze_json "$TMP/r" -q
	raw=$(mem_figures)
	for t in c1 c0; do
		analyze_json "$TMP/$t" -q
		assert_eq "$(mem_figures)" "$raw" "$t figures"
	done
}

@test "SIGKILL while the compressor is busy (zstd level 12): every marker reads" {
	# level 12 takes longer than writing the records: at the kill the
	# compressor is inside a job, others wait or are taken back
	for n in 50000 200000; do
		PROFSHIM_COMPRESS=12 PROFSHIM_BUFFER_KB=256 run run_shim "$TMP/k$n" "$PROGS/core_crash" kill $n
		[ "$status" -eq 137 ]
		analyze_json "$TMP/k$n" -q
		assert_eq "$(jqr '[.markers[] | select(.name == "before-death")] | length')" $n
	done
	# a clean exit at level 12: the thread's end waits for the job being
	# compressed and takes back the others; every marker, compacted
	PROFSHIM_COMPRESS=12 PROFSHIM_BUFFER_KB=256 run_shim "$TMP/e" "$PROGS/core_crash" exit 200000
	analyze_json "$TMP/e" -q
	assert_eq "$(jqr '.markers | length')" 200000
	committed=$(od -An -tu8 -j16 -N8 "$TMP/e.t1" | tr -d ' ')
	assert_eq "$(stat -c %s "$TMP/e.t1")" $((4096 + committed)) "compacted"
	[ "$(blocks "$TMP/e.t1" | wc -l)" -ge 2 ]
}

@test "fork and exec with runs handed to the compressor: every process's markers read" {
	run env PROFSHIM_BUFFER_KB=256 PROFSHIM_OUTPUT="$TMP/f" LD_PRELOAD="$SHIM" "$PROGS/core_zfork" 100000
	[ "$status" -eq 0 ]
	child=$(echo "$output" | sed -n 's/^child=//p')
	[ -n "$child" ]
	analyze_json "$TMP/f" -q
	assert_eq "$(jqr '[.markers[] | select(.name == "parent-before")] | length')" 100000
	assert_eq "$(jqr '[.markers[] | select(.name == "parent-after")] | length')" 100000
	assert_eq "$(jqr '.markers | length')" 200000
	analyze_json "$TMP/f.$child" -q
	assert_eq "$(jqr '.markers | length')" 100000
	assert_eq "$(jqr '[.markers[] | select(.name == "child")] | length')" 100000
	second=$(ls "$TMP" | grep -E "^f\.$child\.[0-9]+\$")
	analyze_json "$TMP/$second" -q
	assert_eq "$(jqr '[.markers[] | select(.name == "after-exec")] | length')" 100000
	# every image wrote compressed blocks
	for t in "$TMP/f.t1" "$TMP/f.$child.t1" "$TMP/$second.t1"; do
		[ "$(blocks "$t" | wc -l)" -ge 1 ]
	done
}

@test "CPU sampling at 4000 Hz with memory recording and compressed runs: no sample weight lost" {
	PROFSHIM_RECORD=cpu,mem PROFSHIM_CPU_HZ=4000 PROFSHIM_BUFFER_KB=256 run_shim "$TMP/c" "$PROGS/cpu_alloc" >/dev/null
	[ "$(blocks "$TMP/c.t1" | wc -l)" -ge 2 ]
	analyze_json "$TMP/c" -q
	# every period the thread's timer counted is a sample's weight or
	# counted apart (dropped: only samples in the loader at start-up)
	assert_eq "$(jqr '[.cpu.threads[] | select(.periods != null) | .weight + .dropped_weight + .unsampled_weight + .paused_weight == .periods] | all')" true
	assert_eq "$(jqr '.cpu.dropped_weight * 100 <= .cpu.weight')" true "dropped weight <= 1%"
	assert_eq "$(jqr '.cpu.weight > 1000')" true
	assert_eq "$(jqr '[.cpu.threads[] | select(.name == "profshim-z")] | length')" 0
}
