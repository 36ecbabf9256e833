/*
 * Calls recorder: the states of a forked child's threads.
 */
#define _GNU_SOURCE
#include "calls_internal.h"

/* In a forked child, before the thread states are forgotten: the states
 * of threads that do not exist here go back to the pool (they are this
 * process's copies), the forking thread's own is handed over to
 * ps_calls_fork_child_adopt. A pool lock held by a vanished thread is
 * released: its half-done push or pop can only lose one state. */
struct ps_calls_thread *ps_calls_fork_child_take(struct ps_thread *self)
{
	ps_calls_pool_lock = 0;
	struct ps_calls_thread *kept = NULL;
	for (struct ps_thread *t = ps_thread_list(); t; t = t->next_all) {
		if (t->state != PS_T_ACTIVE || !t->calls)
			continue;
		if (t == self)
			kept = t->calls;
		else
			ps_calls_pool_put(t->calls);
		t->calls = NULL;
	}
	return kept;
}

/* The child's thread keeps the calls open at fork time: they end in the
 * child too, so their exits match. The child's file and tree start empty:
 * those calls are entered again at the child's start (ENTER records in
 * trace mode; one call each on a fresh tree path in tree mode), so the
 * child's times cover its own life only. */
void ps_calls_fork_child_adopt(struct ps_thread *t, struct ps_calls_thread *c)
{
	if (!c)
		return;
	if (!t || !ps_enter(t)) {
		ps_calls_pool_put(c);
		return;
	}
	c->npending = 0;
	c->pending_overflow = 0;
	ps_calls_funcs_clear(c);
	if (c->mode == PS_CALLS_TREE && ps_calls_tree_clear(c)) {
		ps_calls_pool_put(c);
		ps_leave(t);
		return;
	}
	uint64_t now = ps_now();
	for (uint32_t i = 0; i < c->depth; i++) {
		struct call_frame *f = &c->frames[i];
		f->start = now;
		if (c->mode == PS_CALLS_TREE)
			tree_open(t, c, f, i ? c->frames[i - 1].node : 0, now);
		else if (!c->min_ticks)
			write_enter(t, c, f->fn, now);
	}
	c->written = 0;
	t->counters[PST_C_CALLS] += c->depth;
	t->calls = c;
	ps_leave(t);
}
