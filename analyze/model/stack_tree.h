/*
 * A weighted tree of stacks by function, the common input of the writers
 * that draw or export stacks of any kind of data (flame graph, folded,
 * heapprofile, speedscope, HTML): one node per function per calling
 * context, whatever line or inlined call site the samples came from.
 *
 * Built from the CPU samples (weight: samples), the heap sites (bytes per
 * --heap) or the call tree (self time in microseconds), see
 * pa_stack_tree_build. Heap stacks are rooted at `main` (or a thread's
 * start function), whether they were unwound (from _start) or taken from
 * the calls recorder's shadow stack (from __libc_start_call_main).
 */
#ifndef PA_STACK_TREE_H
#define PA_STACK_TREE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "models.h"
#include "symbols.h"

struct st_node {
	uint32_t parent;		    /* 0 for children of the root */
	uint32_t first_child, next_sibling; /* 0 = none */
	uint32_t depth;			    /* root 0 */
	int32_t func;			    /* index into funcs, -1 for the root */
	double self, total;
};

struct stack_tree {
	enum pa_data kind;
	const char *unit;	/* "samples", "bytes", "microseconds" */
	const char *what;	/* "CPU", "heap", "calls" */
	char title[256];	/* e.g. "allocated bytes" */
	double unit_scale;	/* seconds per unit of weight (CPU, calls), else 0 */
	struct pa_vec nodes;	/* struct st_node, [0] = root */
	struct pa_vec funcs;	/* const struct pa_frame * (function identity) */
	uint64_t merged_stacks; /* stacks merged away by st_prune */
	/* private */
	struct pa_pairmap child_index; /* (parent, func) -> node */
	struct pa_pairmap frame_index; /* (frame pointer, 0) -> func + 1 */
	struct pa_pairmap name_index;  /* (hash name, hash file) -> func + 1 */
	struct pa_vec owned;	       /* struct pa_frame * made here (thread frames) */
};

void st_init(struct stack_tree *t, enum pa_data kind);
void st_free(struct stack_tree *t);
/* Add a stack (frames outermost first) of weight w. */
void st_add(struct stack_tree *t, const struct pa_frame *const *frames, int n, double w);
/* A frame that lives as long as the tree, for pseudo frames ("thread X"). */
const struct pa_frame *st_frame(struct stack_tree *t, const char *name);

static inline struct st_node *st_node_at(const struct stack_tree *t, uint32_t i)
{
	return (struct st_node *)pa_vec_at(&t->nodes, i);
}
static inline const struct pa_frame *st_func(const struct stack_tree *t, int32_t f)
{
	return *(const struct pa_frame **)pa_vec_at(&t->funcs, (size_t)f);
}
/* Fills totals (after the last st_add). */
void st_finish(struct stack_tree *t);
/* Merge every node whose total is under min_total into one "[small
 * stacks]" child of its parent; returns the number of nodes merged. */
uint64_t st_prune(struct stack_tree *t, double min_total);
/* Children of node i sorted by total, heaviest first (malloc'd, *n set). */
uint32_t *st_children_sorted(const struct stack_tree *t, uint32_t i, size_t *n);
/* The frames of node i, outermost first, into out (cap entries); returns n. */
int st_path(const struct stack_tree *t, uint32_t i, const struct pa_frame **out, int cap);

/* Build the tree of one kind of data (PA_DATA_AUTO: the default kind);
 * --thread applies. Returns 0, or 1 after a message when the trace has no
 * such data. */
int pa_stack_tree_build(const struct pa_models *pm, enum pa_data kind, struct stack_tree *t);
/* The kind PA_DATA_AUTO stands for in this trace (cpu, calls, mem), or
 * PA_DATA_AUTO when the trace has none of them. */
enum pa_data pa_default_data(const struct pa_models *pm);
/* Whether the trace has data of this kind. */
bool pa_has_data(const struct pa_models *pm, enum pa_data kind);

/* Heap stacks start at main or a thread's start function: drop the frames
 * outside (_start, __libc_start_*, start_thread, clone); returns the index
 * of the first frame kept. */
int pa_heap_stack_start(const struct pa_frame *const *frames, int n);

#endif
