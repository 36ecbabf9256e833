/*
 * The call model, tree mode: the threads' calling-context trees (CCT_NODE
 * records) merged into the model, with the times of sampled timing
 * estimated and reconciled so the identities of exact timing hold.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "call_model.h"
#include "call_model_internal.h"

static bool func_on_path(const struct call_model *m, uint32_t node, uint32_t func)
{
	for (uint32_t i = node; i; i = ((const struct call_node *)pa_vec_at(&m->nodes, i))->parent)
		if (((const struct call_node *)pa_vec_at(&m->nodes, i))->func == func)
			return true;
	return false;
}

static void add_cct_node(struct call_model *m, size_t tindex, struct pa_pairmap *ids,
			 const struct pa_cct_node *c)
{
	uint32_t parent = c->parent ? pa_pairmap_get(ids, c->parent, 0) : 0;
	if (c->parent && !parent)
		pa_warn(m->s, "call tree node %llu of thread %zu: unknown parent %llu",
			(unsigned long long)c->id, tindex, (unsigned long long)c->parent);
	uint32_t pfunc = node_at(m, parent)->func;
	bool recursive = func_on_path(m, parent, c->func);
	uint32_t id = child_node(m, parent, c->func);
	pa_pairmap_put(ids, c->id, 0, id);
	struct call_node *n = node_at(m, id);
	n->calls += c->calls;
	n->timed += c->timed < c->calls ? c->timed : c->calls;
	n->incl += c->incl_ticks;
	n->excl += c->excl_ticks;
	struct call_func *f = call_model_func(m, c->func);
	f->calls += c->calls;
	f->timed += c->timed < c->calls ? c->timed : c->calls;
	f->self += c->excl_ticks;
	if (!recursive)
		f->total += c->incl_ticks;
	if (c->calls && c->min_ticks < f->min)
		f->min = c->min_ticks;
	if (c->max_ticks > f->max)
		f->max = c->max_ticks;
	for (uint32_t b = 0; b < c->nbuckets && b < 64; b++)
		f->hist[b] += c->buckets[b];
	if (parent)
		call_model_add_edge(m, pfunc, c->func, c->calls);
	struct call_thread_total *tt = thread_total(m, tindex);
	tt->calls += c->calls;
	tt->self += c->excl_ticks;
	if (!c->parent)
		tt->outer += c->incl_ticks;
	m->calls += c->calls;
	m->timed += c->timed < c->calls ? c->timed : c->calls;
}

/* The calls made in all of each node's calls, themselves included: the
 * calls of its subtree (exact counts). Parents come before children. */
static double *subtree_calls(const struct pa_vec *cct)
{
	size_t n = cct->len;
	double *sub = pa_xcalloc(n + 1, sizeof(double));
	uint32_t *up = pa_xcalloc(n + 1, sizeof(uint32_t));
	struct pa_pairmap index;
	pa_pairmap_init(&index);
	for (size_t k = 0; k < n; k++) {
		const struct pa_cct_node *c = pa_vec_at(cct, k);
		pa_pairmap_put(&index, c->id, 0, (uint32_t)k + 1);
		uint32_t p = c->parent ? pa_pairmap_get(&index, c->parent, 0) : 0;
		up[k] = p ? p - 1 : (uint32_t)n;
		sub[k] = (double)c->calls;
	}
	pa_pairmap_free(&index);
	for (size_t k = n; k-- > 0;)
		sub[up[k]] += sub[k];
	free(up);
	return sub;
}

/* Tree mode with sampled timing (see CCT_NODE in profshim_trace.h): a
 * node's time is its timed calls' time per call made in them times the
 * calls made in all its calls (exact); for a leaf that is their average
 * times its count. Per call made, not per call: a recursion's calls take
 * times as different as their subtrees (fib's deeper levels), where a
 * sample of the calls' averages is mostly far too low (and now and then
 * far too high); per call made they are alike. Without timed_sub (older
 * writers): the average per call. Returns whether any node was estimated. */
static bool estimate_nodes(struct pa_vec *cct, bool *exact)
{
	bool any = false;
	double *sub = subtree_calls(cct);
	for (size_t k = 0; k < cct->len; k++) {
		struct pa_cct_node *n = pa_vec_at(cct, k);
		exact[k] = !(n->timed < n->calls && n->stood_for);
		if (exact[k])
			continue;
		double v = n->timed_sub
			       ? (double)n->incl_ticks * sub[k] / (double)n->timed_sub
			       : (double)n->incl_ticks * (double)n->calls / (double)n->stood_for;
		/* rounding must not take the average out of [min, max] */
		double lo = (double)n->min_ticks * (double)n->calls;
		double hi = (double)n->max_ticks * (double)n->calls;
		n->incl_ticks = (uint64_t)(v < lo ? lo : v > hi ? hi : v + 0.5);
		any = true;
	}
	free(sub);
	return any;
}

/* Estimates made node by node can contradict each other (children
 * estimated above their parent: a sample of a recursion's calls is not a
 * sample of its time). Reconcile them so the identities of exact timing
 * hold: measured times stay as they are; an estimated node holds at least
 * the measured time below it (its floor); then, from the top, the estimated
 * part of a node's children is scaled down to fit in the parent. The
 * nodes stay estimated (timed < calls): the reports keep marking them ~.
 * A node's exclusive time is then its time less its children's, never
 * negative, so the self times of a thread add up to its outermost calls.
 * The thread's outermost calls likewise fit in its life (an estimated
 * outermost node: a callback called from uninstrumented code). The shim
 * writes parents before children (the reader checks). */
static void reconcile_estimates(struct pa_vec *cct, const bool *exact, uint64_t thread_ticks)
{
	size_t n = cct->len;
	struct pa_pairmap index;
	pa_pairmap_init(&index);
	/* up[k]: the parent's slot; slot n stands for the thread itself,
	 * whose time (its life) holds its outermost calls */
	uint32_t *up = pa_xcalloc(n + 1, sizeof(uint32_t));
	for (size_t k = 0; k < n; k++) {
		const struct pa_cct_node *c = pa_vec_at(cct, k);
		pa_pairmap_put(&index, c->id, 0, (uint32_t)k + 1);
		uint32_t p = c->parent ? pa_pairmap_get(&index, c->parent, 0) : 0;
		up[k] = p ? p - 1 : (uint32_t)n;
	}
	pa_pairmap_free(&index);
	/* bottom-up: the measured time each node must hold */
	uint64_t *floor = pa_xcalloc(n + 1, sizeof(uint64_t));
	uint64_t *kid_floor = pa_xcalloc(n + 1, sizeof(uint64_t));
	for (size_t k = n; k-- > 0;) {
		struct pa_cct_node *c = pa_vec_at(cct, k);
		/* a measured node under its measured children is a clock-read
		 * correction's rounding: raised too */
		if (c->incl_ticks < kid_floor[k])
			c->incl_ticks = kid_floor[k];
		floor[k] = exact[k] ? c->incl_ticks : kid_floor[k];
		kid_floor[up[k]] += floor[k];
	}
	/* the children's estimated part (above their floors), per parent */
	uint64_t *kid_extra = pa_xcalloc(n + 1, sizeof(uint64_t));
	for (size_t k = 0; k < n; k++)
		kid_extra[up[k]] +=
		    ((const struct pa_cct_node *)pa_vec_at(cct, k))->incl_ticks - floor[k];
	/* top-down: scale each node's estimated part to fit its parent (whose
	 * time is final when its children come); the thread's outermost calls
	 * fit in its life when that is known */
	double *scale = pa_xcalloc(n + 1, sizeof(double));
	uint64_t root_room = thread_ticks > kid_floor[n] ? thread_ticks - kid_floor[n] : 0;
	scale[n] = thread_ticks && kid_extra[n] > root_room
		       ? (double)root_room / (double)kid_extra[n]
		       : 1.0;
	uint64_t *kids = pa_xcalloc(n + 1, sizeof(uint64_t));
	for (size_t k = 0; k < n; k++) {
		struct pa_cct_node *c = pa_vec_at(cct, k);
		if (scale[up[k]] < 1.0) {
			double extra = (double)(c->incl_ticks - floor[k]) * scale[up[k]];
			c->incl_ticks = floor[k] + (uint64_t)extra;
		}
		uint64_t room = c->incl_ticks > kid_floor[k] ? c->incl_ticks - kid_floor[k] : 0;
		scale[k] = kid_extra[k] > room ? (double)room / (double)kid_extra[k] : 1.0;
		kids[up[k]] += c->incl_ticks;
	}
	/* kids[] was summed as children were finalized: all are now */
	for (size_t k = 0; k < n; k++) {
		struct pa_cct_node *c = pa_vec_at(cct, k);
		c->excl_ticks = c->incl_ticks > kids[k] ? c->incl_ticks - kids[k] : 0;
	}
	free(kids);
	free(scale);
	free(kid_extra);
	free(kid_floor);
	free(floor);
	free(up);
}

/* thread_ticks: the thread's life, which holds its outermost calls (0:
 * unknown, no bound). */
static void scale_estimates(struct pa_vec *cct, uint64_t thread_ticks)
{
	bool *exact = pa_xcalloc(cct->len + 1, sizeof(bool));
	if (estimate_nodes(cct, exact))
		reconcile_estimates(cct, exact, thread_ticks);
	free(exact);
}

void call_model_load_trees(struct call_model *m)
{
	for (size_t i = 0; i < m->s->threads.len; i++) {
		struct pa_thread *t = *(struct pa_thread **)pa_vec_at(&m->s->threads, i);
		if (!t->cct.len)
			continue;
		m->from_tree = true;
		scale_estimates(&t->cct,
				t->end_ticks > t->start_ticks ? t->end_ticks - t->start_ticks : 0);
		struct pa_pairmap ids;
		pa_pairmap_init(&ids);
		for (size_t k = 0; k < t->cct.len; k++)
			add_cct_node(m, i, &ids, pa_vec_at(&t->cct, k));
		pa_pairmap_free(&ids);
	}
}
