/* --format=speedscope for CPU samples: one sampled profile per thread, in
 * time order, weights in milliseconds of CPU time. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "models.h"
#include "out_speedscope.h"
#include "sample_model.h"

/* Frame ids of a node's stack, root first (thread node left out). */
static size_t stack_frames(struct pa_ss *ss, const struct cpu_model *m, uint32_t node,
			   uint32_t *frame_of, uint32_t *out, size_t cap)
{
	size_t n = 0;
	for (uint32_t i = node; i && n < cap; i = cpu_node_at(m, i)->parent) {
		const struct cpu_node *x = cpu_node_at(m, i);
		if (x->func < 0)
			break;
		if (!frame_of[x->func]) {
			const struct cpu_func *f = cpu_func_at(m, x->func);
			frame_of[x->func] = pa_ss_frame(ss, f->name, f->file ? f->file : f->module, f->line) + 1;
		}
		out[n++] = frame_of[x->func] - 1;
	}
	for (size_t a = 0, b = n ? n - 1 : 0; a < b; a++, b--) {
		uint32_t t = out[a];
		out[a] = out[b];
		out[b] = t;
	}
	return n;
}

int cpu_write_speedscope(const struct pa_models *pm, FILE *out)
{
	const struct cpu_model *m = pm->cpu;
	long th = pm->o->thread >= 0 ? cpu_thread_by_tid(m, pm->o->thread) : -1;
	if (pm->o->thread >= 0 && th < 0) {
		fprintf(stderr, "profanalyze: --thread=%ld: no such thread in this trace\n",
			pm->o->thread);
		return 1;
	}
	const char *exe = pm->s->exe ? strrchr(pm->s->exe, '/') : NULL;
	struct pa_ss *ss = pa_ss_new(out, exe ? exe + 1 : "profshim");
	uint32_t *frame_of = pa_xcalloc(m->funcs.len + 1, sizeof(uint32_t));
	uint32_t stack[1024];
	char label[256];
	double period_ms = m->period_s * 1e3;
	for (size_t t = 0; t < m->threads.len; t++) {
		const struct cpu_thread_stats *ts = pa_vec_at(&m->threads, t);
		if ((th >= 0 && (long)t != th) || !ts->samples)
			continue;
		cpu_node_label(m, cpu_node_at(m, ts->node), label, sizeof(label));
		pa_ss_begin_sampled(ss, label, "milliseconds", 0, (double)ts->weight * period_ms);
		for (size_t i = 0; i < m->samples_v.len; i++) {
			const struct cpu_sample *cs = pa_vec_at(&m->samples_v, i);
			if (cs->thread != t)
				continue;
			size_t n = stack_frames(ss, m, cs->node, frame_of, stack, 1024);
			pa_ss_sample(ss, stack, n, (double)cs->weight * period_ms);
		}
		pa_ss_end_profile(ss);
	}
	free(frame_of);
	return pa_ss_finish(ss) ? 1 : 0;
}
