/*
 * The formats of one process on a run directory of several (run_main.c):
 *   html   one page: the process tree and each process's sections;
 *   trace  one timeline, a pid per process, on the run's clock;
 *   speedscope  every selected process's profiles in one file;
 *   the others (chrome, heapprofile, pprof, folded or
 *   flamegraph of memory or calls) hold one process: the first of the run
 *   with data for them, named on stderr with the options that pick another.
 * Each process is read on its own and let go before the next, so a run of
 * many processes needs the memory of its biggest one.
 */
#define _GNU_SOURCE
#include "run_formats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "out_html.h"
#include "out_speedscope.h"
#include "out_trace.h"
#include "out_util.h"

#define HTML_RUN_MAX_PAGES 40	  /* processes with sections of their own */
#define HTML_RUN_NODES 60000	  /* flame graph nodes shared by the pages */
#define HTML_RUN_MIN_NODES 2000	  /* per flame graph, however many pages */
#define HTML_RUN_MAX_NODES 30000  /* per flame graph, as a one-process page */
#define TRACE_DEFAULT_CAP_MB 100. /* out_caps.c's default for trace */

bool pa_run_format_is_merged(enum pa_format f)
{
	return f == PA_FMT_TEXT || f == PA_FMT_JSON || f == PA_FMT_HTML || f == PA_FMT_TRACE ||
	       f == PA_FMT_SPEEDSCOPE;
}

static size_t count_selected(const struct pa_run *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->procs.len; i++)
		n += pa_run_at(r, i)->selected;
	return n;
}

/* Whether process p has the data format f (with --data) shows. */
static bool has_data_for(const struct pa_run_proc *p, const struct pa_options *o)
{
	bool cpu = p->has_cpu && p->cpu_ms > 0, mem = p->allocs > 0, calls = p->calls > 0;
	if (o->format == PA_FMT_CHROME)
		return cpu;
	if (o->format == PA_FMT_HEAPPROFILE)
		return mem;
	switch (o->data) {
	case PA_DATA_CPU:
		return cpu;
	case PA_DATA_MEM:
		return mem;
	case PA_DATA_CALLS:
		return calls;
	default:
		return cpu || mem || calls;
	}
}

const struct pa_run_proc *pa_run_pick_one(const struct pa_run *r, const struct pa_options *o)
{
	const struct pa_run_proc *seed = NULL;
	for (size_t k = 0; k < r->order.len; k++) {
		const struct pa_run_proc *p = pa_run_at(r, *(size_t *)pa_vec_at(&r->order, k));
		if (!p->selected)
			continue;
		if (!seed)
			seed = p;
		if (p->analyzed && has_data_for(p, o)) {
			seed = p;
			break;
		}
	}
	if (seed)
		fprintf(
		    stderr,
		    "profanalyze: note: %s is a run of %zu processes and --format=%s holds one: "
		    "this is process %u (%s, %s), the first of the run with data for it; "
		    "choose another with --pid=N or --comm=NAME (`profanalyze %s` lists them; "
		    "html, trace, speedscope, text and json show every process)\n",
		    r->dir, count_selected(r), pa_format_name(o->format), seed->pid, seed->command,
		    seed->file, r->dir);
	return seed;
}

/* Read process p of the run into l with options po; NULL after a note
 * when it cannot be read (the run's warnings already say why). */
static struct pa_loaded *load_process(const struct pa_run_proc *p, const struct pa_options *po,
				      struct pa_loaded *l)
{
	struct pa_error err;
	if (pa_load(l, p->path, po, &err)) {
		pa_note_missing("%s: left out: %s", p->file, err.msg);
		return NULL;
	}
	return l;
}

/* The per-process options: the whole trace of each process, --thread of
 * whichever process has that thread. */
static struct pa_options process_options(const struct pa_options *o, const struct pa_run_proc *p)
{
	struct pa_options po = *o;
	po.trace = p->path;
	po.output = NULL;
	po.pid = -1;
	po.comm = NULL;
	return po;
}

int pa_run_write_html(const struct pa_run *r, const struct pa_options *o, FILE *out)
{
	struct pa_html_run *h = pa_html_run_new(r);
	size_t nsel = count_selected(r),
	       pages = nsel < HTML_RUN_MAX_PAGES ? nsel : HTML_RUN_MAX_PAGES;
	size_t nodes = pages ? HTML_RUN_NODES / pages : HTML_RUN_MAX_NODES;
	nodes = nodes < HTML_RUN_MIN_NODES   ? HTML_RUN_MIN_NODES
		: nodes > HTML_RUN_MAX_NODES ? HTML_RUN_MAX_NODES
					     : nodes;
	size_t done = 0;
	pa_note_collect(true);
	for (size_t k = 0; k < r->order.len; k++) {
		size_t i = *(size_t *)pa_vec_at(&r->order, k);
		const struct pa_run_proc *p = pa_run_at(r, i);
		if (!p->selected || done >= pages)
			continue;
		struct pa_options po = process_options(o, p);
		struct pa_loaded l;
		char ctx[300];
		snprintf(ctx, sizeof(ctx), "pid %u (%s): ", p->pid, p->command);
		pa_note_context(ctx);
		if (load_process(p, &po, &l)) {
			pa_html_run_add(h, i, &l.pm, nodes);
			pa_unload(&l);
		}
		pa_note_context(NULL);
		done++;
	}
	pa_note_collect(false);
	if (nsel > pages) {
		char note[256];
		snprintf(note, sizeof(note),
			 "%zu of the %zu processes have a report on this page (the first in run "
			 "order); --comm=NAME or --pid=N gives one of the others",
			 pages, nsel);
		pa_html_run_note(h, note);
		pa_note_missing("html: %s", note);
	}
	return pa_html_run_write(h, out);
}

int pa_run_write_trace(const struct pa_run *r, const struct pa_options *o, FILE *out)
{
	uint64_t t0 = UINT64_MAX;
	for (size_t i = 0; i < r->procs.len; i++)
		if (pa_run_at(r, i)->start_ns < t0)
			t0 = pa_run_at(r, i)->start_ns;
	size_t nsel = count_selected(r);
	/* the size cap is the whole file's: each process gets its share */
	double cap = o->max_size_mb < 0 ? TRACE_DEFAULT_CAP_MB : o->max_size_mb;
	unsigned long long events = 0;
	int rc = 0;
	pa_trace_run_begin(out);
	pa_note_collect(true);
	for (size_t k = 0; k < r->order.len; k++) {
		const struct pa_run_proc *p = pa_run_at(r, *(size_t *)pa_vec_at(&r->order, k));
		if (!p->selected)
			continue;
		struct pa_options po = process_options(o, p);
		po.max_size_mb = cap / (double)(nsel ? nsel : 1);
		struct pa_loaded l;
		char ctx[300];
		snprintf(ctx, sizeof(ctx), "pid %u (%s): ", p->pid, p->command);
		pa_note_context(ctx);
		if (load_process(p, &po, &l)) {
			/* one clock for the run: --from/--to are times in the run */
			double offset_us = (double)(p->start_ns - t0) / 1e3;
			rc |= pa_write_timeline_part(&l.pm, out, offset_us, &events);
			pa_unload(&l);
		}
		pa_note_context(NULL);
	}
	pa_note_collect(false);
	pa_trace_run_end(out);
	return rc;
}

int pa_run_write_speedscope(const struct pa_run *r, const struct pa_options *o, FILE *out)
{
	size_t nsel = count_selected(r), with_data = 0;
	char name[600];
	snprintf(name, sizeof(name), "run %s", r->dir);
	struct pa_speedscope *ss = pa_ss_begin(out, name);
	int rc = 0;
	for (size_t k = 0; k < r->order.len; k++) {
		const struct pa_run_proc *p = pa_run_at(r, *(size_t *)pa_vec_at(&r->order, k));
		if (!p->selected)
			continue;
		struct pa_options po = process_options(o, p);
		/* the size cap is the whole file's: each process gets its share */
		if (o->max_size_mb != 0)
			po.max_size_mb = (o->max_size_mb < 0 ? 50. : o->max_size_mb) / (double)nsel;
		struct pa_loaded l;
		if (!load_process(p, &po, &l))
			continue;
		if (pa_ss_has_data(&l.pm)) {
			with_data++;
			char prefix[300];
			snprintf(prefix, sizeof(prefix), "%s %u: ", p->command, p->pid);
			pa_ss_name_prefix(ss, prefix);
			rc |= pa_ss_add_profiles(&l.pm, ss);
			pa_ss_detach(ss); /* its frames outlive its models */
		}
		pa_unload(&l);
	}
	pa_ss_end(ss);
	if (!with_data) {
		fprintf(stderr,
			"profanalyze: speedscope: no CPU samples, calls or allocations in the %zu "
			"selected processes of %s\n",
			nsel, r->dir);
		return 1;
	}
	return rc;
}
