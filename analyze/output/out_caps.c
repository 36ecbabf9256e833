/* Output size caps: see out_caps.h. */
#define _GNU_SOURCE
#include "out_caps.h"

#include <stdlib.h>
#include <string.h>

#include "call_model.h"
#include "heap_model.h"
#include "out_util.h"
#include "sample_model.h"
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
	if (pm->o->format == PA_FMT_SPEEDSCOPE) /* the shared frames */
		for (size_t f = 0; f < t->funcs.len; f++)
			bytes += (double)name_len(t, (int32_t)f) + 100;
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
		case PA_FMT_SPEEDSCOPE: /* a sample of frame indices per stack */
			if (n->self > 0)
				bytes += 6.0 * n->depth + 24;
			break;
		default: /* JSON trees: a node each, with its file (or module) */
			bytes += own + 125;
			if (f->file || f->module)
				bytes += (double)strlen(f->file ? f->file : f->module);
			if (n->self > 0)
				bytes += 60; /* its sample */
		}
	}
	return bytes;
}

void pa_cap_stack_tree(const struct pa_models *pm, struct stack_tree *t)
{
	/* 5% of margin: the estimate leaves out escapes and number widths */
	double cap = pa_size_cap(pm) * 0.95;
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

static int u64_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* What the rest of the output (samples, counters, markers) takes. */
static double other_bytes(const struct pa_models *pm)
{
	double b = 4096 + 200.0 * (double)pm->s->markers.len;
	if (pm->o->format == PA_FMT_TRACE) {
		if (pm->cpu)
			b += 24.0 * (double)pm->cpu->samples_v.len +
			     200.0 * (double)pm->cpu->nodes.len;
		if (pm->heap)
			b += 95.0 * (double)(pm->heap->heap_series.len + pm->heap->rss_series.len);
	}
	return b;
}

uint64_t pa_call_span_floor(const struct pa_models *pm, const struct pa_vec *spans,
			    double bytes_per_call)
{
	double cap = pa_size_cap(pm);
	if (cap <= 0)
		return 0;
	double budget = cap - other_bytes(pm);
	size_t keep = budget > 0 ? (size_t)(budget / bytes_per_call) : 0;
	if (spans->len <= keep)
		return 0;
	uint64_t *durs = pa_xmalloc((spans->len + 1) * sizeof(uint64_t));
	for (size_t i = 0; i < spans->len; i++)
		durs[i] = ((const struct call_span *)pa_vec_at(spans, i))->dur;
	qsort(durs, spans->len, sizeof(uint64_t), u64_desc);
	/* keep calls strictly longer than the first one left out: ties go
	 * together, so the nesting stays whole */
	uint64_t floor = keep ? durs[keep] + 1 : UINT64_MAX;
	size_t kept = 0;
	while (kept < spans->len && durs[kept] >= floor)
		kept++;
	free(durs);
	pa_note_missing("--format=%s: %zu calls would make about %.0f MB; left out the %zu "
			"shortest (under %.3f us) to stay under %.0f MB; --min-duration, "
			"--from/--to or --thread select what to see, --max-size=MB or --full "
			"keeps more",
			pa_format_name(pm->o->format), spans->len,
			((double)spans->len * bytes_per_call + other_bytes(pm)) / MB,
			spans->len - kept, pa_ticks_to_ns(pm->s, floor) / 1e3, cap / MB);
	return floor;
}
