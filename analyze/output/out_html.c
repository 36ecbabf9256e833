/* --format=html: see out_html.h. */
#define _GNU_SOURCE
#include "out_html.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "call_model.h"
#include "heap_model.h"
#include "models.h"
#include "out_util.h"
#include "sample_model.h"
#include "stack_tree.h"

#define HTML_MAX_NODES 30000 /* per flame graph: keeps the page small and fast */

struct cJSON *pa_html_findings(const struct pa_models *pm)
{
	(void)pm; /* the findings model adds its rows here */
	return NULL;
}

static double ms_since_start(const struct pa_session *s, uint64_t ticks)
{
	return pa_ns_since_start(s, ticks) / 1e6;
}

/* A stack tree as parallel arrays: parent (index into these arrays), func
 * (index into names), self weight; parents before children. */
static cJSON *flame_json(const struct pa_models *pm, enum pa_data kind, size_t max_nodes)
{
	struct stack_tree t;
	if (pa_stack_tree_build(pm, kind, &t)) {
		st_free(&t);
		return NULL;
	}
	double whole = st_node_at(&t, 0)->total;
	size_t live = t.nodes.len;
	for (double th = whole * 1e-5; live > max_nodes && th < whole; th *= 2) {
		st_prune(&t, th);
		live = 0;
		for (size_t i = 0; i < t.nodes.len; i++)
			live += st_node_at(&t, (uint32_t)i)->total > 0;
	}
	cJSON *f = cJSON_CreateObject();
	static const char *const labels[] = {"", "CPU", "Memory", "Calls"};
	cJSON_AddStringToObject(f, "label", labels[kind]);
	cJSON_AddStringToObject(f, "title", t.title);
	cJSON_AddStringToObject(f, "unit", t.unit);
	cJSON_AddNumberToObject(f, "merged", (double)t.merged_stacks);
	cJSON *names = cJSON_AddArrayToObject(f, "names");
	for (size_t i = 0; i < t.funcs.len; i++) {
		const struct pa_frame *fr = st_func(&t, (int32_t)i);
		cJSON_AddItemToArray(names, cJSON_CreateString(fr->function ? fr->function : "??"));
	}
	cJSON *parent = cJSON_AddArrayToObject(f, "parent");
	cJSON *func = cJSON_AddArrayToObject(f, "func");
	cJSON *self = cJSON_AddArrayToObject(f, "self");
	uint32_t *out_id = pa_xcalloc(t.nodes.len + 1, sizeof(uint32_t));
	uint32_t next = 0;
	for (size_t i = 0; i < t.nodes.len; i++) {
		const struct st_node *n = st_node_at(&t, (uint32_t)i);
		if (i && n->total <= 0)
			continue;
		out_id[i] = next++;
		cJSON_AddItemToArray(parent, cJSON_CreateNumber(i ? out_id[n->parent] : 0));
		cJSON_AddItemToArray(func, cJSON_CreateNumber(n->func));
		cJSON_AddItemToArray(self, cJSON_CreateNumber(n->self));
	}
	free(out_id);
	st_free(&t);
	return f;
}

static cJSON *series_json(const struct pa_session *s, const struct pa_vec *v)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < v->len; i++) {
		const struct heap_point *p = pa_vec_at(v, i);
		cJSON *pt = cJSON_CreateArray();
		cJSON_AddItemToArray(pt, cJSON_CreateNumber(ms_since_start(s, p->ticks)));
		cJSON_AddItemToArray(pt, cJSON_CreateNumber(p->bytes));
		cJSON_AddItemToArray(a, pt);
	}
	return a;
}

static cJSON *heap_json(const struct pa_models *pm)
{
	const struct heap_model *m = pm->heap;
	const struct pa_session *s = pm->s;
	if (!m || !m->has_data)
		return NULL;
	cJSON *h = cJSON_CreateObject();
	cJSON_AddItemToObject(h, "heap", series_json(s, &m->heap_series));
	cJSON_AddItemToObject(h, "rss", series_json(s, &m->rss_series));
	cJSON *peak = cJSON_AddObjectToObject(h, "peak");
	cJSON_AddNumberToObject(peak, "ms", ms_since_start(s, m->peak_ticks));
	cJSON_AddNumberToObject(peak, "bytes", m->peak_bytes);
	cJSON *marks = cJSON_AddArrayToObject(h, "markers");
	for (size_t i = 0; i < s->markers.len; i++) {
		const struct pa_marker *mk = pa_vec_at(&s->markers, i);
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "name", mk->name);
		cJSON_AddNumberToObject(j, "ms", ms_since_start(s, mk->ticks));
		cJSON_AddItemToArray(marks, j);
	}
	return h;
}

static cJSON *threads_json(const struct pa_models *pm)
{
	const struct pa_session *s = pm->s;
	cJSON *a = cJSON_CreateArray();
	for (size_t k = 0; k < s->threads.len; k++) {
		size_t i = pa_thread_order(s, k);
		const struct pa_thread *t = *(struct pa_thread **)pa_vec_at(&s->threads, i);
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "tid", t->tid);
		cJSON_AddStringToObject(j, "name", t->name[0] ? t->name : "thread");
		cJSON_AddNumberToObject(j, "start_ms", ms_since_start(s, t->start_ticks));
		cJSON_AddNumberToObject(j, "end_ms", ms_since_start(s, t->end_ticks));
		double cpu_ms = 0;
		if (pm->cpu && i < pm->cpu->threads.len)
			cpu_ms = (double)((const struct cpu_thread_stats *)pa_vec_at(
					      &pm->cpu->threads, i))
				     ->weight *
				 pm->cpu->period_s * 1e3;
		cJSON_AddNumberToObject(j, "cpu_ms", cpu_ms);
		cJSON_AddItemToArray(a, j);
	}
	return a;
}

static cJSON *report_json(const struct pa_models *pm)
{
	cJSON *r = cJSON_CreateObject();
	summary_report_json(pm, r);
	calls_report_json(pm, r);
	heap_report_json(pm, r);
	cpu_report_json(pm, r);
	/* the page shows its own flame graphs; the call graph is the biggest
	 * part of the JSON report and has no panel here */
	cJSON_DeleteItemFromObject(r, "call_graph");
	cJSON_DeleteItemFromObject(r, "edges");
	/* the heap panel's table is top_sites: the leak list (every leaked
	 * block's site, the bulk of a big run's report) and the other
	 * orderings have no panel either */
	cJSON *mm = cJSON_GetObjectItem(r, "memory_metrics");
	if (mm) {
		cJSON_DeleteItemFromObject(mm, "leaks");
		cJSON_DeleteItemFromObject(mm, "top_sites_by_peak");
		cJSON_DeleteItemFromObject(mm, "top_sites_by_count");
	}
	return r;
}

cJSON *pa_html_page_data(const struct pa_models *pm, size_t max_nodes)
{
	cJSON *d = cJSON_CreateObject();
	cJSON_AddItemToObject(d, "report", report_json(pm));
	static const struct {
		unsigned bit;
		const char *name;
	} recs[] = {{PST_REC_CPU, "cpu"}, {PST_REC_MEM, "memory"}, {PST_REC_CALLS, "calls"}};
	cJSON *on = cJSON_AddArrayToObject(d, "recorded");
	cJSON *off = cJSON_AddArrayToObject(d, "off");
	for (size_t i = 0; i < 3; i++)
		cJSON_AddItemToArray((pm->s->record_mask & recs[i].bit) ? on : off,
				     cJSON_CreateString(recs[i].name));
	cJSON *notes = cJSON_AddArrayToObject(d, "notes");
	cJSON *flame = cJSON_AddObjectToObject(d, "flame");
	static const struct {
		enum pa_data kind;
		const char *key, *missing;
	} kinds[] = {{PA_DATA_CPU, "cpu", "The CPU recorder took no samples."},
		     {PA_DATA_MEM, "mem", "The memory recorder saw no allocations."},
		     {PA_DATA_CALLS, "calls",
		      "The calls recorder saw no instrumented calls "
		      "(build with -finstrument-functions)."}};
	static const unsigned bits[] = {PST_REC_CPU, PST_REC_MEM, PST_REC_CALLS};
	for (size_t i = 0; i < 3; i++) {
		if (!pa_has_data(pm, kinds[i].kind)) {
			if (pm->s->record_mask & bits[i])
				cJSON_AddItemToArray(notes, cJSON_CreateString(kinds[i].missing));
			continue;
		}
		cJSON *f = flame_json(pm, kinds[i].kind, max_nodes);
		if (f)
			cJSON_AddItemToObject(flame, kinds[i].key, f);
	}
	cJSON *heap = heap_json(pm);
	if (heap)
		cJSON_AddItemToObject(d, "heap", heap);
	cJSON_AddItemToObject(d, "threads", threads_json(pm));
	cJSON_AddNumberToObject(d, "duration_ms",
				pa_ticks_to_ns(pm->s, pa_session_duration_ticks(pm->s)) / 1e6);
	cJSON *findings = pa_html_findings(pm);
	if (findings)
		cJSON_AddItemToObject(d, "findings", findings);
	return d;
}

/* JSON inside <script>: '<' as \u003c, so no "</script>" can end it. */
static void write_island(FILE *out, const char *json)
{
	for (const char *p = json; *p; p++) {
		if (*p == '<')
			fputs("\\u003c", out);
		else
			fputc(*p, out);
	}
}

static void write_escaped(FILE *out, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '<')
			fputs("&lt;", out);
		else if (*p == '&')
			fputs("&amp;", out);
		else
			fputc(*p, out);
	}
}

int pa_html_write_page(FILE *out, const char *title, const char *sub, cJSON *data)
{
	char *json = cJSON_PrintUnformatted(data);
	cJSON_Delete(data);
	if (!json)
		return 1;
	fputs(pa_html_head, out);
	fputs("<header><h1>", out);
	write_escaped(out, title);
	fputs("</h1><div class=\"sub\">", out);
	write_escaped(out, sub);
	fputs("</div></header>\n<div id=\"main\"></div>\n", out);
	fputs("<script type=\"application/json\" id=\"data\">", out);
	write_island(out, json);
	fputs("</script>\n", out);
	fputs(pa_html_script, out);
	free(json);
	return 0;
}

int pa_write_html(const struct pa_models *pm, FILE *out)
{
	/* Any trace gets a page: with no data it still has the summary and
	 * says which recorders were off or recorded nothing. */
	const struct pa_session *s = pm->s;
	const char *exe = s->argc ? s->argv[0] : (s->exe ? s->exe : "process");
	char title[1024], sub[64];
	snprintf(title, sizeof(title), "profshim report: %s", exe);
	snprintf(sub, sizeof(sub), "pid %u", s->pid);
	return pa_html_write_page(out, title, sub, pa_html_page_data(pm, HTML_MAX_NODES));
}
