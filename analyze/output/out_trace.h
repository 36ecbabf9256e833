/*
 * Chrome trace events (chrome://tracing, Perfetto, speedscope):
 * {"traceEvents":[...]} with ts/dur in microseconds since the start of the
 * session. The writer adds process and thread names (M events) and the
 * markers (instant events); each model adds its own events (X calls, C
 * counters) through pa_trace_event. Filters of the options apply here:
 * time range (--from/--to) and thread (--thread).
 */
#ifndef PA_OUT_TRACE_H
#define PA_OUT_TRACE_H

#include <stdbool.h>
#include <stdio.h>

#include "models.h"

struct pa_trace_out {
	FILE *f;
	const struct pa_models *pm;
	unsigned long long events; /* written so far */
	double from_us, to_us;	   /* time range kept */
	double offset_us;	   /* added to every ts: a process's start in a run */
	unsigned part;		   /* a run's process part: 1, 2, ...; else 0 */
};

void pa_trace_begin(struct pa_trace_out *t, FILE *f, const struct pa_models *pm);
/* Microseconds since the session start for an absolute tick value. */
double pa_trace_us(const struct pa_trace_out *t, uint64_t ticks);
/* Whether an event spanning [start, end] ticks on thread th is kept by the
 * time-range and thread filters. */
bool pa_trace_keep(const struct pa_trace_out *t, const struct pa_thread *th, uint64_t start,
		   uint64_t end);
/* Write one event object; fmt/... produce its members without braces, e.g.
 * "\"ph\":\"X\",\"ts\":%.3f". Names must be written with pa_json_string:
 * use pa_trace_event_named for an event with a name. */
void pa_trace_event(struct pa_trace_out *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pa_trace_event_named(struct pa_trace_out *t, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A thread_name and a thread_sort_index M event for track tid. */
void pa_trace_thread_name(struct pa_trace_out *t, uint32_t tid, const char *name,
			  size_t sort_index);
/* Start an event object (separator and "{"): the caller writes its
 * members and the closing "}" to the returned stream. */
FILE *pa_trace_open_event(struct pa_trace_out *t);
void pa_trace_end(struct pa_trace_out *t);
/* The same without the file's header and footer (a run's process part). */
void pa_trace_begin_part(struct pa_trace_out *t, FILE *f, const struct pa_models *pm,
			 double offset_us, unsigned long long events);
void pa_trace_end_part(struct pa_trace_out *t);

/* A run directory's timeline is one file with a pid per process: the
 * caller writes the header and footer (pa_trace_run_begin/end), and each
 * process adds its part, ts offset by its start in the run (events: the
 * count so far, for the separators; returns the new count). */
void pa_trace_run_begin(FILE *f);
void pa_trace_run_end(FILE *f);
int pa_write_timeline_part(const struct pa_models *pm, FILE *out, double offset_us,
			   unsigned long long *events);

/* The whole timeline (out_timeline.c): names, then each recorder's
 * section, then markers; a section that cannot be there says why on
 * stderr (even with -q). */
int pa_write_timeline(const struct pa_models *pm, FILE *out);
/* CPU samples as Profile/ProfileChunk events (out_trace_cpu.c). */
int cpu_trace_samples(const struct pa_models *pm, struct pa_trace_out *t);

#endif
