/*
 * --format=html of a run directory: one page with the process tree
 * (command, pid, parent, times, CPU, peak heap, I/O, how it ended), the
 * processes on one timeline, and each selected process's own sections
 * (out_html.c's page data), one process shown at a time. The data island
 * is {"run": {...}, "pages": [page data...]}; the script draws a run when
 * it finds "run" (out_html_page.c).
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "heap_model.h"
#include "models.h"
#include "out_html.h"
#include "run.h"
#include "sample_model.h"

struct pa_html_run {
	const struct pa_run *r;
	cJSON *data, *procs, *pages, *notes;
	cJSON **rows; /* by process index */
	uint64_t start_ns;
};

static uint64_t run_start_ns(const struct pa_run *r)
{
	uint64_t t0 = UINT64_MAX;
	for (size_t i = 0; i < r->procs.len; i++)
		if (pa_run_at(r, i)->start_ns < t0)
			t0 = pa_run_at(r, i)->start_ns;
	return t0 == UINT64_MAX ? 0 : t0;
}

/* "exit 0", "exec", "did not end" (killed, or still running). */
static const char *how_it_ended(const struct pa_run_proc *p, char *buf, size_t cap)
{
	if (!p->ended)
		return "did not end normally";
	if (p->end_reason == PST_END_EXEC)
		return "exec";
	snprintf(buf, cap, "exit %d", p->end_status);
	return buf;
}

static uint32_t parent_pid(const struct pa_run *r, const struct pa_run_proc *p)
{
	const struct pa_run_proc *head = p;
	while (head->prev >= 0)
		head = pa_run_at(r, (size_t)head->prev);
	return head->parent >= 0 ? pa_run_at(r, (size_t)head->parent)->pid : p->ppid;
}

static cJSON *process_row(struct pa_html_run *h, size_t i)
{
	const struct pa_run_proc *p = pa_run_at(h->r, i);
	cJSON *o = cJSON_CreateObject();
	char buf[32];
	cJSON_AddNumberToObject(o, "pid", p->pid);
	cJSON_AddNumberToObject(o, "parent", parent_pid(h->r, p));
	cJSON_AddStringToObject(o, "command", p->command);
	cJSON_AddStringToObject(o, "cmdline", p->cmdline);
	cJSON_AddStringToObject(o, "file", p->file);
	cJSON_AddNumberToObject(o, "depth", p->depth);
	cJSON_AddBoolToObject(o, "exec", p->prev >= 0);
	cJSON_AddBoolToObject(o, "selected", p->selected);
	double start_ms = (double)(p->start_ns - h->start_ns) / 1e6;
	cJSON_AddNumberToObject(o, "start_ms", start_ms);
	double end_ms = p->end_ns > p->start_ns ? (double)(p->end_ns - h->start_ns) / 1e6
						: start_ms + p->wall_ms;
	cJSON_AddNumberToObject(o, "end_ms", end_ms);
	cJSON_AddStringToObject(o, "ended", how_it_ended(p, buf, sizeof(buf)));
	if (p->analyzed) {
		cJSON_AddNumberToObject(o, "wall_ms", p->wall_ms);
		cJSON_AddNumberToObject(o, "allocs", (double)p->allocs);
		cJSON_AddNumberToObject(o, "calls", (double)p->calls);
		if (p->has_cpu)
			cJSON_AddNumberToObject(o, "cpu_ms", p->cpu_ms);
		if (p->has_io) {
			cJSON_AddNumberToObject(o, "io_read", (double)p->io_read);
			cJSON_AddNumberToObject(o, "io_written", (double)p->io_written);
		}
	}
	cJSON_AddNumberToObject(o, "page", -1);
	return o;
}

struct pa_html_run *pa_html_run_new(const struct pa_run *r)
{
	struct pa_html_run *h = pa_xcalloc(1, sizeof(*h));
	h->r = r;
	h->start_ns = run_start_ns(r);
	h->data = cJSON_CreateObject();
	cJSON *run = cJSON_AddObjectToObject(h->data, "run");
	cJSON_AddStringToObject(run, "dir", r->dir);
	h->procs = cJSON_AddArrayToObject(run, "processes");
	h->notes = cJSON_AddArrayToObject(run, "notes");
	for (size_t i = 0; i < r->warnings.len; i++)
		cJSON_AddItemToArray(h->notes,
				     cJSON_CreateString(*(char **)pa_vec_at(&r->warnings, i)));
	h->pages = cJSON_AddArrayToObject(h->data, "pages");
	h->rows = pa_xcalloc(r->procs.len + 1, sizeof(cJSON *));
	double end_ms = 0;
	/* the table in tree order (the order they ran) */
	for (size_t k = 0; k < r->order.len; k++) {
		size_t i = *(size_t *)pa_vec_at(&r->order, k);
		h->rows[i] = process_row(h, i);
		double e = cJSON_GetObjectItem(h->rows[i], "end_ms")->valuedouble;
		end_ms = e > end_ms ? e : end_ms;
		cJSON_AddItemToArray(h->procs, h->rows[i]);
	}
	cJSON_AddNumberToObject(run, "duration_ms", end_ms);
	return h;
}

void pa_html_run_add(struct pa_html_run *h, size_t i, const struct pa_models *pm, size_t max_nodes)
{
	cJSON *row = h->rows[i];
	if (!row || !pm)
		return;
	if (pm->heap && pm->heap->has_data)
		cJSON_AddNumberToObject(row, "peak_heap", pm->heap->peak_bytes);
	cJSON_ReplaceItemInObject(row, "page", cJSON_CreateNumber(cJSON_GetArraySize(h->pages)));
	cJSON_AddItemToArray(h->pages, pa_html_page_data(pm, max_nodes));
}

void pa_html_run_note(struct pa_html_run *h, const char *note)
{
	cJSON_AddItemToArray(h->notes, cJSON_CreateString(note));
}

int pa_html_run_write(struct pa_html_run *h, FILE *out)
{
	char title[1024], sub[128];
	snprintf(title, sizeof(title), "profshim run: %s", h->r->dir);
	snprintf(sub, sizeof(sub), "%zu process%s", h->r->procs.len,
		 h->r->procs.len == 1 ? "" : "es");
	int rc = pa_html_write_page(out, title, sub, h->data);
	free(h->rows);
	free(h);
	return rc;
}
