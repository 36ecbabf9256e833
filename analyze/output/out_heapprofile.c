/*
 * --format=heapprofile: a DevTools sampling heap profile
 * ({head, samples}), which the DevTools Memory panel and speedscope load.
 *
 * The tree is the session's stack trie (root = outermost frame), pruned to
 * the nodes with bytes below them; a node's selfSize is what the sites
 * ending there weigh per --heap (allocated, leaked or peak bytes) or, with
 * --between, the bytes allocated between the markers and live at the
 * second. Every node carries a `children` array, as DevTools requires.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "heap_model.h"
#include "jsonw.h"
#include "models.h"
#include "symbols.h"

struct tree {
	size_t n; /* session stack nodes */
	double *self, *total;
	uint64_t *ticks;		/* when the node's frame was seen (module map) */
	uint32_t *first, *count, *kids; /* children lists (CSR) */
};

static void build_tree(const struct pa_models *pm, struct tree *t)
{
	const struct pa_session *s = pm->s;
	const struct heap_model *m = pm->heap;
	t->n = s->stacks.len ? s->stacks.len : 1;
	t->self = pa_xcalloc(t->n, sizeof(double));
	t->total = pa_xcalloc(t->n, sizeof(double));
	t->ticks = pa_xcalloc(t->n, sizeof(uint64_t));
	for (size_t i = 0; i < m->sites.len; i++) {
		const struct heap_site *site = pa_vec_at(&m->sites, i);
		if (site->stack >= t->n)
			continue;
		t->self[site->stack] += heap_site_value(m, site);
		for (uint32_t k = site->stack; k && !t->ticks[k];
		     k = ((const struct pa_stack_node *)pa_vec_at(&s->stacks, k))->parent)
			t->ticks[k] = site->ticks;
	}
	for (size_t i = 0; i < t->n; i++)
		t->total[i] = t->self[i];
	/* A parent is always defined before its children: sum bottom-up. */
	for (size_t i = t->n - 1; i > 0; i--) {
		const struct pa_stack_node *nd = pa_vec_at(&s->stacks, i);
		t->total[nd->parent] += t->total[i];
	}
	t->count = pa_xcalloc(t->n, sizeof(uint32_t));
	t->first = pa_xcalloc(t->n + 1, sizeof(uint32_t));
	t->kids = pa_xcalloc(t->n, sizeof(uint32_t));
	for (size_t i = 1; i < t->n; i++)
		if (t->total[i] > 0)
			t->count[((const struct pa_stack_node *)pa_vec_at(&s->stacks, i))
				     ->parent]++;
	for (size_t i = 0; i < t->n; i++)
		t->first[i + 1] = t->first[i] + t->count[i];
	uint32_t *fill = pa_xcalloc(t->n, sizeof(uint32_t));
	for (size_t i = 1; i < t->n; i++) {
		if (t->total[i] <= 0)
			continue;
		uint32_t p = ((const struct pa_stack_node *)pa_vec_at(&s->stacks, i))->parent;
		t->kids[t->first[p] + fill[p]++] = (uint32_t)i;
	}
	free(fill);
}

static void free_tree(struct tree *t)
{
	free(t->self);
	free(t->total);
	free(t->ticks);
	free(t->first);
	free(t->count);
	free(t->kids);
}

static void write_call_frame(FILE *out, const char *fn, const char *url, int line)
{
	fputs("{\"callFrame\":{\"functionName\":", out);
	pa_json_string(out, fn);
	fputs(",\"scriptId\":\"0\",\"url\":", out);
	pa_json_string(out, url);
	fprintf(out, ",\"lineNumber\":%d,\"columnNumber\":0}", line > 0 ? line - 1 : 0);
}

/* Node ids: each trie node becomes a chain of frames (inline frames
 * expanded, outermost first); frame j of node i (0 = innermost) gets id
 * (i + 1) * CHAIN + j, so the innermost one carries the node's bytes. */
#define CHAIN 64

static void write_children(const struct pa_models *pm, const struct tree *t, uint32_t i, FILE *out);

static void write_node(const struct pa_models *pm, const struct tree *t, uint32_t i, FILE *out)
{
	if (i == 0) {
		write_call_frame(out, "(root)", "", 0);
		fprintf(out, ",\"selfSize\":%.0f,\"id\":%d,\"children\":[", round(t->self[0]),
			CHAIN);
		write_children(pm, t, 0, out);
		fputs("]}", out);
		return;
	}
	const struct pa_stack_node *nd = pa_vec_at(&pm->s->stacks, i);
	const struct pa_frame *fr;
	int k = pa_symbols_resolve(pm->syms, nd->pc, true, t->ticks[i], &fr);
	if (k > CHAIN)
		k = CHAIN;
	for (int j = k - 1; j >= 0; j--) {
		/* Each frame of the chain is the only child of the one before. */
		/* DevTools wants the function's first line (0-based). */
		write_call_frame(out, fr[j].function, fr[j].file ? fr[j].file : "",
				 fr[j].func_line ? fr[j].func_line : fr[j].line);
		fprintf(out, ",\"selfSize\":%.0f,\"id\":%" PRIu64 ",\"children\":[",
			j == 0 ? round(t->self[i]) : 0.0, (uint64_t)(i + 1) * CHAIN + (uint64_t)j);
	}
	write_children(pm, t, i, out);
	for (int j = 0; j < k; j++)
		fputs("]}", out);
}

static void write_children(const struct pa_models *pm, const struct tree *t, uint32_t i, FILE *out)
{
	for (uint32_t c = t->first[i]; c < t->first[i + 1]; c++) {
		if (c > t->first[i])
			fputc(',', out);
		write_node(pm, t, t->kids[c], out);
	}
}

int heap_write_heapprofile(const struct pa_models *pm, FILE *out)
{
	if (!pm->heap || !pm->heap->has_data) {
		fprintf(stderr, "profanalyze: --format=heapprofile: this trace has no memory data "
				"(record with PROFSHIM_RECORD=mem)\n");
		return 1;
	}
	struct tree t;
	build_tree(pm, &t);
	fputs("{\"head\":", out);
	write_node(pm, &t, 0, out);
	/* One sample per node with bytes of its own. */
	fputs(",\"samples\":[", out);
	uint64_t ordinal = 0;
	for (size_t i = 0; i < t.n; i++) {
		if (t.self[i] <= 0 || (i && t.total[i] <= 0))
			continue;
		fprintf(out, "%s{\"size\":%.0f,\"nodeId\":%zu,\"ordinal\":%" PRIu64 "}",
			ordinal ? "," : "", round(t.self[i]), (i + 1) * CHAIN, ordinal + 1);
		ordinal++;
	}
	fputs("]}\n", out);
	free_tree(&t);
	return 0;
}
