#!/usr/bin/env bash
# Symbolizer speed: 100k distinct return addresses spread over libc
# (with its /usr/lib/debug info when libc6-dbg is installed), cold (opening
# and indexing included) and cached; 3 runs, each line printed. For
# comparison, binutils addr2line -f -i -C on 10k of the same kind of
# addresses (one process, addresses on stdin).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${BUILD:-build}"
make -s "$BUILD/tests/unit/test_symbols" "$BUILD/tests/sym_lib.so" "$BUILD/tests/sym_cxx" >/dev/null
echo "== profanalyze symbolizer (tests/unit/test_symbols speed report)"
for _ in 1 2 3; do
	TEST_SYMBOLS_SPEED=1 "$BUILD/tests/unit/test_symbols" | grep '^speed'
done
libc=$(ldd /bin/true | awk '/libc.so/ {print $3}')
if command -v addr2line >/dev/null && [ -n "$libc" ]; then
	size=$(stat -c %s "$libc")
	echo "== addr2line -f -i -C on 10000 addresses over $libc"
	awk -v n=10000 -v s="$size" 'BEGIN { for (i = 0; i < n; i++) printf "0x%x\n", i * int(s / n) }' \
		>/tmp/bench-symbols.$$
	/usr/bin/time -f "addr2line: %e s for 10000" addr2line -f -i -C -e "$libc" </tmp/bench-symbols.$$ >/dev/null
	rm -f /tmp/bench-symbols.$$
fi
