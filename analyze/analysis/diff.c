/* The diff of two runs (diff.h). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call_model.h"
#include "diff.h"
#include "diff_rows.h"
#include "findings.h"
#include "heap_model.h"
#include "io_model.h"
#include "models.h"
#include "sample_model.h"
#include "symbols.h"

const char *pa_diff_status_name(enum diff_status st)
{
	static const char *const names[] = {"regressed", "improved", "new", "vanished", "same"};
	return names[st];
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

/* --- rows by name --- */

struct diff_row *diff_row_for(struct diff_section *sec, struct row_index *ix, const char *name,
			      const char *where)
{
	uint64_t h = str_hash(name);
	uint32_t v = pa_pairmap_get(&ix->map, h, 0);
	if (v)
		return pa_vec_at(&sec->rows, v - 1);
	struct diff_row *r = pa_vec_push(&sec->rows);
	r->name = pa_xstrdup(name);
	r->where = where ? pa_xstrdup(where) : NULL;
	pa_pairmap_put(&ix->map, h, 0, (uint32_t)sec->rows.len);
	return r;
}

void diff_metric_set(struct diff_row *r, int i, const char *name, const char *unit)
{
	r->m[i].name = name;
	r->m[i].unit = unit;
	if (r->nm <= i)
		r->nm = i + 1;
}

void diff_set_side(struct diff_row *r, int i, bool new_side, double v)
{
	if (new_side) {
		r->m[i].new += v;
		r->m[i].new_known = true;
	} else {
		r->m[i].base += v;
		r->m[i].base_known = true;
	}
}

/* Status of a row from its primary metric: significant when the change
 * passes the relative and run floors and (for samples) the noise floor. */
void diff_settle_row(struct diff_row *r, double run_total, double noise)
{
	double b = r->m[0].base, n = r->m[0].new;
	r->change = n - b;
	r->change_pct = b > 0 ? 100 * (n - b) / b : 0;
	double a = fabs(r->change);
	bool significant =
	    a >= DIFF_MIN_RUN * run_total && a > noise && (b <= 0 || a >= DIFF_MIN_REL * b);
	if (!significant)
		r->status = DIFF_SAME;
	else if (!r->m[0].base_known || b <= 0)
		r->status = DIFF_NEW;
	else if (!r->m[0].new_known || n <= 0)
		r->status = DIFF_VANISHED;
	else
		r->status = r->change > 0 ? DIFF_REGRESSED : DIFF_IMPROVED;
}

static int by_rank(const void *a, const void *b)
{
	const struct diff_row *x = a, *y = b;
	if (x->status != y->status)
		return x->status < y->status ? -1 : 1;
	double cx = fabs(x->change), cy = fabs(y->change);
	if (cx != cy)
		return cx < cy ? 1 : -1;
	return strcmp(x->name, y->name);
}

void diff_rank(struct diff_section *sec)
{
	if (sec->rows.len)
		qsort(sec->rows.items, sec->rows.len, sizeof(struct diff_row), by_rank);
}

void diff_not_compared(struct diff_section *sec, const char *what, bool in_base, bool in_new)
{
	sec->compared = false;
	if (asprintf(&sec->why, "%s recorded in %s", what,
		     !in_base && !in_new ? "neither run"
		     : !in_base		 ? "NEW only (BASE has none)"
					 : "BASE only (NEW has none)") < 0)
		sec->why = NULL;
}

/* --- CPU functions --- */

static double cpu_total_s(const struct pa_models *pm);

static bool has_cpu(const struct pa_models *pm)
{
	return pm->cpu && pm->cpu->weight;
}

static bool side_has_cpu(const struct pa_diff_side *side)
{
	for (size_t k = 0; k < side->n; k++) {
		const struct pa_models *pm = side->runs[k];
		if (has_cpu(pm))
			return true;
	}
	return false;
}

static double side_cpu_s(const struct pa_diff_side *side)
{
	double s = 0;
	for (size_t k = 0; k < side->n; k++) {
		const struct pa_models *pm = side->runs[k];
		s += cpu_total_s(pm);
	}
	return s;
}

/* Samples and the sampling period (the first process's: processes of
 * one run share PROFSHIM_CPU_HZ unless it was changed between them). */
static double side_weight(const struct pa_diff_side *side, double *period_s)
{
	double w = 0;
	*period_s = 0;
	for (size_t k = 0; k < side->n; k++) {
		const struct pa_models *pm = side->runs[k];
		if (has_cpu(pm)) {
			w += (double)pm->cpu->weight;
			if (!*period_s)
				*period_s = pm->cpu->period_s;
		}
	}
	return w;
}

static void cpu_side(struct pa_diff *d, struct row_index *ix, const struct pa_models *pm,
		     bool new_side, double norm)
{
	const struct cpu_model *m = pm->cpu;
	char where[1024];
	for (size_t i = 0; m && i < m->funcs.len; i++) {
		const struct cpu_func *f = cpu_func_at(m, (int32_t)i);
		if (!f->total)
			continue;
		if (f->file && f->line)
			snprintf(where, sizeof(where), "%s:%d", f->file, f->line);
		struct diff_row *r = diff_row_for(&d->cpu, ix, f->name, f->file ? where : NULL);
		diff_metric_set(r, 0, d->shares ? "self_pct" : "self_s", d->shares ? "%" : "s");
		diff_metric_set(r, 1, d->shares ? "total_pct" : "total_s", d->shares ? "%" : "s");
		diff_set_side(r, 0, new_side, (double)f->self * m->period_s / norm);
		diff_set_side(r, 1, new_side, (double)f->total * m->period_s / norm);
		if (new_side)
			r->new_weight += (double)f->self;
		else
			r->base_weight += (double)f->self;
	}
}

static void diff_cpu(struct pa_diff *d)
{
	d->cpu.key = "cpu_functions";
	d->cpu.title = "CPU by function (self time; total in and below it)";
	pa_vec_init(&d->cpu.rows, sizeof(struct diff_row));
	if (!side_has_cpu(&d->bside) || !side_has_cpu(&d->nside)) {
		diff_not_compared(&d->cpu, "CPU samples", side_has_cpu(&d->bside),
				  side_has_cpu(&d->nside));
		return;
	}
	d->cpu.compared = true;
	struct row_index ix;
	pa_pairmap_init(&ix.map);
	double pb, pn;
	double wb = side_weight(&d->bside, &pb), wn = side_weight(&d->nside, &pn);
	/* shares: percent of each run's CPU time */
	double nb = d->shares ? side_cpu_s(&d->bside) / 100 : d->norm_base;
	double nn = d->shares ? side_cpu_s(&d->nside) / 100 : d->norm_new;
	for (size_t k = 0; k < d->bside.n; k++) {
		const struct pa_models *pm = d->bside.runs[k];
		cpu_side(d, &ix, pm, false, nb);
	}
	for (size_t k = 0; k < d->nside.n; k++) {
		const struct pa_models *pm = d->nside.runs[k];
		cpu_side(d, &ix, pm, true, nn);
	}
	pa_pairmap_free(&ix.map);
	double run = side_cpu_s(&d->bside) / nb;
	for (size_t i = 0; i < d->cpu.rows.len; i++) {
		struct diff_row *r = pa_vec_at(&d->cpu.rows, i);
		/* Poisson: a count w has standard deviation sqrt(w). */
		double sb = sqrt(r->base_weight) * pb / nb;
		double sn = sqrt(r->new_weight) * pn / nn;
		if (d->shares) { /* a share p of W samples: binomial, p(1-p)/W */
			double fb = r->base_weight / wb;
			double fn = r->new_weight / wn;
			sb = 100 * sqrt(fb * (1 - fb) / wb);
			sn = 100 * sqrt(fn * (1 - fn) / wn);
		}
		diff_settle_row(r, run, DIFF_SIGMAS * sqrt(sb * sb + sn * sn));
	}
	diff_rank(&d->cpu);
}

/* --- calls --- */

static double ticks_s(const struct pa_models *pm, double ticks)
{
	return pa_ticks_to_ns(pm->s, 1) * ticks / 1e9;
}

static double wall_s(const struct pa_models *pm)
{
	return pa_ticks_to_ns(pm->s, pa_session_duration_ticks(pm->s)) / 1e9;
}

static void calls_side(struct pa_diff *d, struct row_index *ix, const struct pa_models *pm,
		       bool new_side, double norm)
{
	const struct call_model *m = pm->calls;
	char where[1024];
	for (size_t i = 1; i < m->funcs.len; i++) {
		const struct call_func *f = pa_vec_at(&m->funcs, i);
		if (!f->calls || !f->name)
			continue;
		if (f->file && *f->file)
			snprintf(where, sizeof(where), "%s:%d", f->file, f->line);
		struct diff_row *r =
		    diff_row_for(&d->calls, ix, f->name, f->file && *f->file ? where : NULL);
		diff_metric_set(r, 0, d->shares ? "self_pct" : "self_s", d->shares ? "%" : "s");
		diff_metric_set(r, 1, d->shares ? "total_pct" : "total_s", d->shares ? "%" : "s");
		diff_metric_set(r, 2, "calls", "calls");
		diff_metric_set(r, 3, "avg_s", "s");
		diff_metric_set(r, 4, "p95_s", "s");
		diff_metric_set(r, 5, "p99_s", "s");
		diff_set_side(r, 0, new_side, ticks_s(pm, (double)f->self) / norm);
		diff_set_side(r, 1, new_side, ticks_s(pm, (double)f->total) / norm);
		diff_set_side(r, 2, new_side, (double)f->calls / (d->shares ? 1 : norm));
		/* latency is per call: never normalized (last one wins on a
		 * name two functions share) */
		struct diff_metric *avg = &r->m[3], *p95 = &r->m[4], *p99 = &r->m[5];
		double a = ticks_s(pm, (double)f->total) / (double)f->calls;
		if (new_side) {
			avg->new = a, p95->new = ticks_s(pm, f->p95),
			p99->new = ticks_s(pm, f->p99);
			avg->new_known = p95->new_known = p99->new_known = true;
		} else {
			avg->base = a, p95->base = ticks_s(pm, f->p95),
			p99->base = ticks_s(pm, f->p99);
			avg->base_known = p95->base_known = p99->base_known = true;
		}
	}
}

/* The side's wall time: its longest process (the seed spans the
 * processes it started). */
static double side_wall_s(const struct pa_diff_side *side)
{
	double w = 0;
	for (size_t k = 0; k < side->n; k++) {
		const struct pa_models *pm = side->runs[k];
		w = wall_s(pm) > w ? wall_s(pm) : w;
	}
	return w;
}

static bool side_has_calls(const struct pa_diff_side *side)
{
	for (size_t k = 0; k < side->n; k++) {
		const struct pa_models *pm = side->runs[k];
		if (call_model_has_data(pm->calls))
			return true;
	}
	return false;
}

static void diff_calls(struct pa_diff *d)
{
	d->calls.key = "calls";
	d->calls.title = "Calls by function (self time; total, calls and latency)";
	pa_vec_init(&d->calls.rows, sizeof(struct diff_row));
	bool b = side_has_calls(&d->bside), n = side_has_calls(&d->nside);
	if (!b || !n) {
		diff_not_compared(&d->calls, "calls (-finstrument-functions)", b, n);
		return;
	}
	d->calls.compared = true;
	struct row_index ix;
	pa_pairmap_init(&ix.map);
	/* shares: percent of each run's wall time */
	double nb = d->shares ? side_wall_s(&d->bside) / 100 : d->norm_base;
	double nn = d->shares ? side_wall_s(&d->nside) / 100 : d->norm_new;
	for (size_t k = 0; k < d->bside.n; k++) {
		const struct pa_models *pm = d->bside.runs[k];
		if (call_model_has_data(pm->calls))
			calls_side(d, &ix, pm, false, nb);
	}
	for (size_t k = 0; k < d->nside.n; k++) {
		const struct pa_models *pm = d->nside.runs[k];
		if (call_model_has_data(pm->calls))
			calls_side(d, &ix, pm, true, nn);
	}
	pa_pairmap_free(&ix.map);
	double run = side_wall_s(&d->bside) / nb;
	for (size_t i = 0; i < d->calls.rows.len; i++)
		diff_settle_row(pa_vec_at(&d->calls.rows, i), run, 0);
	diff_rank(&d->calls);
}

/* --- allocation sites --- */

#define SITE_KEY_FRAMES 4

/* A site's name: its own frame and callers (function names only: lines
 * move when code is edited), and where its own frame is. */
static void site_key(const struct pa_models *pm, const struct heap_site *s, char *key, size_t cap,
		     char *where, size_t wcap)
{
	key[0] = where[0] = 0;
	struct pa_vec frames;
	pa_vec_init(&frames, sizeof(const struct pa_frame *));
	int n = s->stack ? pa_stack_frames(pm, s->stack, false, s->ticks, &frames) : 0;
	int own = -1;
	for (int i = n - 1; i >= 0 && own < 0; i--) {
		const struct pa_frame *f = *(const struct pa_frame **)pa_vec_at(&frames, (size_t)i);
		if (!finding_frame_is_plumbing(f->function, f->module))
			own = i;
	}
	int from = own >= 0 ? own : n - 1;
	size_t len = 0;
	for (int i = from, k = 0; i >= 0 && k < SITE_KEY_FRAMES; i--) {
		const struct pa_frame *f = *(const struct pa_frame **)pa_vec_at(&frames, (size_t)i);
		/* callers that are start-up plumbing say nothing */
		if (k && finding_frame_is_plumbing(f->function, f->module))
			continue;
		len += (size_t)snprintf(key + len, cap > len ? cap - len : 0, "%s%s",
					k ? " < " : "", f->function ? f->function : "??");
		if (k == 0 && f->file && f->line)
			snprintf(where, wcap, "%s:%d", f->file, f->line);
		k++;
		if (len >= cap)
			break;
	}
	if (!key[0])
		snprintf(key, cap, "(no stack)");
	pa_vec_free(&frames);
}

/* A heap figure summed over a side's processes that recorded allocations. */
enum heap_figure { HEAP_BYTES, HEAP_ALLOCS, HEAP_PEAK, HEAP_LIVE };

static bool has_heap(const struct pa_models *pm)
{
	return pm->heap && pm->heap->has_data && pm->heap->allocs > 0;
}

static double heap_sum(const struct pa_diff_side *side, enum heap_figure f)
{
	double s = 0;
	for (size_t k = 0; k < side->n; k++) {
		const struct pa_models *pm = side->runs[k];
		if (has_heap(pm)) {
			const struct heap_model *m = pm->heap;
			s += f == HEAP_BYTES	? m->alloc_bytes
			     : f == HEAP_ALLOCS ? m->allocs
			     : f == HEAP_PEAK	? m->peak_bytes
						: m->live_bytes;
		}
	}
	return s;
}

static void sites_side(struct pa_diff *d, struct row_index *ix, const struct pa_models *pm,
		       const struct pa_diff_side *side, bool new_side, double norm)
{
	const struct heap_model *m = pm->heap;
	char key[2048], where[1024];
	/* shares: percent of the side's bytes, allocations and peaks (each
	 * process's peak, summed) */
	double bytes = heap_sum(side, HEAP_BYTES), allocs = heap_sum(side, HEAP_ALLOCS);
	double peak = heap_sum(side, HEAP_PEAK);
	for (size_t i = 0; i < m->sites.len; i++) {
		const struct heap_site *s = pa_vec_at(&m->sites, i);
		if (s->allocs <= 0)
			continue;
		site_key(pm, s, key, sizeof(key), where, sizeof(where));
		struct diff_row *r = diff_row_for(&d->sites, ix, key, where[0] ? where : NULL);
		diff_metric_set(r, 0, d->shares ? "bytes_pct" : "bytes", d->shares ? "%" : "bytes");
		diff_metric_set(r, 1, d->shares ? "allocations_pct" : "allocations",
				d->shares ? "%" : "calls");
		diff_metric_set(r, 2, "peak_share_pct", "%");
		diff_metric_set(r, 3, "leaked_bytes", "bytes");
		double nbytes = d->shares ? bytes / 100 : norm;
		double ncalls = d->shares ? allocs / 100 : norm;
		diff_set_side(r, 0, new_side, nbytes > 0 ? s->bytes / nbytes : 0);
		diff_set_side(r, 1, new_side, ncalls > 0 ? s->allocs / ncalls : 0);
		diff_set_side(r, 2, new_side, peak > 0 ? 100 * s->peak_bytes / peak : 0);
		diff_set_side(r, 3, new_side, s->live_bytes / (d->shares ? 1 : norm));
	}
}

static bool side_has_heap(const struct pa_diff_side *side)
{
	for (size_t k = 0; k < side->n; k++) {
		const struct pa_models *pm = side->runs[k];
		if (has_heap(pm))
			return true;
	}
	return false;
}

static bool has_io(const struct pa_models *pm)
{
	return pm->io && io_model_has_data(pm->io);
}

static bool side_has_io(const struct pa_diff_side *side)
{
	for (size_t k = 0; k < side->n; k++) {
		const struct pa_models *pm = side->runs[k];
		if (has_io(pm))
			return true;
	}
	return false;
}

static double side_io_bytes(const struct pa_diff_side *side)
{
	double b = 0;
	for (size_t k = 0; k < side->n; k++) {
		const struct pa_models *pm = side->runs[k];
		b += has_io(pm) ? (double)io_total_bytes(pm->io) : 0;
	}
	return b;
}

static void diff_sites(struct pa_diff *d)
{
	d->sites.key = "allocation_sites";
	d->sites.title = "Allocation sites (bytes allocated; calls, peak share, leaked)";
	pa_vec_init(&d->sites.rows, sizeof(struct diff_row));
	bool b = side_has_heap(&d->bside), n = side_has_heap(&d->nside);
	if (!b || !n) {
		diff_not_compared(&d->sites, "allocations", b, n);
		return;
	}
	d->sites.compared = true;
	struct row_index ix;
	pa_pairmap_init(&ix.map);
	for (size_t k = 0; k < d->bside.n; k++) {
		const struct pa_models *pm = d->bside.runs[k];
		if (has_heap(pm))
			sites_side(d, &ix, pm, &d->bside, false, d->norm_base);
	}
	for (size_t k = 0; k < d->nside.n; k++) {
		const struct pa_models *pm = d->nside.runs[k];
		if (has_heap(pm))
			sites_side(d, &ix, pm, &d->nside, true, d->norm_new);
	}
	pa_pairmap_free(&ix.map);
	double run = d->shares ? 100 : heap_sum(&d->bside, HEAP_BYTES) / d->norm_base;
	for (size_t i = 0; i < d->sites.rows.len; i++)
		diff_settle_row(pa_vec_at(&d->sites.rows, i), run, 0);
	diff_rank(&d->sites);
}

/* --- summary figures --- */

static void figure(struct diff_figure *f, const char *name, const char *unit, bool kb, double b,
		   bool kn, double n, const char *why)
{
	f->name = name;
	f->unit = unit;
	f->known = kb && kn;
	f->base = b;
	f->new = n;
	f->why = f->known ? NULL : why;
}

static double cpu_total_s(const struct pa_models *pm)
{
	return has_cpu(pm) ? (double)pm->cpu->weight * pm->cpu->period_s : 0;
}

static void diff_figures(struct pa_diff *d)
{
	const struct pa_diff_side *b = &d->bside, *n = &d->nside;
	double nb = d->norm_base, nn = d->norm_new;
	bool hb = side_has_heap(b), hn = side_has_heap(n);
	figure(&d->fig[0], "cpu_seconds", "s", side_has_cpu(b), side_cpu_s(b) / nb, side_has_cpu(n),
	       side_cpu_s(n) / nn, "no CPU samples in one run");
	figure(&d->fig[1], "wall_seconds", "s", true, side_wall_s(b) / nb, true,
	       side_wall_s(n) / nn, NULL);
	figure(&d->fig[2], "peak_heap_bytes", "bytes", hb, heap_sum(b, HEAP_PEAK), hn,
	       heap_sum(n, HEAP_PEAK), "no allocations recorded in one run");
	figure(&d->fig[3], "allocations", "calls", hb, heap_sum(b, HEAP_ALLOCS) / nb, hn,
	       heap_sum(n, HEAP_ALLOCS) / nn, "no allocations recorded in one run");
	figure(&d->fig[4], "leaked_bytes", "bytes", hb, heap_sum(b, HEAP_LIVE) / nb, hn,
	       heap_sum(n, HEAP_LIVE) / nn, "no allocations recorded in one run");
	figure(&d->fig[5], "io_bytes", "bytes", side_has_io(b), side_io_bytes(b) / nb,
	       side_has_io(n), side_io_bytes(n) / nn,
	       "no I/O recorded in one run (PROFSHIM_RECORD=...,io)");
}

/* --- normalization --- */

static double occurrences(const struct pa_models *pm, const char *name)
{
	double n = 0;
	for (size_t i = 0; i < pm->s->markers.len; i++)
		if (!strcmp(((const struct pa_marker *)pa_vec_at(&pm->s->markers, i))->name, name))
			n++;
	if (n > 0 || !call_model_has_data(pm->calls))
		return n;
	for (size_t i = 1; i < pm->calls->funcs.len; i++) {
		const struct call_func *f = pa_vec_at(&pm->calls->funcs, i);
		if (f->name && !strcmp(f->name, name))
			n += (double)f->calls;
	}
	return n;
}

static double side_occurrences(const struct pa_diff_side *side, const char *name)
{
	double n = 0;
	for (size_t k = 0; k < side->n; k++) {
		const struct pa_models *pm = side->runs[k];
		n += occurrences(pm, name);
	}
	return n;
}

int pa_diff_build_sides(struct pa_diff *d, struct pa_diff_side base, struct pa_diff_side new,
			const char *normalize, struct pa_error *err)
{
	memset(d, 0, sizeof(*d));
	d->bside = base;
	d->nside = new;
	d->base = base.runs[0];
	d->new = new.runs[0];
	d->normalize = normalize;
	d->norm_base = d->norm_new = 1;
	d->shares = normalize && !strcmp(normalize, "share");
	if (normalize && !d->shares) {
		d->norm_base = side_occurrences(&base, normalize);
		d->norm_new = side_occurrences(&new, normalize);
		if (d->norm_base <= 0 || d->norm_new <= 0) {
			snprintf(err->msg, sizeof(err->msg),
				 "--normalize=%s: no marker or called function of that name in %s",
				 normalize, d->norm_base <= 0 ? "BASE" : "NEW");
			return -1;
		}
	}
	diff_figures(d);
	diff_cpu(d);
	diff_calls(d);
	diff_sites(d);
	diff_io(d);
	return 0;
}

int pa_diff_build(struct pa_diff *d, const struct pa_models *base, const struct pa_models *new,
		  const char *normalize, struct pa_error *err)
{
	const struct pa_models *one[2] = {base, new};
	int rc = pa_diff_build_sides(d, (struct pa_diff_side){&one[0], 1},
				     (struct pa_diff_side){&one[1], 1}, normalize, err);
	/* the sides point into d from here on */
	d->one[0] = base;
	d->one[1] = new;
	d->bside.runs = &d->one[0];
	d->nside.runs = &d->one[1];
	return rc;
}

static void free_section(struct diff_section *sec)
{
	for (size_t i = 0; i < sec->rows.len; i++) {
		struct diff_row *r = pa_vec_at(&sec->rows, i);
		free(r->name);
		free(r->where);
	}
	pa_vec_free(&sec->rows);
	free(sec->why);
}

void pa_diff_free(struct pa_diff *d)
{
	free_section(&d->cpu);
	free_section(&d->calls);
	free_section(&d->sites);
	free_section(&d->io);
}

const struct diff_row *pa_diff_find(const struct diff_section *sec, const char *name)
{
	for (size_t i = 0; i < sec->rows.len; i++) {
		const struct diff_row *r = pa_vec_at(&sec->rows, i);
		if (!strcmp(r->name, name))
			return r;
	}
	return NULL;
}
