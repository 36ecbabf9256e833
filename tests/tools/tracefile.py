"""What the test tools share about profshim trace files (include/profshim_trace.h):
where records start and how a varint is read."""

DATA = 4096  # records start here, after the header page


def data_end(d):
    """Where the committed records end: DATA + the header's `committed`."""
    return DATA + int.from_bytes(d[16:24], "little")


def varint(d, p):
    """The unsigned LEB128 varint at d[p]: (value, offset after it)."""
    v = s = 0
    while True:
        b = d[p]
        p += 1
        v |= (b & 0x7F) << s
        s += 7
        if b < 0x80:
            return v, p
