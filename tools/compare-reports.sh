#!/usr/bin/env bash
# Byte-compare every report of two profanalyze binaries on a set of traces:
# a speed change to the analyzer must leave every output as it was.
# usage: tools/compare-reports.sh OLD_PROFANALYZE NEW_PROFANALYZE TRACE...
# Per trace: text, json, heapprofile, trace, speedscope, chrome, html,
# folded and pprof (mem, cpu, calls), --heap=peak and --heap=leaked (text,
# folded). Prints one line per difference and a total; exit 1 on any.
set -uo pipefail
if [ $# -lt 3 ]; then
	echo "usage: $0 OLD_PROFANALYZE NEW_PROFANALYZE TRACE..." >&2
	exit 2
fi
old=$1 new=$2
shift 2
TMP="$(mktemp -d "${TMPDIR:-/tmp}/compare-reports.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
variants=(
	"--format=text"
	"--format=json"
	"--format=heapprofile"
	"--format=trace --full"
	"--format=speedscope --full"
	"--format=chrome"
	"--format=html"
	"--format=folded --data=mem"
	"--format=folded --data=cpu"
	"--format=folded --data=calls"
	"--format=pprof --data=mem"
	"--format=pprof --data=cpu"
	"--format=pprof --data=calls"
	"--format=text --heap=peak"
	"--format=text --heap=leaked"
	"--format=folded --data=mem --heap=peak"
	"--format=folded --data=mem --heap=leaked"
	"--format=json --heap=peak"
)
diffs=0 same=0
for trace in "$@"; do
	for v in "${variants[@]}"; do
		# shellcheck disable=SC2086 # v holds several options
		"$old" "$trace" -q $v -o "$TMP/old" >/dev/null 2>"$TMP/old.err"
		o=$?
		# shellcheck disable=SC2086
		"$new" "$trace" -q $v -o "$TMP/new" >/dev/null 2>"$TMP/new.err"
		n=$?
		touch "$TMP/old" "$TMP/new"
		if [ $o != $n ] || ! cmp -s "$TMP/old" "$TMP/new" || ! cmp -s "$TMP/old.err" "$TMP/new.err"; then
			echo "DIFFERS: $trace $v (exit $o vs $n)"
			diffs=$((diffs + 1))
		else
			same=$((same + 1))
		fi
		rm -f "$TMP/old" "$TMP/new"
	done
done
echo "compare-reports: $same identical, $diffs different ($# traces x ${#variants[@]} outputs)"
[ $diffs = 0 ]
