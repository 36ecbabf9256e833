#!/usr/bin/env bash
# Regenerates the bad-input corpus (seeds for tools/fuzz.sh too) from one
# small real trace. Each NAME.trace (+ NAME.trace.t1) is a broken session.
# Usage: make-corpus.sh [DIR] (default: this folder; tests/badinput.bats
# makes it in its own temporary folder).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
out="${1:-$here}"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PROFSHIM_OUTPUT="$tmp/base.trace" PROFSHIM_RECORD=none LD_PRELOAD="$root/build/libprofshim.so" \
	"$root/build/tests/core_crash" exit 5
rm -f "$out"/*.trace "$out"/*.trace.t*
mk() { # NAME : copy the base session under NAME
	cp "$tmp/base.trace" "$out/$1.trace"
	cp "$tmp/base.trace.t1" "$out/$1.trace.t1"
}
poke() { # FILE OFFSET HEX
	printf "$(echo "$3" | sed 's/\(..\)/\\x\1/g')" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
mk valid
mk empty; : > "$out/empty.trace"
mk short-header; truncate -s 20 "$out/short-header.trace"
mk bad-version; poke "$out/bad-version.trace" 8 09000000
mk bad-magic; poke "$out/bad-magic.trace" 0 58
mk thread-missing; rm "$out/thread-missing.trace.t1"
mk thread-cut; truncate -s 4100 "$out/thread-cut.trace.t1"
mk unknown-kind; poke "$out/unknown-kind.trace.t1" 4096 0c
mk overlong-varint; poke "$out/overlong-varint.trace.t1" 4096 ffffffffffffffffffffff
mk ext-too-long; poke "$out/ext-too-long.trace" 4097 ffff03
mk committed-huge; poke "$out/committed-huge.trace.t1" 16 ffffffff
mk stack-undefined; printf '\x24\x01\x05\x00' >> "$out/stack-undefined.trace.t1"
size=$(stat -c %s "$out/stack-undefined.trace.t1")
poke "$out/stack-undefined.trace.t1" 16 "$(printf '%02x' $((size - 4096)))000000"
mk torn-tail; printf '\x27\x91' >> "$out/torn-tail.trace.t1"
mk process-event; poke "$out/process-event.trace" 4096 07
# io recorder sessions (record kinds 9-11): a valid one and damaged records
PROFSHIM_OUTPUT="$tmp/io.trace" PROFSHIM_RECORD=io LD_PRELOAD="$root/build/libprofshim.so" \
	"$root/build/tests/io_known" "$tmp" >/dev/null
mk_io() { # NAME
	cp "$tmp/io.trace" "$out/$1.trace"
	cp "$tmp/io.trace.t1" "$out/$1.trace.t1"
}
# offsets of the first IO (kind 9) and FD (kind 10) records' first field
io_offsets=$(python3 - "$tmp/io.trace.t1" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
end = 4096 + int.from_bytes(d[16:24], 'little')
def varint(p):
    v = s = 0
    while True:
        b = d[p]; p += 1; v |= (b & 0x7f) << s; s += 7
        if b < 0x80: return v, p
p, first = 4096, {}
while p < end and len(first) < 2:
    tag, q = varint(p)
    k = tag & 15
    if k in (9, 10) and k not in first:
        first[k] = q
    if k == 15:
        n, q = varint(q); p = q + n
    elif k == 5:
        _, q = varint(q); _, q = varint(q); p = q
    elif k == 10:
        for _ in range(4): _, q = varint(q)
        for _ in range(2):
            n, q = varint(q); q += n
        p = q
    elif k == 9:
        for _ in range(8): _, q = varint(q)
        p = q
    else:
        break
print(first.get(9, 0), first.get(10, 0))
PY
)
io_op=${io_offsets% *}
fd_field=${io_offsets#* }
mk_io io-valid
mk_io io-bad-op; poke "$out/io-bad-op.trace.t1" "$io_op" 7f
mk_io io-bad-fd-kind; poke "$out/io-bad-fd-kind.trace.t1" "$((fd_field + 1))" 7f
mk_io io-cut; truncate -s $((io_op + 2)) "$out/io-cut.trace.t1"
# memory sessions: delta-coded ALLOC/FREE records (PST_FLAG_DELTA)
PROFSHIM_OUTPUT="$tmp/mem.trace" PROFSHIM_RECORD=mem LD_PRELOAD="$root/build/libprofshim.so" \
	ls / >/dev/null
mk_mem() { # NAME
	cp "$tmp/mem.trace" "$out/$1.trace"
	cp "$tmp/mem.trace.t1" "$out/$1.trace.t1"
}
# offsets of the first ALLOC's fn and stack fields, and of the first FREE's
# ref (allocation ids, PST_FLAG_ALLOC_IDS: fn2, size, stack[, addr][, ref])
mem_offsets=$(python3 "$root/tests/tools/memoffsets.py" "$tmp/mem.trace.t1")
read -r mem_fn mem_stack mem_free <<< "$mem_offsets"
mk_mem mem-valid
mk_mem mem-bad-fn; poke "$out/mem-bad-fn.trace.t1" "$mem_fn" 7f
mk_mem mem-cut; truncate -s $((mem_fn + 2)) "$out/mem-cut.trace.t1"
# a stack delta that lands on a node never defined
mk_mem mem-bad-stack-delta; poke "$out/mem-bad-stack-delta.trace.t1" "$mem_stack" 7e
# allocation ids: two flag bits at once; a ref with unknown bits; a ref to
# a block out of range (n < 1); a time shift out of range; a FREE cut short
mk_mem ids-bad-flags; poke "$out/ids-bad-flags.trace.t1" "$mem_fn" 03
mk_mem ids-ref-bits; poke "$out/ids-ref-bits.trace.t1" "$mem_free" 05
mk_mem ids-ref-range; poke "$out/ids-ref-range.trace.t1" "$mem_free" 7f
mk_mem ids-bad-shift; poke "$out/ids-bad-shift.trace.t1" 48 ff
mk_mem ids-cut; truncate -s $((mem_free)) "$out/ids-cut.trace.t1"
# compressed runs (record kind 12): small windows so that a short session
# holds several zstd blocks and stays under the fuzzer's 64 KiB
PROFSHIM_OUTPUT="$tmp/z.trace" PROFSHIM_RECORD=none PROFSHIM_BUFFER_KB=256 \
	LD_PRELOAD="$root/build/libprofshim.so" "$root/build/tests/core_crash" exit 20000
mk_z() { # NAME
	cp "$tmp/z.trace" "$out/$1.trace"
	cp "$tmp/z.trace.t1" "$out/$1.trace.t1"
}
# block 1: its offset and frame length (tests/tools/zblocks.py)
read -r z_off _ _ z_len < <(python3 "$root/tests/tools/zblocks.py" "$tmp/z.trace.t1" | head -1)
mk_z z-valid
mk_z z-bad-frame; poke "$out/z-bad-frame.trace.t1" $((z_off + z_len / 2)) deadbeef
mk_z z-bad-block-tag; poke "$out/z-bad-block-tag.trace.t1" "$z_off" 2c
mk_z z-bad-run-pointer; poke "$out/z-bad-run-pointer.trace.t1" $((z_off - 8)) ffffff7f
mk_z z-bad-raw-len; poke "$out/z-bad-raw-len.trace.t1" $((z_off + 4)) ff
mk_z z-cut; truncate -s $((z_off + z_len / 2)) "$out/z-cut.trace.t1"
echo "corpus: $(ls "$out"/*.trace | wc -l) sessions in $out"
