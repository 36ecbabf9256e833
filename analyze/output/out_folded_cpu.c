/* --format=folded for CPU samples: one line per distinct stack, weighted
 * by samples; the thread ("thread NAME (TID)") is the first frame unless
 * --thread selects one thread. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "models.h"
#include "out_folded.h"
#include "sample_model.h"

int cpu_write_folded(const struct pa_models *pm, FILE *out)
{
	const struct cpu_model *m = pm->cpu;
	long th;
	if (cpu_selected_thread(pm, &th))
		return 1;
	const struct pa_frame *frames = m->frames;
	struct pa_frame thread_frame = {0};
	char label[256];
	const struct pa_frame **chain = pa_xcalloc(4096, sizeof(*chain));
	for (uint32_t i = 1; i < m->nodes.len; i++) {
		const struct cpu_node *n = cpu_node_at(m, i);
		if (!n->self || n->depth > 4096)
			continue;
		int k = (int)n->depth;
		const struct cpu_node *x = n;
		for (;;) {
			k--;
			if (x->func >= 0) {
				chain[k] = &frames[x->func];
			} else {
				thread_frame.function = cpu_node_label(m, x, label, sizeof(label));
				chain[k] = &thread_frame;
				break;
			}
			x = cpu_node_at(m, x->parent);
		}
		/* x is the thread's node */
		if (th >= 0 && -1 - x->func != th)
			continue;
		if (th >= 0)
			pa_folded_line(out, chain + 1, (int)n->depth - 1, n->self);
		else
			pa_folded_line(out, chain, (int)n->depth, n->self);
	}
	free(chain);
	return 0;
}
