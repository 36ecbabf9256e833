/*
 * --format=heapprofile: a DevTools sampling heap profile
 * ({head, samples}), which the DevTools Memory panel and speedscope load.
 *
 * The tree is the heap's stack tree (stack_tree.h): rooted at main (or a
 * thread's start function) however the stack was taken, one node per
 * function per calling context (not one per call-site line), the smallest
 * stacks merged when the output would pass the size cap. A node's
 * selfSize is what the sites ending there weigh per --heap (allocated,
 * leaked or peak bytes) or, with --between, the bytes allocated between
 * the markers and live at the second. Every node carries a `children`
 * array, as DevTools requires.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "heap_model.h"
#include "jsonw.h"
#include "models.h"
#include "out_caps.h"
#include "stack_tree.h"

static void write_call_frame(FILE *out, const char *fn, const char *url, int line)
{
	fputs("{\"callFrame\":{\"functionName\":", out);
	pa_json_string(out, fn);
	fputs(",\"scriptId\":\"0\",\"url\":", out);
	pa_json_string(out, url);
	/* DevTools wants the function's first line (0-based). */
	fprintf(out, ",\"lineNumber\":%d,\"columnNumber\":0}", line > 0 ? line - 1 : 0);
}

static void write_node(const struct stack_tree *t, uint32_t i, FILE *out)
{
	const struct st_node *n = st_node_at(t, i);
	if (i == 0) {
		write_call_frame(out, "(root)", "", 0);
	} else {
		const struct pa_frame *f = st_func(t, n->func);
		write_call_frame(out, f->function ? f->function : "??",
				 f->file ? f->file : (f->module ? f->module : ""),
				 f->func_line ? f->func_line : f->line);
	}
	fprintf(out, ",\"selfSize\":%.0f,\"id\":%" PRIu32 ",\"children\":[", round(n->self), i + 1);
	size_t k;
	uint32_t *kids = st_children_sorted(t, i, &k);
	for (size_t c = 0; c < k; c++) {
		if (c)
			fputc(',', out);
		write_node(t, kids[c], out);
	}
	free(kids);
	fputs("]}", out);
}

int heap_write_heapprofile(const struct pa_models *pm, FILE *out)
{
	struct stack_tree t;
	if (pa_stack_tree_build(pm, PA_DATA_MEM, &t)) {
		st_free(&t);
		return 1;
	}
	pa_cap_stack_tree(pm, &t);
	fputs("{\"head\":", out);
	write_node(&t, 0, out);
	/* One sample per node with bytes of its own. */
	fputs(",\"samples\":[", out);
	uint64_t ordinal = 0;
	for (size_t i = 0; i < t.nodes.len; i++) {
		const struct st_node *n = st_node_at(&t, (uint32_t)i);
		if (round(n->self) <= 0)
			continue;
		fprintf(out, "%s{\"size\":%.0f,\"nodeId\":%zu,\"ordinal\":%" PRIu64 "}",
			ordinal ? "," : "", round(n->self), i + 1, ordinal + 1);
		ordinal++;
	}
	fputs("]}\n", out);
	st_free(&t);
	return 0;
}
