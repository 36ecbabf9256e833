/* Samples grouped by thread (a counting sort, stable: time order stays). */
#include "out_cpu_order.h"

#include <stdlib.h>

#include "sample_model.h"

void cpu_by_thread_build(const struct cpu_model *m, struct cpu_by_thread *out)
{
	size_t nt = m->threads.len;
	out->first = pa_xcalloc(nt + 2, sizeof(size_t));
	out->idx = pa_xcalloc(m->samples_v.len + 1, sizeof(uint32_t));
	for (size_t i = 0; i < m->samples_v.len; i++) {
		const struct cpu_sample *cs = pa_vec_at(&m->samples_v, i);
		if (cs->thread < nt)
			out->first[cs->thread + 1]++;
	}
	for (size_t t = 0; t < nt; t++)
		out->first[t + 1] += out->first[t];
	size_t *fill = pa_xcalloc(nt + 1, sizeof(size_t));
	for (size_t i = 0; i < m->samples_v.len; i++) {
		const struct cpu_sample *cs = pa_vec_at(&m->samples_v, i);
		if (cs->thread < nt)
			out->idx[out->first[cs->thread] + fill[cs->thread]++] = (uint32_t)i;
	}
	free(fill);
}

void cpu_by_thread_free(struct cpu_by_thread *b)
{
	free(b->first);
	free(b->idx);
}
