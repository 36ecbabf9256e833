/* speedscope for the heap: one sampled profile weighted in bytes (per
 * --heap, or --between), one sample per calling context, from the stack
 * tree (rooted at main, one node per function per context, size cap
 * applied). */
#define _GNU_SOURCE
#include <stdlib.h>

#include "out_caps.h"
#include "out_speedscope.h"
#include "stack_tree.h"

int heap_report_speedscope(const struct pa_models *pm, struct pa_speedscope *ss)
{
	struct stack_tree t;
	if (pa_stack_tree_build(pm, PA_DATA_MEM, &t)) {
		st_free(&t);
		return 1;
	}
	pa_cap_stack_tree(pm, &t);
	char name[300];
	snprintf(name, sizeof(name), "heap: %s", t.title);
	pa_ss_sampled_begin(ss, name, "bytes", 0, st_node_at(&t, 0)->total);
	const struct pa_frame **path = pa_xcalloc(8192, sizeof(*path));
	int *ids = pa_xcalloc(8192, sizeof(int));
	for (size_t i = 1; i < t.nodes.len; i++) {
		const struct st_node *n = st_node_at(&t, (uint32_t)i);
		if (n->self <= 0)
			continue;
		int k = st_path(&t, (uint32_t)i, path, 8192);
		for (int j = 0; j < k; j++)
			ids[j] = pa_ss_frame(ss, path[j]);
		pa_ss_sample(ss, ids, k, n->self);
	}
	pa_ss_profile_end(ss);
	free(path);
	free(ids);
	st_free(&t);
	return 0;
}
