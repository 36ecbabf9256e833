/* Arena and interned strings: see strtab.h. */
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "strtab.h"

#define ARENA_CHUNK (64 * 1024)

struct pa_arena_chunk {
	struct pa_arena_chunk *next;
	size_t used, cap;
	char data[];
};

void *pa_arena_alloc(struct pa_arena_chunk **head, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	struct pa_arena_chunk *c = *head;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		c = pa_xmalloc(sizeof(*c) + cap);
		c->next = *head;
		c->used = 0;
		c->cap = cap;
		*head = c;
	}
	void *p = c->data + c->used;
	c->used += n;
	return p;
}

void pa_arena_free(struct pa_arena_chunk *c)
{
	while (c) {
		struct pa_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static const char *insert(struct pa_strtab *t, const char *s, uint64_t h)
{
	size_t mask = t->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		if (!t->slots[i]) {
			t->slots[i] = s;
			return s;
		}
	}
}

static void grow(struct pa_strtab *t)
{
	const char **old = t->slots;
	size_t old_cap = t->cap;
	t->cap = old_cap ? old_cap * 2 : 1024;
	t->slots = pa_xcalloc(t->cap, sizeof(*t->slots));
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			insert(t, old[i], hash_str(old[i]));
	free(old);
}

const char *pa_strtab_intern(struct pa_strtab *t, const char *s)
{
	if (!s)
		return NULL;
	if (2 * (t->used + 1) > t->cap)
		grow(t);
	uint64_t h = hash_str(s);
	size_t mask = t->cap - 1;
	for (size_t i = h & mask; t->slots[i]; i = (i + 1) & mask)
		if (strcmp(t->slots[i], s) == 0)
			return t->slots[i];
	size_t n = strlen(s) + 1;
	char *copy = pa_arena_alloc(&t->arena, n);
	memcpy(copy, s, n);
	t->used++;
	return insert(t, copy, h);
}

void pa_strtab_free(struct pa_strtab *t)
{
	free(t->slots);
	pa_arena_free(t->arena);
	memset(t, 0, sizeof(*t));
}
