/*
 * The memory parts of the generic formats: folded stacks weighted by bytes
 * (--format=folded --data=mem) and the heap-size and RSS counters of
 * --format=trace.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "heap_model.h"
#include "models.h"

#define MAX_FRAMES 512

/* A folded frame: the function name with the separators ';' and ' '
 * (which the format reserves) replaced. */
static void folded_name(const struct pa_models *pm, uint64_t pc, uint64_t ticks, FILE *out)
{
	struct heap_frame f;
	heap_frame_of(pm, pc, ticks, &f);
	for (char *p = f.function; *p; p++)
		if (*p == ';' || *p == ' ' || *p == '\n')
			*p = *p == ';' ? ':' : '_';
	fputs(f.function, out);
}

int heap_write_folded(const struct pa_models *pm, FILE *out)
{
	const struct heap_model *m = pm->heap;
	if (!m || !m->has_data) {
		fprintf(stderr, "profanalyze: --data=mem: this trace has no memory data\n");
		return 1;
	}
	const struct pa_session *s = pm->s;
	uint64_t pcs[MAX_FRAMES];
	for (size_t i = 0; i < m->sites.len; i++) {
		const struct heap_site *site = pa_vec_at(&m->sites, i);
		double v = round(heap_site_value(m, site));
		if (v <= 0)
			continue;
		int n = 0;
		for (uint32_t k = site->stack; k && k < s->stacks.len && n < MAX_FRAMES;) {
			const struct pa_stack_node *nd = pa_vec_at(&s->stacks, k);
			pcs[n++] = nd->pc;
			k = nd->parent;
		}
		if (!n)
			fputs("(no stack)", out);
		for (int j = n - 1; j >= 0; j--) {
			folded_name(pm, pcs[j], site->ticks, out);
			if (j)
				fputc(';', out);
		}
		fprintf(out, " %.0f\n", v);
	}
	return 0;
}

static void add_counter(const struct pa_session *s, cJSON *events, const char *name,
			const char *key, const struct heap_point *p)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "name", name);
	cJSON_AddStringToObject(e, "ph", "C");
	cJSON_AddNumberToObject(e, "ts", pa_ns_since_start(s, p->ticks) / 1e3);
	cJSON_AddNumberToObject(e, "pid", s->pid);
	cJSON_AddNumberToObject(e, "tid", s->pid);
	cJSON *args = cJSON_AddObjectToObject(e, "args");
	cJSON_AddNumberToObject(args, key, round(p->bytes));
	cJSON_AddItemToArray(events, e);
}

void heap_trace_counters(const struct pa_models *pm, cJSON *events)
{
	const struct heap_model *m = pm->heap;
	if (!m || !m->has_data)
		return;
	for (size_t i = 0; i < m->heap_series.len; i++)
		add_counter(pm->s, events, "heap", "bytes", pa_vec_at(&m->heap_series, i));
	for (size_t i = 0; i < m->rss_series.len; i++)
		add_counter(pm->s, events, "rss", "bytes", pa_vec_at(&m->rss_series, i));
}
