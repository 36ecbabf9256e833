/* Folded stack lines: see out_folded.h. */
#define _GNU_SOURCE
#include "out_folded.h"

#include <math.h>
#include <stdlib.h>

#include "out_caps.h"
#include "stack_tree.h"

#include <inttypes.h>

static void folded_name(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc(*s == ';' ? ':' : (*s == '\n' || *s == '\r') ? ' ' : *s, f);
}

void pa_folded_line(FILE *f, const struct pa_frame *const *frames, int n, uint64_t weight)
{
	if (!weight)
		return;
	for (int i = 0; i < n; i++) {
		if (i)
			fputc(';', f);
		folded_name(f, frames[i]->function ? frames[i]->function : "??");
	}
	fprintf(f, " %" PRIu64 "\n", weight);
}

/* Folded stacks of the kind --data selects, from the stack tree (so the
 * size cap merges the smallest stacks). */
int pa_write_folded(const struct pa_models *pm, FILE *out)
{
	struct stack_tree t;
	if (pa_stack_tree_build(pm, pm->o->data, &t)) {
		st_free(&t);
		return 1;
	}
	pa_cap_stack_tree(pm, &t);
	const struct pa_frame **path = pa_xcalloc(8192, sizeof(*path));
	for (size_t i = 1; i < t.nodes.len; i++) {
		const struct st_node *n = st_node_at(&t, (uint32_t)i);
		if (n->self <= 0)
			continue;
		int k = st_path(&t, (uint32_t)i, path, 8192);
		pa_folded_line(out, path, k, (uint64_t)llround(n->self));
	}
	free(path);
	st_free(&t);
	return 0;
}
