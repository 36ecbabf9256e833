/*
 * CPU samples in the text and JSON reports: top functions by self and by
 * total samples, hot paths, per-thread samples and CPU seconds, and which
 * timer took the samples. "Samples" are sample weights (1 + overruns): a
 * sample stands for one period of CPU time however late it was delivered.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "models.h"
#include "sample_model.h"

#define HOT_PATH_PCT 10.0

static struct pa_thread *thread_at(const struct pa_session *s, size_t i)
{
	return *(struct pa_thread **)pa_vec_at(&s->threads, i);
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

/* Weight of the samples the report covers (--thread or all). */
static uint64_t covered_weight(const struct cpu_model *m, long thread)
{
	if (thread < 0)
		return m->weight;
	return ((struct cpu_thread_stats *)pa_vec_at(&m->threads, (size_t)thread))->weight;
}

static long selected_thread(const struct pa_models *pm)
{
	return pm->o->thread >= 0 ? cpu_thread_by_tid(pm->cpu, pm->o->thread) : -1;
}

/* "name (file:line)" of a function. */
static const char *func_where(const struct cpu_func *f, char *buf, size_t cap)
{
	const char *file = f->file ? strrchr(f->file, '/') : NULL;
	file = file ? file + 1 : f->file;
	if (file && f->line)
		snprintf(buf, cap, "%s (%s:%d)", f->name, file, f->line);
	else if (file)
		snprintf(buf, cap, "%s (%s)", f->name, file);
	else
		snprintf(buf, cap, "%s", f->name);
	return buf;
}

/* Hot paths: nodes with >= HOT_PATH_PCT% of the weight none of whose
 * children has as much, i.e. the deepest heavy chains. Calls fn on each. */
typedef void (*hot_fn)(const struct cpu_model *m, uint32_t node, uint64_t whole, void *ctx);

static void walk_hot(const struct cpu_model *m, uint32_t node, uint64_t whole, hot_fn fn, void *ctx)
{
	bool deeper = false;
	for (uint32_t c = cpu_node_at(m, node)->first_child; c; c = cpu_node_at(m, c)->next_sibling)
		if (pct(cpu_node_at(m, c)->total, whole) >= HOT_PATH_PCT) {
			deeper = true;
			walk_hot(m, c, whole, fn, ctx);
		}
	if (!deeper && node && cpu_node_at(m, node)->func >= 0)
		fn(m, node, whole, ctx);
}

static void hot_paths(const struct pa_models *pm, hot_fn fn, void *ctx)
{
	const struct cpu_model *m = pm->cpu;
	long th = selected_thread(pm);
	uint64_t whole = covered_weight(m, th);
	if (th >= 0) {
		uint32_t tn = ((struct cpu_thread_stats *)pa_vec_at(&m->threads, (size_t)th))->node;
		if (tn)
			walk_hot(m, tn, whole, fn, ctx);
	} else {
		walk_hot(m, 0, whole, fn, ctx);
	}
}

/* The chain of a node, outermost first (thread node included). */
static size_t chain_of(const struct cpu_model *m, uint32_t node, uint32_t *out, size_t cap)
{
	size_t n = 0;
	for (uint32_t i = node; i && n < cap; i = cpu_node_at(m, i)->parent)
		out[n++] = i;
	for (size_t a = 0, b = n ? n - 1 : 0; a < b; a++, b--) {
		uint32_t t = out[a];
		out[a] = out[b];
		out[b] = t;
	}
	return n;
}

/* A thread whose CPU time the samples do not carry: it used at least two
 * periods, and more than a quarter of them went unsampled (the thread
 * blocked the sampling signal in a way the shim could not undo). */
static bool thread_unsampled(const struct cpu_thread_stats *ts)
{
	return ts->accounted && ts->unsampled >= 2 && ts->unsampled * 4 > ts->periods;
}

/* --- text --- */

static void text_unsampled(const struct pa_models *pm, FILE *out)
{
	const struct cpu_model *m = pm->cpu;
	bool head = false;
	for (size_t i = 0; i < pm->s->threads.len; i++) {
		const struct cpu_thread_stats *ts = pa_vec_at(&m->threads, i);
		if (!thread_unsampled(ts))
			continue;
		const struct pa_thread *t = thread_at(pm->s, i);
		if (!head)
			fprintf(
			    out,
			    "  threads the sampler could not sample (CPU time by their clock):\n");
		head = true;
		fprintf(out, "    thread %u %s: %.3f s of CPU, %.3f s unsampled\n", t->tid, t->name,
			(double)ts->cpu_ns / 1e9, (double)ts->unsampled * m->period_s);
	}
}

static void text_hot(const struct cpu_model *m, uint32_t node, uint64_t whole, void *ctx)
{
	FILE *out = ctx;
	uint32_t chain[512];
	char buf[256];
	size_t n = chain_of(m, node, chain, 512);
	fprintf(out, "  %5.1f%%  ", pct(cpu_node_at(m, node)->total, whole));
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? " > " : "",
			cpu_node_label(m, cpu_node_at(m, chain[i]), buf, sizeof(buf)));
	fputc('\n', out);
}

static void text_table(const struct pa_models *pm, FILE *out, bool by_total, long th)
{
	const struct cpu_model *m = pm->cpu;
	size_t n;
	uint64_t *self, *total;
	int32_t *idx = cpu_top_funcs(m, by_total, th, &n, &self, &total);
	uint64_t whole = covered_weight(m, th);
	char where[1024];
	fprintf(out, "\nTop functions by %s samples\n  %7s %8s %7s %8s  %s\n",
		by_total ? "total" : "self", "self%", "self", "total%", "total", "function");
	for (size_t i = 0; i < n && i < (size_t)pm->o->top; i++) {
		int32_t f = idx[i];
		fprintf(out, "  %6.2f%% %8" PRIu64 " %6.2f%% %8" PRIu64 "  %s\n",
			pct(self[f], whole), self[f], pct(total[f], whole), total[f],
			func_where(cpu_func_at(m, f), where, sizeof(where)));
	}
	free(idx);
	free(self);
	free(total);
}

void cpu_report_text(const struct pa_models *pm, FILE *out)
{
	const struct cpu_model *m = pm->cpu;
	if (!m)
		return;
	const struct pa_session *s = pm->s;
	long th = selected_thread(pm);
	fprintf(
	    out,
	    "\nCPU samples: %" PRIu64 " (weight %" PRIu64 ", %.3f s of CPU time, user + system) "
	    "at %u Hz, timer: %s, signal %u; dropped %" PRIu64 " (weight %" PRIu64 ", %.3f s)\n",
	    m->samples, m->weight, (double)m->weight * m->period_s, m->hz, cpu_timer_name(m->timer),
	    s->cpu_signal, m->dropped, m->dropped_weight, (double)m->dropped_weight * m->period_s);
	if (m->profshim_weight)
		fprintf(out, "  the profiler's own time (%s frame): %.3f s, %.1f%% of the weight\n",
			CPU_PROFSHIM_FRAME, (double)m->profshim_weight * m->period_s,
			pct(m->profshim_weight, m->weight));
	text_unsampled(pm, out);
	if (pm->o->thread >= 0 && th < 0) {
		fprintf(out, "  no thread with tid %ld\n", pm->o->thread);
		return;
	}
	if (!m->weight)
		return;
	text_table(pm, out, false, th);
	text_table(pm, out, true, th);
	fprintf(out, "\nHot paths (>= %.0f%% of samples)\n", HOT_PATH_PCT);
	hot_paths(pm, text_hot, out);
	fprintf(
	    out,
	    "\nCPU by thread (cpu s: samples' weight x period; clock s: the thread's CPU clock)\n"
	    "  %8s  %-16s %9s %9s %10s %10s %10s\n",
	    "tid", "name", "samples", "weight", "cpu s", "clock s", "share");
	for (size_t i = 0; i < s->threads.len; i++) {
		const struct cpu_thread_stats *ts = pa_vec_at(&m->threads, i);
		const struct pa_thread *t = thread_at(s, i);
		if (th >= 0 && (long)i != th)
			continue;
		char clock[32] = "-";
		if (ts->accounted)
			snprintf(clock, sizeof(clock), "%.3f", (double)ts->cpu_ns / 1e9);
		fprintf(out, "  %8u  %-16s %9" PRIu64 " %9" PRIu64 " %10.3f %10s %9.1f%%\n", t->tid,
			t->name, ts->samples, ts->weight, (double)ts->weight * m->period_s, clock,
			pct(ts->weight, m->weight));
	}
}

/* --- JSON --- */

static cJSON *func_json(const struct cpu_model *m, int32_t f, uint64_t self, uint64_t total,
			uint64_t whole)
{
	const struct cpu_func *fn = cpu_func_at(m, f);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "name", fn->name);
	if (fn->file)
		cJSON_AddStringToObject(j, "file", fn->file);
	else
		cJSON_AddNullToObject(j, "file");
	cJSON_AddNumberToObject(j, "line", fn->line);
	if (fn->module)
		cJSON_AddStringToObject(j, "module", fn->module);
	cJSON_AddNumberToObject(j, "self_samples", (double)self);
	cJSON_AddNumberToObject(j, "total_samples", (double)total);
	cJSON_AddNumberToObject(j, "self_pct", pct(self, whole));
	cJSON_AddNumberToObject(j, "total_pct", pct(total, whole));
	return j;
}

static cJSON *functions_json(const struct cpu_model *m, long th)
{
	size_t n;
	uint64_t *self, *total;
	int32_t *idx = cpu_top_funcs(m, true, th, &n, &self, &total);
	/* Sorted by self, then total: the order a reader scans. */
	cJSON *a = cJSON_CreateArray();
	uint64_t whole = covered_weight(m, th);
	size_t ns;
	int32_t *by_self = cpu_top_funcs(m, false, th, &ns, NULL, NULL);
	bool *done = pa_xcalloc(m->funcs.len + 1, 1);
	for (size_t i = 0; i < ns; i++) {
		done[by_self[i]] = true;
		cJSON_AddItemToArray(
		    a, func_json(m, by_self[i], self[by_self[i]], total[by_self[i]], whole));
	}
	for (size_t i = 0; i < n; i++)
		if (!done[idx[i]])
			cJSON_AddItemToArray(
			    a, func_json(m, idx[i], self[idx[i]], total[idx[i]], whole));
	free(done);
	free(by_self);
	free(idx);
	free(self);
	free(total);
	return a;
}

static cJSON *threads_json(const struct pa_models *pm)
{
	const struct cpu_model *m = pm->cpu;
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < pm->s->threads.len; i++) {
		const struct cpu_thread_stats *ts = pa_vec_at(&m->threads, i);
		const struct pa_thread *t = thread_at(pm->s, i);
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "tid", t->tid);
		cJSON_AddStringToObject(j, "name", t->name);
		cJSON_AddNumberToObject(j, "samples", (double)ts->samples);
		cJSON_AddNumberToObject(j, "weight", (double)ts->weight);
		cJSON_AddNumberToObject(j, "cpu_seconds", (double)ts->weight * m->period_s);
		cJSON_AddNumberToObject(j, "pct", pct(ts->weight, m->weight));
		if (ts->accounted) {
			/* weight + dropped + unsampled + paused == periods */
			cJSON_AddNumberToObject(j, "periods", (double)ts->periods);
			cJSON_AddNumberToObject(j, "dropped_weight", (double)ts->dropped);
			cJSON_AddNumberToObject(j, "unsampled_weight", (double)ts->unsampled);
			cJSON_AddNumberToObject(j, "paused_weight", (double)ts->paused);
			cJSON_AddNumberToObject(j, "clock_cpu_seconds", (double)ts->cpu_ns / 1e9);
		}
		cJSON_AddNumberToObject(j, "profshim_weight", (double)ts->profshim);
		cJSON_AddBoolToObject(j, "unsampled", thread_unsampled(ts));
		size_t n;
		int32_t *top = cpu_top_funcs(m, false, (long)i, &n, NULL, NULL);
		if (n)
			cJSON_AddStringToObject(j, "top_self_function",
						cpu_func_at(m, top[0])->name);
		else
			cJSON_AddNullToObject(j, "top_self_function");
		free(top);
		cJSON_AddItemToArray(a, j);
	}
	return a;
}

static void json_hot(const struct cpu_model *m, uint32_t node, uint64_t whole, void *ctx)
{
	cJSON *a = ctx;
	uint32_t chain[512];
	char buf[256];
	size_t n = chain_of(m, node, chain, 512);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "pct", pct(cpu_node_at(m, node)->total, whole));
	cJSON_AddNumberToObject(j, "samples", (double)cpu_node_at(m, node)->total);
	cJSON *fr = cJSON_AddArrayToObject(j, "frames");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(fr, cJSON_CreateString(cpu_node_label(
					     m, cpu_node_at(m, chain[i]), buf, sizeof(buf))));
	cJSON_AddItemToArray(a, j);
}

void cpu_report_json(const struct pa_models *pm, cJSON *root)
{
	const struct cpu_model *m = pm->cpu;
	if (!m)
		return;
	long th = selected_thread(pm);
	cJSON *o = cJSON_AddObjectToObject(root, "cpu");
	cJSON_AddNumberToObject(o, "hz", m->hz);
	cJSON_AddStringToObject(o, "timer", m->timer == PST_TIMER_PERF ? "perf" : "posix");
	cJSON_AddStringToObject(o, "timer_description", cpu_timer_name(m->timer));
	cJSON_AddNumberToObject(o, "signal", pm->s->cpu_signal);
	cJSON_AddNumberToObject(o, "samples", (double)m->samples);
	cJSON_AddNumberToObject(o, "weight", (double)m->weight);
	cJSON_AddNumberToObject(o, "cpu_seconds", (double)m->weight * m->period_s);
	cJSON_AddStringToObject(o, "cpu_time", "user+system");
	cJSON_AddNumberToObject(o, "dropped", (double)m->dropped);
	cJSON_AddNumberToObject(o, "dropped_weight", (double)m->dropped_weight);
	cJSON_AddNumberToObject(o, "dropped_seconds", (double)m->dropped_weight * m->period_s);
	cJSON_AddNumberToObject(o, "unsampled_weight", (double)m->unsampled_weight);
	cJSON_AddNumberToObject(o, "profshim_weight", (double)m->profshim_weight);
	cJSON_AddNumberToObject(o, "profshim_pct", pct(m->profshim_weight, m->weight));
	cJSON_AddNumberToObject(o, "dropped_in_hooks",
				(double)pm->s->counters[PST_C_DROP_SAMPLE_BUSY]);
	cJSON_AddNumberToObject(o, "dropped_in_loader",
				(double)pm->s->counters[PST_C_DROP_SAMPLE_LOADER]);
	/* issue 15q: how the sampler's unwinder started (see the counters) */
	cJSON_AddNumberToObject(o, "cold_walks", (double)pm->s->counters[PST_C_CPU_COLD_WALKS]);
	cJSON_AddNumberToObject(o, "caches_made_by_samples",
				(double)pm->s->counters[PST_C_CPU_WARMED_BY_SAMPLE]);
	if (pm->o->thread >= 0)
		cJSON_AddNumberToObject(o, "thread", (double)pm->o->thread);
	cJSON_AddItemToObject(o, "functions", functions_json(m, th));
	cJSON *hot = cJSON_AddArrayToObject(o, "hot_paths");
	if (pm->o->thread < 0 || th >= 0)
		hot_paths(pm, json_hot, hot);
	cJSON_AddItemToObject(o, "threads", threads_json(pm));
}
