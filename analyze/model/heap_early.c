/* Frees before their allocation: see heap_early.h. A small set (a few
 * entries at a time in practice): open addressing, deletion by
 * backward shift. */
#include "heap_early.h"

#include <stdlib.h>

#include "session.h"

static size_t slot_of(const struct heap_early *e, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (e->cap - 1);
}

static void grow(struct heap_early *e)
{
	struct heap_early_entry *old = e->slots;
	size_t old_cap = e->cap;
	e->cap = e->cap ? e->cap * 2 : 64;
	e->slots = pa_xcalloc(e->cap, sizeof(*e->slots));
	for (size_t i = 0; i < old_cap; i++) {
		if (!old[i].key)
			continue;
		size_t j = slot_of(e, old[i].key);
		while (e->slots[j].key)
			j = (j + 1) & (e->cap - 1);
		e->slots[j] = old[i];
	}
	free(old);
}

void heap_early_add(struct heap_early *e, uint64_t key, bool is_free, bool counted)
{
	if ((e->len + 1) * 2 > e->cap)
		grow(e);
	size_t i = slot_of(e, key);
	while (e->slots[i].key && e->slots[i].key != key)
		i = (i + 1) & (e->cap - 1);
	if (!e->slots[i].key)
		e->len++;
	e->slots[i] = (struct heap_early_entry){.key = key, .is_free = is_free, .counted = counted};
}

bool heap_early_take_slow(struct heap_early *e, uint64_t key, struct heap_early_entry *out)
{
	size_t mask = e->cap - 1, i = slot_of(e, key);
	while (e->slots[i].key != key) {
		if (!e->slots[i].key)
			return false;
		i = (i + 1) & mask;
	}
	*out = e->slots[i];
	e->slots[i].key = 0;
	e->len--;
	/* close the gap: move back later members whose home is not between */
	for (size_t j = (i + 1) & mask; e->slots[j].key; j = (j + 1) & mask) {
		size_t home = slot_of(e, e->slots[j].key);
		bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
		if (movable) {
			e->slots[i] = e->slots[j];
			e->slots[j].key = 0;
			i = j;
		}
	}
	return true;
}

uint64_t heap_early_counted_left(const struct heap_early *e)
{
	uint64_t n = 0;
	for (size_t i = 0; i < e->cap; i++)
		n += e->slots[i].key && e->slots[i].counted;
	return n;
}

void heap_early_free(struct heap_early *e)
{
	free(e->slots);
	e->slots = NULL;
	e->cap = e->len = 0;
}
