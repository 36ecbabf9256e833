/*
 * CPU samples on the timeline (--format=trace): per thread, a "Profile"
 * event and "ProfileChunk" events holding a V8-style CPU profile (nodes
 * with parent ids, samples, timeDeltas), the form the DevTools Performance
 * panel, catapult (chrome://tracing) and speedscope all read as samples of
 * that thread.
 *
 * Placement: a sample is taken at the end of the CPU time it stands for
 * (weight x period), and viewers charge a sample with the interval after
 * it. So each sample is placed weight x period before its time (or right
 * after the previous one, when clock jitter would make them overlap or
 * leave a gap under a tenth of a period), and a sample of the root
 * follows weight x period later unless the next sample starts there: the
 * thread shows busy for exactly its CPU time, idle (nothing drawn) in
 * between. Back-to-back samples of one stack become one sample.
 *
 * Track: the thread's own, unless the timeline also has the calls (trace
 * mode): the DevTools trace engine drops samples that fall inside slices
 * it does not know as script, so the samples then go on a companion
 * track right below the thread's ("NAME: CPU samples", tid + 2^22: above
 * any Linux tid, PID_MAX_LIMIT).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "call_model.h"
#include "jsonw.h"
#include "out_trace.h"
#include "out_cpu_order.h"
#include "out_util.h"
#include "sample_model.h"

#define CHUNK_SAMPLES 20000
#define COMPANION_TID (1u << 22)

/* The nodes of thread th's subtree, as ProfileChunk nodes with parent ids;
 * the thread's node itself becomes the root (id 1). top[i]: the depth-1
 * (thread) node above node i. */
static void write_nodes(const struct cpu_model *m, FILE *f, size_t th, const uint32_t *top)
{
	const struct cpu_thread_stats *ts = pa_vec_at(&m->threads, th);
	fputs("\"nodes\":[{\"id\":1,\"callFrame\":{\"functionName\":\"(root)\",\"scriptId\":\"0\","
	      "\"url\":\"\",\"lineNumber\":-1,\"columnNumber\":-1}}",
	      f);
	for (uint32_t i = 1; i < m->nodes.len; i++) {
		const struct cpu_node *n = cpu_node_at(m, i);
		if (n->func < 0 || top[i] != ts->node)
			continue;
		const struct cpu_func *fn = cpu_func_at(m, n->func);
		uint32_t parent = n->parent == ts->node ? 1 : n->parent + 1;
		fprintf(f,
			",\n{\"id\":%" PRIu32 ",\"parent\":%" PRIu32
			",\"callFrame\":{\"functionName\":",
			i + 1, parent);
		pa_json_string(f, fn->name);
		fprintf(f, ",\"scriptId\":\"%d\",\"url\":", n->func + 1);
		pa_json_string(f, fn->file ? fn->file : (fn->module ? fn->module : ""));
		fprintf(f, ",\"lineNumber\":%d,\"columnNumber\":0}}",
			fn->line > 0 ? fn->line - 1 : 0);
	}
	fputc(']', f);
}

/* A Profile's id: the thread's, and in a run's timeline also the part's
 * (a pid that exec'd has two images with the same tids). */
static unsigned long long profile_id(const struct pa_trace_out *t, uint32_t tid)
{
	return (unsigned long long)t->part << 32 | tid;
}

struct chunk {
	struct pa_trace_out *t;
	uint32_t pid, tid;
	int n;
	double last_us; /* time of the last sample written */
	char *samples, *deltas;
	size_t slen, dlen;
	FILE *sf, *df;
};

static void chunk_open(struct chunk *c)
{
	c->n = 0;
	c->sf = open_memstream(&c->samples, &c->slen);
	c->df = open_memstream(&c->deltas, &c->dlen);
}

static void chunk_flush(struct chunk *c)
{
	fclose(c->sf);
	fclose(c->df);
	if (c->n)
		pa_trace_event(
		    c->t,
		    "\"name\":\"ProfileChunk\",\"cat\":\"disabled-by-default-v8.cpu_profiler\","
		    "\"ph\":\"P\",\"id\":\"0x%llx\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,"
		    "\"args\":{\"data\":{\"cpuProfile\":{\"samples\":[%s]},\"timeDeltas\":[%s]}}",
		    profile_id(c->t, c->tid), c->pid, c->tid, c->last_us, c->samples, c->deltas);
	free(c->samples);
	free(c->deltas);
	c->samples = c->deltas = NULL;
}

static void chunk_sample(struct chunk *c, uint32_t node_id, double at_us)
{
	if (at_us < c->last_us)
		at_us = c->last_us; /* deltas never negative */
	fprintf(c->sf, "%s%" PRIu32, c->n ? "," : "", node_id);
	fprintf(c->df, "%s%.3f", c->n ? "," : "", at_us - c->last_us);
	c->last_us = at_us;
	if (++c->n == CHUNK_SAMPLES) {
		chunk_flush(c);
		chunk_open(c);
	}
}

static void thread_samples(struct pa_trace_out *t, const struct cpu_model *m, size_t th,
			   const uint32_t *top, uint32_t tid, const struct cpu_by_thread *bt)
{
	const struct pa_session *s = t->pm->s;
	const struct pa_thread *pt = *(struct pa_thread **)pa_vec_at(&s->threads, th);
	const struct cpu_thread_stats *ts = pa_vec_at(&m->threads, th);
	double start_us = pa_trace_us(t, pt->start_ticks);
	double period_us = m->period_s * 1e6;
	pa_trace_event(t,
		       "\"name\":\"Profile\",\"cat\":\"disabled-by-default-v8.cpu_profiler\","
		       "\"ph\":\"P\",\"id\":\"0x%llx\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,"
		       "\"args\":{\"data\":{\"startTime\":%.3f}}",
		       profile_id(t, tid), s->pid, tid, start_us, start_us);
	/* All nodes go with the first chunk. */
	struct chunk c = {.t = t, .pid = s->pid, .tid = tid, .last_us = start_us};
	FILE *f = pa_trace_open_event(t);
	fprintf(f,
		"\"name\":\"ProfileChunk\",\"cat\":\"disabled-by-default-v8.cpu_profiler\","
		"\"ph\":\"P\",\"id\":\"0x%llx\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,"
		"\"args\":{\"data\":{\"cpuProfile\":{",
		profile_id(t, tid), s->pid, tid, start_us);
	write_nodes(m, f, th, top);
	fputs(",\"samples\":[]},\"timeDeltas\":[]}}}", f);
	chunk_open(&c);
	double first_us = -1;
	/* A run of back-to-back samples of one stack is one sample, and one
	 * that the next starts right after needs no idle sample between: a
	 * busy thread's hot loop costs a few bytes, not two samples each. */
	uint32_t run_node = 0;
	double run_from = 0, run_to = 0;
	for (size_t j = bt->first[th]; j < bt->first[th + 1]; j++) {
		const struct cpu_sample *cs = pa_vec_at(&m->samples_v, bt->idx[j]);
		if (!pa_trace_keep(t, pt, cs->ticks, cs->ticks))
			continue;
		double cpu_us = (double)cs->weight * period_us;
		double from_us = pa_trace_us(t, cs->ticks) - cpu_us;
		/* Clock jitter: never overlap the previous one, and a gap of a
		 * tenth of a period is no idle time worth drawing. */
		if (run_node && from_us < run_to + 0.1 * period_us)
			from_us = run_to;
		uint32_t node = cs->node == ts->node ? 1 : cs->node + 1;
		if (first_us < 0)
			first_us = from_us;
		if (run_node && from_us == run_to && node == run_node) {
			run_to += cpu_us;
			continue;
		}
		if (run_node) {
			chunk_sample(&c, run_node, run_from);
			if (from_us > run_to)
				chunk_sample(&c, 1, run_to); /* idle until this one */
		}
		run_node = node;
		run_from = from_us;
		run_to = from_us + cpu_us;
	}
	if (run_node) {
		chunk_sample(&c, run_node, run_from);
		chunk_sample(&c, 1, run_to);
	}
	chunk_flush(&c);
	/* The DevTools trace engine draws a thread's samples only on a thread
	 * that has trace events: a B/E pair spans the samples (a pair, not
	 * an X slice, so tools counting calls as X slices count no more),
	 * 1 us wider on each side: a sample starting with the slice would be
	 * cut to nothing by it. Its self time in DevTools' Bottom-up is the
	 * span's time not covered by samples: it is named for that. */
	if (first_us >= 0) {
		pa_trace_event(
		    t,
		    "\"name\":\"off CPU (between samples)\",\"cat\":\"profshim\",\"ph\":\"B\","
		    "\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"args\":{\"samples\":%" PRIu64 "}",
		    s->pid, tid, first_us - 1, ts->samples);
		pa_trace_event(
		    t,
		    "\"name\":\"off CPU (between samples)\",\"cat\":\"profshim\",\"ph\":\"E\","
		    "\"pid\":%u,\"tid\":%u,\"ts\":%.3f",
		    s->pid, tid, c.last_us + 1);
	}
}

int cpu_trace_samples(const struct pa_models *pm, struct pa_trace_out *t)
{
	const struct cpu_model *m = pm->cpu;
	const struct pa_session *s = pm->s;
	const struct call_model *calls = pm->calls;
	bool companion = calls && calls->from_trace && calls->spans.len;
	uint32_t *top = pa_xcalloc(m->nodes.len + 1, sizeof(uint32_t));
	struct cpu_by_thread bt;
	cpu_by_thread_build(m, &bt);
	for (uint32_t i = 1; i < m->nodes.len; i++) {
		const struct cpu_node *n = cpu_node_at(m, i);
		top[i] = n->depth <= 1 ? i : top[n->parent]; /* parents come first */
	}
	for (size_t k = 0; k < s->threads.len; k++) {
		size_t th = pa_thread_order(s, k);
		if (th >= m->threads.len)
			continue;
		const struct pa_thread *pt = *(struct pa_thread **)pa_vec_at(&s->threads, th);
		const struct cpu_thread_stats *ts = pa_vec_at(&m->threads, th);
		if (!ts->samples || (pm->o->thread >= 0 && pt->tid != (uint32_t)pm->o->thread))
			continue;
		uint32_t tid = pt->tid;
		if (companion) {
			char name[96];
			snprintf(name, sizeof(name), "%s: CPU samples",
				 pt->name[0] ? pt->name : "thread");
			tid += COMPANION_TID;
			pa_trace_thread_name(t, tid, name, 2 * k + 1);
		}
		thread_samples(t, m, th, top, tid, &bt);
	}
	cpu_by_thread_free(&bt);
	free(top);
	return 0;
}
