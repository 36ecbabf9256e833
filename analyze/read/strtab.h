/*
 * Memory that lives as long as its owner: a bump allocator (frames and
 * strings of the symbolizer) and a table of interned strings (one copy of
 * each function and file name, compared by pointer after that).
 */
#ifndef PA_STRTAB_H
#define PA_STRTAB_H

#include <stddef.h>
#include <stdint.h>

struct pa_arena_chunk;

/* Memory of n bytes (8-aligned) from the arena at *head; freed only with
 * the whole arena. */
void *pa_arena_alloc(struct pa_arena_chunk **head, size_t n);
void pa_arena_free(struct pa_arena_chunk *head);

struct pa_strtab {
	const char **slots;
	size_t cap, used;
	struct pa_arena_chunk *arena; /* the copies */
};

/* The one copy of s (NULL for NULL), valid until pa_strtab_free. */
const char *pa_strtab_intern(struct pa_strtab *t, const char *s);
void pa_strtab_free(struct pa_strtab *t);

/* A 64-bit hash mixer (splitmix64's finalizer). */
static inline uint64_t pa_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

#endif
