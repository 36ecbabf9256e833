#!/usr/bin/env bats
# Trace encoding (issue 15): delta-coded memory records, and traces of the
# format before them.

load helpers

setup() { setup_tmp; }
teardown() { teardown_tmp; }

# header flags of a trace file (u32 at offset 36)
flags_of() {
	od -An -tu4 -j36 -N4 "$1" | tr -d ' '
}

mem_figures() {
	jqr '.memory_metrics | "\(.total_allocations) \(.total_allocation_bytes) \(.total_frees) \(.failed_allocations) \(.leaked_blocks) \(.leaked_bytes) \(.peak_memory_bytes) \(.temporary_allocations) \(.unknown_frees)"'
}

@test "a trace written before delta coding (no PST_FLAG_DELTA) still reads, to its figures" {
	cp "$ROOT"/tests/data/v1-mem/t* "$TMP/"
	for f in "$TMP"/t.t*; do
		assert_eq "$(($(flags_of "$f") & 2))" 0 "delta flag in the old file $f"
	done
	analyze_json "$TMP/t" -q
	# mem_known recorded by the profshim before delta coding (its own
	# profanalyze gave these figures)
	assert_eq "$(mem_figures)" "48 6644 29 2 13 3016 3316 17 0"
}

@test "thread files are delta-coded and read to the known answers" {
	PROFSHIM_RECORD=mem run_shim "$TMP/t" "$PROGS/mem_known"
	for f in "$TMP"/t.t*; do
		assert_eq "$(($(flags_of "$f") & 2))" 2 "delta flag in $f"
	done
	assert_eq "$(($(flags_of "$TMP/t") & 2))" 0 "no delta flag in the process file"
	analyze_json "$TMP/t" -q
	# every free matched a block: addresses decoded right
	assert_eq "$(jqr .memory_metrics.unknown_frees)" 0
	assert_eq "$(jqr .memory_metrics.failed_allocations)" 2
	assert_eq "$(jqr .memory_metrics.temporary_allocations)" 17
}

@test "realloc chains and frees across many addresses decode exactly (delta coding)" {
	# thousands of blocks, grown in place and moved, freed in another order
	cat > "$TMP/chain.c" <<'C'
#include <stdlib.h>
int main(void)
{
	enum { N = 4000 };
	static char *p[N];
	for (int i = 0; i < N; i++)
		p[i] = malloc(16 + (size_t)(i % 7) * 4096);
	for (int i = 0; i < N; i += 2)
		p[i] = realloc(p[i], 64 + (size_t)(i % 5) * 100000);
	for (int i = N - 1; i >= 0; i -= 3)
		free(p[i]), p[i] = NULL;
	for (int i = 0; i < N; i++)
		free(p[i]);
	return 0;
}
C
	cc -g -O0 -o "$TMP/chain" "$TMP/chain.c"
	PROFSHIM_RECORD=mem run_shim "$TMP/t" "$TMP/chain"
	analyze_json "$TMP/t" -q --top=1000
	assert_eq "$(jqr .memory_metrics.unknown_frees)" 0 "frees of unknown blocks"
	# the program's own blocks all freed: nothing of chain.c leaks
	own='[.memory_metrics.top_sites[] | select(any(.stack[]; test("chain")))]'
	assert_eq "$(jqr "$own | map(.allocations) | add")" 6000 "own allocation calls"
	assert_eq "$(jqr "$own | map(.frees) | add")" 4000 "own blocks freed"
	assert_eq "$(jqr "$own | map(.leaked_blocks) | add")" 0 "own leaked blocks"
}

# first_alloc FILE : offsets of the first ALLOC's fn and stack fields
first_alloc() {
	python3 - "$1" "$BATS_TEST_DIRNAME/tools" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from tracefile import DATA, data_end
import tracefile
d = open(sys.argv[1], 'rb').read()
end = data_end(d)
ids = int.from_bytes(d[36:40], 'little') & 4
def varint(p):
    return tracefile.varint(d, p)
p = DATA
while p < end:
    tag, q = varint(p)
    k = tag & 15
    if k == 2:
        fn = q
        # allocation ids (flag 4): fn2, size, stack; else fn, size, addr, stack
        for _ in range(2 if ids else 3): _, q = varint(q)
        print(fn, q)
        break
    if k == 15:
        n, q = varint(q); p = q + n
    elif k == 5:
        _, q = varint(q); _, q = varint(q); p = q
    elif k in (3, 8):
        _, q = varint(q); p = q
    else:
        break
PY
}

@test "a corrupted delta-coded record: clear error naming the file and offset" {
	PROFSHIM_RECORD=mem run_shim "$TMP/t" ls / >/dev/null
	read -r fn stack < <(first_alloc "$TMP/t.t1")
	[ -n "$stack" ]
	cp "$TMP/t.t1" "$TMP/good.t1"
	# a stack delta that lands on a node never defined
	printf '\x7e' | dd of="$TMP/t.t1" bs=1 seek="$stack" conv=notrunc status=none
	run "$PROFANALYZE" -q "$TMP/t"
	[ "$status" -eq 1 ]
	[[ "$output" == *"t.t1: offset "*": stack node id "*" used before it is defined"* ]]
	cp "$TMP/good.t1" "$TMP/t.t1"
	printf '\x7f' | dd of="$TMP/t.t1" bs=1 seek="$fn" conv=notrunc status=none
	run "$PROFANALYZE" -q "$TMP/t"
	[ "$status" -eq 1 ]
	# fn2 = 127 with allocation ids: function 127 >> 3
	[[ "$output" == *"t.t1: offset "*": unknown allocation function 15"* ]]
	cp "$TMP/good.t1" "$TMP/t.t1"
	run "$PROFANALYZE" -q "$TMP/t"
	[ "$status" -eq 0 ]
}
