/*
 * Calls recorder, trace mode's output: the per-thread function ids (a FUNC
 * record defines each on its first use; tree snapshots use them too), room
 * for records in the trace window, and the ENTERs a minimum duration held
 * back. The hot parts (func_id, reserve, write_enter/exit) are inline in
 * calls_internal.h.
 */
#define _GNU_SOURCE
#include "calls_internal.h"

int ps_calls_funcs_grow(struct ps_calls_thread *c)
{
	uint32_t ncap = c->funcs ? (c->func_mask + 1) * 2 : 1024;
	struct func_slot *n = ps_calls_table_alloc(ncap * sizeof(*n));
	if (!n)
		return -1;
	for (uint32_t i = 0; c->funcs && i <= c->func_mask; i++) {
		struct func_slot *s = &c->funcs[i];
		if (!s->fn)
			continue;
		uint32_t j = (uint32_t)mix(s->fn, 0) & (ncap - 1);
		while (n[j].fn)
			j = (j + 1) & (ncap - 1);
		n[j] = *s;
	}
	if (c->funcs)
		ps_calls_table_free(c->funcs, (c->func_mask + 1) * sizeof(*n));
	c->funcs = n;
	c->func_mask = ncap - 1;
	return 0;
}

/* The slot of fn; a new one has id 0 (the caller assigns and defines it).
 * NULL when the table cannot grow. */
static struct func_slot *func_slot(struct ps_calls_thread *c, uintptr_t fn)
{
	uint32_t j = (uint32_t)mix(fn, 0) & c->func_mask;
	for (;;) {
		struct func_slot *s = &c->funcs[j];
		if (PS_LIKELY(s->fn == fn))
			return s;
		if (!s->fn)
			break;
		j = (j + 1) & c->func_mask;
	}
	if (c->func_used + 1 > (c->func_mask + 1) / 2) {
		if (ps_calls_funcs_grow(c))
			return NULL;
		return func_slot(c, fn);
	}
	c->func_used++;
	c->funcs[j].fn = fn;
	c->funcs[j].id = 0;
	return &c->funcs[j];
}

COLD uint8_t *ps_calls_reserve_slow(struct ps_thread *t, size_t max)
{
	int saved = errno;
	uint8_t *p = ps_reserve(t, max);
	errno = saved;
	return p;
}

/* The id of fn in t's trace file, writing its FUNC record when new.
 * 0 when it cannot be defined (no memory, no space). */
static COLD uint32_t define_func(struct ps_thread *t, struct ps_calls_thread *c, uintptr_t fn)
{
	uint8_t *p = reserve(t, 2 * PST_VARINT_MAX);
	if (!p)
		return 0;
	uint32_t id = ++c->nfuncs;
	p = pst_put_tag(p, id, PST_K_FUNC);
	p = pst_put_varint(p, fn);
	ps_commit(t, p);
	return id;
}

COLD uint32_t ps_calls_func_id_slow(struct ps_thread *t, struct ps_calls_thread *c, uintptr_t fn)
{
	struct func_slot *s = func_slot(c, fn);
	if (PS_UNLIKELY(!s)) {
		/* no memory for the table: such calls are "function 0x0",
		 * still paired with their exits */
		if (!c->unknown_id)
			c->unknown_id = define_func(t, c, 0);
		return c->unknown_id;
	}
	if (!s->id)
		s->id = define_func(t, c, fn);
	return s->id;
}

/* Minimum duration: write the held-back ENTERs of frames [written, upto]. */
COLD void ps_calls_materialize(struct ps_thread *t, struct ps_calls_thread *c, uint32_t upto)
{
	for (uint32_t i = c->written; i <= upto; i++)
		write_enter(t, c, c->frames[i].fn, c->frames[i].start);
	c->written = upto + 1;
}
