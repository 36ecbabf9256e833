/*
 * Off-CPU and wall-clock profiles (--data=offcpu, --data=wall): the io
 * model's blocked calls, and for wall the CPU samples too, as one sample
 * model weighted in nanoseconds, so every CPU writer draws them.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>

#include "io_model.h"
#include "sample_model.h"

struct timed {
	uint64_t ticks;
	uint32_t thread, stack;
	uint64_t weight_ns;
};

static int cmp_timed(const void *a, const void *b)
{
	const struct timed *x = a, *y = b;
	if (x->ticks != y->ticks)
		return x->ticks < y->ticks ? -1 : 1;
	return x->thread < y->thread ? -1 : x->thread > y->thread;
}

/* A session stack node for a site alone (root -> pc), made when needed. */
static uint32_t site_node(struct pa_session *s, uint64_t pc)
{
	uint32_t node = pa_pairmap_get(&s->stack_index, 0, pc);
	if (node)
		return node;
	struct pa_stack_node *n = pa_vec_push(&s->stacks);
	n->parent = 0;
	n->depth = 1;
	n->pc = pc;
	node = (uint32_t)(s->stacks.len - 1);
	pa_pairmap_put(&s->stack_index, 0, pc, node);
	return node;
}

/* The sample writers take a stack's leaf as an interrupted pc; the leaf of
 * an I/O stack is a return address. The same stack with the leaf moved
 * one byte back (into its call instruction) symbolizes to the call's
 * line, as the leaf of a CPU sample does. */
static uint32_t leaf_as_pc(struct pa_session *s, struct pa_pairmap *memo, uint32_t node)
{
	uint32_t v = pa_pairmap_get(memo, node, 0);
	if (v)
		return v;
	const struct pa_stack_node *n = pa_vec_at(&s->stacks, node);
	uint32_t parent = n->parent, depth = n->depth;
	uint64_t pc = n->pc ? n->pc - 1 : 0;
	uint32_t moved = pa_pairmap_get(&s->stack_index, parent, pc);
	if (!moved) {
		struct pa_stack_node *m = pa_vec_push(&s->stacks);
		m->parent = parent;
		m->depth = depth;
		m->pc = pc;
		moved = (uint32_t)(s->stacks.len - 1);
		pa_pairmap_put(&s->stack_index, parent, pc, moved);
	}
	pa_pairmap_put(memo, node, 0, moved);
	return moved;
}

struct cpu_model *io_time_profile(const struct io_model *io, const struct cpu_model *cpu,
				  bool with_cpu, struct pa_symbols *syms)
{
	struct pa_session *s = io->s;
	struct pa_vec v;
	pa_vec_init(&v, sizeof(struct timed));
	struct pa_pairmap memo;
	pa_pairmap_init(&memo);
	for (size_t i = 0; i < io->blocks.len; i++) {
		const struct io_block *b = pa_vec_at(&io->blocks, i);
		const struct io_site *site = pa_vec_at(&io->sites, b->site);
		struct timed *t = pa_vec_push(&v);
		t->ticks = b->ticks;
		t->thread = b->thread;
		t->stack = leaf_as_pc(s, &memo,
				      b->stack	    ? b->stack
				      : site->stack ? site->stack
						    : site_node(s, site->pc));
		t->weight_ns = (uint64_t)llround(b->off_ns);
	}
	if (with_cpu && cpu) {
		for (size_t i = 0; i < cpu->samples_v.len; i++) {
			const struct cpu_sample *cs = pa_vec_at(&cpu->samples_v, i);
			struct timed *t = pa_vec_push(&v);
			t->ticks = cs->ticks;
			t->thread = cs->thread;
			t->stack = cs->stack;
			/* less the thread's CPU estimate beyond its wall time
			 * (io_wall.c), spread over its samples */
			double over = 0, all = 0;
			if (cs->thread < io->threads.len && cs->thread < cpu->threads.len) {
				const struct io_thread *th = pa_vec_at(&io->threads, cs->thread);
				const struct cpu_thread_stats *ts =
				    pa_vec_at(&cpu->threads, cs->thread);
				over = th->cpu_over_ns;
				all = (double)ts->weight * cpu->period_s * 1e9;
			}
			double keep = over <= 0 ? 1 : all > over ? 1 - over / all : 0;
			t->weight_ns =
			    (uint64_t)llround((double)cs->weight * cpu->period_s * 1e9 * keep);
		}
	}
	if (v.len > 1)
		qsort(v.items, v.len, sizeof(struct timed), cmp_timed);
	struct cpu_model *m = cpu_model_new(s);
	m->period_s = 1e-9;
	for (size_t i = 0; i < v.len; i++) {
		const struct timed *t = pa_vec_at(&v, i);
		if (!t->weight_ns)
			continue;
		struct pa_event ev = {.kind = PA_EV_SAMPLE, .ticks = t->ticks};
		ev.thread = *(struct pa_thread **)pa_vec_at(&s->threads, t->thread);
		ev.u.sample.weight = t->weight_ns;
		ev.u.sample.stack = t->stack;
		cpu_model_event(m, &ev);
	}
	pa_vec_free(&v);
	pa_pairmap_free(&memo);
	cpu_model_finish(m, syms);
	return m;
}
