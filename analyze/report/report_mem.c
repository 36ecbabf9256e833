/*
 * The memory part of the text and JSON reports: summary figures, top sites
 * (by bytes, by count, by share of the peak, by leaked bytes) with their
 * full stacks, leaks, a size histogram and the --between snapshot.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "heap_model.h"
#include "models.h"
#include "symbols.h"

#define MAX_LEAK_SITES 1000

static double ms_since_start(const struct pa_session *s, uint64_t ticks)
{
	return ticks ? pa_ns_since_start(s, ticks) / 1e6 : 0;
}

static double run_seconds(const struct pa_session *s)
{
	return pa_ticks_to_ns(s, pa_session_duration_ticks(s)) / 1e9;
}

/* Exact call counts (from the shim's counters when sampling: the model
 * put them in). */
static double total_allocs(const struct heap_model *m)
{
	return m->allocs;
}

static double total_frees(const struct heap_model *m)
{
	return m->frees;
}

/* One standard deviation of an estimate, in % of it (0: exact or none). */
static double error_pct(double value, double variance)
{
	return value > 0 && variance > 0 ? 100.0 * sqrt(variance) / value : 0;
}

/* Temporary allocations need every call: sampling cannot estimate them. */
#define NOT_ESTIMABLE "not estimable in sampled mode"

static void add_temporary(const struct heap_model *m, cJSON *o, double v)
{
	if (m->estimated)
		cJSON_AddStringToObject(o, "temporary_allocations", NOT_ESTIMABLE);
	else
		cJSON_AddNumberToObject(o, "temporary_allocations", round(v));
}

/* Visit a site's frames, innermost first, as "function (file:line)". */
typedef void (*frame_fn)(const char *frame, void *ctx);

static void site_frames(const struct pa_models *pm, const struct heap_site *site, frame_fn fn,
			void *ctx)
{
	char buf[1024];
	if (!site->stack) {
		fn("(no stack)", ctx);
		return;
	}
	/* Outermost first from pa_stack_frames (inline frames expanded);
	 * reports read innermost first. */
	struct pa_vec frames;
	pa_vec_init(&frames, sizeof(const struct pa_frame *));
	int n = pa_stack_frames(pm, site->stack, false, site->ticks, &frames);
	for (int i = n - 1; i >= 0; i--) {
		const struct pa_frame *f = *(const struct pa_frame **)pa_vec_at(&frames, (size_t)i);
		if (f->file && f->line)
			snprintf(buf, sizeof(buf), "%s (%s:%d)", f->function, f->file, f->line);
		else
			snprintf(buf, sizeof(buf), "%s", f->function);
		fn(buf, ctx);
	}
	pa_vec_free(&frames);
}

/* --- JSON --- */

static void add_json_frame(const char *frame, void *ctx)
{
	cJSON_AddItemToArray(ctx, cJSON_CreateString(frame));
}

static void add_num(cJSON *o, const char *key, double v)
{
	cJSON_AddNumberToObject(o, key, round(v));
}

static cJSON *site_json(const struct pa_models *pm, const struct heap_site *site)
{
	const struct heap_model *m = pm->heap;
	cJSON *o = cJSON_CreateObject();
	add_num(o, "allocations", site->allocs);
	add_num(o, "bytes", site->bytes);
	add_num(o, "frees", site->frees);
	add_num(o, "peak_bytes", site->peak_bytes);
	add_num(o, "leaked_bytes", site->live_bytes);
	add_num(o, "leaked_blocks", site->live_blocks);
	add_temporary(m, o, site->temporary);
	site_frames(pm, site, add_json_frame, cJSON_AddArrayToObject(o, "stack"));
	return o;
}

static cJSON *sites_json(const struct pa_models *pm, const struct heap_model *m, enum heap_sort by,
			 size_t limit)
{
	size_t n;
	const struct heap_site **v = heap_sites_sorted(m, by, &n);
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n && i < limit; i++)
		cJSON_AddItemToArray(a, site_json(pm, v[i]));
	free(v);
	return a;
}

static cJSON *leaks_json(const struct pa_models *pm, const struct heap_model *m)
{
	size_t n;
	const struct heap_site **v = heap_sites_sorted(m, HEAP_BY_LEAKED, &n);
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n && i < MAX_LEAK_SITES; i++) {
		cJSON *o = cJSON_CreateObject();
		add_num(o, "leaked_bytes", v[i]->live_bytes);
		add_num(o, "leaked_blocks", v[i]->live_blocks);
		site_frames(pm, v[i], add_json_frame, cJSON_AddArrayToObject(o, "stack"));
		cJSON_AddItemToArray(a, o);
	}
	free(v);
	return a;
}

static cJSON *histogram_json(const struct heap_model *m)
{
	cJSON *a = cJSON_CreateArray();
	for (unsigned k = 0; k < HEAP_HIST_BUCKETS; k++) {
		if (m->hist_count[k] <= 0)
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "min_size", k ? ldexp(1, (int)k - 1) : 0);
		cJSON_AddNumberToObject(o, "max_size", k ? ldexp(1, (int)k) - 1 : 0);
		add_num(o, "allocations", m->hist_count[k]);
		add_num(o, "bytes", m->hist_bytes[k]);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static cJSON *between_json(const struct pa_models *pm, const struct heap_model *m)
{
	const struct pa_session *s = pm->s;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "from_marker", m->o->between[0]);
	cJSON_AddStringToObject(o, "to_marker", m->o->between[1]);
	cJSON_AddNumberToObject(o, "from_ms", ms_since_start(s, m->between_from));
	cJSON_AddNumberToObject(o, "to_ms", ms_since_start(s, m->between_to));
	add_num(o, "live_bytes", m->between_bytes);
	add_num(o, "live_blocks", m->between_blocks);
	size_t n;
	const struct heap_site **v = heap_sites_sorted(m, HEAP_BY_BETWEEN, &n);
	cJSON *a = cJSON_AddArrayToObject(o, "sites");
	for (size_t i = 0; i < n && i < (size_t)m->o->top; i++) {
		cJSON *j = cJSON_CreateObject();
		add_num(j, "bytes", v[i]->between_bytes);
		add_num(j, "blocks", v[i]->between_blocks);
		site_frames(pm, v[i], add_json_frame, cJSON_AddArrayToObject(j, "stack"));
		cJSON_AddItemToArray(a, j);
	}
	free(v);
	return o;
}

void heap_report_json(const struct pa_models *pm, cJSON *root)
{
	const struct heap_model *m = pm->heap;
	if (!m || !m->has_data)
		return;
	const struct pa_session *s = pm->s;
	size_t top = m->o ? (size_t)m->o->top : 20;
	double secs = run_seconds(s);
	cJSON *o = cJSON_AddObjectToObject(root, "memory_metrics");
	cJSON_AddBoolToObject(o, "estimated", m->estimated);
	cJSON_AddNumberToObject(o, "sample_bytes", m->sample_bytes);
	if (m->estimated) {
		cJSON_AddBoolToObject(o, "bytes_exact", m->bytes_exact);
		/* false: the process did not end, threads' counts are missing */
		cJSON_AddBoolToObject(o, "counts_complete", !m->counts_partial);
		/* peak and leaked bytes from the shim's exact live bytes */
		cJSON_AddBoolToObject(o, "live_bytes_counted", m->usable_mode);
		/* how far the estimates may be off: one standard deviation */
		cJSON *e = cJSON_AddObjectToObject(o, "estimate_error_pct");
		cJSON_AddNumberToObject(e, "peak_memory_bytes",
					error_pct(m->peak_bytes, m->peak_var_bytes));
		cJSON_AddNumberToObject(e, "leaked_bytes",
					error_pct(m->live_bytes, m->live_var_bytes));
		cJSON_AddNumberToObject(e, "leaked_blocks",
					error_pct(m->live_blocks, m->live_var_blocks));
	}
	add_num(o, "total_allocations", total_allocs(m));
	add_num(o, "total_allocation_bytes", m->alloc_bytes);
	add_num(o, "total_frees", total_frees(m));
	add_num(o, "failed_allocations", m->failed);
	add_num(o, "peak_memory_bytes", m->peak_bytes);
	cJSON_AddNumberToObject(o, "peak_time_ms", ms_since_start(s, m->peak_ticks));
	add_num(o, "leaked_bytes", m->live_bytes);
	add_num(o, "leaked_blocks", m->live_blocks);
	add_temporary(m, o, m->temporary);
	cJSON_AddNumberToObject(o, "allocations_per_second", secs > 0 ? total_allocs(m) / secs : 0);
	cJSON_AddNumberToObject(o, "bytes_per_second", secs > 0 ? m->alloc_bytes / secs : 0);
	add_num(o, "peak_rss_bytes", m->rss_peak);
	cJSON_AddNumberToObject(o, "peak_rss_time_ms", ms_since_start(s, m->rss_peak_ticks));
	cJSON_AddNumberToObject(o, "unknown_frees", (double)m->unknown_frees);
	cJSON_AddItemToObject(o, "top_sites", sites_json(pm, m, HEAP_BY_BYTES, top));
	cJSON_AddItemToObject(o, "top_sites_by_count", sites_json(pm, m, HEAP_BY_COUNT, top));
	cJSON_AddItemToObject(o, "top_sites_by_peak", sites_json(pm, m, HEAP_BY_PEAK, top));
	cJSON_AddItemToObject(o, "leaks", leaks_json(pm, m));
	cJSON_AddItemToObject(o, "size_histogram", histogram_json(m));
	if (m->o && m->o->between[0])
		cJSON_AddItemToObject(o, "between", between_json(pm, m));
}

/* --- text --- */

static void human_bytes(double b, char *buf, size_t cap)
{
	const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	unsigned u = 0;
	while (fabs(b) >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%.0f B", b);
	else
		snprintf(buf, cap, "%.2f %s", b, unit[u]);
}

struct text_ctx {
	FILE *out;
	int depth;
};

static void print_frame(const char *frame, void *ctx)
{
	struct text_ctx *c = ctx;
	fprintf(c->out, "        %s %s\n", c->depth++ ? "  " : "at", frame);
}

static void site_table(const struct pa_models *pm, FILE *out, const char *title, enum heap_sort by,
		       size_t limit)
{
	const struct heap_model *m = pm->heap;
	size_t n;
	const struct heap_site **v = heap_sites_sorted(m, by, &n);
	if (!n) {
		free(v);
		return;
	}
	fprintf(out, "\n%s\n", title);
	char b1[32], b2[32], b3[32];
	for (size_t i = 0; i < n && i < limit; i++) {
		const struct heap_site *site = v[i];
		human_bytes(site->bytes, b1, sizeof(b1));
		human_bytes(site->peak_bytes, b2, sizeof(b2));
		human_bytes(site->live_bytes, b3, sizeof(b3));
		double pct = m->peak_bytes > 0 ? 100.0 * site->peak_bytes / m->peak_bytes : 0;
		fprintf(
		    out,
		    "  #%zu  %.0f allocations, %s; at peak %s (%.1f%%); leaked %s in %.0f blocks\n",
		    i + 1, site->allocs, b1, b2, pct, b3, site->live_blocks);
		struct text_ctx c = {out, 0};
		site_frames(pm, site, print_frame, &c);
	}
	free(v);
}

static void histogram_text(const struct heap_model *m, FILE *out)
{
	double max = 0;
	for (unsigned k = 0; k < HEAP_HIST_BUCKETS; k++)
		if (m->hist_count[k] > max)
			max = m->hist_count[k];
	if (max <= 0)
		return;
	fprintf(out, "\nAllocation sizes\n");
	char lo[32], hi[32];
	for (unsigned k = 0; k < HEAP_HIST_BUCKETS; k++) {
		if (m->hist_count[k] <= 0)
			continue;
		human_bytes(k ? ldexp(1, (int)k - 1) : 0, lo, sizeof(lo));
		human_bytes(k ? ldexp(1, (int)k) - 1 : 0, hi, sizeof(hi));
		int bar = (int)(40.0 * m->hist_count[k] / max + 0.5);
		fprintf(out, "  %10s .. %-10s %12.0f  %.*s\n", lo, hi, m->hist_count[k], bar,
			"########################################");
	}
}

void heap_report_text(const struct pa_models *pm, FILE *out)
{
	const struct heap_model *m = pm->heap;
	if (!m || !m->has_data)
		return;
	const struct pa_session *s = pm->s;
	size_t top = m->o ? (size_t)m->o->top : 20;
	char b1[32], b2[32];
	double secs = run_seconds(s);
	fprintf(out, "\nMemory%s\n", m->estimated ? " (estimates from sampling)" : "");
	if (m->estimated)
		fprintf(out,
			"  sampled one allocation per %.0f bytes on average; %s: call counts%s;\n"
			"  estimates (+-: one standard deviation): peak, leaks and sites\n",
			m->sample_bytes, m->counts_partial ? "lower bounds" : "exact",
			m->bytes_exact ? " and bytes requested" : "");
	if (m->estimated && m->counts_partial)
		fprintf(out, "  (the process did not end normally: the counts of threads still\n"
			     "  running then were never written)\n");
	if (m->usable_mode)
		fprintf(out,
			"  peak and leaked bytes: the exact live bytes in the allocator, less the\n"
			"  slack share (allocator minus requested bytes) of the sampled blocks\n");
	human_bytes(m->alloc_bytes, b1, sizeof(b1));
	fprintf(out, "  allocation calls     %14.0f  (%s requested", total_allocs(m), b1);
	if (m->failed > 0)
		fprintf(out, ", %.0f failed", m->failed);
	fprintf(out, ")\n");
	fprintf(out, "  frees                %14.0f\n", total_frees(m));
	char err[96] = "";
	human_bytes(m->peak_bytes, b1, sizeof(b1));
	if (m->estimated)
		snprintf(err, sizeof(err), " (estimate, +-%.1f%%)",
			 error_pct(m->peak_bytes, m->peak_var_bytes));
	fprintf(out, "  peak heap            %14s  at %.3f ms%s\n", b1,
		ms_since_start(s, m->peak_ticks), err);
	if (m->rss_peak > 0) {
		human_bytes(m->rss_peak, b1, sizeof(b1));
		fprintf(out, "  peak RSS             %14s  at %.3f ms\n", b1,
			ms_since_start(s, m->rss_peak_ticks));
	}
	human_bytes(m->live_bytes, b1, sizeof(b1));
	if (m->estimated && m->live_bytes > 0)
		snprintf(err, sizeof(err), " (estimates, +-%.1f%% and +-%.1f%%)",
			 error_pct(m->live_bytes, m->live_var_bytes),
			 error_pct(m->live_blocks, m->live_var_blocks));
	else if (m->estimated)
		snprintf(err, sizeof(err),
			 " (no sampled block live: a leak of a few blocks is unseen)");
	fprintf(out, "  leaked (live at end) %14s  in %.0f blocks%s\n", b1, m->live_blocks, err);
	if (m->estimated)
		fprintf(out, "  temporary            %14s  (%s: it needs every call)\n", "-",
			NOT_ESTIMABLE);
	else
		fprintf(out,
			"  temporary            %14.0f  (freed with no allocation in between)\n",
			m->temporary);
	human_bytes(secs > 0 ? m->alloc_bytes / secs : 0, b2, sizeof(b2));
	fprintf(out, "  allocation rate      %14.0f /s  (%s/s)\n",
		secs > 0 ? total_allocs(m) / secs : 0, b2);
	if (m->unknown_frees)
		fprintf(out, "  frees of blocks allocated before recording: %" PRIu64 "\n",
			m->unknown_frees);
	if (m->o && m->o->between[0]) {
		human_bytes(m->between_bytes, b1, sizeof(b1));
		fprintf(out, "\nAllocated after '%s' and still live at '%s': %s in %.0f blocks\n",
			m->o->between[0], m->o->between[1], b1, m->between_blocks);
		site_table(pm, out, "Sites between the markers (by bytes live at the second)",
			   HEAP_BY_BETWEEN, top);
	}
	site_table(pm, out, "Top sites by bytes allocated", HEAP_BY_BYTES, top);
	site_table(pm, out, "Top sites by allocation count", HEAP_BY_COUNT, top);
	site_table(pm, out, "Top sites by share of the peak", HEAP_BY_PEAK, top);
	site_table(pm, out, "Top sites by leaked bytes", HEAP_BY_LEAKED, top);
	histogram_text(m, out);
}
