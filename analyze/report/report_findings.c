/*
 * The Findings section of the text report and findings[] of the JSON
 * report (findings.h): what to fix first, ranked by impact.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>

#include "findings.h"

static const char *const severity_names[] = {"low", "medium", "high"};

static struct finding *at(const struct findings *f, size_t i)
{
	return pa_vec_at(&f->items, i);
}

static const char *stack_frame(const struct finding *x, size_t i)
{
	return *(char **)pa_vec_at(&x->stack, i);
}

#define TEXT_STACK_FRAMES 6

void findings_report_text(const struct findings *f, FILE *out)
{
	fprintf(out, "Findings (ranked by what fixing could save)\n");
	if (!f->items.len) {
		fprintf(out, "  none: no detector found anything above its threshold\n\n");
		return;
	}
	for (size_t i = 0; i < f->items.len; i++) {
		const struct finding *x = at(f, i);
		fprintf(out, "  #%zu [%s] %s: %s\n", i + 1, severity_names[x->severity], x->kind,
			x->summary ? x->summary : "");
		fprintf(out, "      impact: %s\n", x->impact_text ? x->impact_text : "");
		if (x->function && x->file && x->line)
			fprintf(out, "      where:  %s at %s:%d\n", x->function, x->file, x->line);
		else if (x->function)
			fprintf(out, "      where:  %s%s%s\n", x->function, x->file ? " in " : "",
				x->file ? x->file : "");
		if (x->object)
			fprintf(out, "      on:     %s\n", x->object);
		size_t n = x->stack.len < TEXT_STACK_FRAMES ? x->stack.len : TEXT_STACK_FRAMES;
		for (size_t k = 0; k < n; k++)
			fprintf(out, "      %s %s\n", k ? "       " : "stack:", stack_frame(x, k));
		if (x->stack.len > n)
			fprintf(out, "              ... %zu more frames (--format=json)\n",
				x->stack.len - n);
		fprintf(out, "      fix:    %s\n", x->recommendation ? x->recommendation : "");
	}
	if (f->total > f->items.len)
		fprintf(out, "  ... %zu more (--findings=N shows more)\n", f->total - f->items.len);
	fputc('\n', out);
}

static void add_string(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static double json_finite(double v)
{
	return isfinite(v) ? v : 0;
}

void findings_report_json(const struct findings *f, cJSON *root)
{
	cJSON *a = cJSON_AddArrayToObject(root, "findings");
	for (size_t i = 0; i < f->items.len; i++) {
		const struct finding *x = at(f, i);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", x->kind);
		cJSON_AddStringToObject(o, "severity", severity_names[x->severity]);
		cJSON_AddNumberToObject(o, "score", json_finite(x->score));
		cJSON *imp = cJSON_AddObjectToObject(o, "impact");
		cJSON_AddNumberToObject(imp, "value", json_finite(x->impact));
		add_string(imp, "unit", x->impact_unit);
		cJSON_AddNumberToObject(imp, "percent", json_finite(x->impact_pct));
		add_string(imp, "text", x->impact_text);
		cJSON *ev = cJSON_AddObjectToObject(o, "evidence");
		add_string(ev, "function", x->function);
		add_string(ev, "file", x->file);
		cJSON_AddNumberToObject(ev, "line", x->line);
		add_string(ev, "object", x->object);
		add_string(ev, "summary", x->summary);
		cJSON *counts = cJSON_AddObjectToObject(ev, "counts");
		for (int k = 0; k < x->ncounts; k++)
			cJSON_AddNumberToObject(counts, x->counts[k].name,
						json_finite(x->counts[k].value));
		cJSON *st = cJSON_AddArrayToObject(ev, "stack");
		for (size_t k = 0; k < x->stack.len; k++)
			cJSON_AddItemToArray(st, cJSON_CreateString(stack_frame(x, k)));
		add_string(o, "recommendation", x->recommendation);
		cJSON_AddItemToArray(a, o);
	}
	cJSON_AddNumberToObject(root, "findings_total", (double)f->total);
}
