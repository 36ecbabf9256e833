#!/usr/bin/env python3
"""List the compressed blocks of a profshim thread file (COMPRESSED RUNS in
include/profshim_trace.h): one line per block, "offset seq raw_len zlen"
(--after: and what follows it),
offset = the BLOCK record's file offset. Finds the first BLOCK (its RUN
record names it back), then follows the chain RUN -> BLOCK -> RUN ...
(PADs after a BLOCK skipped)."""
import struct
import sys

from tracefile import DATA, varint


def run_zpos(d, r):
    """zpos of the RUN record at file offset r, and where its records start."""
    n, q = varint(d, r + 1)
    return struct.unpack_from("<Q", d, q + n)[0], q + n + 8


def block(d, at):
    _, p = varint(d, at)
    seq, p = varint(d, p)
    run, p = varint(d, p)
    raw, p = varint(d, p)
    zlen, p = varint(d, p)
    return seq, run, raw, zlen, p + zlen


def first_block(d, end):
    i = d.find(b"\x1c", 2 * DATA, end)
    while 0 <= i < end:
        try:
            seq, run, _, _, _ = block(d, i)
            r = DATA + run
            if seq == 1 and r < i and d[r] == 0x0C and run_zpos(d, r)[0] == i - DATA:
                return r
        except (IndexError, struct.error):
            pass
        i = d.find(b"\x1c", i + 1, end)
    return None


PAD = bytes([0x8F, 0x07])  # EXT tag of PAD (56 << 4 | 15)


def skip_pads(d, r, end):
    """Past the PAD records at r (the compressor thread's BLOCKs are
    followed by one, up to the next RUN)."""
    while r < end and d[r : r + 2] == PAD:
        n, q = varint(d, r + 2)
        r = q + n
    return r


def blocks(path):
    d = open(path, "rb").read()
    end = DATA + struct.unpack_from("<Q", d, 16)[0]
    r = first_block(d, end)
    while r is not None and r < end and d[r] == 0x0C:
        zpos, _ = run_zpos(d, r)
        if not zpos:
            return
        at = DATA + zpos
        seq, _, raw, zlen, r = block(d, at)
        after = "pad" if d[r : r + 2] == PAD else "run" if r < end else "end"
        r = skip_pads(d, r, end)
        yield at, seq, raw, zlen, after


# --after: a 5th column says what follows the block: "pad" (the run was
# handed to the compressor thread at its slide, the block went into room
# reserved after it), "run" (compressed in place) or "end".
after = sys.argv[1:2] == ["--after"]
for path in sys.argv[1 + after :]:
    for b in blocks(path):
        print(*(b if after else b[:4]))
