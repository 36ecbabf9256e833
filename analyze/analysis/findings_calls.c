/*
 * Findings from the calls recorder (-finstrument-functions): functions
 * called millions of times for very little work each, and functions whose
 * slowest calls are far slower than their typical one.
 *
 * Instrumentation adds its own cost to every call, so measured times of
 * tiny functions are upper bounds; the tiny-call saving is estimated from
 * the call itself (CALL_OVERHEAD_NS), not from the measured time.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "call_model.h"
#include "findings.h"
#include "models.h"

#define TINY_MIN_CALLS 1000000
#define TINY_MAX_AVG_NS 100.0
#define CALL_OVERHEAD_NS 2.0 /* a call, a return, a prologue and an epilogue */
#define TAIL_MIN_CALLS 100
#define TAIL_RATIO 10.0
#define TAIL_MIN_P99_NS 100000.0 /* 100 us: shorter tails are interrupts and page faults */

static double ns_of(const struct pa_models *pm, double ticks)
{
	return pa_ticks_to_ns(pm->s, 1) * ticks;
}

static double run_wall_s(const struct pa_models *pm)
{
	return pa_ticks_to_ns(pm->s, pa_session_duration_ticks(pm->s)) / 1e9;
}

static const char *func_name(const struct call_model *m, uint32_t i)
{
	const struct call_func *f = pa_vec_at(&m->funcs, i);
	return f->name ? f->name : "??";
}

/* The caller with the most calls to func, -1 if none. */
static long top_caller(const struct call_model *m, uint32_t func, uint64_t *count)
{
	long best = -1;
	*count = 0;
	for (size_t i = 0; i < m->edges.len; i++) {
		const struct call_edge *e = pa_vec_at(&m->edges, i);
		if (e->callee == func && e->caller != func && e->count > *count) {
			*count = e->count;
			best = (long)e->caller;
		}
	}
	return best;
}

static void push_caller(struct finding *f, const struct call_model *m, uint32_t func)
{
	char buf[1024];
	const struct call_func *fn = pa_vec_at(&m->funcs, func);
	snprintf(buf, sizeof(buf), "%s (%s:%d)", fn->name ? fn->name : "??",
		 fn->file ? fn->file : "", fn->line);
	finding_stack_push(f, buf);
	uint64_t n;
	long caller = top_caller(m, func, &n);
	if (caller >= 0 && caller < (long)m->funcs.len) {
		const struct call_func *c = pa_vec_at(&m->funcs, (size_t)caller);
		snprintf(buf, sizeof(buf), "%s (%s:%d)", func_name(m, (uint32_t)caller),
			 c->file ? c->file : "", c->line);
		finding_stack_push(f, buf);
		finding_count(f, "calls_from_top_caller", (double)n);
	}
}

void findings_tiny_calls(const struct pa_models *pm, struct findings *out)
{
	const struct call_model *m = pm->calls;
	if (!m || !call_model_has_data(m))
		return;
	double wall = run_wall_s(pm);
	for (size_t i = 1; i < m->funcs.len; i++) {
		const struct call_func *fn = pa_vec_at(&m->funcs, i);
		if (fn->calls < TINY_MIN_CALLS)
			continue;
		double avg_ns = ns_of(pm, (double)fn->total) / (double)fn->calls;
		if (avg_ns >= TINY_MAX_AVG_NS)
			continue;
		double saved = (double)fn->calls * CALL_OVERHEAD_NS / 1e9;
		char sec[32];
		struct finding *f = finding_add(out, "tiny_calls", wall > 0 ? saved / wall : 0);
		finding_impact(f, saved, "cpu_seconds", wall > 0 ? 100 * saved / wall : 0,
			       "about %s of call overhead (%.0f ns per call, estimated)",
			       finding_seconds(saved, sec, sizeof(sec)), CALL_OVERHEAD_NS);
		finding_where(f, fn->name, fn->file, fn->line);
		finding_summary(f, "%s is called %.2f million times for %.0f ns each on average",
				fn->name ? fn->name : "??", (double)fn->calls / 1e6, avg_ns);
		finding_count(f, "calls", (double)fn->calls);
		finding_count(f, "avg_ns", avg_ns);
		finding_count(f, "total_seconds", ns_of(pm, (double)fn->total) / 1e9);
		push_caller(f, m, (uint32_t)i);
		finding_recommend(f, "Let the compiler inline it (static inline in a header, or "
				     "link-time optimization), or hoist the call out of the loop "
				     "that makes it.");
	}
}

void findings_tail_latency(const struct pa_models *pm, struct findings *out)
{
	const struct call_model *m = pm->calls;
	if (!m || !call_model_has_data(m))
		return;
	double wall = run_wall_s(pm);
	for (size_t i = 1; i < m->funcs.len; i++) {
		const struct call_func *fn = pa_vec_at(&m->funcs, i);
		double p50 = ns_of(pm, fn->p50), p99 = ns_of(pm, fn->p99);
		if (fn->timed < TAIL_MIN_CALLS || p50 <= 0 || p99 < TAIL_RATIO * p50 ||
		    p99 < TAIL_MIN_P99_NS)
			continue;
		/* The slowest 1% of calls, brought down to the typical call. */
		double saved = (double)fn->calls * 0.01 * (p99 - p50) / 1e9;
		char a[32], b[32], c[32], d[32];
		struct finding *f = finding_add(out, "tail_latency", wall > 0 ? saved / wall : 0);
		finding_impact(f, saved, "wall_seconds", wall > 0 ? 100 * saved / wall : 0,
			       "at least %s of wall time in its slowest 1%% of calls",
			       finding_seconds(saved, a, sizeof(a)));
		finding_where(f, fn->name, fn->file, fn->line);
		finding_summary(f, "%s: p99 %s is %.0fx its p50 %s (slowest call %s)",
				fn->name ? fn->name : "??",
				finding_seconds(p99 / 1e9, b, sizeof(b)), p99 / p50,
				finding_seconds(p50 / 1e9, c, sizeof(c)),
				finding_seconds(ns_of(pm, (double)fn->max) / 1e9, d, sizeof(d)));
		finding_count(f, "calls", (double)fn->calls);
		finding_count(f, "p50_ms", p50 / 1e6);
		finding_count(f, "p99_ms", p99 / 1e6);
		finding_count(f, "max_ms", ns_of(pm, (double)fn->max) / 1e6);
		push_caller(f, m, (uint32_t)i);
		finding_recommend(f, "Find what the slow calls do differently (a cache miss, a "
				     "lock, a resize, I/O): see them on the timeline with "
				     "--format=trace --min-duration, and take that work off this "
				     "path.");
	}
}
