/*
 * Calls recorder: a thread's state (shadow stack, tables), its memory, and
 * the pool that reuses the states of ended threads.
 */
#define _GNU_SOURCE
#include <sched.h>

#include "calls_internal.h"

/* States of ended threads, reused by new ones: never unmapped, so a live
 * snapshot reading a state that just ended stays memory-safe, and a
 * program making many short threads keeps a bounded number of them (as
 * many as ran at once). Taken at thread start and end only. */
static struct ps_calls_thread *pool_head;
int ps_calls_pool_lock;

/* Allocation for tables, keeping errno (mmap may set it). */
void *ps_calls_table_alloc(size_t bytes)
{
	int saved = errno;
	void *p = ps_alloc_pages(bytes);
	errno = saved;
	return p;
}

void ps_calls_table_free(void *p, size_t bytes)
{
	int saved = errno;
	ps_free_pages(p, bytes);
	errno = saved;
}

static void pool_lock_take(void)
{
	while (__atomic_exchange_n(&ps_calls_pool_lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

void ps_calls_pool_put(struct ps_calls_thread *c)
{
	pool_lock_take();
	c->pool_next = pool_head;
	pool_head = c;
	__atomic_store_n(&ps_calls_pool_lock, 0, __ATOMIC_RELEASE);
}

static struct ps_calls_thread *pool_get(void)
{
	if (!__atomic_load_n(&pool_head, __ATOMIC_RELAXED))
		return NULL;
	pool_lock_take();
	struct ps_calls_thread *c = pool_head;
	if (c)
		pool_head = c->pool_next;
	__atomic_store_n(&ps_calls_pool_lock, 0, __ATOMIC_RELEASE);
	return c;
}

/* An empty function table: this thread file has no FUNC records yet. */
void ps_calls_funcs_clear(struct ps_calls_thread *c)
{
	memset(c->funcs, 0, (c->func_mask + 1) * sizeof(struct func_slot));
	c->func_used = 0;
	c->nfuncs = 0;
	c->unknown_id = 0;
}

/* An empty tree: the root alone. Keeps the tables' sizes. */
int ps_calls_tree_clear(struct ps_calls_thread *c)
{
	if (!c->nodes && ps_calls_nodes_grow(c))
		return -1;
	if (!c->index && ps_calls_index_grow(c))
		return -1;
	__atomic_store_n(&c->nnodes, 1, __ATOMIC_RELEASE);
	memset(&c->nodes[0], 0, sizeof(c->nodes[0]));
	memset(c->index, 0, (c->index_mask + 1) * sizeof(uint32_t));
	return 0;
}

/* A state with empty stack and tables: a pooled one, else new pages. */
static struct ps_calls_thread *calls_state(void)
{
	struct ps_calls_thread *c = pool_get();
	if (c) {
		c->depth = 0;
		c->written = 0;
		c->overflow = 0;
		c->pending_overflow = 0;
		c->npending = 0;
		ps_calls_funcs_clear(c);
		return c;
	}
	c = ps_calls_table_alloc(sizeof(*c));
	if (!c)
		return NULL;
	c->cap = ps_cfg.calls_max_depth ? ps_cfg.calls_max_depth : 1;
	c->frames_bytes = (size_t)c->cap * sizeof(struct call_frame);
	c->frames = ps_calls_table_alloc(c->frames_bytes);
	if (!c->frames || ps_calls_funcs_grow(c)) {
		ps_calls_table_free(c->frames, c->frames_bytes);
		ps_calls_table_free(c, sizeof(*c));
		return NULL;
	}
	return c;
}

struct ps_calls_thread *ps_calls_create(struct ps_thread *t)
{
	struct ps_calls_thread *c = calls_state();
	if (!c) {
		ps_log("calls: out of memory for the shadow stack; calls of this thread are not "
		       "recorded",
		       NULL);
		return NULL;
	}
	c->mode = ps_cfg.calls_mode;
	c->min_ticks = 0;
	c->sample_every = ps_cfg.calls_time_every;
	c->exact_calls = c->sample_every > 1 ? TREE_EXACT_CALLS : UINT64_MAX;
	/* xorshift needs a nonzero seed; threads get different ones */
	c->rng = ((uint64_t)(uintptr_t)t * 0x9e3779b97f4a7c15ull) ^ ps_now();
	if (!c->rng)
		c->rng = 1;
	c->countdown = c->sample_every > 1 ? next_gap(c) : 1;
	if (c->mode == PS_CALLS_TRACE && ps_cfg.calls_min_ns) {
		/* ns -> ticks, rounded up so that a call "at least min_ns" long
		 * is never dropped */
		double tpn = (double)ps_ticks_per_sec_x1000 / 1e12;
		c->min_ticks = (uint64_t)((double)ps_cfg.calls_min_ns * tpn + 0.999);
		if (!c->min_ticks)
			c->min_ticks = 1;
	}
	if (c->mode == PS_CALLS_TREE && ps_calls_tree_clear(c)) {
		ps_log(
		    "calls: out of memory for the call tree; calls of this thread are not recorded",
		    NULL);
		ps_calls_pool_put(c);
		return NULL;
	}
	t->calls = c;
	return c;
}

/* The thread is done with its state: back to the pool (never unmapped). */
void ps_calls_free(struct ps_thread *t)
{
	struct ps_calls_thread *c = t->calls;
	if (!c)
		return;
	__atomic_store_n(&t->calls, NULL, __ATOMIC_RELEASE);
	ps_calls_pool_put(c);
}
