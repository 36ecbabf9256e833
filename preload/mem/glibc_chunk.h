/*
 * glibc's chunk header, read by sampling mode's fast paths to count a
 * block's bytes without a call (malloc_usable_size is a call and a dozen
 * instructions on the hottest path).
 *
 * glibc keeps, in the word just before every block it returns, the size of
 * the chunk holding it with three flag bits in the low bits (PREV_INUSE 1,
 * IS_MMAPPED 2, NON_MAIN_ARENA 4). The layout is glibc's documented
 * malloc_chunk (malloc/malloc.c) and has not changed since glibc 2.x's
 * start. The shim reads it only when the allocator below is glibc's
 * (mem.c: glibc_chunks, decided once); other allocators get
 * malloc_usable_size.
 *
 * What chunk_bytes gives (tests/unit/test_glibc_chunk.c checks it on every
 * size class, calloc'd, memalign'd and realloc'd blocks and mmapped ones):
 *  - a heap chunk: exactly malloc_usable_size (the chunk less its one-word
 *    header);
 *  - an mmapped chunk (128 KiB or more): malloc_usable_size + 8 (its header
 *    is two words). The same at its allocation and its free, so the exact
 *    live bytes still add up; an 8-byte overcount on >= 128 KiB is not
 *    worth two more instructions on every call.
 */
#ifndef PS_GLIBC_CHUNK_H
#define PS_GLIBC_CHUNK_H

#include <stddef.h>

/* A header word below 16 (glibc's smallest chunk is 32 bytes) is the
 * shim's bootstrap arena's: its blocks have a zero word there. */
#define CHUNK_MIN 16

static inline size_t chunk_word(const void *p)
{
	return ((const size_t *)p)[-1];
}

static inline size_t chunk_bytes(size_t word)
{
	return (word & ~(size_t)7) - sizeof(size_t);
}

#endif
