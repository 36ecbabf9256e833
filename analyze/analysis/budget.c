/* Performance budgets (budget.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "call_model.h"
#include "diff.h"
#include "io_model.h"
#include "findings.h"
#include "heap_model.h"
#include "models.h"
#include "sample_model.h"

enum value_kind { V_NUMBER, V_BYTES, V_PCT };

struct key_spec {
	const char *key;
	enum value_kind kind;
	bool relative;
	int named; /* 0: no .NAME, 1: needs one, 2: optional */
};

static const struct key_spec keys[] = {
    {"max_cpu_seconds", V_NUMBER, false, 0},	  {"max_wall_seconds", V_NUMBER, false, 0},
    {"max_peak_heap", V_BYTES, false, 0},	  {"max_leaked_bytes", V_BYTES, false, 0},
    {"max_allocations", V_NUMBER, false, 0},	  {"max_io_bytes", V_BYTES, false, 0},
    {"max_p99_ms", V_NUMBER, false, 1},		  {"max_self_seconds", V_NUMBER, false, 1},
    {"max_self_growth_pct", V_PCT, true, 2},	  {"max_cpu_growth_pct", V_PCT, true, 0},
    {"max_peak_heap_growth_pct", V_PCT, true, 0}, {"max_allocations_growth_pct", V_PCT, true, 0},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int parse_value(const char *v, enum value_kind kind, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || end == v || !isfinite(d) || d < 0)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (kind == V_BYTES && *end) {
		static const char *const suffix[] = {"K", "M", "G", "T"};
		int k;
		for (k = 0; k < 4; k++)
			if (toupper((unsigned char)*end) == suffix[k][0])
				break;
		if (k == 4)
			return -1;
		d *= pow(1024, k + 1);
		end++;
		if (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))
			end += strlen(end);
	} else if (kind == V_PCT && *end == '%') {
		end++;
	}
	if (*end)
		return -1;
	*out = d;
	return 0;
}

static int fail(char *err, size_t cap, const char *path, int line, const char *what,
		const char *text)
{
	snprintf(err, cap, "budget %s line %d: %s: '%s'", path, line, what, text);
	return -1;
}

static int parse_line(struct pa_budget *b, char *text, int line, char *err, size_t cap)
{
	char *hash = strchr(text, '#');
	if (hash)
		*hash = 0;
	char *s = trim(text);
	if (!*s)
		return 0;
	char *eq = strchr(s, '=');
	if (!eq)
		return fail(err, cap, b->path, line, "expected key = value", s);
	*eq = 0;
	char *key = trim(s), *val = trim(eq + 1);
	char *dot = strchr(key, '.');
	if (dot)
		*dot = 0;
	const struct key_spec *spec = NULL;
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].key, key))
			spec = &keys[i];
	if (!spec)
		return fail(err, cap, b->path, line, "unknown key (see README, Budgets)", key);
	if (spec->named == 1 && (!dot || !dot[1]))
		return fail(err, cap, b->path, line, "this key needs a name: KEY.NAME", key);
	if (spec->named == 0 && dot)
		return fail(err, cap, b->path, line, "this key takes no .NAME", key);
	double v;
	if (!*val || parse_value(val, spec->kind, &v))
		return fail(err, cap, b->path, line,
			    spec->kind == V_BYTES ? "expected a size (bytes, or with K, M, G)"
						  : "expected a number >= 0",
			    val);
	b->limits = pa_xrealloc(b->limits, (size_t)(b->n + 1) * sizeof(*b->limits));
	struct budget_limit *l = &b->limits[b->n++];
	l->key = pa_xstrdup(spec->key);
	l->name = dot && dot[1] ? pa_xstrdup(dot + 1) : NULL;
	l->value = v;
	l->line = line;
	l->relative = spec->relative;
	return 0;
}

int pa_budget_load(struct pa_budget *b, const char *path, char *err, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->path = path;
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, cap, "budget %s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	char *text = NULL;
	size_t tcap = 0;
	int line = 0, rc = 0;
	while (!rc && getline(&text, &tcap, f) >= 0) {
		line++;
		if (memchr(text, 0, strlen(text) + 1) != text + strlen(text))
			rc = fail(err, cap, path, line, "binary data", "");
		else
			rc = parse_line(b, text, line, err, cap);
	}
	free(text);
	fclose(f);
	if (!rc && !b->n) {
		snprintf(err, cap, "budget %s: no limits in the file", path);
		rc = -1;
	}
	if (rc)
		pa_budget_free(b);
	return rc;
}

void pa_budget_free(struct pa_budget *b)
{
	for (int i = 0; i < b->n; i++) {
		free(b->limits[i].key);
		free(b->limits[i].name);
	}
	free(b->limits);
	b->limits = NULL;
	b->n = 0;
}

/* --- checking --- */

struct checker {
	const struct pa_budget *b;
	const struct pa_models *run;
	const struct pa_diff *d;
	FILE *out;
	int breaches;
};

static void breach(struct checker *c, const struct budget_limit *l, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void breach(struct checker *c, const struct budget_limit *l, const char *fmt, ...)
{
	va_list ap;
	fprintf(c->out, "BREACH %s%s%s (line %d): ", l->key, l->name ? "." : "",
		l->name ? l->name : "", l->line);
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->out);
	c->breaches++;
}

static void over(struct checker *c, const struct budget_limit *l, double value, const char *unit,
		 const char *where)
{
	if (value <= l->value)
		return;
	char a[32], b[32];
	if (!strcmp(unit, "bytes"))
		breach(c, l, "limit %s, value %s, in %s", finding_bytes(l->value, a, sizeof(a)),
		       finding_bytes(value, b, sizeof(b)), where);
	else
		breach(c, l, "limit %g %s, value %.6g %s, in %s", l->value, unit, value, unit,
		       where);
}

static bool cpu_known(const struct pa_models *pm)
{
	return pm->cpu && pm->cpu->weight;
}

static bool heap_known(const struct pa_models *pm)
{
	return pm->heap && pm->heap->has_data;
}

/* A span's p99 (profshim.h spans: no recorder needed); false if the run
 * has no span of that name. */
static bool check_span_p99(struct checker *c, const struct budget_limit *l, const char *run)
{
	const struct io_model *m = c->run->io;
	for (size_t i = 0; m && i < m->spans.len; i++) {
		const struct io_span_stat *sp = pa_vec_at(&m->spans, i);
		if (sp->thread != UINT32_MAX || !sp->st.count || strcmp(sp->name, l->name))
			continue;
		char where[512];
		snprintf(where, sizeof(where), "span %s (%" PRIu64 " spans), %s", sp->name,
			 sp->st.count, run);
		over(c, l, io_stat_pct(&sp->st, 99) / 1e6, "ms", where);
		return true;
	}
	return false;
}

/* p99 of a function (calls recorded) or, when no function has the name,
 * of a span. */
static void check_p99(struct checker *c, const struct budget_limit *l, const char *run)
{
	const struct call_model *m = c->run->calls;
	bool calls = m && call_model_has_data(m);
	for (size_t i = 1; calls && i < m->funcs.len; i++) {
		const struct call_func *f = pa_vec_at(&m->funcs, i);
		if (f->calls && f->name && !strcmp(f->name, l->name)) {
			char where[512];
			snprintf(where, sizeof(where), "%s (%s:%d), %s", f->name, f->file, f->line,
				 run);
			over(c, l, pa_ticks_to_ns(c->run->s, 1) * f->p99 / 1e6, "ms", where);
			return;
		}
	}
	if (check_span_p99(c, l, run))
		return;
	if (!calls)
		breach(c, l,
		       "no calls recorded in %s (functions need -finstrument-functions) and no "
		       "span named '%s'",
		       run, l->name);
	else
		breach(c, l, "no function or span named '%s' in %s", l->name, run);
}

static void check_self(struct checker *c, const struct budget_limit *l, const char *run)
{
	const struct cpu_model *m = c->run->cpu;
	if (!cpu_known(c->run)) {
		breach(c, l, "no CPU samples in %s", run);
		return;
	}
	double self = 0;
	bool found = false;
	for (size_t i = 0; i < m->funcs.len; i++) {
		const struct cpu_func *f = cpu_func_at(m, (int32_t)i);
		if (!strcmp(f->name, l->name)) {
			self += (double)f->self * m->period_s;
			found = true;
		}
	}
	char where[512];
	snprintf(where, sizeof(where), "%s, %s", l->name, run);
	if (!found)
		breach(c, l, "no function named '%s' in the CPU samples of %s", l->name, run);
	else
		over(c, l, self, "s", where);
}

static void check_growth(struct checker *c, const struct budget_limit *l, double base, double new,
			 const char *where)
{
	if (base <= 0)
		return;
	double pct = 100 * (new - base) / base;
	if (pct > l->value)
		breach(c, l, "limit +%g%%, value %+.1f%%, in %s", l->value, pct, where);
}

static const struct diff_figure *figure(const struct pa_diff *d, const char *name)
{
	for (int i = 0; i < DIFF_FIGURES; i++)
		if (!strcmp(d->fig[i].name, name))
			return &d->fig[i];
	return NULL;
}

static void check_figure_growth(struct checker *c, const struct budget_limit *l, const char *fig)
{
	const struct diff_figure *f = figure(c->d, fig);
	if (!f->known) {
		breach(c, l, "cannot compare %s: %s", fig, f->why ? f->why : "no data");
		return;
	}
	check_growth(c, l, f->base, f->new, "the run");
}

/* Self-time growth of one function or, without a name, of every function
 * whose change is above noise (diff.h). */
static void check_self_growth(struct checker *c, const struct budget_limit *l)
{
	const struct diff_section *cpu = &c->d->cpu;
	if (!cpu->compared) {
		breach(c, l, "cannot compare CPU: %s", cpu->why ? cpu->why : "no data");
		return;
	}
	if (l->name) {
		const struct diff_row *r = pa_diff_find(cpu, l->name);
		if (!r || !r->m[0].new_known) {
			breach(c, l, "no function named '%s' in the CPU samples of NEW", l->name);
			return;
		}
		if (r->status == DIFF_REGRESSED)
			check_growth(c, l, r->m[0].base, r->m[0].new, r->name);
		return;
	}
	for (size_t i = 0; i < cpu->rows.len; i++) {
		const struct diff_row *r = pa_vec_at(&cpu->rows, i);
		if (r->status == DIFF_REGRESSED)
			check_growth(c, l, r->m[0].base, r->m[0].new, r->name);
	}
}

static void check_limit(struct checker *c, const struct budget_limit *l, FILE *notes)
{
	const struct pa_models *pm = c->run;
	const char *run = pm->s->path;
	const char *k = l->key;
	if (l->relative && !c->d) {
		if (notes)
			fprintf(notes,
				"profanalyze: budget line %d: %s needs a baseline: "
				"skipped (profanalyze diff BASE NEW --budget=FILE)\n",
				l->line, k);
		return;
	}
	if (!strcmp(k, "max_cpu_seconds")) {
		if (!cpu_known(pm))
			breach(c, l, "no CPU samples in %s", run);
		else
			over(c, l, (double)pm->cpu->weight * pm->cpu->period_s, "s", run);
	} else if (!strcmp(k, "max_wall_seconds")) {
		over(c, l, pa_ticks_to_ns(pm->s, pa_session_duration_ticks(pm->s)) / 1e9, "s", run);
	} else if (!strcmp(k, "max_peak_heap") || !strcmp(k, "max_leaked_bytes") ||
		   !strcmp(k, "max_allocations")) {
		if (!heap_known(pm))
			breach(c, l, "no allocations recorded in %s", run);
		else if (!strcmp(k, "max_peak_heap"))
			over(c, l, pm->heap->peak_bytes, "bytes", run);
		else if (!strcmp(k, "max_leaked_bytes"))
			over(c, l, pm->heap->live_bytes, "bytes", run);
		else
			over(c, l, pm->heap->allocs, "calls", run);
	} else if (!strcmp(k, "max_io_bytes")) {
		if (!pm->io || !io_model_has_data(pm->io))
			breach(c, l, "no I/O recorded in %s (record with PROFSHIM_RECORD=...,io)",
			       run);
		else
			over(c, l, (double)io_total_bytes(pm->io), "bytes", run);
	} else if (!strcmp(k, "max_p99_ms")) {
		check_p99(c, l, run);
	} else if (!strcmp(k, "max_self_seconds")) {
		check_self(c, l, run);
	} else if (!strcmp(k, "max_self_growth_pct")) {
		check_self_growth(c, l);
	} else if (!strcmp(k, "max_cpu_growth_pct")) {
		check_figure_growth(c, l, "cpu_seconds");
	} else if (!strcmp(k, "max_peak_heap_growth_pct")) {
		check_figure_growth(c, l, "peak_heap_bytes");
	} else if (!strcmp(k, "max_allocations_growth_pct")) {
		check_figure_growth(c, l, "allocations");
	}
}

int pa_budget_check(const struct pa_budget *b, const struct pa_models *run, const struct pa_diff *d,
		    FILE *out, FILE *notes)
{
	struct checker c = {.b = b, .run = run, .d = d, .out = out};
	for (int i = 0; i < b->n; i++)
		check_limit(&c, &b->limits[i], notes);
	return c.breaches;
}
