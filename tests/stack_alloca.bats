#!/usr/bin/env bats
# The cached unwinder's check of the program frame's rbp (ps_top_same in
# preload/core/unwind_fast.h) on two stacks that only the rbp tells apart
# (tests/progs/stack_alloca.c): the same return address and stack pointer
# at the allocation, every slot the kept walk read holding its value again,
# a different caller. Without the check B's allocations get A's stack.
load helpers

setup() { setup_tmp; }
teardown() { teardown_tmp; }

# f's sites of a run in mode $1: "allocations bytes frames" (the program's
# frames f, A or B and main), sorted.
f_sites() {
	PROFSHIM_UNWIND="$1" PROFSHIM_OUTPUT="$TMP/$1" LD_PRELOAD="$SHIM" \
		"$PROGS/stack_alloca" >"$TMP/out"
	assert_eq "$(cat "$TMP/out")" "done" "program output"
	"$PROFANALYZE" "$TMP/$1" -q --format=json --top=1000 |
		jq -r '.memory_metrics.top_sites[] | select(.stack[0] | startswith("f "))
		       | "\(.allocations) \(.bytes) \([.stack[] | select(test("stack_alloca[.]c:"))
		                                     | sub(" .*"; "")] | join(";"))"' | sort
}

@test "stack alloca: the same ip, sp and slots under another rbp is another stack" {
	for mode in cached nocache libunwind; do
		f_sites "$mode" >"$TMP/got.$mode"
		printf '10 7000 f;A;main\n10 8000 f;B;main\n' | diff - "$TMP/got.$mode"
	done
}
