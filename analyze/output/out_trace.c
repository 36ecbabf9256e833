/* The Chrome trace-event writer: see out_trace.h. */
#define _GNU_SOURCE
#include "out_trace.h"

#include <stdarg.h>

#include <string.h>

#include "jsonw.h"
#include "out_util.h"

double pa_trace_us(const struct pa_trace_out *t, uint64_t ticks)
{
	return t->offset_us + pa_ns_since_start(t->pm->s, ticks) / 1000.0;
}

bool pa_trace_keep(const struct pa_trace_out *t, const struct pa_thread *th, uint64_t start,
		   uint64_t end)
{
	if (t->pm->o->thread >= 0 && th && th->tid != (uint32_t)t->pm->o->thread)
		return false;
	return pa_trace_us(t, end) >= t->from_us && pa_trace_us(t, start) <= t->to_us;
}

static void begin_object(struct pa_trace_out *t)
{
	fputs(t->events++ ? ",\n{" : "\n{", t->f);
}

FILE *pa_trace_open_event(struct pa_trace_out *t)
{
	begin_object(t);
	return t->f;
}

void pa_trace_event(struct pa_trace_out *t, const char *fmt, ...)
{
	begin_object(t);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(t->f, fmt, ap);
	va_end(ap);
	fputc('}', t->f);
}

void pa_trace_event_named(struct pa_trace_out *t, const char *name, const char *fmt, ...)
{
	begin_object(t);
	fputs("\"name\":", t->f);
	pa_json_string(t->f, name);
	fputc(',', t->f);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(t->f, fmt, ap);
	va_end(ap);
	fputc('}', t->f);
}

/* M metadata: the process and thread names shown by the viewers. */
static void name_event(struct pa_trace_out *t, const char *what, uint32_t pid, uint32_t tid,
		       const char *name)
{
	begin_object(t);
	fprintf(t->f,
		"\"name\":\"%s\",\"cat\":\"__metadata\",\"ph\":\"M\",\"pid\":%u,\"tid\":%u,"
		"\"args\":{\"name\":",
		what, pid, tid);
	pa_json_string(t->f, name);
	fputs("}}", t->f);
}

/* Viewers add "(pid N)" and "(tid N)" to these names themselves, so the
 * names carry no ids; sort_index lists the threads by tid (2k: room for a
 * companion track after each, see out_trace_cpu.c). */
static void names(struct pa_trace_out *t)
{
	const struct pa_session *s = t->pm->s;
	const char *exe = s->argc ? s->argv[0] : (s->exe ? s->exe : "process");
	const char *base = strrchr(exe, '/');
	name_event(t, "process_name", s->pid, s->pid, base && base[1] ? base + 1 : exe);
	for (size_t k = 0; k < s->threads.len; k++) {
		const struct pa_thread *th =
		    *(struct pa_thread **)pa_vec_at(&s->threads, pa_thread_order(s, k));
		if (t->pm->o->thread >= 0 && th->tid != (uint32_t)t->pm->o->thread)
			continue;
		pa_trace_thread_name(t, th->tid, th->name[0] ? th->name : "thread", 2 * k);
	}
}

void pa_trace_thread_name(struct pa_trace_out *t, uint32_t tid, const char *name, size_t sort_index)
{
	uint32_t pid = t->pm->s->pid;
	name_event(t, "thread_name", pid, tid, name);
	begin_object(t);
	fprintf(t->f,
		"\"name\":\"thread_sort_index\",\"cat\":\"__metadata\",\"ph\":\"M\","
		"\"pid\":%u,\"tid\":%u,\"args\":{\"sort_index\":%zu}}",
		pid, tid, sort_index);
}

static void trace_init(struct pa_trace_out *t, FILE *f, const struct pa_models *pm)
{
	t->f = f;
	t->pm = pm;
	t->events = 0;
	t->offset_us = 0;
	t->part = 0;
	t->from_us = pm->o->time_from_ms * 1000.0;
	t->to_us = pm->o->time_to_ms >= 0 ? pm->o->time_to_ms * 1000.0 : 1e300;
}

void pa_trace_run_begin(FILE *f)
{
	fputs("{\"traceEvents\":[", f);
}

void pa_trace_begin(struct pa_trace_out *t, FILE *f, const struct pa_models *pm)
{
	trace_init(t, f, pm);
	pa_trace_run_begin(f);
	names(t);
}

void pa_trace_begin_part(struct pa_trace_out *t, FILE *f, const struct pa_models *pm,
			 double offset_us, unsigned long long events)
{
	trace_init(t, f, pm);
	static unsigned parts;
	t->offset_us = offset_us;
	t->part = ++parts;
	t->events = events;
	names(t);
}

/* Markers as instant events on their thread, with their call site. */
static void markers(struct pa_trace_out *t)
{
	const struct pa_session *s = t->pm->s;
	char where[1024];
	for (size_t i = 0; i < s->markers.len; i++) {
		const struct pa_marker *mk = pa_vec_at(&s->markers, i);
		const struct pa_thread *th =
		    *(struct pa_thread **)pa_vec_at(&s->threads, mk->thread);
		if (!pa_trace_keep(t, th, mk->ticks, mk->ticks))
			continue;
		begin_object(t);
		fputs("\"name\":", t->f);
		pa_json_string(t->f, mk->name);
		fprintf(t->f,
			",\"cat\":\"marker\",\"ph\":\"i\",\"s\":\"t\",\"ts\":%.3f,\"pid\":%u,"
			"\"tid\":%u,\"args\":{\"location\":",
			pa_trace_us(t, mk->ticks), s->pid, th->tid);
		pa_json_string(
		    t->f, pa_describe_pc(t->pm, mk->pc, true, mk->ticks, where, sizeof(where)));
		fputs("}}", t->f);
	}
}

void pa_trace_end_part(struct pa_trace_out *t)
{
	markers(t);
}

void pa_trace_run_end(FILE *f)
{
	fputs("\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"producer\":\"profshim\"}}\n", f);
}

void pa_trace_end(struct pa_trace_out *t)
{
	pa_trace_end_part(t);
	pa_trace_run_end(t->f);
}
