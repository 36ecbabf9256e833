/*
 * Call-stack deduplication: a per-thread trie of (parent node, pc) -> node
 * id, written out as STACK records the first time a node is seen, so each
 * allocation or sample carries one id instead of a stack.
 *
 * Bounded memory: when the table fills up it starts empty again; ids keep
 * growing, so old ids stay valid for the reader (their nodes were already
 * written) and new stacks simply get new nodes.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <string.h>

#include "shim.h"
#include "unwind.h"

#define TABLE_BITS 16
#define TABLE_SLOTS (1u << TABLE_BITS)
#define MAX_FILL (TABLE_SLOTS / 4 * 3)
#define CACHE_DEPTH 256

struct slot {
	uintptr_t pc;
	uint64_t parent;
	uint64_t id; /* 0 = empty */
};

struct ps_stack_table {
	/* the allocation unwinder's per-thread cache (unwind_cache.c): its
	 * node ids are this table's, so it lives and dies with it. First:
	 * the unwinder finds it from t->stacks without a call */
	struct ps_unwind_cache unwind;
	uint64_t next_id;
	uint32_t used;
	/* The previous stack, outermost frame first, with its node ids: most
	 * stacks share their outer frames with the one before. */
	uint32_t last_n;
	uintptr_t last_pc[CACHE_DEPTH];
	uint64_t last_node[CACHE_DEPTH];
	struct slot slots[TABLE_SLOTS];
};
_Static_assert(offsetof(struct ps_stack_table, unwind) == 0,
	       "unwind_cache.c reads the cache at t->stacks");

static struct ps_stack_table *table_of(struct ps_thread *t)
{
	if (PS_UNLIKELY(!t->stacks)) {
		t->stacks = ps_alloc_pages(sizeof(struct ps_stack_table));
		if (t->stacks)
			t->stacks->next_id = 1;
	}
	return t->stacks;
}

static inline uint32_t slot_hash(uint64_t parent, uintptr_t pc)
{
	uint64_t h = (pc * 0x9e3779b97f4a7c15ull) ^ (parent * 0xc2b2ae3d27d4eb4full);
	return (uint32_t)(h >> (64 - TABLE_BITS));
}

static void reset_table(struct ps_stack_table *st)
{
	memset(st->slots, 0, sizeof(st->slots));
	st->used = 0;
}

/* Child node of parent for pc, creating (and writing) it when new. */
static uint64_t child_node(struct ps_thread *t, struct ps_stack_table *st, uint64_t parent,
			   uintptr_t pc)
{
	uint32_t i = slot_hash(parent, pc);
	for (;;) {
		struct slot *s = &st->slots[i];
		if (s->id == 0)
			break;
		if (s->pc == pc && s->parent == parent)
			return s->id;
		i = (i + 1) & (TABLE_SLOTS - 1);
	}
	uint8_t *p = ps_reserve(t, 4 * PST_VARINT_MAX);
	if (!p)
		return 0;
	if (st->used >= MAX_FILL) {
		reset_table(st);
		i = slot_hash(parent, pc);
	}
	uint64_t id = st->next_id++;
	st->slots[i] = (struct slot){pc, parent, id};
	st->used++;
	p = pst_put_tag(p, id, PST_K_STACK);
	p = pst_put_varint(p, parent);
	p = pst_put_varint(p, pc);
	ps_commit(t, p);
	return id;
}

uint64_t ps_stack_intern(struct ps_thread *t, const uintptr_t *pcs, int n)
{
	struct ps_stack_table *st = table_of(t);
	if (!st || n <= 0)
		return 0;
	if (n > CACHE_DEPTH)
		n = CACHE_DEPTH;
	/* Outer frames shared with the previous stack reuse its nodes. */
	uint32_t k = 0;
	while (k < st->last_n && k < (uint32_t)n && st->last_pc[k] == pcs[n - 1 - k])
		k++;
	uint64_t node = k ? st->last_node[k - 1] : 0;
	for (uint32_t j = k; j < (uint32_t)n; j++) {
		uintptr_t pc = pcs[n - 1 - j];
		node = child_node(t, st, node, pc);
		if (!node) {
			st->last_n = 0;
			return 0;
		}
		st->last_pc[j] = pc;
		st->last_node[j] = node;
	}
	st->last_n = (uint32_t)n;
	return node;
}

uint64_t ps_stack_intern_site(struct ps_thread *t, uintptr_t pc, bool *fresh)
{
	struct ps_stack_table *st = table_of(t);
	*fresh = false;
	if (!st || !pc)
		return 0;
	/* not through the last-stack cache: that stays the last full stack's */
	uint64_t before = st->next_id;
	uint64_t node = child_node(t, st, 0, pc);
	*fresh = st->next_id != before;
	return node;
}

uint64_t ps_stack_child(struct ps_thread *t, uint64_t parent, uintptr_t pc)
{
	struct ps_stack_table *st = table_of(t);
	return st ? child_node(t, st, parent, pc) : 0;
}

struct ps_unwind_cache *ps_stack_unwind_cache(struct ps_thread *t)
{
	struct ps_stack_table *st = table_of(t);
	return st ? &st->unwind : NULL;
}

void ps_stacks_free(struct ps_thread *t)
{
	ps_free_pages(t->stacks, sizeof(struct ps_stack_table));
	t->stacks = NULL;
}
