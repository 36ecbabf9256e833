#!/usr/bin/env python3
"""List the compressed blocks of a profshim thread file (COMPRESSED RUNS in
include/profshim_trace.h): one line per block, "offset seq raw_len zlen",
offset = the BLOCK record's file offset. A BLOCK starts on a page boundary
and names its RUN, whose zpos field points back at it."""
import struct
import sys

DATA = 4096


def varint(d, p):
    v = s = 0
    while True:
        b = d[p]
        p += 1
        v |= (b & 0x7F) << s
        s += 7
        if b < 0x80:
            return v, p


def blocks(path):
    d = open(path, "rb").read()
    end = DATA + struct.unpack_from("<Q", d, 16)[0]
    for at in range(2 * DATA, end, 4096):
        if d[at] != 0x1C:
            continue
        _, p = varint(d, at)
        seq, p = varint(d, p)
        run, p = varint(d, p)
        raw, p = varint(d, p)
        zlen, p = varint(d, p)
        # the RUN it names ends on a page boundary with zpos = this block
        r = DATA + run
        if r >= at or d[r] != 0x0C:
            continue
        n, q = varint(d, r + 1)
        if struct.unpack_from("<Q", d, q + n)[0] not in (0, at - DATA):
            continue
        yield at, seq, raw, zlen


for path in sys.argv[1:]:
    for b in blocks(path):
        print(*b)
