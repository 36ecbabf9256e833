/*
 * What the call model's files share (private to analyze/model/): the
 * merged tree's child lookup, the per-thread totals and the array access
 * the trace-mode loop (call_model.c) and the tree-mode loader
 * (call_model_tree.c) both use; percentiles (call_model_percentiles.c).
 */
#ifndef PA_CALL_MODEL_INTERNAL_H
#define PA_CALL_MODEL_INTERNAL_H

#include "call_model.h"

/* Items of the model's arrays without a call per access (hot path). */
#define FUNC_AT(m, i) ((struct call_func *)(m)->funcs.items + (i))
#define NODE_AT(m, i) ((struct call_node *)(m)->nodes.items + (i))
#define STACK_AT(m, i) ((struct pa_vec *)(m)->stacks.items + (i))

/* call_model.c */
__attribute__((noinline)) uint32_t call_model_child_node_slow(struct call_model *m, uint32_t parent,
							      uint32_t func);
uint32_t call_model_add_edge(struct call_model *m, uint32_t caller, uint32_t callee,
			     uint64_t count);
/* call_model_tree.c: tree mode, the threads' calling-context trees */
void call_model_load_trees(struct call_model *m);
/* call_model_percentiles.c */
void call_model_percentiles(struct call_func *f);

static inline struct call_node *node_at(struct call_model *m, uint32_t i)
{
	return NODE_AT(m, i);
}

static inline struct call_child_slot *child_slot(struct call_model *m, uint32_t parent,
						 uint32_t func)
{
	uint32_t h = (parent * 0x9e3779b1u) ^ (func * 0x85ebca77u);
	return &m->child_cache[(h ^ (h >> 15)) & (CALL_CHILD_CACHE - 1)];
}

/* A cache hit costs a hash and one compare that is nearly always true,
 * where checking the parent's last child first mispredicted whenever a
 * node alternates between children (a parser does all the time). */
static inline uint32_t child_node(struct call_model *m, uint32_t parent, uint32_t func)
{
	const struct call_child_slot *cs = child_slot(m, parent, func);
	if (__builtin_expect((cs->parent == parent) & (cs->func == func) & (cs->node != 0), 1))
		return cs->node;
	return call_model_child_node_slow(m, parent, func);
}

static inline struct call_thread_total *thread_total(struct call_model *m, size_t t)
{
	while (__builtin_expect(m->threads.len <= t, 0))
		pa_vec_push(&m->threads);
	return (struct call_thread_total *)m->threads.items + t;
}

#endif
