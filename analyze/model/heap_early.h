/*
 * Frees that come before their allocation (ALLOCATION IDS in
 * include/profshim_trace.h): each thread's memory event times are rounded
 * to a microsecond on their own, so a FREE (or realloc) in one thread can
 * sort before another thread's ALLOC of the same numbered block. The heap
 * model keeps such a block key here and ends the block as soon as its
 * ALLOC comes. Only numbered blocks (keys with bit 63) go here: a real
 * address unknown at its free was allocated before the shim saw it.
 */
#ifndef PA_HEAP_EARLY_H
#define PA_HEAP_EARLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct heap_early_entry {
	uint64_t key; /* 0 = empty */
	bool is_free; /* a free (else a realloc that moved the block away) */
	bool counted; /* the free is in the model's count of frees already */
};

struct heap_early {
	struct heap_early_entry *slots;
	size_t cap, len;
};

/* A numbered block's key (never a user address)? */
static inline bool heap_early_numbered(uint64_t key)
{
	return key >> 63;
}
void heap_early_add(struct heap_early *e, uint64_t key, bool is_free, bool counted);
/* Take key's entry out into *out; false when there is none. Cheap while
 * the set is empty (nearly always). */
bool heap_early_take_slow(struct heap_early *e, uint64_t key, struct heap_early_entry *out);
static inline bool heap_early_take(struct heap_early *e, uint64_t key, struct heap_early_entry *out)
{
	return __builtin_expect(e->len != 0, 0) && heap_early_take_slow(e, key, out);
}
/* Entries left at the end whose free was counted (their ALLOC was lost). */
uint64_t heap_early_counted_left(const struct heap_early *e);
void heap_early_free(struct heap_early *e);

#endif
