/* Unit tests of the chunk-header read sampling mode's fast paths count
 * blocks with (preload/mem/glibc_chunk.h), against glibc's own
 * malloc_usable_size: equal for every heap chunk (every size class up to
 * the mmap threshold, from malloc, calloc, realloc, memalign,
 * posix_memalign, aligned_alloc), 8 more for an mmapped chunk, and never
 * below CHUNK_MIN (the bootstrap arena's mark). This binary is linked to
 * glibc's allocator directly, not the shim. */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../preload/mem/glibc_chunk.h"
#include "unit.h"

#define IS_MMAPPED 2

/* The header word of p: the compiler knows malloc's block starts at p and
 * warns that the word before it is out of bounds unless p's origin is
 * hidden from it. */
static size_t header(void *p)
{
	__asm__("" : "+r"(p));
	return chunk_word(p);
}

/* What the fast paths count for p, against malloc_usable_size. */
static int agrees(void *p)
{
	if (!p)
		return 0;
	size_t word = header(p);
	size_t want = malloc_usable_size(p) + ((word & IS_MMAPPED) ? sizeof(size_t) : 0);
	return word >= CHUNK_MIN && chunk_bytes(word) == want;
}

/* Every size class of the heap (16-byte steps) and around the mmap
 * threshold, with a block kept between calls so the sizes come from
 * different places (tcache, fast bins, splits of the top chunk). */
static void test_size_classes(void)
{
	int bad = 0, n = 0;
	void *keep[64] = {0};
	for (size_t size = 0; size <= 140 * 1024; size += size < 4096 ? 1 : 16, n++) {
		void *p = malloc(size);
		bad += !agrees(p);
		free(keep[n & 63]);
		keep[n & 63] = p;
	}
	for (int i = 0; i < 64; i++)
		free(keep[i]);
	CHECK(bad == 0);
	CHECK(n > 10000);
}

static void test_mmapped(void)
{
	int mmapped = 0, bad = 0;
	for (size_t size = 128 * 1024; size <= 8u << 20; size = size * 3 / 2) {
		void *p = malloc(size);
		mmapped += (header(p) & IS_MMAPPED) != 0;
		bad += !agrees(p);
		free(p);
	}
	CHECK(bad == 0);
	CHECK(mmapped > 0); /* the case was really there */
}

static void test_other_calls(void)
{
	int bad = 0;
	for (size_t size = 1; size < 300000; size = size * 5 / 4 + 1) {
		void *c = calloc(1, size);
		bad += !agrees(c);
		void *r = realloc(c, size * 3 + 7); /* grown, moved or in place */
		bad += !agrees(r);
		r = realloc(r, size / 2 + 1); /* shrunk in place */
		bad += !agrees(r);
		free(r);
		for (size_t align = 16; align <= 8192; align *= 4) {
			void *m = memalign(align, size);
			bad += !agrees(m) || ((uintptr_t)m & (align - 1));
			void *q = NULL;
			bad += posix_memalign(&q, align, size) != 0 || !agrees(q);
			void *a = aligned_alloc(align, (size + align - 1) & ~(align - 1));
			bad += !agrees(a);
			free(m);
			free(q);
			free(a);
		}
	}
	CHECK(bad == 0);
}

/* Blocks of another thread's arena carry the NON_MAIN_ARENA bit. */
static void *arena_worker(void *arg)
{
	int *bad = arg;
	for (size_t size = 1; size < 70000; size = size * 3 / 2 + 1) {
		void *p = malloc(size);
		*bad += !agrees(p);
		free(p);
	}
	return NULL;
}

static void test_thread_arena(void)
{
	int bad = 0;
	pthread_t th;
	CHECK(pthread_create(&th, NULL, arena_worker, &bad) == 0);
	pthread_join(th, NULL);
	CHECK(bad == 0);
}

int main(void)
{
#ifdef __SANITIZE_ADDRESS__
	/* ASan's allocator has no glibc chunks (and reading the word before a
	 * block is an overflow there): nothing to check */
	puts("test_glibc_chunk: skipped under AddressSanitizer");
	return 0;
#endif
	test_size_classes();
	test_mmapped();
	test_other_calls();
	test_thread_arena();
	return UNIT_DONE();
}
