/*
 * Tail latency of spans (the profshim.h API: a request, a frame, a
 * phase): a span name whose p99 is far above its p50, with the slowest
 * spans' times. The same rule as for functions (findings_calls.c), over
 * the io model's span statistics, which need no recorder.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "findings.h"
#include "io_model.h"
#include "models.h"

#define TAIL_MIN_SPANS 100
#define TAIL_RATIO 10.0
#define TAIL_MIN_P99_NS 100000.0 /* 100 us: shorter tails are interrupts and page faults */
#define TAIL_SHOW_SLOWEST 5

static double run_wall_s(const struct pa_models *pm)
{
	return pa_ticks_to_ns(pm->s, pa_session_duration_ticks(pm->s)) / 1e9;
}

/* "60.12 ms, 60.10 ms, ..." : the slowest spans, slowest first. */
static void slowest_text(const struct io_stat *st, char *buf, size_t cap)
{
	size_t n = st->durs.len, used = 0;
	buf[0] = 0;
	for (size_t k = 0; k < TAIL_SHOW_SLOWEST && k < n && used < cap; k++) {
		char t[32];
		double ns = ((const double *)st->durs.items)[n - 1 - k];
		used += (size_t)snprintf(buf + used, cap - used, "%s%s", k ? ", " : "",
					 finding_seconds(ns / 1e9, t, sizeof(t)));
	}
}

static void span_finding(const struct pa_models *pm, const struct io_span_stat *sp,
			 struct findings *out)
{
	const struct io_stat *st = &sp->st;
	double p50 = io_stat_pct(st, 50), p99 = io_stat_pct(st, 99), wall = run_wall_s(pm);
	/* the slowest 1% of spans, brought down to the typical one */
	double saved = (double)st->count * 0.01 * (p99 - p50) / 1e9;
	char a[32], b[32], c[32], slow[256], obj[PST_MAX_STR + 16];
	struct finding *f = finding_add(out, "tail_latency", wall > 0 ? saved / wall : 0);
	finding_impact(f, saved, "wall_seconds", wall > 0 ? 100 * saved / wall : 0,
		       "at least %s of wall time in its slowest 1%% of spans",
		       finding_seconds(saved, a, sizeof(a)));
	snprintf(obj, sizeof(obj), "span %s", sp->name);
	finding_object(f, obj);
	slowest_text(st, slow, sizeof(slow));
	finding_summary(f, "span '%s': p99 %s is %.0fx its p50 %s (slowest: %s)", sp->name,
			finding_seconds(p99 / 1e9, b, sizeof(b)), p99 / p50,
			finding_seconds(p50 / 1e9, c, sizeof(c)), slow);
	finding_count(f, "spans", (double)st->count);
	finding_count(f, "p50_ms", p50 / 1e6);
	finding_count(f, "p99_ms", p99 / 1e6);
	finding_count(f, "max_ms", st->max_ns / 1e6);
	finding_count(f, "errors", (double)st->errors);
	finding_recommend(f, "Find what the slow spans do differently (a cache miss, a lock, a "
			     "resize, I/O): see them on the timeline with --format=trace, and take "
			     "that work off this path.");
}

void findings_span_tail_latency(const struct pa_models *pm, struct findings *out)
{
	const struct io_model *m = pm->io;
	if (!m)
		return;
	for (size_t i = 0; i < m->spans.len; i++) {
		const struct io_span_stat *sp = pa_vec_at(&m->spans, i);
		if (sp->thread != UINT32_MAX || sp->st.count < TAIL_MIN_SPANS)
			continue;
		double p50 = io_stat_pct(&sp->st, 50), p99 = io_stat_pct(&sp->st, 99);
		if (p50 > 0 && p99 >= TAIL_RATIO * p50 && p99 >= TAIL_MIN_P99_NS)
			span_finding(pm, sp, out);
	}
}
