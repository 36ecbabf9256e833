/* Building a stack tree from each model: see stack_tree.h. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "call_model.h"
#include "heap_model.h"
#include "out_util.h"
#include "report_empty.h"
#include "sample_model.h"
#include "stack_tree.h"

bool pa_has_data(const struct pa_models *pm, enum pa_data kind)
{
	switch (kind) {
	case PA_DATA_CPU:
	case PA_DATA_OFFCPU: /* a time profile in place of the samples */
	case PA_DATA_WALL:
		return pm->cpu && pm->cpu->samples;
	case PA_DATA_CALLS:
		return pm->calls && call_model_has_data(pm->calls);
	case PA_DATA_MEM:
		return pm->heap && pm->heap->has_data && pm->heap->sites.len;
	default:
		return pa_default_data(pm) != PA_DATA_AUTO;
	}
}

enum pa_data pa_default_data(const struct pa_models *pm)
{
	static const enum pa_data order[] = {PA_DATA_CPU, PA_DATA_CALLS, PA_DATA_MEM};
	for (size_t i = 0; i < 3; i++)
		if (pa_has_data(pm, order[i]))
			return order[i];
	return PA_DATA_AUTO;
}

/* Entry frames of the C runtime and of threads: outside main or a
 * thread's start function. */
static bool runtime_entry(const char *fn)
{
	static const char *const names[] = {"_start",
					    "__libc_start_main",
					    "__libc_start_main_impl",
					    "__libc_start_call_main",
					    "start_thread",
					    "clone",
					    "clone3",
					    "__clone",
					    "__clone3"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (fn && !strcmp(fn, names[i]))
			return true;
	return false;
}

int pa_heap_stack_start(const struct pa_frame *const *frames, int n)
{
	int i = 0;
	while (i < n - 1 && runtime_entry(frames[i]->function))
		i++;
	/* The shadow stack names main by its entry and the unwound part by a
	 * return address inside it: one main. */
	while (i < n - 1 && frames[i]->function && !strcmp(frames[i]->function, "main") &&
	       frames[i + 1]->function && !strcmp(frames[i + 1]->function, "main"))
		i++;
	return i;
}

static int build_cpu(const struct pa_models *pm, struct stack_tree *t)
{
	const struct cpu_model *m = pm->cpu;
	long th;
	if (cpu_selected_thread(pm, &th))
		return 1;
	const struct pa_frame **chain = pa_xcalloc(4097, sizeof(*chain));
	char label[256];
	for (uint32_t i = 1; i < m->nodes.len; i++) {
		const struct cpu_node *n = cpu_node_at(m, i);
		if (!n->self || n->depth > 4096)
			continue;
		int k = (int)n->depth;
		const struct cpu_node *x = n;
		for (;;) {
			k--;
			if (x->func < 0) {
				chain[k] = st_frame(t, cpu_node_label(m, x, label, sizeof(label)));
				break;
			}
			chain[k] = &m->frames[x->func];
			if (k == 0) /* a run's merged tree: a command, not a thread, on top */
				break;
			x = cpu_node_at(m, x->parent);
		}
		if (th >= 0 && -1 - x->func != th)
			continue;
		if (th >= 0)
			st_add(t, chain + 1, (int)n->depth - 1, (double)n->self);
		else
			st_add(t, chain, (int)n->depth, (double)n->self);
	}
	free(chain);
	t->unit = "samples";
	t->what = "CPU";
	t->unit_scale = m->period_s;
	snprintf(t->title, sizeof(t->title), "CPU samples (%u Hz, %.3f ms each)", m->hz,
		 m->period_s * 1e3);
	return 0;
}

static const char *heap_title(const struct pa_options *o)
{
	if (o->between[0])
		return "bytes allocated between the markers and live at the second";
	switch (o->heap) {
	case PA_HEAP_LEAKED:
		return "leaked bytes (live at the end)";
	case PA_HEAP_PEAK:
		return "bytes live at the heap peak";
	default:
		return "allocated bytes";
	}
}

static int build_mem(const struct pa_models *pm, struct stack_tree *t)
{
	const struct heap_model *m = pm->heap;
	struct pa_vec frames;
	pa_vec_init(&frames, sizeof(const struct pa_frame *));
	const struct pa_frame *none = st_frame(t, "(no stack)");
	for (size_t i = 0; i < m->sites.len; i++) {
		const struct heap_site *site = pa_vec_at(&m->sites, i);
		double v = heap_site_value(m, site);
		if (v <= 0)
			continue;
		int n = pa_stack_frames(pm, site->stack, false, site->ticks, &frames);
		const struct pa_frame *const *f = frames.items;
		int from = pa_heap_stack_start(f, n);
		if (n)
			st_add(t, f + from, n - from, v);
		else
			st_add(t, &none, 1, v);
	}
	pa_vec_free(&frames);
	t->unit = "bytes";
	t->what = "heap";
	snprintf(t->title, sizeof(t->title), "%s", heap_title(pm->o));
	return 0;
}

static void walk_calls(struct call_model *m, uint32_t id, const struct pa_frame **path, int depth,
		       struct stack_tree *t)
{
	const struct call_node *n = pa_vec_at(&m->nodes, id);
	if (id) {
		if (depth >= 4096)
			return;
		path[depth++] = call_model_func(m, n->func)->frame;
		if (n->excl)
			st_add(t, path, depth, pa_ticks_to_ns(m->s, n->excl) / 1e3);
	}
	for (uint32_t c = n->first_child; c;
	     c = ((const struct call_node *)pa_vec_at(&m->nodes, c))->next_sibling)
		walk_calls(m, c, path, depth, t);
}

static int build_calls(const struct pa_models *pm, struct stack_tree *t)
{
	const struct pa_frame **path = pa_xcalloc(4096, sizeof(*path));
	walk_calls(pm->calls, 0, path, 0, t);
	free(path);
	t->unit = "microseconds";
	t->what = "calls";
	t->unit_scale = 1e-6;
	snprintf(t->title, sizeof(t->title), "self time of instrumented calls");
	return 0;
}

int pa_stack_tree_build(const struct pa_models *pm, enum pa_data kind, struct stack_tree *t)
{
	/* --data=offcpu and wall: main.c put a time profile (blocked time,
	 * plus the samples for wall) in place of the CPU samples */
	if (kind == PA_DATA_OFFCPU || kind == PA_DATA_WALL)
		kind = PA_DATA_CPU;
	if (kind == PA_DATA_AUTO)
		kind = pa_default_data(pm);
	st_init(t, kind);
	if (kind == PA_DATA_AUTO || !pa_has_data(pm, kind)) {
		/* why, naming only the options the user gave (report_empty.c) */
		pa_no_data_error(pm, pa_format_name(pm->o->format),
				 PST_REC_CPU | PST_REC_CALLS | PST_REC_MEM);
		return 1;
	}
	int rc = kind == PA_DATA_CPU   ? build_cpu(pm, t)
		 : kind == PA_DATA_MEM ? build_mem(pm, t)
				       : build_calls(pm, t);
	st_finish(t);
	return rc;
}
