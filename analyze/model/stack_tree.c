/* The weighted tree of stacks by function: see stack_tree.h. */
#define _GNU_SOURCE
#include "stack_tree.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h | 1; /* never 0 */
}

void st_init(struct stack_tree *t, enum pa_data kind)
{
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	pa_vec_init(&t->nodes, sizeof(struct st_node));
	pa_vec_init(&t->funcs, sizeof(const struct pa_frame *));
	pa_vec_init(&t->owned, sizeof(struct pa_frame *));
	pa_pairmap_init(&t->child_index);
	pa_pairmap_init(&t->frame_index);
	pa_pairmap_init(&t->name_index);
	struct st_node *root = pa_vec_push(&t->nodes);
	root->func = -1;
}

void st_free(struct stack_tree *t)
{
	for (size_t i = 0; i < t->owned.len; i++) {
		struct pa_frame *f = *(struct pa_frame **)pa_vec_at(&t->owned, i);
		free((char *)f->function);
		free(f);
	}
	pa_vec_free(&t->owned);
	pa_vec_free(&t->nodes);
	pa_vec_free(&t->funcs);
	pa_pairmap_free(&t->child_index);
	pa_pairmap_free(&t->frame_index);
	pa_pairmap_free(&t->name_index);
}

const struct pa_frame *st_frame(struct stack_tree *t, const char *name)
{
	for (size_t i = 0; i < t->owned.len; i++) {
		struct pa_frame *f = *(struct pa_frame **)pa_vec_at(&t->owned, i);
		if (!strcmp(f->function, name))
			return f;
	}
	struct pa_frame *f = pa_xcalloc(1, sizeof(*f));
	f->function = pa_xstrdup(name);
	*(struct pa_frame **)pa_vec_push(&t->owned) = f;
	return f;
}

/* One function per (name, file): the frames of different lines and call
 * sites of a function are one function here. */
static int32_t func_of(struct stack_tree *t, const struct pa_frame *fr)
{
	uint32_t v = pa_pairmap_get(&t->frame_index, (uint64_t)(uintptr_t)fr, 0);
	if (v)
		return (int32_t)v - 1;
	uint64_t hn = hash_str(fr->function), hf = hash_str(fr->file);
	v = pa_pairmap_get(&t->name_index, hn, hf);
	if (!v) {
		*(const struct pa_frame **)pa_vec_push(&t->funcs) = fr;
		v = (uint32_t)t->funcs.len;
		pa_pairmap_put(&t->name_index, hn, hf, v);
	}
	pa_pairmap_put(&t->frame_index, (uint64_t)(uintptr_t)fr, 0, v);
	return (int32_t)v - 1;
}

static uint32_t child_of(struct stack_tree *t, uint32_t parent, int32_t func)
{
	uint32_t v = pa_pairmap_get(&t->child_index, parent, (uint64_t)func);
	if (v)
		return v;
	uint32_t id = (uint32_t)t->nodes.len;
	struct st_node *n = pa_vec_push(&t->nodes);
	struct st_node *p = st_node_at(t, parent);
	n->parent = parent;
	n->func = func;
	n->depth = p->depth + 1;
	n->next_sibling = p->first_child;
	p->first_child = id;
	pa_pairmap_put(&t->child_index, parent, (uint64_t)func, id);
	return id;
}

void st_add(struct stack_tree *t, const struct pa_frame *const *frames, int n, double w)
{
	if (w <= 0)
		return;
	uint32_t at = 0;
	for (int i = 0; i < n; i++)
		at = child_of(t, at, func_of(t, frames[i]));
	st_node_at(t, at)->self += w;
}

void st_finish(struct stack_tree *t)
{
	for (size_t i = 0; i < t->nodes.len; i++)
		st_node_at(t, (uint32_t)i)->total = st_node_at(t, (uint32_t)i)->self;
	/* children are always created after their parent */
	for (size_t i = t->nodes.len - 1; i > 0; i--) {
		struct st_node *n = st_node_at(t, (uint32_t)i);
		st_node_at(t, n->parent)->total += n->total;
	}
}

/* Drop node i (and its subtree) from its parent's child list. */
static void unlink_child(struct stack_tree *t, uint32_t i)
{
	struct st_node *n = st_node_at(t, i);
	struct st_node *p = st_node_at(t, n->parent);
	if (p->first_child == i) {
		p->first_child = n->next_sibling;
		return;
	}
	for (uint32_t c = p->first_child; c; c = st_node_at(t, c)->next_sibling)
		if (st_node_at(t, c)->next_sibling == i) {
			st_node_at(t, c)->next_sibling = n->next_sibling;
			return;
		}
}

uint64_t st_prune(struct stack_tree *t, double min_total)
{
	uint64_t merged = 0;
	const struct pa_frame *small = st_frame(t, "[small stacks]");
	int32_t small_func = func_of(t, small);
	size_t len = t->nodes.len;
	/* Parents before children: a cut node's subtree goes with it. */
	for (size_t i = 1; i < len; i++) {
		struct st_node *n = st_node_at(t, (uint32_t)i);
		if (n->parent && st_node_at(t, n->parent)->total <= 0) {
			n->total = 0; /* inside a subtree already merged */
			continue;
		}
		if (n->total >= min_total || n->func == small_func || n->total <= 0)
			continue;
		uint32_t parent = n->parent;
		double w = n->total;
		unlink_child(t, (uint32_t)i);
		n->total = 0; /* its descendants see a cut parent by total 0 */
		uint32_t s = child_of(t, parent, small_func);
		st_node_at(t, s)->self += w;
		st_node_at(t, s)->total += w;
		merged++;
	}
	for (size_t i = 1; i < t->nodes.len; i++) {
		struct st_node *n = st_node_at(t, (uint32_t)i);
		if (n->total <= 0)
			n->self = 0; /* unreachable now: walks over all nodes skip it */
	}
	t->merged_stacks += merged;
	return merged;
}

static const struct stack_tree *sort_tree;
static int by_total_desc(const void *a, const void *b)
{
	double x = st_node_at(sort_tree, *(const uint32_t *)a)->total;
	double y = st_node_at(sort_tree, *(const uint32_t *)b)->total;
	if (x != y)
		return x < y ? 1 : -1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

uint32_t *st_children_sorted(const struct stack_tree *t, uint32_t i, size_t *n)
{
	size_t k = 0;
	for (uint32_t c = st_node_at(t, i)->first_child; c; c = st_node_at(t, c)->next_sibling)
		k++;
	uint32_t *kids = pa_xcalloc(k + 1, sizeof(uint32_t));
	k = 0;
	for (uint32_t c = st_node_at(t, i)->first_child; c; c = st_node_at(t, c)->next_sibling)
		if (st_node_at(t, c)->total > 0)
			kids[k++] = c;
	sort_tree = t;
	qsort(kids, k, sizeof(uint32_t), by_total_desc);
	*n = k;
	return kids;
}

int st_path(const struct stack_tree *t, uint32_t i, const struct pa_frame **out, int cap)
{
	int n = (int)st_node_at(t, i)->depth;
	if (n > cap)
		return 0;
	for (int k = n - 1; k >= 0; k--, i = st_node_at(t, i)->parent)
		out[k] = st_func(t, st_node_at(t, i)->func);
	return n;
}
