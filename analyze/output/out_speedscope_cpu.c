/* --format=speedscope for CPU samples: one sampled profile per thread, in
 * time order, weights in milliseconds of CPU time (added to a document the
 * caller opens, which may hold other recorders' profiles too). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "models.h"
#include "out_speedscope.h"
#include "out_cpu_order.h"
#include "out_util.h"
#include "sample_model.h"

/* Frame ids of a node's stack, root first (the thread node left out). */
static int stack_frames(struct pa_speedscope *ss, const struct cpu_model *m, uint32_t node,
			const struct pa_frame *frames, int *out, int cap)
{
	int n = 0;
	for (uint32_t i = node; i && n < cap; i = cpu_node_at(m, i)->parent) {
		const struct cpu_node *x = cpu_node_at(m, i);
		if (x->func < 0)
			break;
		out[n++] = pa_ss_frame(ss, &frames[x->func]);
	}
	for (int a = 0, b = n - 1; a < b; a++, b--) {
		int t = out[a];
		out[a] = out[b];
		out[b] = t;
	}
	return n;
}

int cpu_report_speedscope(const struct pa_models *pm, struct pa_speedscope *ss)
{
	const struct cpu_model *m = pm->cpu;
	long th;
	if (cpu_selected_thread(pm, &th))
		return 1;
	const struct pa_frame *frames = m->frames;
	int stack[1024];
	char label[256];
	double period_ms = m->period_s * 1e3;
	struct cpu_by_thread bt;
	cpu_by_thread_build(m, &bt);
	for (size_t k = 0; k < pm->s->threads.len; k++) {
		size_t t = pa_thread_order(pm->s, k); /* threads by tid */
		if (t >= m->threads.len)
			continue;
		const struct cpu_thread_stats *ts = pa_vec_at(&m->threads, t);
		if ((th >= 0 && (long)t != th) || !ts->samples)
			continue;
		cpu_node_label(m, cpu_node_at(m, ts->node), label, sizeof(label));
		pa_ss_sampled_begin(ss, label, "milliseconds", 0, (double)ts->weight * period_ms);
		for (size_t j = bt.first[t]; j < bt.first[t + 1]; j++) {
			const struct cpu_sample *cs = pa_vec_at(&m->samples_v, bt.idx[j]);
			int n = stack_frames(ss, m, cs->node, frames, stack, 1024);
			pa_ss_sample(ss, stack, n, (double)cs->weight * period_ms);
		}
		pa_ss_profile_end(ss);
	}
	cpu_by_thread_free(&bt);
	return 0;
}
