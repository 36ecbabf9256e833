#!/usr/bin/env python3
"""Offsets in a profshim thread file written with allocation ids
(PST_FLAG_ALLOC_IDS): of the first ALLOC's fn2 field, of its stack field,
and of the first FREE's ref, as "FN STACK FREE" (0 = none). The bad-input
corpus and tests/mem_ids.bats damage records at these places."""
import sys

import tracefile


def main(path):
    d = open(path, "rb").read()
    end = tracefile.data_end(d)
    if not int.from_bytes(d[36:40], "little") & 4:
        sys.exit("%s: no allocation ids (PST_FLAG_ALLOC_IDS)" % path)

    def varint(p):
        return tracefile.varint(d, p)

    def skip(q, count):
        for _ in range(count):
            _, q = varint(q)
        return q

    def ref(q):  # low 2 bits: 1 = an address follows, 2 = seq and n follow
        r, q = varint(q)
        return skip(q, {1: 1, 2: 2}.get(r & 3, 0))

    p, fn, stack, free = tracefile.DATA, 0, 0, 0
    while p < end and not (fn and free):
        tag, q = varint(p)
        k = tag & 15
        if k == 2:  # ALLOC: fn2, size, stack[, addr][, old ref]
            fn2, q = varint(q)
            fn = fn or q - 1
            q = skip(q, 1)
            stack = stack or q
            q = skip(q, 1 + (fn2 >> 1 & 1))
            p = ref(q) if fn2 >> 3 in (2, 3) else q  # REALLOC, REALLOCARRAY
        elif k == 3:  # FREE: ref
            free = free or q
            p = ref(q)
        elif k == 15:  # EXT: n bytes
            n, q = varint(q)
            p = q + n
        elif k == 5:
            p = skip(q, 2)
        elif k == 7:  # MARK: pc, str
            q = skip(q, 1)
            n, q = varint(q)
            p = q + n
        elif k == 8:
            p = skip(q, 1)
        else:
            break
    print(fn, stack, free)


if __name__ == "__main__":
    main(sys.argv[1])
