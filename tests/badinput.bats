#!/usr/bin/env bats
# Bad input to profanalyze: a clear error naming the file and offset, a
# non-zero exit, never a crash or a hang. A torn tail is only a warning.

load helpers

setup() {
	setup_tmp
	PROFSHIM_OUTPUT="$TMP/ok.trace" LD_PRELOAD="$SHIM" "$PROGS/core_crash" exit 50
	[ -f "$TMP/ok.trace.t1" ]
}
teardown() { teardown_tmp; }

# patch FILE OFFSET HEXBYTES
patch() {
	printf "$(echo "$3" | sed 's/\(..\)/\\x\1/g')" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# expect_error PATTERN FILE... : profanalyze fails cleanly with PATTERN
expect_error() {
	local pattern="$1"
	shift
	run timeout 20 "$PROFANALYZE" "$@"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$pattern"* ]]
}

@test "the intact trace reads" {
	run "$PROFANALYZE" "$TMP/ok.trace" -q --format=json -o "$TMP/report.json"
	[ "$status" -eq 0 ]
	assert_eq "$(jqr '.markers | length')" 50
}

@test "empty file" {
	: > "$TMP/empty"
	expect_error "$TMP/empty: offset 0: empty file" "$TMP/empty"
}

@test "a directory without process files, or with only broken ones" {
	mkdir "$TMP/nothing" "$TMP/broken"
	expect_error "no profshim process file in this directory" "$TMP/nothing"
	head -c 100 "$TMP/ok.trace" > "$TMP/broken/x.trace"
	expect_error "no profshim process file in this directory that could be read" "$TMP/broken"
	[[ "$output" == *"x.trace: left out of the run"*"truncated"* ]]
}

@test "a file that does not exist" {
	expect_error "cannot open" "$TMP/nope"
}

@test "not a trace at all" {
	head -c 5000 /bin/sh > "$TMP/garbage"
	expect_error "bad magic" "$TMP/garbage"
}

@test "a thread file given instead of the process file" {
	expect_error "this is a thread file" "$TMP/ok.trace.t1"
}

@test "truncated header" {
	head -c 20 "$TMP/ok.trace" > "$TMP/cut"
	expect_error "$TMP/cut: offset 20: truncated" "$TMP/cut"
}

@test "truncated thread file" {
	size=$(stat -c %s "$TMP/ok.trace.t1")
	truncate -s $((size - 7)) "$TMP/ok.trace.t1"
	expect_error "$TMP/ok.trace.t1: offset $((size - 7)): truncated" "$TMP/ok.trace"
}

@test "wrong version" {
	patch "$TMP/ok.trace" 8 63000000
	expect_error "$TMP/ok.trace: offset 8: trace format version 99" "$TMP/ok.trace"
	[[ "$output" == *"written by a newer profshim"* ]]
	patch "$TMP/ok.trace" 8 00000000
	expect_error "$TMP/ok.trace: offset 8: trace format version 0, this profanalyze reads versions 1 to 2" "$TMP/ok.trace"
}

@test "missing thread file" {
	rm "$TMP/ok.trace.t1"
	expect_error "$TMP/ok.trace.t1: offset 0: missing thread file" "$TMP/ok.trace"
}

@test "flipped bytes: an unknown record kind" {
	patch "$TMP/ok.trace.t1" 4096 0d
	expect_error "$TMP/ok.trace.t1: offset 4096: unknown record kind 13" "$TMP/ok.trace"
}

@test "flipped bytes: an overlong varint" {
	patch "$TMP/ok.trace.t1" 4096 ffffffffffffffffffffff
	expect_error "$TMP/ok.trace.t1: offset 4096: malformed" "$TMP/ok.trace"
}

@test "flipped bytes: a record that runs past the end" {
	size=$(stat -c %s "$TMP/ok.trace")
	patch "$TMP/ok.trace" 4098 ffff03
	expect_error "$TMP/ok.trace: offset 4096: record length runs past the end" "$TMP/ok.trace"
}

@test "flipped bytes: committed length beyond the file" {
	patch "$TMP/ok.trace.t1" 16 ffffff00
	expect_error "truncated: header says" "$TMP/ok.trace"
}

@test "torn last record: a warning and the intact prefix" {
	printf '\x27\x91\x88' >> "$TMP/ok.trace.t1"
	run "$PROFANALYZE" "$TMP/ok.trace" --format=json -o "$TMP/report.json"
	[ "$status" -eq 0 ]
	[[ "$output" == *"warning"*"torn record at the end (3 bytes)"* ]]
	assert_eq "$(jqr '.markers | length')" 50
}

@test "every file of the bad-input corpus fails cleanly" {
	bash "$ROOT/tests/corpus/make-corpus.sh" "$TMP/corpus"
	local n=0
	for f in "$TMP"/corpus/*.trace; do
		n=$((n + 1))
		run timeout 20 "$PROFANALYZE" -q "$f"
		echo "$f: $status $output"
		[ "$status" -le 1 ]
	done
	[ "$n" -ge 33 ] # the corpus was made (a glob that matches nothing is one name)
}

@test "bad options" {
	run "$PROFANALYZE" "$TMP/ok.trace" --format=pdf
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad --format 'pdf'"* ]]
	run "$PROFANALYZE"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no trace file given"* ]]
	run "$PROFANALYZE" "$TMP/ok.trace" --depth=0
	[ "$status" -eq 2 ]
	run "$PROFANALYZE" "$TMP/ok.trace" --nope
	[ "$status" -eq 2 ]
	run "$PROFANALYZE" "$TMP/ok.trace" --between=onlyone
	[ "$status" -eq 2 ]
	run "$PROFANALYZE" "$TMP/ok.trace" -o /nonexistent/dir/x
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot write /nonexistent/dir/x"* ]]
}

@test "--help documents every option" {
	run "$PROFANALYZE" --help
	[ "$status" -eq 0 ]
	for opt in --format --output --data --heap --between --thread --from --to --min-duration --depth --hide --top --quiet; do
		[[ "$output" == *"$opt"* ]]
	done
}
