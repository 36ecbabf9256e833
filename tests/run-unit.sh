#!/usr/bin/env bash
# Run C unit test binaries; each prints its own "N passed, N failed" line.
fail=0
for t in "$@"; do
	echo "# $t"
	"$t" || fail=1
done
exit $fail
