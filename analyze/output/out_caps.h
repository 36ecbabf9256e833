/*
 * Output size caps: viewers fail on JSON of a few hundred MB (DevTools
 * near 512 MB) and crawl long before (speedscope took minutes on 55 MB of
 * trace events). By default every format stays under a cap (100 MB for the
 * timeline, 50 MB for stack outputs): stacks merge their smallest branches
 * into "[small stacks]", the timeline leaves out the shortest calls. What
 * was cut is said on stderr (even with -q) with the option that keeps
 * more (--max-size=MB, --full).
 */
#ifndef PA_OUT_CAPS_H
#define PA_OUT_CAPS_H

#include "models.h"

struct stack_tree;

/* The cap in bytes for the selected format, 0 = none. */
double pa_size_cap(const struct pa_models *pm);
/* Merge the smallest stacks of t until the selected format's estimate of
 * its size is under the cap; never merges a stack of >= 0.1% of the
 * whole. */
void pa_cap_stack_tree(const struct pa_models *pm, struct stack_tree *t);
/* The shortest call (ticks) kept so the calls (struct call_span in
 * spans, bytes_per_call each in the output) stay under the cap: 0 keeps
 * all; otherwise says on stderr what is left out. */
uint64_t pa_call_span_floor(const struct pa_models *pm, const struct pa_vec *spans,
			    double bytes_per_call);

#endif
