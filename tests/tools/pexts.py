#!/usr/bin/env python3
"""List the EXT records of a profshim process file, one per line:
KIND and the first varints of its body (up to four, as far as the body
holds them). For tests that check which records a process wrote."""
import sys

from tracefile import DATA, varint



def main(path):
    d = open(path, "rb").read()
    p = DATA
    while p < len(d) and d[p]:
        tag, p = varint(d, p)
        if tag & 15 != 15:  # EXT records only (process files hold no other)
            break
        n, p = varint(d, p)
        body, end, fields = p, p + n, []
        q = body
        while q < end and len(fields) < 4:
            v, q = varint(d, q)
            if q > end:
                break
            fields.append(v)
        print(tag >> 4, *fields)
        p = end


if __name__ == "__main__":
    main(sys.argv[1])
