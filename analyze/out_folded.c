/* Folded stacks: the generic line writer and the CPU samples' lines. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "models.h"
#include "out_folded.h"
#include "sample_model.h"

void pa_folded_line(FILE *out, const char *const *frames, size_t n, uint64_t count)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(';', out);
		for (const char *p = frames[i]; *p; p++)
			fputc(*p == ';' ? ':' : (*p == '\n' || *p == '\r') ? ' ' : *p, out);
	}
	fprintf(out, " %llu\n", (unsigned long long)count);
}

/* One line per tree node with self weight: the thread's node first (unless
 * --thread selects one thread), then its functions. */
int cpu_write_folded(const struct pa_models *pm, FILE *out)
{
	const struct cpu_model *m = pm->cpu;
	long th = pm->o->thread >= 0 ? cpu_thread_by_tid(m, pm->o->thread) : -1;
	if (pm->o->thread >= 0 && th < 0) {
		fprintf(stderr, "profanalyze: --thread=%ld: no such thread in this trace\n",
			pm->o->thread);
		return 1;
	}
	char (*labels)[256] = pa_xcalloc(1, sizeof(*labels));
	const char **frames = pa_xcalloc(1024, sizeof(char *));
	for (uint32_t i = 1; i < m->nodes.len; i++) {
		const struct cpu_node *n = cpu_node_at(m, i);
		if (!n->self || n->depth > 1024)
			continue;
		size_t k = n->depth;
		const struct cpu_node *x = n;
		uint32_t xi = i;
		while (xi) {
			frames[--k] = cpu_node_label(m, x, labels[0], sizeof(labels[0]));
			if (!x->parent)
				break;
			xi = x->parent;
			x = cpu_node_at(m, xi);
		}
		/* x is the thread node now */
		if (th >= 0 && -1 - x->func != th)
			continue;
		if (th >= 0)
			pa_folded_line(out, frames + 1, n->depth - 1, n->self);
		else
			pa_folded_line(out, frames, n->depth, n->self);
	}
	free(frames);
	free(labels);
	return 0;
}
