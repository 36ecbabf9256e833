/* Output size caps: see out_caps.h. */
#define _GNU_SOURCE
#include "out_caps.h"

#include <stdlib.h>
#include <string.h>

#include "out_util.h"
#include "stack_tree.h"

#define MB (1024.0 * 1024.0)
#define KEEP_FRACTION 0.001 /* stacks of 0.1% or more are never merged */

double pa_size_cap(const struct pa_models *pm)
{
	double mb = pm->o->max_size_mb;
	if (mb == 0)
		return 0;
	if (mb < 0)
		mb = pm->o->format == PA_FMT_TRACE ? 100 : 50;
	return mb * MB;
}

static size_t name_len(const struct stack_tree *t, int32_t func)
{
	const struct pa_frame *f = st_func(t, func);
	return (f->function ? strlen(f->function) : 2);
}

/* Estimated bytes of the output of t in the selected format. */
static double estimate(const struct pa_models *pm, const struct stack_tree *t, double *pathlen)
{
	double bytes = 0;
	for (size_t i = 1; i < t->nodes.len; i++) {
		const struct st_node *n = st_node_at(t, (uint32_t)i);
		if (n->total <= 0)
			continue;
		const struct pa_frame *f = st_func(t, n->func);
		double own = (double)name_len(t, n->func);
		switch (pm->o->format) {
		case PA_FMT_FOLDED:
			pathlen[i] = pathlen[n->parent] + own + 1;
			if (n->self > 0)
				bytes += pathlen[i] + 16;
			break;
		case PA_FMT_FLAMEGRAPH:
			bytes += 2 * own + 330;
			break;
		default: /* JSON trees: a node each, with its file */
			bytes += own + (f->file ? strlen(f->file) : 0) + 120;
		}
	}
	return bytes;
}

void pa_cap_stack_tree(const struct pa_models *pm, struct stack_tree *t)
{
	double cap = pa_size_cap(pm);
	if (cap <= 0 || t->nodes.len < 2)
		return;
	double whole = st_node_at(t, 0)->total;
	double *pathlen = pa_xcalloc(t->nodes.len + 1, sizeof(double));
	double size = estimate(pm, t, pathlen);
	if (size <= cap) {
		free(pathlen);
		return;
	}
	double before = size, threshold = whole * 1e-7;
	uint64_t merged = 0;
	while (size > cap && threshold < whole * KEEP_FRACTION) {
		threshold *= 2;
		if (threshold > whole * KEEP_FRACTION)
			threshold = whole * KEEP_FRACTION;
		merged += st_prune(t, threshold);
		free(pathlen);
		pathlen = pa_xcalloc(t->nodes.len + 1, sizeof(double));
		size = estimate(pm, t, pathlen);
	}
	free(pathlen);
	pa_note_missing("--format=%s: the output would be about %.0f MB; merged %llu stacks "
			"under %.4f%% of the %s each into [small stacks] (now about %.0f MB, "
			"cap %.0f MB); --max-size=MB or --full keeps more",
			pa_format_name(pm->o->format), before / MB, (unsigned long long)merged,
			100.0 * threshold / whole, t->unit, size / MB, cap / MB);
}
