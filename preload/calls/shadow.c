/*
 * Calls recorder: the shadow stack for other recorders (calls.h).
 */
#define _GNU_SOURCE
#include "calls_internal.h"

int ps_calls_depth(const struct ps_thread *t)
{
	const struct ps_calls_thread *c = t ? t->calls : NULL;
	return c ? (int)c->depth : 0;
}

int ps_calls_shadow(const struct ps_thread *t, uintptr_t *out, int max)
{
	const struct ps_calls_thread *c = t ? t->calls : NULL;
	if (!c || max <= 0)
		return 0;
	uint32_t depth = c->depth;
	__atomic_signal_fence(__ATOMIC_ACQUIRE);
	int n = depth < (uint32_t)max ? (int)depth : max;
	for (int i = 0; i < n; i++)
		out[i] = c->frames[depth - 1 - (uint32_t)i].fn;
	return n;
}

int ps_calls_sites(const struct ps_thread *t, uintptr_t *frame0, uintptr_t *out, int max)
{
	const struct ps_calls_thread *c = t ? t->calls : NULL;
	if (!c || max <= 0 || !c->depth)
		return 0;
	uint32_t depth = c->depth;
	__atomic_signal_fence(__ATOMIC_ACQUIRE);
	*frame0 = c->frames[depth - 1].sp;
	int n = depth < (uint32_t)max ? (int)depth : max;
	for (int i = 0; i < n; i++)
		out[i] = c->frames[depth - 1 - (uint32_t)i].site;
	return n;
}
