#!/usr/bin/env bash
# Regenerates the bad-input corpus (seeds for tools/fuzz.sh too) from one
# small real trace. Each NAME.trace (+ NAME.trace.t1) is a broken session.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PROFSHIM_OUTPUT="$tmp/base.trace" PROFSHIM_RECORD=none LD_PRELOAD="$root/build/libprofshim.so" \
	"$root/build/tests/core_crash" exit 5
rm -f "$here"/*.trace "$here"/*.trace.t*
mk() { # NAME : copy the base session under NAME
	cp "$tmp/base.trace" "$here/$1.trace"
	cp "$tmp/base.trace.t1" "$here/$1.trace.t1"
}
poke() { # FILE OFFSET HEX
	printf "$(echo "$3" | sed 's/\(..\)/\\x\1/g')" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
mk valid
mk empty; : > "$here/empty.trace"
mk short-header; truncate -s 20 "$here/short-header.trace"
mk bad-version; poke "$here/bad-version.trace" 8 09000000
mk bad-magic; poke "$here/bad-magic.trace" 0 58
mk thread-missing; rm "$here/thread-missing.trace.t1"
mk thread-cut; truncate -s 4100 "$here/thread-cut.trace.t1"
mk unknown-kind; poke "$here/unknown-kind.trace.t1" 4096 0c
mk overlong-varint; poke "$here/overlong-varint.trace.t1" 4096 ffffffffffffffffffffff
mk ext-too-long; poke "$here/ext-too-long.trace" 4097 ffff03
mk committed-huge; poke "$here/committed-huge.trace.t1" 16 ffffffff
mk stack-undefined; printf '\x24\x01\x05\x00' >> "$here/stack-undefined.trace.t1"
size=$(stat -c %s "$here/stack-undefined.trace.t1")
poke "$here/stack-undefined.trace.t1" 16 "$(printf '%02x' $((size - 4096)))000000"
mk torn-tail; printf '\x27\x91' >> "$here/torn-tail.trace.t1"
mk process-event; poke "$here/process-event.trace" 4096 07
echo "corpus: $(ls "$here"/*.trace | wc -l) sessions in $here"
