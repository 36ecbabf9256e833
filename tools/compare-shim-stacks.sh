#!/usr/bin/env bash
# Do two builds of the shim record the same allocation stacks? Traces of
# two runs differ by timing, so the reports are not byte-compared; instead
# each command runs once under each shim (PROFSHIM_RECORD=mem) and the JSON
# memory report's sites are compared: stack (every frame, to the line),
# allocations, bytes, frees. Use deterministic programs.
# usage: tools/compare-shim-stacks.sh OLD_SHIM NEW_SHIM 'COMMAND' ...
# (a COMMAND is split into words; no shell syntax)
# Prints one line per command (same / differs, with the site count);
# exit 1 when any differs.
set -uo pipefail
if [ $# -lt 3 ]; then
	echo "usage: $0 OLD_SHIM NEW_SHIM 'COMMAND' ..." >&2
	exit 2
fi
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ANALYZE="${PROFANALYZE:-${BUILD:-$ROOT/build}/profanalyze}"
old=$1 new=$2
shift 2
TMP="$(mktemp -d "${TMPDIR:-/tmp}/compare-stacks.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
sites() { # SHIM COMMAND OUT
	rm -rf "$TMP/t"*
	# shellcheck disable=SC2086 # the command's words, not a shell under the shim
	PROFSHIM_QUIET=1 PROFSHIM_RECORD=mem PROFSHIM_OUTPUT="$TMP/t" LD_PRELOAD="$1" \
		$2 >/dev/null 2>&1
	"$ANALYZE" "$TMP/t" -q --format=json --top=100000 |
		jq -c '.memory_metrics.top_sites[] | [.stack, .allocations, .bytes, .frees]' |
		sort >"$3"
}
bad=0 i=0
for cmd in "$@"; do
	i=$((i + 1))
	sites "$old" "$cmd" "$TMP/old.$i"
	sites "$new" "$cmd" "$TMP/new.$i"
	n=$(wc -l <"$TMP/new.$i")
	if [ ! -s "$TMP/old.$i" ]; then
		echo "no sites: $cmd"
		bad=1
	elif cmp -s "$TMP/old.$i" "$TMP/new.$i"; then
		echo "same ($n sites): $cmd"
	else
		echo "differs ($(wc -l <"$TMP/old.$i") / $n sites, $(diff "$TMP/old.$i" "$TMP/new.$i" | grep -c '^[<>]') lines): $cmd"
		bad=1
	fi
done
exit $bad
