/*
 * --format=trace: one timeline with everything the run recorded. Each
 * recorder adds a section through the trace writer (out_trace.h):
 *   CPU samples  Profile/ProfileChunk events per thread (out_trace_cpu.c)
 *   calls        an X slice per call, trace mode (report_calls.c)
 *   memory       heap size and RSS counters (out_mem.c)
 *   io, spans    slices and counter tracks (out_trace_io.c)
 *   markers      instant events (out_trace.c, written last)
 * A section that cannot be there says why on stderr, even with -q: an
 * empty timeline must never look like a quiet program.
 * New recorders add their section in write_sections, in the same form.
 */
#define _GNU_SOURCE
#include "call_model.h"
#include "heap_model.h"
#include "io_model.h"
#include "out_trace.h"
#include "out_util.h"
#include "stack_tree.h"

static const char *off_or_empty(const struct pa_models *pm, unsigned rec, const char *env)
{
	static char buf[160];
	if (!(pm->s->record_mask & rec))
		snprintf(buf, sizeof(buf), "the recorder was off (turn it on with %s)", env);
	else
		snprintf(buf, sizeof(buf), "the recorder was on but recorded nothing");
	return buf;
}

static int write_sections(const struct pa_models *pm, struct pa_trace_out *t)
{
	int rc = 0;
	if (pa_has_data(pm, PA_DATA_CPU))
		rc |= cpu_trace_samples(pm, t);
	else
		pa_note_missing("timeline: no CPU samples: %s",
				off_or_empty(pm, PST_REC_CPU, "PROFSHIM_RECORD=cpu"));
	if (pa_has_data(pm, PA_DATA_CALLS))
		rc |= call_model_trace_events(pm, t);
	else
		pa_note_missing("timeline: no calls: %s",
				off_or_empty(pm, PST_REC_CALLS,
					     "PROFSHIM_RECORD=calls and -finstrument-functions"));
	if (pm->heap && pm->heap->has_data) {
		heap_trace_counters(pm, t);
		if (!pm->heap->rss_series.len)
			pa_note_missing("timeline: no RSS counter: RSS was not read "
					"(PROFSHIM_RSS_MS=0?)");
	} else {
		pa_note_missing("timeline: no heap or RSS counters: %s",
				off_or_empty(pm, PST_REC_MEM, "PROFSHIM_RECORD=mem"));
	}
	/* I/O calls, waits, contended locks and spans (io recorder) */
	io_trace_events(pm, t);
	return rc;
}

int pa_write_timeline(const struct pa_models *pm, FILE *out)
{
	struct pa_trace_out t;
	pa_trace_begin(&t, out, pm);
	int rc = write_sections(pm, &t);
	pa_trace_end(&t);
	return rc;
}

int pa_write_timeline_part(const struct pa_models *pm, FILE *out, double offset_us,
			   unsigned long long *events)
{
	struct pa_trace_out t;
	pa_trace_begin_part(&t, out, pm, offset_us, *events);
	int rc = write_sections(pm, &t);
	pa_trace_end_part(&t);
	*events = t.events;
	return rc;
}
