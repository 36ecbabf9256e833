/*
 * The memory parts of the generic formats: folded stacks weighted by bytes
 * (--format=folded --data=mem) and the heap-size and RSS counters of
 * --format=trace.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "heap_model.h"
#include "models.h"
#include "out_folded.h"
#include "out_trace.h"
#include "report_empty.h"
#include "symbols.h"

int heap_write_folded(const struct pa_models *pm, FILE *out)
{
	const struct heap_model *m = pm->heap;
	if (!m || !m->has_data) {
		/* folded falls back to memory last: every part is empty */
		pa_no_data_error(pm, "folded", PST_REC_CPU | PST_REC_CALLS | PST_REC_MEM);
		return 1;
	}
	struct pa_vec frames;
	pa_vec_init(&frames, sizeof(const struct pa_frame *));
	static const struct pa_frame no_stack = {.function = "(no stack)"};
	const struct pa_frame *none = &no_stack;
	for (size_t i = 0; i < m->sites.len; i++) {
		const struct heap_site *site = pa_vec_at(&m->sites, i);
		double v = round(heap_site_value(m, site));
		if (v <= 0)
			continue;
		int n = pa_stack_frames(pm, site->stack, false, site->ticks, &frames);
		if (n)
			pa_folded_line(out, frames.items, n, (uint64_t)v);
		else
			pa_folded_line(out, &none, 1, (uint64_t)v);
	}
	pa_vec_free(&frames);
	return 0;
}

static void add_counters(const struct pa_models *pm, struct pa_trace_out *t, const char *name,
			 const struct pa_vec *series)
{
	const struct pa_session *s = pm->s;
	for (size_t i = 0; i < series->len; i++) {
		const struct heap_point *p = pa_vec_at(series, i);
		if (!pa_trace_keep(t, NULL, p->ticks, p->ticks))
			continue;
		pa_trace_event_named(t, name,
				     "\"ph\":\"C\",\"ts\":%.3f,\"pid\":%u,\"tid\":%u,"
				     "\"args\":{\"bytes\":%.0f}",
				     pa_trace_us(t, p->ticks), s->pid, s->pid, round(p->bytes));
	}
}

void heap_trace_counters(const struct pa_models *pm, struct pa_trace_out *t)
{
	const struct heap_model *m = pm->heap;
	if (!m || !m->has_data)
		return;
	add_counters(pm, t, "heap", &m->heap_series);
	add_counters(pm, t, "rss", &m->rss_series);
}
