/*
 * Reports of the call model: text tables, callers/callees and the call
 * tree; JSON (time_metrics.functions, call_graph, edges); folded stacks by
 * self time; Chrome trace events and speedscope profiles of the calls.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "call_model.h"
#include "models.h"
#include "out_folded.h"
#include "out_caps.h"
#include "out_speedscope.h"
#include "out_trace.h"
#include "symbols.h"

#define TEXT_DEFAULT_HIDE_PCT 0.5 /* text call tree without --hide */
#define GRAPH_TOP 5		  /* functions shown with callers/callees */
/* call_graph levels without --depth: JSON tools refuse deeper nesting
 * (jq 1.6 stops near 200 levels; each level here is an object and an array). */
#define JSON_DEFAULT_DEPTH 64

static double ns(const struct pa_session *s, double ticks)
{
	return pa_ticks_to_ns(s, 1) * ticks;
}

/* "% of run": of the time of all threads together, so shares of a
 * multi-threaded run add up to 100% and never exceed it. */
static double run_ticks(const struct call_model *m)
{
	const struct pa_session *s = m->s;
	double sum = 0;
	for (size_t i = 0; i < s->threads.len; i++) {
		const struct pa_thread *t = *(struct pa_thread **)pa_vec_at(&s->threads, i);
		if (t->end_ticks > t->start_ticks)
			sum += (double)(t->end_ticks - t->start_ticks);
	}
	if (sum <= 0)
		sum = (double)pa_session_duration_ticks(s);
	return sum > 0 ? sum : 1;
}

static const struct call_func *func_at(const struct call_model *m, uint32_t i)
{
	return pa_vec_at(&m->funcs, i);
}

static const struct call_node *node_at(const struct call_model *m, uint32_t i)
{
	return pa_vec_at(&m->nodes, i);
}

/* --- sorting --- */

static const struct call_model *sort_model;

static int by_total(const void *a, const void *b)
{
	const struct call_func *x = func_at(sort_model, *(const uint32_t *)a);
	const struct call_func *y = func_at(sort_model, *(const uint32_t *)b);
	return x->total > y->total ? -1 : x->total < y->total;
}

static int by_self(const void *a, const void *b)
{
	const struct call_func *x = func_at(sort_model, *(const uint32_t *)a);
	const struct call_func *y = func_at(sort_model, *(const uint32_t *)b);
	return x->self > y->self ? -1 : x->self < y->self;
}

static int node_by_incl(const void *a, const void *b)
{
	const struct call_node *x = node_at(sort_model, *(const uint32_t *)a);
	const struct call_node *y = node_at(sort_model, *(const uint32_t *)b);
	return x->incl > y->incl ? -1 : x->incl < y->incl;
}

/* Functions with calls, sorted by cmp; *n receives the count. */
static uint32_t *sorted_funcs(const struct call_model *m, int (*cmp)(const void *, const void *),
			      size_t *n)
{
	uint32_t *ids = pa_xcalloc(m->funcs.len + 1, sizeof(uint32_t));
	size_t k = 0;
	for (uint32_t i = 0; i < m->funcs.len; i++)
		if (func_at(m, i)->calls)
			ids[k++] = i;
	sort_model = m;
	qsort(ids, k, sizeof(uint32_t), cmp);
	*n = k;
	return ids;
}

/* Children of a node sorted by inclusive time; *n receives the count. */
static uint32_t *sorted_children(const struct call_model *m, uint32_t node, size_t *n)
{
	size_t k = 0, cap = 8;
	uint32_t *ids = pa_xmalloc(cap * sizeof(uint32_t));
	for (uint32_t c = node_at(m, node)->first_child; c; c = node_at(m, c)->next_sibling) {
		if (k == cap)
			ids = pa_xrealloc(ids, (cap *= 2) * sizeof(uint32_t));
		ids[k++] = c;
	}
	sort_model = m;
	qsort(ids, k, sizeof(uint32_t), node_by_incl);
	*n = k;
	return ids;
}

/* --- text --- */

static void fmt_duration(char *buf, size_t cap, double nsv)
{
	if (nsv >= 1e9)
		snprintf(buf, cap, "%.3fs", nsv / 1e9);
	else if (nsv >= 1e6)
		snprintf(buf, cap, "%.3fms", nsv / 1e6);
	else if (nsv >= 1e3)
		snprintf(buf, cap, "%.3fus", nsv / 1e3);
	else
		snprintf(buf, cap, "%.0fns", nsv);
}

/* The same for one call path (trace mode times every call). */
static bool node_estimated(const struct call_model *m, const struct call_node *n)
{
	return !m->from_trace && n->timed < n->calls;
}

/* Tree mode timed only some of f's calls: its times are estimates. */
static bool estimated(const struct call_func *f)
{
	return f->timed < f->calls;
}

static void text_table(const struct call_model *m, FILE *out, const char *title,
		       int (*cmp)(const void *, const void *), int top)
{
	const struct pa_session *s = m->s;
	size_t n;
	uint32_t *ids = sorted_funcs(m, cmp, &n);
	fprintf(out, "\n%s\n  %10s %11s %11s %10s %10s %10s %10s %10s %10s %6s  %s\n", title,
		"calls", "total ms", "self ms", "avg us", "min us", "max us", "p50 us", "p95 us",
		"p99 us", "% run", "function");
	for (size_t i = 0; i < n && (int)i < top; i++) {
		const struct call_func *f = func_at(m, ids[i]);
		fprintf(out,
			"  %10" PRIu64
			" %11.3f %11.3f %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f %6.2f  %s%s",
			f->calls, ns(s, (double)f->total) / 1e6, ns(s, (double)f->self) / 1e6,
			ns(s, (double)f->total / (double)f->calls) / 1e3,
			ns(s, (double)f->min) / 1e3, ns(s, (double)f->max) / 1e3,
			ns(s, f->p50) / 1e3, ns(s, f->p95) / 1e3, ns(s, f->p99) / 1e3,
			100.0 * (double)f->total / run_ticks(m), estimated(f) ? "~ " : "", f->name);
		if (f->file[0])
			fprintf(out, " (%s:%d)", f->file, f->line);
		fputc('\n', out);
	}
	free(ids);
}

/* "name (count), ..." of the edges of func on one side. */
static void text_edges(const struct call_model *m, FILE *out, uint32_t func, bool callers)
{
	int shown = 0;
	for (size_t i = 0; i < m->edges.len; i++) {
		const struct call_edge *e = pa_vec_at(&m->edges, i);
		if ((callers ? e->callee : e->caller) != func)
			continue;
		uint32_t other = callers ? e->caller : e->callee;
		fprintf(out, "%s%s (%" PRIu64 ")", shown++ ? ", " : " ", func_at(m, other)->name,
			e->count);
	}
	if (!shown)
		fputs(callers ? " (none: a root)" : " (none)", out);
	fputc('\n', out);
}

static void text_graph(const struct call_model *m, FILE *out)
{
	size_t n;
	uint32_t *ids = sorted_funcs(m, by_total, &n);
	fprintf(out, "\nCallers and callees of the top functions (call counts)\n");
	for (size_t i = 0; i < n && i < GRAPH_TOP; i++) {
		fprintf(out, "  %s\n    called by:", func_at(m, ids[i])->name);
		text_edges(m, out, ids[i], true);
		fprintf(out, "    calls:    ");
		text_edges(m, out, ids[i], false);
	}
	free(ids);
}

struct tree_limits {
	int max_depth;	  /* 0 = all */
	double min_ticks; /* hide nodes below */
};

static void text_node(const struct call_model *m, FILE *out, uint32_t id, char *prefix, size_t plen,
		      int depth, const struct tree_limits *lim)
{
	size_t n;
	uint32_t *kids = sorted_children(m, id, &n);
	size_t shown = 0, hidden = 0;
	for (size_t i = 0; i < n; i++)
		if ((double)node_at(m, kids[i])->incl >= lim->min_ticks)
			shown++;
		else
			hidden++;
	if (lim->max_depth && depth >= lim->max_depth) {
		if (n)
			fprintf(out, "%s%s… %zu callee%s below --depth\n", prefix, id ? "  " : "",
				n, n == 1 ? "" : "s");
		free(kids);
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct call_node *c = node_at(m, kids[i]);
		if ((double)c->incl < lim->min_ticks)
			continue;
		bool last = ++k == shown && !hidden;
		char dur[32];
		fmt_duration(dur, sizeof(dur), ns(m->s, (double)c->incl));
		const char *branch = id == 0 ? "" : last ? "└─ " : "├─ ";
		fprintf(out, "%s%s%s (%s%s, %" PRIu64 " call%s)\n", prefix, branch,
			func_at(m, c->func)->name, node_estimated(m, c) ? "~" : "", dur, c->calls,
			c->calls == 1 ? "" : "s");
		size_t add = id == 0 ? 2 : strlen(last ? "    " : "│   ");
		if (plen + add + 1 < 4096) {
			memcpy(prefix + plen, id == 0 ? "  " : last ? "    " : "│   ", add);
			prefix[plen + add] = 0;
			text_node(m, out, kids[i], prefix, plen + add, depth + 1, lim);
			prefix[plen] = 0;
		}
	}
	if (hidden)
		fprintf(out, "%s%s(%zu more under the --hide share)\n", prefix, id ? "└─ " : "",
			hidden);
	free(kids);
}

void calls_report_text(const struct pa_models *pm, FILE *out)
{
	const struct call_model *m = pm->calls;
	if (!call_model_has_data(m))
		return;
	size_t nf;
	free(sorted_funcs(m, by_total, &nf));
	fprintf(out, "\nFunction calls (%s mode): %" PRIu64 " calls of %zu functions\n",
		m->from_trace ? "trace" : "tree", m->calls, nf);
	if (m->timed < m->calls)
		fprintf(out,
			"  counts are exact; %" PRIu64
			" calls (%.1f%%) were timed: times marked ~ are "
			"estimated from a sample of the calls (PROFSHIM_CALLS_TIMING=exact times "
			"all)\n",
			m->timed, 100.0 * (double)m->timed / (double)m->calls);
	int top = pm->o->top > 0 ? pm->o->top : 20;
	text_table(m, out, "Top functions by total (inclusive) time", by_total, top);
	text_table(m, out, "Top functions by self time", by_self, top);
	text_graph(m, out);
	double hide = pm->o->hide_pct > 0 ? pm->o->hide_pct : TEXT_DEFAULT_HIDE_PCT;
	struct tree_limits lim = {pm->o->max_depth, hide / 100.0 * run_ticks(m)};
	fprintf(out, "\nCall tree (all threads; hiding calls under %.2f%% of the run", hide);
	if (lim.max_depth)
		fprintf(out, ", %d levels", lim.max_depth);
	fprintf(out, ")\n");
	char prefix[4096] = "";
	text_node(m, out, 0, prefix, 0, 0, &lim);
}

/* --- JSON --- */

static cJSON *function_json(const struct call_model *m, const struct call_func *f)
{
	const struct pa_session *s = m->s;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "name", f->name);
	cJSON_AddStringToObject(j, "file", f->file);
	cJSON_AddNumberToObject(j, "line", f->line);
	cJSON_AddNumberToObject(j, "calls", (double)f->calls);
	cJSON_AddNumberToObject(j, "timed_calls", (double)f->timed);
	cJSON_AddBoolToObject(j, "estimated", estimated(f));
	cJSON_AddNumberToObject(j, "total_ms", ns(s, (double)f->total) / 1e6);
	cJSON_AddNumberToObject(j, "self_ms", ns(s, (double)f->self) / 1e6);
	cJSON_AddNumberToObject(j, "avg_us", ns(s, (double)f->total / (double)f->calls) / 1e3);
	cJSON_AddNumberToObject(j, "min_us", ns(s, (double)f->min) / 1e3);
	cJSON_AddNumberToObject(j, "max_us", ns(s, (double)f->max) / 1e3);
	cJSON_AddNumberToObject(j, "p50_us", ns(s, f->p50) / 1e3);
	cJSON_AddNumberToObject(j, "p95_us", ns(s, f->p95) / 1e3);
	cJSON_AddNumberToObject(j, "p99_us", ns(s, f->p99) / 1e3);
	cJSON_AddNumberToObject(j, "percentage", 100.0 * (double)f->total / run_ticks(m));
	return j;
}

static cJSON *graph_json(const struct call_model *m, uint32_t id, int depth,
			 const struct tree_limits *lim)
{
	const struct call_node *n = node_at(m, id);
	cJSON *j = cJSON_CreateObject();
	if (id) {
		cJSON_AddStringToObject(j, "name", func_at(m, n->func)->name);
		cJSON_AddNumberToObject(j, "calls", (double)n->calls);
		cJSON_AddNumberToObject(j, "duration_ms", ns(m->s, (double)n->incl) / 1e6);
		cJSON_AddNumberToObject(j, "self_ms", ns(m->s, (double)n->excl) / 1e6);
		if (node_estimated(m, n))
			cJSON_AddBoolToObject(j, "estimated", true);
	} else {
		cJSON_AddStringToObject(j, "name", "(all threads)");
		cJSON_AddNumberToObject(j, "calls", (double)m->calls);
		cJSON_AddNumberToObject(j, "duration_ms", ns(m->s, run_ticks(m)) / 1e6);
	}
	cJSON *kids = cJSON_AddArrayToObject(j, "children");
	if (lim->max_depth && depth >= lim->max_depth) {
		if (n->first_child)
			cJSON_AddBoolToObject(j, "truncated", true);
		return j;
	}
	size_t k;
	uint32_t *ids = sorted_children(m, id, &k);
	for (size_t i = 0; i < k; i++)
		if ((double)node_at(m, ids[i])->incl >= lim->min_ticks)
			cJSON_AddItemToArray(kids, graph_json(m, ids[i], depth + 1, lim));
	free(ids);
	return j;
}

void calls_report_json(const struct pa_models *pm, cJSON *root)
{
	const struct call_model *m = pm->calls;
	if (!call_model_has_data(m))
		return;
	const struct pa_session *s = m->s;
	cJSON *tm = cJSON_AddObjectToObject(root, "time_metrics");
	cJSON_AddStringToObject(tm, "mode", m->from_trace ? "trace" : "tree");
	cJSON_AddNumberToObject(tm, "calls", (double)m->calls);
	cJSON_AddNumberToObject(tm, "timed_calls", (double)m->timed);
	cJSON_AddStringToObject(tm, "timing", m->timed < m->calls ? "sampled" : "exact");
	cJSON *funcs = cJSON_AddArrayToObject(tm, "functions");
	size_t n;
	uint32_t *ids = sorted_funcs(m, by_total, &n);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(funcs, function_json(m, func_at(m, ids[i])));
	free(ids);
	cJSON *threads = cJSON_AddArrayToObject(tm, "threads");
	for (size_t i = 0; i < m->threads.len && i < s->threads.len; i++) {
		const struct call_thread_total *tt = pa_vec_at(&m->threads, i);
		const struct pa_thread *t = *(struct pa_thread **)pa_vec_at(&s->threads, i);
		if (!tt->calls)
			continue;
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "tid", t->tid);
		cJSON_AddStringToObject(j, "name", t->name);
		cJSON_AddNumberToObject(j, "calls", (double)tt->calls);
		uint64_t dur = t->end_ticks > t->start_ticks ? t->end_ticks - t->start_ticks : 0;
		cJSON_AddNumberToObject(j, "duration_ms", ns(s, (double)dur) / 1e6);
		cJSON_AddNumberToObject(j, "self_ms", ns(s, (double)tt->self) / 1e6);
		cJSON_AddNumberToObject(j, "outermost_ms", ns(s, (double)tt->outer) / 1e6);
		cJSON_AddItemToArray(threads, j);
	}
	struct tree_limits lim = {pm->o->max_depth ? pm->o->max_depth : JSON_DEFAULT_DEPTH,
				  pm->o->hide_pct / 100.0 * run_ticks(m)};
	cJSON_AddItemToObject(root, "call_graph", graph_json(m, 0, 0, &lim));
	cJSON *edges = cJSON_AddArrayToObject(root, "edges");
	for (size_t i = 0; i < m->edges.len; i++) {
		const struct call_edge *e = pa_vec_at(&m->edges, i);
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "caller", func_at(m, e->caller)->name);
		cJSON_AddStringToObject(j, "callee", func_at(m, e->callee)->name);
		cJSON_AddNumberToObject(j, "count", (double)e->count);
		cJSON_AddItemToArray(edges, j);
	}
}

/* --- folded stacks and speedscope from the merged tree --- */

typedef void (*path_fn)(const struct call_model *m, const struct pa_frame *const *frames,
			const uint32_t *funcs, int n, uint64_t self, void *ctx);

static void walk_paths(const struct call_model *m, uint32_t id, const struct pa_frame **frames,
		       uint32_t *funcs, int depth, path_fn fn, void *ctx)
{
	const struct call_node *n = node_at(m, id);
	if (id) {
		if (depth >= 4096)
			return;
		frames[depth] = func_at(m, n->func)->frame;
		funcs[depth] = n->func;
		depth++;
		if (n->excl)
			fn(m, frames, funcs, depth, n->excl, ctx);
	}
	for (uint32_t c = n->first_child; c; c = node_at(m, c)->next_sibling)
		walk_paths(m, c, frames, funcs, depth, fn, ctx);
}

static void folded_path(const struct call_model *m, const struct pa_frame *const *frames,
			const uint32_t *funcs, int n, uint64_t self, void *ctx)
{
	(void)funcs;
	uint64_t us = (uint64_t)(ns(m->s, (double)self) / 1e3 + 0.5);
	pa_folded_line(ctx, frames, n, us);
}

void calls_report_folded(const struct pa_models *pm, FILE *out)
{
	const struct pa_frame **frames = pa_xcalloc(4096, sizeof(*frames));
	uint32_t *funcs = pa_xcalloc(4096, sizeof(*funcs));
	walk_paths(pm->calls, 0, frames, funcs, 0, folded_path, out);
	free(frames);
	free(funcs);
}

struct ss_ctx {
	struct pa_speedscope *ss;
	int *frame_of; /* speedscope frame by function, -1 = not yet */
	int buf[4096];
};

static int ss_frame_of(const struct call_model *m, struct ss_ctx *c, uint32_t func)
{
	if (c->frame_of[func] < 0)
		c->frame_of[func] = pa_ss_frame(c->ss, func_at(m, func)->frame);
	return c->frame_of[func];
}

static void ss_path(const struct call_model *m, const struct pa_frame *const *frames,
		    const uint32_t *funcs, int n, uint64_t self, void *ctx)
{
	(void)frames;
	struct ss_ctx *c = ctx;
	for (int i = 0; i < n; i++)
		c->buf[i] = ss_frame_of(m, c, funcs[i]);
	pa_ss_sample(c->ss, c->buf, n, ns(m->s, (double)self));
}

static int span_order(const void *a, const void *b)
{
	const struct call_span *x = a, *y = b;
	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	/* calls of no duration at one tick: whatever order the threads'
	 * events came in, the same output */
	if (x->dur != y->dur)
		return x->dur < y->dur ? -1 : 1;
	return x->func < y->func ? -1 : x->func > y->func;
}

static void sort_spans(struct call_model *m)
{
	if (m->spans.len > 1)
		qsort(m->spans.items, m->spans.len, sizeof(struct call_span), span_order);
}

/* One evented profile per thread: open/close events in time order. */
static void ss_thread(const struct call_model *m, struct ss_ctx *c, const struct pa_thread *t,
		      size_t from, size_t to, uint64_t floor)
{
	const struct pa_session *s = m->s;
	char name[128];
	snprintf(name, sizeof(name), "%s (tid %u) calls", t->name[0] ? t->name : "thread", t->tid);
	double t0 = pa_ns_since_start(s, t->start_ticks) / 1e3;
	double t1 = pa_ns_since_start(s, t->end_ticks) / 1e3;
	pa_ss_evented_begin(c->ss, name, "microseconds", t0, t1);
	uint64_t ends[4096];
	int frames[4096], depth = 0;
	for (size_t i = from; i < to; i++) {
		const struct call_span *sp = pa_vec_at(&m->spans, i);
		if (sp->dur < floor)
			continue; /* size cap */
		while (depth && ends[depth - 1] <= sp->start) {
			depth--;
			pa_ss_event(c->ss, 'C', pa_ns_since_start(s, ends[depth]) / 1e3,
				    frames[depth]);
		}
		if (depth == 4096)
			continue;
		uint64_t end = sp->start + sp->dur;
		if (depth && end > ends[depth - 1])
			end = ends[depth - 1]; /* keep the nesting exact */
		frames[depth] = ss_frame_of(m, c, sp->func);
		ends[depth++] = end;
		pa_ss_event(c->ss, 'O', pa_ns_since_start(s, sp->start) / 1e3, frames[depth - 1]);
	}
	while (depth) {
		depth--;
		pa_ss_event(c->ss, 'C', pa_ns_since_start(s, ends[depth]) / 1e3, frames[depth]);
	}
	pa_ss_profile_end(c->ss);
}

void calls_report_speedscope(const struct pa_models *pm, struct pa_speedscope *ss)
{
	struct call_model *m = pm->calls;
	struct ss_ctx *c = pa_xcalloc(1, sizeof(*c));
	c->ss = ss;
	c->frame_of = pa_xmalloc((m->funcs.len + 1) * sizeof(int));
	for (size_t i = 0; i <= m->funcs.len; i++)
		c->frame_of[i] = -1;
	if (m->from_trace) {
		sort_spans(m);
		uint64_t floor = pa_call_span_floor(pm, &m->spans, 80.0); /* size cap */
		for (size_t i = 0; i < m->spans.len;) {
			uint32_t th = ((const struct call_span *)pa_vec_at(&m->spans, i))->thread;
			size_t j = i;
			while (j < m->spans.len &&
			       ((const struct call_span *)pa_vec_at(&m->spans, j))->thread == th)
				j++;
			ss_thread(m, c, *(struct pa_thread **)pa_vec_at(&m->s->threads, th), i, j,
				  floor);
			i = j;
		}
	} else {
		const struct pa_frame **frames = pa_xcalloc(4096, sizeof(*frames));
		uint32_t *funcs = pa_xcalloc(4096, sizeof(*funcs));
		pa_ss_sampled_begin(ss, "calls: self time (all threads, call tree)", "nanoseconds",
				    0, ns(m->s, run_ticks(m)));
		walk_paths(m, 0, frames, funcs, 0, ss_path, c);
		pa_ss_profile_end(ss);
		free(frames);
		free(funcs);
	}
	free(c->frame_of);
	free(c);
}

/* --- Chrome trace events --- */

int call_model_trace_events(const struct pa_models *pm, struct pa_trace_out *t)
{
	struct call_model *m = pm->calls;
	if (!m->from_trace) {
		/* The rest of the timeline (markers, heap) is still worth having;
		 * said even with -q: a missing section must not look quiet. */
		fprintf(stderr, "profanalyze: warning: the calls were recorded as a call tree "
				"(PROFSHIM_CALLS=tree) and are left out of the timeline; "
				"record with PROFSHIM_CALLS=trace to see them\n");
		return 0;
	}
	sort_spans(m);
	const struct pa_session *s = m->s;
	uint64_t floor = pa_call_span_floor(pm, &m->spans, 95.0); /* size cap */
	for (size_t i = 0; i < m->spans.len; i++) {
		const struct call_span *sp = pa_vec_at(&m->spans, i);
		const struct pa_thread *th =
		    *(struct pa_thread **)pa_vec_at(&s->threads, sp->thread);
		if (sp->dur < floor || !pa_trace_keep(t, th, sp->start, sp->start + sp->dur))
			continue;
		pa_trace_event_named(
		    t, func_at(m, sp->func)->name,
		    "\"cat\":\"call\",\"ph\":\"X\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,"
		    "\"dur\":%.3f",
		    s->pid, th->tid, pa_trace_us(t, sp->start), ns(s, (double)sp->dur) / 1e3);
	}
	return 0;
}
