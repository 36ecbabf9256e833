/* The CPU sample model (sample_model.h). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models.h"
#include "sample_model.h"
#include "symbols.h"

struct cpu_model *cpu_model_new(struct pa_session *s)
{
	struct cpu_model *m = pa_xcalloc(1, sizeof(*m));
	m->s = s;
	m->hz = s->cpu_hz;
	m->timer = s->cpu_timer;
	m->period_s = s->cpu_hz ? 1.0 / s->cpu_hz : 0;
	pa_vec_init(&m->samples_v, sizeof(struct cpu_sample));
	pa_vec_init(&m->funcs, sizeof(struct cpu_func));
	pa_vec_init(&m->nodes, sizeof(struct cpu_node));
	pa_vec_init(&m->threads, sizeof(struct cpu_thread_stats));
	for (size_t i = 0; i < s->threads.len; i++)
		pa_vec_push(&m->threads);
	struct cpu_node *root = pa_vec_push(&m->nodes);
	root->func = CPU_ROOT_FUNC;
	pa_pairmap_init(&m->func_index);
	pa_pairmap_init(&m->child_index);
	pa_pairmap_init(&m->path_index);
	return m;
}

void cpu_model_event(struct cpu_model *m, const struct pa_event *ev)
{
	if (ev->kind != PA_EV_SAMPLE)
		return;
	struct cpu_sample *cs = pa_vec_push(&m->samples_v);
	cs->ticks = ev->ticks;
	cs->weight = ev->u.sample.weight;
	cs->thread = (uint32_t)ev->thread->index;
	cs->stack = ev->u.sample.stack;
	struct cpu_thread_stats *ts = pa_vec_at(&m->threads, cs->thread);
	if (!ts->samples)
		ts->first_ticks = ev->ticks;
	ts->last_ticks = ev->ticks;
	ts->samples++;
	ts->weight += cs->weight;
	m->samples++;
	m->weight += cs->weight;
}

/* --- functions --- */

static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static int32_t func_for(struct cpu_model *m, const struct pa_frame *f)
{
	uint64_t k1 = str_hash(f->function), k2 = str_hash(f->file ? f->file : f->module);
	uint32_t v = pa_pairmap_get(&m->func_index, k1, k2);
	if (v)
		return (int32_t)(v - 1);
	struct cpu_func *fn = pa_vec_push(&m->funcs);
	fn->name = pa_xstrdup(f->function ? f->function : "??");
	fn->file = f->file ? pa_xstrdup(f->file) : NULL;
	fn->line = f->func_line;
	fn->module = f->module ? pa_xstrdup(f->module) : NULL;
	pa_pairmap_put(&m->func_index, k1, k2, (uint32_t)m->funcs.len);
	return (int32_t)(m->funcs.len - 1);
}

/* A function for pc without a symbolizer: module+offset or the address. */
static int32_t func_raw(struct cpu_model *m, uint64_t pc, uint64_t ticks)
{
	char buf[512];
	struct pa_frame f = {0};
	if (pc == PST_PC_PROFSHIM || pc == PST_PC_KERNEL) {
		f.function = pc == PST_PC_KERNEL ? CPU_KERNEL_FRAME : CPU_PROFSHIM_FRAME;
		return func_for(m, &f);
	}
	const struct pa_module *mod = pa_module_for(m->s, pc, ticks);
	if (mod) {
		const char *base = strrchr(mod->path, '/');
		snprintf(buf, sizeof(buf), "%s+0x%" PRIx64, base ? base + 1 : mod->path,
			 pc - mod->bias);
		f.module = mod->path;
	} else {
		snprintf(buf, sizeof(buf), "0x%" PRIx64, pc);
	}
	f.function = buf;
	return func_for(m, &f);
}

/* --- the tree --- */

static uint32_t child_of(struct cpu_model *m, uint32_t parent, int32_t func)
{
	uint32_t v = pa_pairmap_get(&m->child_index, parent, (uint64_t)(int64_t)func);
	if (v)
		return v;
	uint32_t id = (uint32_t)m->nodes.len;
	struct cpu_node *n = pa_vec_push(&m->nodes);
	struct cpu_node *p = cpu_node_at(m, parent);
	n->parent = parent;
	n->func = func;
	n->depth = p->depth + 1;
	n->next_sibling = p->first_child;
	p->first_child = id;
	pa_pairmap_put(&m->child_index, parent, (uint64_t)(int64_t)func, id);
	return id;
}

/* Append the frames of pc (outermost first) below node. */
static uint32_t append_pc(struct cpu_model *m, struct pa_symbols *syms, uint32_t node, uint64_t pc,
			  bool ret_addr, uint64_t ticks)
{
	if (!syms || pc == PST_PC_PROFSHIM || pc == PST_PC_KERNEL)
		return child_of(m, node, func_raw(m, pc, ticks));
	const struct pa_frame *fr;
	int n = pa_symbols_resolve(syms, pc, ret_addr, ticks, &fr);
	for (int i = n - 1; i >= 0; i--)
		node = child_of(m, node, func_for(m, &fr[i]));
	return node;
}

static const struct pa_stack_node *stack_at(const struct cpu_model *m, uint32_t i)
{
	return pa_vec_at(&m->s->stacks, i);
}

/* Tree node of the caller part of a stack (every frame a return address). */
static uint32_t path_node(struct cpu_model *m, struct pa_symbols *syms, uint32_t thread,
			  uint32_t stack, uint64_t ticks)
{
	if (stack == 0)
		return child_of(m, 0, -1 - (int32_t)thread);
	uint32_t v = pa_pairmap_get(&m->path_index, thread, stack);
	if (v)
		return v;
	const struct pa_stack_node *sn = stack_at(m, stack);
	uint32_t up = path_node(m, syms, thread, sn->parent, ticks);
	uint32_t node = append_pc(m, syms, up, sn->pc, true, ticks);
	pa_pairmap_put(&m->path_index, thread, stack, node);
	return node;
}

/* Tree node of a sample's stack: frame 0 is the interrupted pc. */
static uint32_t leaf_node(struct cpu_model *m, struct pa_symbols *syms, const struct cpu_sample *cs)
{
	uint64_t key = (uint64_t)cs->thread | (1ull << 40);
	uint32_t v = pa_pairmap_get(&m->path_index, key, cs->stack);
	if (v)
		return v;
	uint32_t node;
	if (cs->stack == 0) {
		node = child_of(m, child_of(m, 0, -1 - (int32_t)cs->thread),
				func_raw(m, 0, cs->ticks));
	} else {
		const struct pa_stack_node *sn = stack_at(m, cs->stack);
		uint32_t up = path_node(m, syms, cs->thread, sn->parent, cs->ticks);
		node = append_pc(m, syms, up, sn->pc, false, cs->ticks);
	}
	pa_pairmap_put(&m->path_index, key, cs->stack, node);
	return node;
}

static void charge(struct cpu_model *m, uint32_t leaf, uint64_t w, uint32_t stamp)
{
	struct cpu_node *n = cpu_node_at(m, leaf);
	n->self += w;
	n->samples++;
	if (n->func >= 0)
		cpu_func_at(m, n->func)->self += w;
	for (uint32_t i = leaf;; i = cpu_node_at(m, i)->parent) {
		struct cpu_node *x = cpu_node_at(m, i);
		x->total += w;
		if (x->func >= 0) {
			struct cpu_func *f = cpu_func_at(m, x->func);
			if (f->stamp != stamp) {
				f->stamp = stamp;
				f->total += w;
			}
		}
		if (i == 0)
			break;
	}
}

/* Each thread's CPU accounting from its counters (written at its end). */
static void account_threads(struct cpu_model *m)
{
	for (size_t i = 0; i < m->threads.len; i++) {
		struct cpu_thread_stats *ts = pa_vec_at(&m->threads, i);
		const struct pa_thread *t = *(struct pa_thread **)pa_vec_at(&m->s->threads, i);
		const uint64_t *c = t->counters;
		ts->periods = c[PST_C_CPU_PERIODS];
		ts->dropped = c[PST_C_DROP_SAMPLE_WEIGHT];
		ts->unsampled = c[PST_C_CPU_UNSAMPLED];
		ts->paused = c[PST_C_CPU_PAUSED];
		ts->cpu_ns = c[PST_C_CPU_NS];
		ts->profshim = c[PST_C_SAMPLES_PROFSHIM];
		ts->accounted = ts->periods || ts->cpu_ns;
	}
}

void cpu_model_finish(struct cpu_model *m, struct pa_symbols *syms)
{
	m->dropped =
	    m->s->counters[PST_C_DROP_SAMPLE_BUSY] + m->s->counters[PST_C_DROP_SAMPLE_LOADER];
	m->dropped_weight = m->s->counters[PST_C_DROP_SAMPLE_WEIGHT];
	m->unsampled_weight = m->s->counters[PST_C_CPU_UNSAMPLED];
	m->profshim_weight = m->s->counters[PST_C_SAMPLES_PROFSHIM];
	account_threads(m);
	for (size_t i = 0; i < m->samples_v.len; i++) {
		struct cpu_sample *cs = pa_vec_at(&m->samples_v, i);
		cs->node = leaf_node(m, syms, cs);
		charge(m, cs->node, cs->weight, (uint32_t)i + 1);
	}
	m->frames = pa_xcalloc(m->funcs.len + 1, sizeof(struct pa_frame));
	for (size_t i = 0; i < m->funcs.len; i++) {
		const struct cpu_func *f = cpu_func_at(m, (int32_t)i);
		m->frames[i].function = f->name;
		m->frames[i].file = f->file;
		m->frames[i].line = f->line;
		m->frames[i].func_line = f->line;
		m->frames[i].module = f->module;
	}
	for (uint32_t i = cpu_node_at(m, 0)->first_child; i; i = cpu_node_at(m, i)->next_sibling) {
		struct cpu_node *n = cpu_node_at(m, i);
		struct cpu_thread_stats *ts = pa_vec_at(&m->threads, (size_t)(-1 - n->func));
		ts->node = i;
	}
}

void cpu_model_free(struct cpu_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->funcs.len; i++) {
		struct cpu_func *f = cpu_func_at(m, (int32_t)i);
		free(f->name);
		free(f->file);
		free(f->module);
	}
	free(m->frames);
	pa_vec_free(&m->samples_v);
	pa_vec_free(&m->funcs);
	pa_vec_free(&m->nodes);
	pa_vec_free(&m->threads);
	pa_pairmap_free(&m->func_index);
	pa_pairmap_free(&m->child_index);
	pa_pairmap_free(&m->path_index);
	free(m);
}

/* --- queries for the writers --- */

struct pa_thread *cpu_node_thread(const struct cpu_model *m, const struct cpu_node *n)
{
	if (n->func >= 0 || n->func == CPU_ROOT_FUNC)
		return NULL;
	return *(struct pa_thread **)pa_vec_at(&m->s->threads, (size_t)(-1 - n->func));
}

const char *cpu_node_label(const struct cpu_model *m, const struct cpu_node *n, char *buf,
			   size_t cap)
{
	if (n->func >= 0)
		return cpu_func_at(m, n->func)->name;
	struct pa_thread *t = cpu_node_thread(m, n);
	if (!t)
		return "all";
	if (t->name[0])
		snprintf(buf, cap, "thread %s (%u)", t->name, t->tid);
	else
		snprintf(buf, cap, "thread %u", t->tid);
	return buf;
}

static const uint64_t *sort_keys;
static int by_key_desc(const void *a, const void *b)
{
	uint64_t x = sort_keys[*(const int32_t *)a], y = sort_keys[*(const int32_t *)b];
	if (x != y)
		return x < y ? 1 : -1;
	return *(const int32_t *)a - *(const int32_t *)b;
}

int32_t *cpu_top_funcs(const struct cpu_model *m, bool by_total, long thread, size_t *n,
		       uint64_t **out_self, uint64_t **out_total)
{
	size_t nf = m->funcs.len;
	uint64_t *self = pa_xcalloc(nf + 1, sizeof(uint64_t));
	uint64_t *total = pa_xcalloc(nf + 1, sizeof(uint64_t));
	if (thread < 0) {
		for (size_t i = 0; i < nf; i++) {
			self[i] = cpu_func_at(m, (int32_t)i)->self;
			total[i] = cpu_func_at(m, (int32_t)i)->total;
		}
	} else {
		uint32_t *stamp = pa_xcalloc(nf + 1, sizeof(uint32_t));
		for (size_t s = 0; s < m->samples_v.len; s++) {
			const struct cpu_sample *cs = pa_vec_at(&m->samples_v, s);
			if (cs->thread != (uint32_t)thread)
				continue;
			const struct cpu_node *leaf = cpu_node_at(m, cs->node);
			if (leaf->func >= 0)
				self[leaf->func] += cs->weight;
			for (uint32_t i = cs->node; i; i = cpu_node_at(m, i)->parent) {
				int32_t f = cpu_node_at(m, i)->func;
				if (f >= 0 && stamp[f] != s + 1) {
					stamp[f] = (uint32_t)s + 1;
					total[f] += cs->weight;
				}
			}
		}
		free(stamp);
	}
	int32_t *idx = pa_xcalloc(nf + 1, sizeof(int32_t));
	size_t k = 0;
	for (size_t i = 0; i < nf; i++)
		if (by_total ? total[i] : self[i])
			idx[k++] = (int32_t)i;
	sort_keys = by_total ? total : self;
	qsort(idx, k, sizeof(int32_t), by_key_desc);
	*n = k;
	if (out_self)
		*out_self = self;
	else
		free(self);
	if (out_total)
		*out_total = total;
	else
		free(total);
	return idx;
}

long cpu_thread_by_tid(const struct cpu_model *m, long tid)
{
	for (size_t i = 0; i < m->s->threads.len; i++)
		if ((*(struct pa_thread **)pa_vec_at(&m->s->threads, i))->tid == (uint32_t)tid)
			return (long)i;
	return -1;
}

int cpu_selected_thread(const struct pa_models *pm, long *thread)
{
	*thread = pm->o->thread >= 0 ? cpu_thread_by_tid(pm->cpu, pm->o->thread) : -1;
	if (pm->o->thread >= 0 && *thread < 0) {
		fprintf(stderr, "profanalyze: --thread=%ld: no such thread in this trace\n",
			pm->o->thread);
		return -1;
	}
	return 0;
}

const char *cpu_timer_name(unsigned timer)
{
	return timer == PST_TIMER_PERF ? "perf_event cpu-clock"
				       : "posix timer (CLOCK_THREAD_CPUTIME_ID)";
}
