#!/usr/bin/env bats
# The cached unwinder's reuse of earlier walks (preload/core/unwind_cache.c)
# on known stacks (tests/progs/stack_reuse.c): recursion to several depths,
# two callers with the same inner frames, longjmp out of a deep recursion,
# an allocation in a signal handler, two contexts on the same stack memory. Every site's stack is known; the
# three unwinders (cached, nocache, libunwind) give the same sites.
load helpers

setup() { setup_tmp; }
teardown() { teardown_tmp; }

# sites MODE [STACK_DEPTH]: every site of the run, one a line: stack
# (JSON), allocations, bytes; sorted.
sites() {
	PROFSHIM_UNWIND="$1" PROFSHIM_STACK_DEPTH="${2:-64}" PROFSHIM_OUTPUT="$TMP/$1" \
		LD_PRELOAD="$SHIM" "$PROGS/stack_reuse" >"$TMP/out"
	assert_eq "$(cat "$TMP/out")" "done" "program output"
	"$PROFANALYZE" "$TMP/$1" -q --format=json --top=1000 |
		jq -c '.memory_metrics.top_sites[] | [.stack, .allocations, .bytes]' | sort >"$TMP/$1.sites"
}

# The program's own sites as "size allocations frames", the frames its
# functions (innermost first, a run of one function as NAMExCOUNT), summed
# over sites with the same frames (main's lines differ).
known() {
	jq -r 'select(.[0][0] | startswith("alloc_at "))
	       | "\(.[2] / .[1]) \(.[1]) \([.[0][] | select(test("stack_reuse[.]c:"))
	                                    | sub(" .*"; "")] | join(";"))"' "$TMP/$1.sites" |
		awk '{
			n = split($3, f, ";"); out = ""; i = 1
			while (i <= n) {
				j = i; while (j < n && f[j + 1] == f[i]) j++
				out = out (out == "" ? "" : ";") f[i] (j > i ? "x" (j - i + 1) : "")
				i = j + 1
			}
			sum[$1 " " out] += $2
		} END { for (k in sum) { split(k, a, " "); print a[1], sum[k], a[2] } }' | sort -n
}

@test "stack reuse: every site's stack is the known one" {
	sites cached
	known cached >"$TMP/got"
	cat >"$TMP/want" <<'WANT'
100 12 alloc_at;rec;main
101 12 alloc_at;recx2;main
107 12 alloc_at;recx8;main
140 12 alloc_at;recx41;main
300 10 alloc_at;recx8;start_c;main
300 20 alloc_at;recx8;start_b;main
400 10 alloc_at;jump_downx31;main
401 10 alloc_at;recx4;main
402 10 alloc_at;recx31;main
500 3 alloc_at;on_signal;sig_recx6;main
501 3 alloc_at;sig_recx6;main
600 5 alloc_at;recx4;fiber_x
601 5 alloc_at;recx4;fiber_y
WANT
	diff "$TMP/want" "$TMP/got"
}

@test "stack reuse: the same sites as libunwind's and as walks without reuse, to the line" {
	for mode in libunwind nocache cached; do sites "$mode"; done
	[ "$(grep -c '"alloc_at ' "$TMP/cached.sites")" -ge 13 ]
	diff "$TMP/libunwind.sites" "$TMP/nocache.sites"
	diff "$TMP/libunwind.sites" "$TMP/cached.sites"
}

@test "stack reuse: stacks cut at a depth limit are cut the same" {
	for mode in libunwind cached; do sites "$mode" 20; done
	# the 40 and 30 deep recursions are cut to 20 frames, none of them
	# main's: 12 x 140 and 10 x 402 bytes through rec (one site), 10 x 400
	# through jump_down
	local cut
	cut=$(jq -s -r '[.[] | select((.[0] | length) == 20 and (.[0][0] | startswith("alloc_at "))
	                        and all(.[0][]; startswith("main ") | not))]
	                | "\(length) \(map(.[1]) | add) \(map(.[2]) | add)"' "$TMP/cached.sites")
	assert_eq "$cut" "2 32 9700" "cut sites, their allocations and bytes"
	diff "$TMP/libunwind.sites" "$TMP/cached.sites"
}
