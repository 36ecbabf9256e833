/*
 * Calls recorder, tree mode: the calling-context tree's tables (the node
 * array, the (parent, function) index, the lookup of a child its parent's
 * cache misses) and the cold parts of choosing which calls are timed. The
 * hot parts (cct_child, node_account, tree_timing) are inline in
 * calls_internal.h.
 */
#define _GNU_SOURCE
#include "calls_internal.h"

int ps_calls_nodes_grow(struct ps_calls_thread *c)
{
	uint32_t ncap = c->node_cap ? c->node_cap * 2 : 256;
	if (ncap > CCT_MAX_NODES)
		ncap = CCT_MAX_NODES;
	if (ncap <= c->node_cap)
		return -1;
	struct cct_node *n = ps_calls_table_alloc((size_t)ncap * sizeof(*n));
	if (!n)
		return -1;
	if (c->nodes) {
		memcpy(n, c->nodes, (size_t)c->nnodes * sizeof(*n));
		if (c->nretired < sizeof(c->retired) / sizeof(c->retired[0])) {
			c->retired[c->nretired].p = c->nodes;
			c->retired[c->nretired].bytes = (size_t)c->node_cap * sizeof(*n);
			c->nretired++;
		}
	}
	/* A reader on another thread loads nnodes, then nodes: the new array
	 * is complete before it is published, and arrays only grow. */
	__atomic_store_n(&c->nodes, n, __ATOMIC_RELEASE);
	c->node_cap = ncap;
	return 0;
}

int ps_calls_index_grow(struct ps_calls_thread *c)
{
	uint32_t ncap = c->index ? (c->index_mask + 1) * 2 : 1024;
	uint32_t *n = ps_calls_table_alloc(ncap * sizeof(*n));
	if (!n)
		return -1;
	uint32_t old_mask = c->index_mask;
	uint32_t *old = c->index;
	c->index = n;
	c->index_mask = ncap - 1;
	for (uint32_t i = 0; old && i <= old_mask; i++) {
		if (!old[i])
			continue;
		const struct cct_node *nd = &c->nodes[old[i]];
		uint32_t j = index_home(c, nd->parent, nd->fn);
		while (n[j])
			j = (j + 1) & c->index_mask;
		n[j] = old[i];
	}
	if (old)
		ps_calls_table_free(old, (old_mask + 1) * sizeof(*n));
	return 0;
}

COLD uint32_t ps_calls_cct_child_slow(struct ps_calls_thread *c, uint32_t parent, uintptr_t fn)
{
	uint32_t found = index_find(c, parent, fn);
	if (found)
		return c->nodes[parent].kid[kid_slot(fn)] = found;
	uint32_t j = index_home(c, parent, fn);
	while (c->index[j])
		j = (j + 1) & c->index_mask;
	if (c->nnodes >= c->node_cap && ps_calls_nodes_grow(c))
		return CCT_UNTRACKED;
	if ((c->nnodes + 1) * 2 > c->index_mask + 1) {
		if (ps_calls_index_grow(c))
			return CCT_UNTRACKED;
		return ps_calls_cct_child_slow(c, parent, fn);
	}
	uint32_t id = c->nnodes;
	struct cct_node *nd = &c->nodes[id];
	memset(nd, 0, sizeof(*nd));
	nd->fn = fn;
	nd->parent = parent;
	nd->min = UINT64_MAX;
	nd->exact_until = c->exact_calls;
	/* the node is whole before a live snapshot can see it */
	__atomic_store_n(&c->nnodes, id + 1, __ATOMIC_RELEASE);
	c->index[j] = id;
	return c->nodes[parent].kid[kid_slot(fn)] = id;
}

uint64_t ps_calls_stall_floor; /* TREE_STALL_MIN_NS in ticks */

static uint64_t ns_to_ticks(uint64_t ns)
{
	return (uint64_t)((double)ns * (double)ps_ticks_per_sec_x1000 / 1e12) + 1;
}

/* A node's exact calls are over: keep timing every call, or sample. What
 * counts is the calls' own time (less their children's): a call that
 * spends its time in children costs those children's hooks, not its own. */
COLD bool ps_calls_node_leaves_exact(struct cct_node *n)
{
	uint64_t self = n->incl > n->kids ? n->incl - n->kids : 0;
	uint64_t long_call = ns_to_ticks(TREE_LONG_CALL_NS);
	/* The average alone is not enough: one preemption among the first
	 * calls of a 100 ns function lifts it over 1 us on a loaded machine,
	 * and the node would stay exact for good. For a node without timed
	 * children (where the longest call is all own time), the average
	 * without the longest call must be long too. */
	uint64_t trimmed = self > n->max ? self - n->max : 0;
	bool one_stall = n->kids == 0 && n->timed > 1 && trimmed / (n->timed - 1) < long_call;
	if (!n->timed || (self / n->timed >= long_call && !one_stall)) {
		n->exact_until = UINT64_MAX;
		return true;
	}
	n->exact_until = 0; /* sampling from now on */
	if (!ps_calls_stall_floor)
		ps_calls_stall_floor = ns_to_ticks(TREE_STALL_MIN_NS);
	/* per call made in the exact calls (their timed_sub so far) */
	n->cap =
	    (float)n->incl * TREE_STALL_FACTOR / (float)(n->timed_sub ? n->timed_sub : n->timed);
	return false;
}
