/*
 * The timeline's share of the io model (--format=trace): I/O calls, waits
 * and contended locks as X slices on their thread's track (category io,
 * network, waiting or locks) with the file or peer, bytes and result as
 * arguments; spans as X slices (category span); the API's counters as C
 * events. --min-duration leaves out shorter slices; --from/--to and
 * --thread apply as everywhere.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "io_model.h"
#include "out_trace.h"

static const struct pa_thread *thread_at(const struct pa_session *s, uint32_t i)
{
	return *(struct pa_thread **)pa_vec_at(&s->threads, i);
}

/* s as the inside of a JSON string (quotes and control bytes escaped,
 * bytes >= 0x80 kept only as printable ASCII '?', so it always parses). */
static const char *json_inner(const char *s, char *buf, size_t cap)
{
	size_t n = 0;
	for (; s && *s && n + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(buf + n, cap - n, "\\u%04x", c);
		} else {
			buf[n++] = c < 0x80 ? (char)c : '?';
		}
	}
	buf[n] = 0;
	return buf;
}

/* Ticks from a duration in ns (the calibration's inverse). */
static uint64_t ns_to_ticks(const struct pa_session *s, double ns)
{
	double per_tick = pa_ticks_to_ns(s, 1000000) / 1e6;
	return per_tick > 0 ? (uint64_t)(ns / per_tick) : 0;
}

static void call_slices(const struct pa_models *pm, struct pa_trace_out *t)
{
	const struct io_model *m = pm->io;
	const struct pa_session *s = pm->s;
	char target[1024], esc[2200];
	for (size_t i = 0; i < m->blocks.len; i++) {
		const struct io_block *b = pa_vec_at(&m->blocks, i);
		double dur_us = b->ns / 1000.0;
		if (dur_us < pm->o->min_dur_us)
			continue;
		const struct pa_thread *th = thread_at(s, b->thread);
		if (!pa_trace_keep(t, th, b->ticks, b->ticks + ns_to_ticks(s, b->ns)))
			continue;
		const struct io_site *site = pa_vec_at(&m->sites, b->site);
		const struct io_group *g = io_desc_group(m, b->desc);
		if (g)
			snprintf(target, sizeof(target), "%s", g->name);
		else if (site->cls == IO_CLASS_LOCK || b->op == PST_IO_COND_WAIT ||
			 b->op == PST_IO_SEM_WAIT)
			snprintf(target, sizeof(target), "0x%" PRIx64, b->obj);
		else
			target[0] = 0;
		pa_trace_event_named(
		    t, b->op ? io_op_name(b->op) : "getaddrinfo",
		    "\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":%u,"
		    "\"tid\":%u,\"args\":{\"target\":\"%s\",\"bytes\":%" PRIu64
		    ",\"result\":%" PRId64 "%s}",
		    io_class_name(site->cls), pa_trace_us(t, b->ticks), dur_us, s->pid, th->tid,
		    json_inner(target, esc, sizeof(esc)), b->bytes, b->result,
		    b->unfinished ? ",\"unfinished\":true" : "");
	}
}

static void span_slices(const struct pa_models *pm, struct pa_trace_out *t)
{
	const struct io_model *m = pm->io;
	const struct pa_session *s = pm->s;
	for (size_t i = 0; i < m->span_recs.len; i++) {
		const struct io_span_rec *r = pa_vec_at(&m->span_recs, i);
		double dur_us = pa_ticks_to_ns(s, r->end - r->start) / 1000.0;
		const struct pa_thread *th = thread_at(s, r->thread);
		if (dur_us < pm->o->min_dur_us || !pa_trace_keep(t, th, r->start, r->end))
			continue;
		const struct io_span_stat *st = pa_vec_at(&m->spans, r->stat);
		pa_trace_event_named(
		    t, st->name,
		    "\"cat\":\"span\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":%u,"
		    "\"tid\":%u,\"args\":{\"depth\":%u,\"error\":%s}",
		    pa_trace_us(t, r->start), dur_us, s->pid, th->tid, r->depth,
		    r->error ? "true" : "false");
	}
}

static void counter_events(const struct pa_models *pm, struct pa_trace_out *t)
{
	const struct io_model *m = pm->io;
	const struct pa_session *s = pm->s;
	char esc[600];
	for (size_t i = 0; i < m->counters.len; i++) {
		const struct io_counter *c = pa_vec_at(&m->counters, i);
		if (!pa_trace_keep(t, NULL, c->ticks, c->ticks))
			continue;
		const struct io_counter_name *cn = pa_vec_at(&m->counter_names, c->name);
		pa_trace_event_named(t, cn->name,
				     "\"cat\":\"counter\",\"ph\":\"C\",\"ts\":%.3f,\"pid\":%u,"
				     "\"args\":{\"%s\":%" PRId64 "}",
				     pa_trace_us(t, c->ticks), s->pid,
				     json_inner(cn->name, esc, sizeof(esc)), c->value);
	}
}

void io_trace_events(const struct pa_models *pm, struct pa_trace_out *t)
{
	if (!io_model_has_data(pm->io))
		return;
	call_slices(pm, t);
	span_slices(pm, t);
	counter_events(pm, t);
}
