# Shared helpers for the bats suites. Load with: load helpers
ROOT="$(cd "$(dirname "${BATS_TEST_FILENAME}")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build}"
SHIM="$BUILD/libprofshim.so"
# PROFANALYZE may point at the ASan/UBSan build (make test-asan).
PROFANALYZE="${PROFANALYZE:-$BUILD/profanalyze}"
PROGS="$BUILD/tests"

setup_tmp() {
	TMP="$(mktemp -d "${BATS_TMPDIR:-/tmp}/profshim.XXXXXX")"
}

teardown_tmp() {
	[ -n "${TMP:-}" ] && rm -rf "$TMP"
}

# run_shim TRACE PROG ARGS... : run a test program under the shim.
run_shim() {
	local trace="$1"
	shift
	PROFSHIM_OUTPUT="$trace" LD_PRELOAD="$SHIM" "$@"
}

# analyze_json TRACE [OPTIONS...] : JSON report into $TMP/report.json
analyze_json() {
	local trace="$1"
	shift
	"$PROFANALYZE" "$trace" --format=json -o "$TMP/report.json" "$@"
}

# jqr FILTER : query the last JSON report
jqr() {
	jq -r "$1" "$TMP/report.json"
}

# assert_eq ACTUAL EXPECTED [WHAT]
assert_eq() {
	if [ "$1" != "$2" ]; then
		echo "expected ${3:-value} = '$2', got '$1'" >&2
		return 1
	fi
}

# assert_within ACTUAL EXPECTED PERCENT [WHAT]
assert_within() {
	if ! awk -v a="$1" -v e="$2" -v p="$3" 'BEGIN { d = a - e; if (d < 0) d = -d; exit !(d <= e * p / 100) }'; then
		echo "expected ${4:-value} = $2 within $3%, got $1" >&2
		return 1
	fi
}

# assert_span RECORDED MEASURED PERCENT [WHAT] : a time the profiler recorded
# around code that measured itself inside (first to last statement). The
# recorded span holds the measured one, so it is never shorter (but for
# rounding and the two clocks' calibration: 0.1% + 0.05 ms); it is longer
# only by the hooks, within PERCENT plus 5 ms (a preemption in the hooks'
# few microseconds on a loaded machine: a time slice or two).
assert_span() {
	if ! awk -v a="$1" -v m="$2" -v p="$3" 'BEGIN { exit !(a >= m * 0.999 - 0.05 && a <= m * (1 + p / 100) + 5) }'; then
		echo "expected ${4:-value} to span the measured $2 ms (+$3% +5 ms), got $1" >&2
		return 1
	fi
}
