#!/usr/bin/env bash
# make test: unit tests and bats suites, then again with profanalyze and the
# unit tests built with ASan/UBSan. Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
passed=0 failed=0

count_unit() { # lines "...: N passed, M failed"
	local p f
	p=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' "$log" | awk '{s += $1} END {print s + 0}')
	f=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' "$log" | awk '{s += $3} END {print s + 0}')
	passed=$((passed + p))
	failed=$((failed + f))
}

count_tap() {
	local p f
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	passed=$((passed + p))
	failed=$((failed + f))
}

run_phase() { # NAME COMMAND... : run, show output, count results
	echo "=== $1"
	shift
	"$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	if grep -qE '^(ok|not ok) ' "$log"; then count_tap; else count_unit; fi
	if [ "$rc" -ne 0 ] && ! grep -qE '^not ok |[1-9][0-9]* failed' "$log"; then
		echo "phase failed without a test result (exit $rc)"
		failed=$((failed + 1))
	fi
}

make -s test-progs >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
run_phase "unit tests" bash tests/run-unit.sh build/tests/unit/*
run_phase "end-to-end (bats)" bats --tap tests/*.bats
make -s BUILD=build-asan BASE_CFLAGS="-std=gnu11 -O1 -g -Wall -Wextra -Werror -Iinclude -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	ANALYZE_LIBS="$(make -s print-ANALYZE_LIBS) -fsanitize=address,undefined" \
	build-asan/profanalyze $(ls tests/unit/*.c | sed 's|tests/unit/\(.*\)\.c|build-asan/tests/unit/\1|') >/dev/null ||
	{ echo "ASan build failed"; failed=$((failed + 1)); }
find build/tests -maxdepth 1 -type f -exec cp {} build-asan/tests/ \;
run_phase "unit tests (ASan/UBSan)" bash tests/run-unit.sh build-asan/tests/unit/*
# The second pass checks profanalyze under ASan/UBSan: every suite that
# reads traces, but not again the two whose time goes into real servers and
# programs under the shim (the shim is not rebuilt with ASan; they ran above).
asan_suites=$(ls tests/*.bats | grep -vE '/(cpu_trust|io_servers)\.bats$')
# shellcheck disable=SC2086
PROFANALYZE="$PWD/build-asan/profanalyze" run_phase "end-to-end with ASan/UBSan profanalyze" bats --tap $asan_suites
echo
echo "make test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
