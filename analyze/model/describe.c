/*
 * Describing addresses and stacks for reports: "function (file:line)" and
 * the frames of a recorded stack, outermost first, inline frames expanded.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>

#include "models.h"
#include "symbols.h"

const char *pa_describe_pc(const struct pa_models *pm, uint64_t pc, bool ret_addr, uint64_t ticks,
			   char *buf, size_t cap)
{
	const struct pa_frame *f;
	int n = pa_symbols_resolve(pm->syms, pc, ret_addr, ticks, &f);
	/* The innermost frame names where the address is, inlined or not. */
	if (n >= 1 && f[0].file && f[0].line)
		snprintf(buf, cap, "%s (%s:%d)", f[0].function, f[0].file, f[0].line);
	else
		snprintf(buf, cap, "%s", n >= 1 ? f[0].function : "??");
	return buf;
}

int pa_stack_frames(const struct pa_models *pm, uint32_t node, bool leaf_is_pc, uint64_t ticks,
		    struct pa_vec *out)
{
	const struct pa_session *s = pm->s;
	out->len = 0;
	/* Innermost first along the trie, then reversed. */
	for (uint32_t n = node; n; n = ((struct pa_stack_node *)pa_vec_at(&s->stacks, n))->parent) {
		const struct pa_stack_node *sn = pa_vec_at(&s->stacks, n);
		const struct pa_frame *f;
		/* A sample's leaf is the interrupted pc; every other frame is a
		 * return address, whose call lies one byte before. */
		bool ret_addr = !(n == node && leaf_is_pc);
		int k = pa_symbols_resolve(pm->syms, sn->pc, ret_addr, ticks, &f);
		for (int i = 0; i < k; i++)
			*(const struct pa_frame **)pa_vec_push(out) = &f[i];
	}
	for (size_t i = 0, j = out->len ? out->len - 1 : 0; i < j; i++, j--) {
		const struct pa_frame **a = pa_vec_at(out, i), **b = pa_vec_at(out, j);
		const struct pa_frame *tmp = *a;
		*a = *b;
		*b = tmp;
	}
	return (int)out->len;
}
