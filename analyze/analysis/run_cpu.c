/* Whole-run analysis: see run_cpu.h. */
#define _GNU_SOURCE
#include "run_cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_model.h"
#include "symbols.h"

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

/* The merged model's function for (name, file), made on first use. */
static int32_t merged_func(struct pa_run_cpu *rc, const char *name, const char *file,
			   const char *module, int line)
{
	uint64_t k1 = hash_str(name), k2 = hash_str(file) ^ (uint64_t)line;
	uint32_t v = pa_pairmap_get(&rc->names, k1, k2);
	if (v)
		return (int32_t)(v - 1);
	struct cpu_func *f = pa_vec_push(&rc->m->funcs);
	f->name = pa_xstrdup(name ? name : "??");
	f->file = file ? pa_xstrdup(file) : NULL;
	f->module = module ? pa_xstrdup(module) : NULL;
	f->line = line;
	v = (uint32_t)rc->m->funcs.len;
	pa_pairmap_put(&rc->names, k1, k2, v);
	return (int32_t)(v - 1);
}

/* The child of merged node parent for function func, made on first use. */
static uint32_t merged_child(struct pa_run_cpu *rc, uint32_t parent, int32_t func)
{
	struct cpu_model *m = rc->m;
	uint32_t v = pa_pairmap_get(&m->child_index, parent, (uint64_t)(uint32_t)func);
	if (v)
		return v;
	struct cpu_node *n = pa_vec_push(&m->nodes);
	v = (uint32_t)(m->nodes.len - 1);
	struct cpu_node *p = cpu_node_at(m, parent);
	n->parent = parent;
	n->func = func;
	n->depth = p->depth + 1;
	n->next_sibling = p->first_child;
	p->first_child = v;
	pa_pairmap_put(&m->child_index, parent, (uint64_t)(uint32_t)func, v);
	return v;
}

/* Graft one process's CPU tree under its command's node (its threads are
 * folded into the command). Source parents precede their children. */
static void merge_tree(struct pa_run_cpu *rc, const struct cpu_model *src, const char *command)
{
	uint32_t cmd = merged_child(rc, 0, merged_func(rc, command, NULL, NULL, 0));
	uint32_t *map = pa_xcalloc(src->nodes.len ? src->nodes.len : 1, sizeof(uint32_t));
	for (uint32_t i = 0; i < src->nodes.len; i++) {
		const struct cpu_node *n = cpu_node_at(src, i);
		if (i == 0 || n->func < 0) {
			map[i] = cmd;
		} else {
			const struct cpu_func *f = cpu_func_at(src, n->func);
			int32_t g = merged_func(rc, f->name, f->file, f->module, f->line);
			map[i] = merged_child(rc, map[n->parent], g);
		}
		cpu_node_at(rc->m, map[i])->self += n->self;
		cpu_node_at(rc->m, map[i])->samples += n->samples;
	}
	free(map);
	rc->m->samples += src->samples;
}

/* Totals from selfs (children come after their parents), and the
 * functions' self weights. */
static void finish_totals(struct cpu_model *m)
{
	for (size_t i = 0; i < m->nodes.len; i++)
		cpu_node_at(m, (uint32_t)i)->total = cpu_node_at(m, (uint32_t)i)->self;
	for (size_t i = m->nodes.len; i-- > 1;) {
		struct cpu_node *n = cpu_node_at(m, (uint32_t)i);
		cpu_node_at(m, n->parent)->total += n->total;
		if (n->func >= 0) {
			cpu_func_at(m, n->func)->self += n->self;
			cpu_func_at(m, n->func)->total += n->total; /* upper bound with recursion */
		}
	}
	m->weight = cpu_node_at(m, 0)->total;
	free(m->frames);
	m->frames = pa_xcalloc(m->funcs.len + 1, sizeof(struct pa_frame));
	for (size_t i = 0; i < m->funcs.len; i++) {
		const struct cpu_func *f = cpu_func_at(m, (int32_t)i);
		m->frames[i].function = f->name;
		m->frames[i].file = f->file;
		m->frames[i].line = m->frames[i].func_line = f->line;
		m->frames[i].module = f->module;
	}
}

/* What one pass over a process's events collects. The allocations and
 * calls recorded back the counters of a process that never wrote them
 * (killed: the counters are written at the end). */
struct proc_pass {
	struct cpu_model *cm;
	uint64_t allocs, calls;
	uint64_t io_read, io_written;
};

static void on_event(const struct pa_event *ev, void *ctx)
{
	struct proc_pass *pp = ctx;
	if (ev->kind == PA_EV_ALLOC)
		pp->allocs++;
	else if (ev->kind == PA_EV_ENTER)
		pp->calls++;
	else if (ev->kind == PA_EV_IO) {
		bool rd, wr;
		uint64_t n = io_call_bytes(ev->u.io.op, ev->u.io.asked, ev->u.io.result, &rd, &wr);
		pp->io_read += rd ? n : 0;
		pp->io_written += wr ? n : 0;
	}
	if (pp->cm)
		cpu_model_event(pp->cm, ev);
}

static void copy_warnings(struct pa_run *r, struct pa_session *s, const char *file)
{
	for (size_t i = 0; i < s->warnings.len; i++) {
		char *msg = NULL;
		if (asprintf(&msg, "%s: %s", file, *(char **)pa_vec_at(&s->warnings, i)) >= 0)
			*(char **)pa_vec_push(&r->warnings) = msg;
	}
}

static void analyze_process(struct pa_run *r, struct pa_run_proc *p, struct pa_run_cpu *rc,
			    bool with_functions)
{
	struct pa_session s;
	struct pa_error err;
	if (pa_session_open(&s, p->path, &err)) {
		char *msg = NULL;
		if (asprintf(&msg, "%s", err.msg) >= 0)
			*(char **)pa_vec_push(&r->warnings) = msg;
		pa_session_close(&s);
		return;
	}
	struct cpu_model *cm = s.record_mask & PST_REC_CPU ? cpu_model_new(&s) : NULL;
	struct proc_pass pass = {.cm = cm};
	if (pa_session_run(&s, on_event, &pass, &err)) {
		char *msg = NULL;
		if (asprintf(&msg, "%s", err.msg) >= 0)
			*(char **)pa_vec_push(&r->warnings) = msg;
	} else {
		p->analyzed = true;
		p->wall_ms = pa_ticks_to_ns(&s, pa_session_duration_ticks(&s)) / 1e6;
		p->allocs = s.counters[PST_C_ALLOCS] ? s.counters[PST_C_ALLOCS] : pass.allocs;
		p->calls = s.counters[PST_C_CALLS] ? s.counters[PST_C_CALLS] : pass.calls;
		p->dropped = s.counters[PST_C_DROP_NO_SPACE];
		p->has_io = s.record_mask & PST_REC_IO;
		p->io_read = pass.io_read;
		p->io_written = pass.io_written;
		if (cm) {
			if (with_functions) {
				struct pa_symbols *sy = pa_symbols_new(&s);
				cpu_model_finish(cm, sy);
				pa_symbols_free(sy);
			}
			p->has_cpu = true;
			p->cpu_ms = (double)cm->weight * cm->period_s * 1e3;
			if (!rc->m->period_s) {
				rc->m->period_s = cm->period_s;
				rc->m->hz = cm->hz;
				rc->m->timer = cm->timer;
			} else if (cm->weight && rc->m->period_s != cm->period_s) {
				rc->mixed_rates = true;
			}
			if (with_functions)
				merge_tree(rc, cm, p->command);
		}
	}
	copy_warnings(r, &s, p->file);
	cpu_model_free(cm);
	pa_session_close(&s);
}

void pa_run_analyze(struct pa_run *r, struct pa_run_cpu *rc, bool with_functions)
{
	memset(rc, 0, sizeof(*rc));
	pa_vec_init(&rc->s.threads, sizeof(struct pa_thread *));
	pa_vec_init(&rc->s.warnings, sizeof(char *));
	const char *slash = strrchr(r->dir, '/');
	if (asprintf(&rc->s.exe, "run/%s", slash ? slash + 1 : r->dir) < 0)
		rc->s.exe = pa_xstrdup("run/run");
	rc->m = cpu_model_new(&rc->s);
	rc->m->period_s = 0;
	pa_pairmap_init(&rc->names);
	for (size_t k = 0; k < r->order.len; k++) {
		struct pa_run_proc *p = pa_run_at(r, *(size_t *)pa_vec_at(&r->order, k));
		if (p->selected)
			analyze_process(r, p, rc, with_functions);
	}
	finish_totals(rc->m);
	if (rc->mixed_rates)
		*(char **)pa_vec_push(&r->warnings) =
		    pa_xstrdup("processes were sampled at different rates: the merged CPU "
			       "tree adds their samples as they are");
}

void pa_run_cpu_free(struct pa_run_cpu *rc)
{
	cpu_model_free(rc->m);
	pa_pairmap_free(&rc->names);
	pa_vec_free(&rc->s.threads);
	pa_vec_free(&rc->s.warnings);
	free(rc->s.exe);
}
