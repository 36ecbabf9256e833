/*
 * The memory part of the timeline: the heap-size and RSS counters of
 * --format=trace (folded stacks of the heap: out_folded.c).
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
