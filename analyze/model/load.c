/* One run read into its models (load.h). */
#define _GNU_SOURCE
#include <string.h>

#include "call_model.h"
#include "heap_model.h"
#include "io_model.h"
#include "load.h"
#include "sample_model.h"
#include "symbols.h"

static void on_event(const struct pa_event *ev, void *ctx)
{
	struct pa_models *pm = ctx;
	summary_model_event(pm->summary, ev);
	/* The bulk of a memory trace: only the heap model takes them (the
	 * call, CPU and I/O models ignore memory events). */
	if (ev->kind == PA_EV_ALLOC || ev->kind == PA_EV_FREE) {
		heap_model_event(pm->heap, ev);
		return;
	}
	call_model_event(pm->calls, ev);
	heap_model_event(pm->heap, ev);
	if (pm->cpu)
		cpu_model_event(pm->cpu, ev);
	if (pm->io)
		io_model_event(pm->io, ev);
}

static void on_calls(struct pa_call_run *run, void *ctx)
{
	struct pa_models *pm = ctx;
	call_model_calls(pm->calls, run);
	summary_model_calls(pm->summary, run);
}

int pa_load_open(struct pa_loaded *l, const char *path, const struct pa_options *o,
		 struct pa_error *err)
{
	memset(l, 0, sizeof(*l));
	l->path = path;
	if (pa_session_open(&l->s, path, err)) {
		pa_session_close(&l->s);
		return -1;
	}
	l->s.progress = !o->quiet;
	return 0;
}

int pa_load_models(struct pa_loaded *l, const struct pa_options *o, struct pa_error *err)
{
	struct pa_models *pm = &l->pm;
	pm->s = &l->s;
	pm->o = o;
	pm->summary = summary_model_new(&l->s);
	pm->syms = pa_symbols_new(&l->s);
	pm->calls = call_model_new(&l->s, o);
	pm->heap = heap_model_new(&l->s, o);
	if (l->s.record_mask & PST_REC_CPU)
		pm->cpu = cpu_model_new(&l->s);
	pm->io = io_model_new(&l->s, o); /* spans and counters need no recorder */
	int rc = pa_session_run_calls(&l->s, on_event, on_calls, pm, err);
	if (!rc)
		rc = heap_model_finish(pm->heap, err);
	if (rc) {
		pa_unload(l);
		return -1;
	}
	call_model_finish(pm->calls, pm);
	heap_model_merge_sites(pm->heap, pm); /* one site per symbolized stack */
	if (pm->cpu)
		cpu_model_finish(pm->cpu, pm->syms);
	io_model_finish(pm->io);
	io_model_take_cpu(pm->io, pm->cpu); /* CPU inside I/O calls counted once */
	return 0;
}

int pa_load(struct pa_loaded *l, const char *path, const struct pa_options *o, struct pa_error *err)
{
	if (pa_load_open(l, path, o, err))
		return -1;
	return pa_load_models(l, o, err);
}

void pa_unload(struct pa_loaded *l)
{
	summary_model_free(l->pm.summary);
	call_model_free(l->pm.calls);
	heap_model_free(l->pm.heap);
	cpu_model_free(l->pm.cpu);
	io_model_free(l->pm.io);
	pa_symbols_free(l->pm.syms);
	pa_session_close(&l->s);
	memset(&l->pm, 0, sizeof(l->pm));
}
