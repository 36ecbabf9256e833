/*
 * --format=chrome: a DevTools CPU profile (.cpuprofile, the Profiler.Profile
 * of the DevTools protocol), which also loads in speedscope.
 *
 * Layout: "(root)" -> one node per thread, named "thread NAME (TID)" ->
 * the thread's call tree. --thread=TID keeps one thread.
 *
 * Time axis: a .cpuprofile has no sample weights, only the time between
 * samples, and DevTools and speedscope charge each sample with the interval
 * AFTER it (up to the next sample, the last one up to endTime). So the
 * first delta is 0 and delta i + 1 is the CPU time sample i stands for
 * (weight x period); a last sample of the root, at endTime, closes the
 * last real sample. The threads' samples
 * come one thread after another, each thread's in time order. So every
 * view's times are CPU times, per thread and in total, and the flame chart
 * shows one block per thread.
 * Keys: "nodes" first (some loaders need it); samples and timeDeltas of
 * equal length; deltas are integer microseconds (rounded cumulatively so
 * no time is lost).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "models.h"
#include "out_cpu_order.h"
#include "out_util.h"
#include "sample_model.h"

/* Is node i in the output (its thread selected)? keep[] per node. */
static bool *selected_nodes(const struct cpu_model *m, long thread)
{
	bool *keep = pa_xcalloc(m->nodes.len + 1, sizeof(bool));
	keep[0] = true;
	for (uint32_t i = 1; i < m->nodes.len; i++) {
		const struct cpu_node *n = cpu_node_at(m, i);
		if (n->parent == 0)
			keep[i] = thread < 0 || -1 - n->func == thread;
		else
			keep[i] = keep[n->parent]; /* parents come before children */
	}
	return keep;
}

static void write_node(const struct cpu_model *m, FILE *out, uint32_t i, const bool *keep,
		       const uint64_t *hits)
{
	const struct cpu_node *n = cpu_node_at(m, i);
	char buf[256];
	const char *file = NULL;
	int line = 0;
	if (i == 0) {
		snprintf(buf, sizeof(buf), "(root)");
	} else {
		cpu_node_label(m, n, buf, sizeof(buf));
		if (n->func >= 0) {
			const struct cpu_func *f = cpu_func_at(m, n->func);
			file = f->file ? f->file : f->module;
			line = f->line;
		}
	}
	fprintf(out, "{\"id\":%" PRIu32 ",\"callFrame\":{\"functionName\":", i + 1);
	pa_json_string(out, n->func >= 0 ? cpu_func_at(m, n->func)->name : buf);
	fprintf(out, ",\"scriptId\":\"%d\",\"url\":", n->func >= 0 ? n->func + 1 : 0);
	pa_json_string(out, file ? file : "");
	fprintf(out,
		",\"lineNumber\":%d,\"columnNumber\":0},\"hitCount\":%" PRIu64 ",\"children\":[",
		line > 0 ? line - 1 : 0, hits[i]);
	bool first = true;
	for (uint32_t c = n->first_child; c; c = cpu_node_at(m, c)->next_sibling) {
		if (!keep[c])
			continue;
		fprintf(out, "%s%" PRIu32, first ? "" : ",", c + 1);
		first = false;
	}
	fputs("]}", out);
}

int cpu_write_cpuprofile(const struct pa_models *pm, FILE *out)
{
	const struct cpu_model *m = pm->cpu;
	long th;
	if (cpu_selected_thread(pm, &th))
		return 1;
	bool *keep = selected_nodes(m, th);
	uint64_t *hits = pa_xcalloc(m->nodes.len + 1, sizeof(uint64_t));
	for (size_t i = 0; i < m->samples_v.len; i++) {
		const struct cpu_sample *cs = pa_vec_at(&m->samples_v, i);
		hits[cs->node] += cs->weight;
	}
	fputs("{\"nodes\":[", out);
	bool first = true;
	for (uint32_t i = 0; i < m->nodes.len; i++) {
		if (!keep[i])
			continue;
		if (!first)
			fputc(',', out);
		first = false;
		write_node(m, out, i, keep, hits);
		fputc('\n', out);
	}
	double start_us = (double)pm->s->start_mono_ns / 1000.0;
	double period_us = m->period_s * 1e6;
	/* Samples grouped by thread, each thread in time order. */
	fprintf(out, "],\"startTime\":%.0f,", floor(start_us));
	double cum = 0;
	uint64_t written_us = 0;
	FILE *deltas = tmpfile();
	if (!deltas) {
		free(keep);
		free(hits);
		return 1;
	}
	fputs("\"samples\":[", out);
	first = true;
	uint64_t pending_us = 0; /* the previous sample's interval, charged to it */
	struct cpu_by_thread bt;
	cpu_by_thread_build(m, &bt);
	for (size_t k = 0; k < pm->s->threads.len; k++) {
		size_t t = pa_thread_order(pm->s, k);
		if (t >= m->threads.len || (th >= 0 && (long)t != th))
			continue;
		for (size_t j = bt.first[t]; j < bt.first[t + 1]; j++) {
			const struct cpu_sample *cs = pa_vec_at(&m->samples_v, bt.idx[j]);
			fprintf(out, "%s%" PRIu32, first ? "" : ",", cs->node + 1);
			fprintf(deltas, "%s%" PRIu64, first ? "" : ",", pending_us);
			cum += (double)cs->weight * period_us;
			uint64_t now = (uint64_t)llround(cum);
			pending_us = now - written_us;
			written_us = now;
			first = false;
		}
	}
	cpu_by_thread_free(&bt);
	/* speedscope closes the last sample at its own timestamp: a final
	 * sample of the root (no function, no time after it) carries the
	 * last real sample's interval. */
	if (!first) {
		fprintf(out, ",1");
		fprintf(deltas, ",%" PRIu64, pending_us);
	}
	fputs("],\"timeDeltas\":[", out);
	rewind(deltas);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), deltas)) > 0)
		fwrite(buf, 1, n, out);
	fclose(deltas);
	fprintf(out, "],\"endTime\":%.0f}\n", floor(start_us) + (double)written_us);
	free(keep);
	free(hits);
	return 0;
}
