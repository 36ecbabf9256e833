/*
 * profanalyze diff as text and JSON (diff.h): the summary figures, then
 * per section the changes above noise (regressions first) and a count of
 * what stayed the same.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "findings.h"
#include "models.h"

static const char *value(double v, const char *unit, bool normalized, char *buf, size_t cap)
{
	if (!strcmp(unit, "s"))
		return finding_seconds(v, buf, cap);
	if (!strcmp(unit, "bytes"))
		return finding_bytes(v, buf, cap);
	if (!strcmp(unit, "%"))
		snprintf(buf, cap, "%.1f%%", v);
	else
		snprintf(buf, cap, normalized ? "%.2f" : "%.0f", v);
	return buf;
}

static void change_text(double b, double n, char *buf, size_t cap)
{
	if (b > 0)
		snprintf(buf, cap, "%+.1f%%", 100 * (n - b) / b);
	else
		snprintf(buf, cap, n > 0 ? "new" : "=");
}

static void command(const struct pa_models *pm, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = 0;
	for (int i = 0; i < pm->s->argc && n + 1 < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? " " : "", pm->s->argv[i]);
}

static void text_row(const struct pa_diff *d, const struct diff_row *r, FILE *out)
{
	char a[32], b[32], c[32], ch[32];
	bool norm = d->normalize != NULL;
	const struct diff_metric *m = &r->m[0];
	change_text(m->base, m->new, ch, sizeof(ch));
	fprintf(out, "  %-9s %s\n", pa_diff_status_name(r->status), r->name);
	fprintf(out, "            %s: %s -> %s (%s, %s%s)", m->name,
		value(m->base, m->unit, norm, a, sizeof(a)),
		value(m->new, m->unit, norm, b, sizeof(b)), ch, r->change >= 0 ? "+" : "-",
		value(fabs(r->change), m->unit, norm, c, sizeof(c)));
	for (int i = 1; i < r->nm; i++) {
		const struct diff_metric *x = &r->m[i];
		change_text(x->base, x->new, ch, sizeof(ch));
		fprintf(out, "; %s %s -> %s", x->name, value(x->base, x->unit, norm, a, sizeof(a)),
			value(x->new, x->unit, norm, b, sizeof(b)));
	}
	fputc('\n', out);
	if (r->where)
		fprintf(out, "            at %s\n", r->where);
}

static void text_section(const struct pa_diff *d, const struct diff_section *sec, int top,
			 FILE *out)
{
	fprintf(out, "\n%s\n", sec->title);
	if (!sec->compared) {
		fprintf(out, "  cannot compare: %s\n", sec->why ? sec->why : "no data");
		return;
	}
	size_t shown = 0, same = 0;
	for (size_t i = 0; i < sec->rows.len; i++) {
		const struct diff_row *r = pa_vec_at(&sec->rows, i);
		if (r->status == DIFF_SAME) {
			same++;
			continue;
		}
		if (shown++ < (size_t)top)
			text_row(d, r, out);
	}
	if (shown > (size_t)top)
		fprintf(out, "  ... %zu more changes (--top=N shows more)\n", shown - (size_t)top);
	if (!shown)
		fprintf(out, "  no change above noise\n");
	fprintf(out, "  %zu unchanged (within noise)\n", same);
}

/* A side: its file and command, or its processes summed (seed's command). */
static void side_text(FILE *out, const char *label, const char *path,
		      const struct pa_diff_side *side, const char *cmd)
{
	if (side->n > 1)
		fprintf(out, "  %s %s: %zu processes summed (the first: %s)\n", label, path,
			side->n, cmd);
	else
		fprintf(out, "  %s %s: %s\n", label, path, cmd);
}

void diff_report_text(const struct pa_diff *d, int top, FILE *out)
{
	char cmd[2048], a[32], b[32], ch[32];
	fprintf(out, "profanalyze diff\n");
	command(d->base, cmd, sizeof(cmd));
	side_text(out, "BASE", d->base_path, &d->bside, cmd);
	command(d->new, cmd, sizeof(cmd));
	side_text(out, "NEW ", d->new_path, &d->nside, cmd);
	if (d->shares)
		fprintf(out, "  functions and sites as shares of each run's total (CPU, wall time, "
			     "bytes, allocations)\n");
	else if (d->normalize)
		fprintf(out, "  values per '%s' (BASE %.0f, NEW %.0f); peak heap as is\n",
			d->normalize, d->norm_base, d->norm_new);
	fprintf(out, "\nSummary %17s %14s %10s\n", "BASE", "NEW", "change");
	for (int i = 0; i < DIFF_FIGURES; i++) {
		const struct diff_figure *f = &d->fig[i];
		if (!f->known) {
			fprintf(out, "  %-16s cannot compare: %s\n", f->name, f->why ? f->why : "");
			continue;
		}
		change_text(f->base, f->new, ch, sizeof(ch));
		fprintf(out, "  %-16s %14s %14s %10s\n", f->name,
			value(f->base, f->unit, d->normalize != NULL, a, sizeof(a)),
			value(f->new, f->unit, d->normalize != NULL, b, sizeof(b)), ch);
	}
	text_section(d, &d->cpu, top, out);
	text_section(d, &d->calls, top, out);
	text_section(d, &d->sites, top, out);
	text_section(d, &d->io, top, out);
}

static cJSON *row_json(const struct diff_row *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", r->name);
	if (r->where)
		cJSON_AddStringToObject(o, "where", r->where);
	cJSON_AddStringToObject(o, "status", pa_diff_status_name(r->status));
	cJSON_AddNumberToObject(o, "change", r->change);
	cJSON_AddNumberToObject(o, "change_pct", r->change_pct);
	cJSON *ms = cJSON_AddObjectToObject(o, "metrics");
	for (int i = 0; i < r->nm; i++) {
		cJSON *m = cJSON_AddObjectToObject(ms, r->m[i].name);
		if (r->m[i].base_known)
			cJSON_AddNumberToObject(m, "base", r->m[i].base);
		else
			cJSON_AddNullToObject(m, "base");
		if (r->m[i].new_known)
			cJSON_AddNumberToObject(m, "new", r->m[i].new);
		else
			cJSON_AddNullToObject(m, "new");
		cJSON_AddStringToObject(m, "unit", r->m[i].unit);
	}
	return o;
}

#define JSON_SAME_ROWS 50

static void section_json(const struct diff_section *sec, cJSON *root)
{
	cJSON *o = cJSON_AddObjectToObject(root, sec->key);
	cJSON_AddBoolToObject(o, "compared", sec->compared);
	if (!sec->compared) {
		cJSON_AddStringToObject(o, "why", sec->why ? sec->why : "no data");
		return;
	}
	cJSON *rows = cJSON_AddArrayToObject(o, "rows");
	size_t same = 0;
	for (size_t i = 0; i < sec->rows.len; i++) {
		const struct diff_row *r = pa_vec_at(&sec->rows, i);
		if (r->status == DIFF_SAME && same++ >= JSON_SAME_ROWS)
			continue;
		cJSON_AddItemToArray(rows, row_json(r));
	}
	cJSON_AddNumberToObject(o, "unchanged", (double)same);
}

static cJSON *side_json(const struct pa_diff_side *side, const char *path)
{
	char cmd[2048];
	const struct pa_models *pm = side->runs[0];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "path", path);
	command(pm, cmd, sizeof(cmd));
	cJSON_AddStringToObject(o, "command", cmd);
	cJSON_AddNumberToObject(o, "pid", pm->s->pid);
	/* a run directory without --pid: every process, summed */
	cJSON_AddNumberToObject(o, "processes", (double)side->n);
	return o;
}

int diff_report_json(const struct pa_diff *d, FILE *out)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "base", side_json(&d->bside, d->base_path));
	cJSON_AddItemToObject(root, "new", side_json(&d->nside, d->new_path));
	if (d->shares) {
		cJSON_AddStringToObject(root, "normalize", "share");
	} else if (d->normalize) {
		cJSON *n = cJSON_AddObjectToObject(root, "normalize");
		cJSON_AddStringToObject(n, "name", d->normalize);
		cJSON_AddNumberToObject(n, "base", d->norm_base);
		cJSON_AddNumberToObject(n, "new", d->norm_new);
	}
	cJSON *sum = cJSON_AddArrayToObject(root, "summary");
	for (int i = 0; i < DIFF_FIGURES; i++) {
		const struct diff_figure *f = &d->fig[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", f->name);
		cJSON_AddStringToObject(o, "unit", f->unit);
		cJSON_AddBoolToObject(o, "compared", f->known);
		if (f->known) {
			cJSON_AddNumberToObject(o, "base", f->base);
			cJSON_AddNumberToObject(o, "new", f->new);
			if (f->base > 0)
				cJSON_AddNumberToObject(o, "change_pct",
							100 * (f->new - f->base) / f->base);
		} else {
			cJSON_AddStringToObject(o, "why", f->why ? f->why : "");
		}
		cJSON_AddItemToArray(sum, o);
	}
	section_json(&d->cpu, root);
	section_json(&d->calls, root);
	section_json(&d->sites, root);
	section_json(&d->io, root);
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return -1;
	fputs(text, out);
	fputc('\n', out);
	free(text);
	return 0;
}
