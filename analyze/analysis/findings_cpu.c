/*
 * Findings from the CPU samples: hot functions, hot paths, calloc clearing
 * memory, and one thread doing most of a pool's work.
 *
 * Every detector wants a minimum of samples (CPU_MIN_SAMPLES) in what it
 * reports, so a short run's sampling noise cannot make a finding.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "models.h"
#include "sample_model.h"

#define HOT_SHARE 0.10		/* of all CPU samples */
#define HOT_PATH_MAX_SHARE 0.90 /* above this a function is the program itself (main) */
#define CPU_MIN_SAMPLES 20
#define CALLOC_SHARE 0.05
#define POOL_MIN_THREADS 3
#define POOL_IMBALANCE 2.0 /* busiest thread vs the pool's average */
#define POOL_MIN_SAMPLES 100

static double cpu_seconds(const struct cpu_model *m, uint64_t weight)
{
	return (double)weight * m->period_s;
}

/* The node of function func with the most weight (self or total). */
static uint32_t heaviest_node(const struct cpu_model *m, int32_t func, bool by_total)
{
	uint32_t best = 0;
	uint64_t best_w = 0;
	for (size_t i = 1; i < m->nodes.len; i++) {
		const struct cpu_node *n = cpu_node_at(m, (uint32_t)i);
		uint64_t w = by_total ? n->total : n->self;
		if (n->func == func && w > best_w) {
			best_w = w;
			best = (uint32_t)i;
		}
	}
	return best;
}

/* The stack from node up to its thread, innermost first. */
static void push_stack(struct finding *f, const struct cpu_model *m, uint32_t node)
{
	char buf[1024];
	for (uint32_t i = node; i; i = cpu_node_at(m, i)->parent) {
		const struct cpu_node *n = cpu_node_at(m, i);
		if (n->func < 0)
			break;
		const struct cpu_func *fn = cpu_func_at(m, n->func);
		if (fn->file && fn->line)
			snprintf(buf, sizeof(buf), "%s (%s:%d)", fn->name, fn->file, fn->line);
		else
			snprintf(buf, sizeof(buf), "%s", fn->name);
		finding_stack_push(f, buf);
	}
}

static struct finding *cpu_finding(const struct pa_models *pm, struct findings *out,
				   const char *kind, uint64_t weight, const char *what)
{
	const struct cpu_model *m = pm->cpu;
	double share = (double)weight / (double)m->weight;
	char sec[32];
	struct finding *f = finding_add(out, kind, share);
	finding_impact(f, cpu_seconds(m, weight), "cpu_seconds", 100 * share,
		       "up to %s of CPU (%.1f%% of the run) %s",
		       finding_seconds(cpu_seconds(m, weight), sec, sizeof(sec)), 100 * share,
		       what);
	return f;
}

/* A function of the C library or another system library (memcmp,
 * memcpy, strlen ...): what to change is its caller. */
static bool system_library(const struct cpu_func *fn)
{
	return fn->module &&
	       (!strncmp(fn->module, "/lib", 4) || !strncmp(fn->module, "/usr/lib", 8)) &&
	       (strstr(fn->module, "/libc.so") || strstr(fn->module, "/libm.so") ||
		strstr(fn->module, "/libstdc++") || strstr(fn->module, "/ld-linux"));
}

/* The nearest caller of node that is not a system library function. */
static const char *caller_name(const struct cpu_model *m, uint32_t node)
{
	for (uint32_t i = cpu_node_at(m, node)->parent; i; i = cpu_node_at(m, i)->parent) {
		const struct cpu_node *n = cpu_node_at(m, i);
		if (n->func < 0)
			return NULL;
		if (!system_library(cpu_func_at(m, n->func)))
			return cpu_func_at(m, n->func)->name;
	}
	return NULL;
}

/* [profshim] (the profiler's own time) and [kernel] (system time the
 * perf timer could not place): not code the program can change. */
static bool pseudo_frame(const struct cpu_func *fn)
{
	return fn->name[0] == '[';
}

void findings_hot_functions(const struct pa_models *pm, struct findings *out)
{
	const struct cpu_model *m = pm->cpu;
	if (!m || !m->weight)
		return;
	for (size_t i = 0; i < m->funcs.len; i++) {
		const struct cpu_func *fn = cpu_func_at(m, (int32_t)i);
		if (fn->self < CPU_MIN_SAMPLES ||
		    (double)fn->self < HOT_SHARE * (double)m->weight || pseudo_frame(fn))
			continue;
		struct finding *f =
		    cpu_finding(pm, out, "hot_function", fn->self, "in its own code");
		finding_where(f, fn->name, fn->file, fn->line);
		uint32_t node = heaviest_node(m, (int32_t)i, false);
		const char *caller = system_library(fn) ? caller_name(m, node) : NULL;
		if (caller)
			finding_summary(f,
					"%s (system library) runs %.1f%% of the CPU samples, most "
					"of them called from %s",
					fn->name, 100.0 * (double)fn->self / (double)m->weight,
					caller);
		else
			finding_summary(f, "%s runs %.1f%% of the CPU samples in its own code",
					fn->name, 100.0 * (double)fn->self / (double)m->weight);
		finding_count(f, "self_samples", (double)fn->self);
		finding_count(f, "total_samples", (double)fn->total);
		finding_count(f, "self_pct", 100.0 * (double)fn->self / (double)m->weight);
		finding_count(f, "total_pct", 100.0 * (double)fn->total / (double)m->weight);
		push_stack(f, m, node);
		finding_recommend(
		    f, caller ? "The time is in a library routine: call it less often or on less "
				"data from the caller (the stack shows the hottest way in)."
			      : "Start here: make this function do less work per call or call it "
				"less often (a better algorithm, caching a result, hoisting work "
				"out of its loop); the stack shows the hottest way in.");
	}
}

/* A function the symbolizer could not name ("module+0xoff", "0x..."):
 * each of its addresses is a "function" of its own, so its weight is
 * split and its calls cannot be told apart. */
static bool unresolved(const struct cpu_func *fn)
{
	return !strncmp(fn->name, "0x", 2) || strstr(fn->name, "+0x");
}

/* The largest total, over all callees of func (other functions), of the
 * weight they hold under func's nodes; unnamed callees count as one (they
 * may well be pieces of one function). */
static uint64_t largest_callee(const struct cpu_model *m, int32_t func, int32_t *callee)
{
	uint64_t *sum = pa_xcalloc(m->funcs.len, sizeof(*sum));
	uint64_t unnamed = 0;
	for (size_t i = 1; i < m->nodes.len; i++) {
		const struct cpu_node *n = cpu_node_at(m, (uint32_t)i);
		if (n->func != func)
			continue;
		for (uint32_t c = n->first_child; c; c = cpu_node_at(m, c)->next_sibling) {
			const struct cpu_node *cn = cpu_node_at(m, c);
			if (cn->func >= 0 && cn->func != func) {
				if (unresolved(cpu_func_at(m, cn->func)))
					unnamed += cn->total;
				else
					sum[cn->func] += cn->total;
			}
		}
	}
	uint64_t best = 0;
	*callee = -1;
	for (size_t g = 0; g < m->funcs.len; g++)
		if (sum[g] > best) {
			best = sum[g];
			*callee = (int32_t)g;
		}
	free(sum);
	return best > unnamed ? best : unnamed;
}

void findings_hot_paths(const struct pa_models *pm, struct findings *out)
{
	const struct cpu_model *m = pm->cpu;
	if (!m || !m->weight)
		return;
	double all = (double)m->weight;
	for (size_t i = 0; i < m->funcs.len; i++) {
		const struct cpu_func *fn = cpu_func_at(m, (int32_t)i);
		/* Its time is spread over callees that are not hot on their
		 * own: the path as a whole is what to look at. A hot self
		 * function is its own finding; the program's outer frames
		 * (main, start_thread) hold everything and say nothing. */
		if (fn->total < CPU_MIN_SAMPLES || (double)fn->total < HOT_SHARE * all ||
		    (double)fn->total > HOT_PATH_MAX_SHARE * all ||
		    (double)fn->self >= HOT_SHARE * all || unresolved(fn) || pseudo_frame(fn) ||
		    finding_frame_is_plumbing(fn->name, fn->module))
			continue;
		int32_t callee;
		if ((double)largest_callee(m, (int32_t)i, &callee) >= HOT_SHARE * all)
			continue;
		struct finding *f =
		    cpu_finding(pm, out, "hot_path", fn->total, "in it and its callees");
		finding_where(f, fn->name, fn->file, fn->line);
		finding_summary(f,
				"%s and what it calls take %.1f%% of the CPU, spread over callees "
				"none of which takes %.0f%%",
				fn->name, 100.0 * (double)fn->total / all, 100 * HOT_SHARE);
		finding_count(f, "total_samples", (double)fn->total);
		finding_count(f, "self_samples", (double)fn->self);
		finding_count(f, "total_pct", 100.0 * (double)fn->total / all);
		push_stack(f, m, heaviest_node(m, (int32_t)i, true));
		finding_recommend(f, "The cost is the sum of many calls made from here: call "
				     "this path less often (batch, cache or skip repeated work) "
				     "rather than tuning one callee.");
	}
}

static bool name_has(const struct cpu_model *m, int32_t func, const char *part)
{
	return func >= 0 && strstr(cpu_func_at(m, func)->name, part);
}

/* For a node in memset: the first caller above a calloc frame that is
 * the program's own code, or 0 when calloc is not on the way. */
static uint32_t calloc_caller(const struct cpu_model *m, uint32_t node)
{
	bool in_calloc = false;
	int depth = 0;
	for (uint32_t i = cpu_node_at(m, node)->parent; i && depth < 12;
	     i = cpu_node_at(m, i)->parent, depth++) {
		const struct cpu_node *n = cpu_node_at(m, i);
		if (n->func < 0)
			return 0;
		const struct cpu_func *fn = cpu_func_at(m, n->func);
		if (name_has(m, n->func, "calloc")) {
			in_calloc = true;
			continue;
		}
		if (in_calloc && !finding_frame_is_plumbing(fn->name, fn->module))
			return i;
	}
	return 0;
}

/* Weight of samples with a calloc frame on their stack (each counted at
 * its outermost calloc frame). */
static uint64_t under_calloc(const struct cpu_model *m)
{
	uint64_t w = 0;
	for (size_t i = 1; i < m->nodes.len; i++) {
		const struct cpu_node *n = cpu_node_at(m, (uint32_t)i);
		if (name_has(m, n->func, "calloc") &&
		    !name_has(m, cpu_node_at(m, n->parent)->func, "calloc"))
			w += n->total;
	}
	return w;
}

/* Weight of samples whose leaf is memset, wherever it was called from. */
static uint64_t memset_self(const struct cpu_model *m)
{
	uint64_t w = 0;
	for (size_t i = 1; i < m->nodes.len; i++) {
		const struct cpu_node *n = cpu_node_at(m, (uint32_t)i);
		if (n->self && name_has(m, n->func, "memset"))
			w += n->self;
	}
	return w;
}

void findings_calloc_zeroing(const struct pa_models *pm, struct findings *out)
{
	const struct cpu_model *m = pm->cpu;
	if (!m || !m->weight)
		return;
	/* weight of memset under calloc, by the calling function */
	uint64_t *by_caller = pa_xcalloc(m->funcs.len, sizeof(*by_caller));
	uint32_t *node_of = pa_xcalloc(m->funcs.len, sizeof(*node_of));
	for (size_t i = 1; i < m->nodes.len; i++) {
		const struct cpu_node *n = cpu_node_at(m, (uint32_t)i);
		if (!n->self || !name_has(m, n->func, "memset"))
			continue;
		uint32_t c = calloc_caller(m, (uint32_t)i);
		if (!c)
			continue;
		int32_t caller = cpu_node_at(m, c)->func;
		by_caller[caller] += n->self;
		if (!node_of[caller])
			node_of[caller] = (uint32_t)i;
	}
	size_t before = out->items.len;
	for (size_t g = 0; g < m->funcs.len; g++) {
		if (by_caller[g] < CPU_MIN_SAMPLES ||
		    (double)by_caller[g] < CALLOC_SHARE * (double)m->weight)
			continue;
		const struct cpu_func *fn = cpu_func_at(m, (int32_t)g);
		struct finding *f = cpu_finding(pm, out, "calloc_zeroing", by_caller[g],
						"clearing memory in calloc");
		finding_where(f, fn->name, fn->file, fn->line);
		finding_summary(f, "calloc called from %s spends %.1f%% of the CPU zeroing memory",
				fn->name, 100.0 * (double)by_caller[g] / (double)m->weight);
		finding_count(f, "zeroing_samples", (double)by_caller[g]);
		push_stack(f, m, node_of[g]);
		finding_recommend(f, "If the block is overwritten before it is read, allocate it "
				     "with malloc instead of calloc; if it is large and "
				     "short-lived, keep and reuse one buffer.");
	}
	free(by_caller);
	free(node_of);
	/* glibc's calloc ends in a tail call of memset, so a sample in that
	 * memset has the caller of calloc as its parent, not calloc (perf
	 * shows the same): then the heap's calloc bytes are the evidence and
	 * the memset time the confirmation (findings_calloc_heap caps it by
	 * what clearing those bytes takes). */
	if (out->items.len == before)
		findings_calloc_heap(pm, out,
				     (double)(under_calloc(m) + memset_self(m)) * m->period_s);
}

/* --- thread imbalance --- */

/* A thread's entry function: below start_thread/clone on its heaviest
 * path; -1 when it has no samples. */
static int32_t thread_entry(const struct cpu_model *m, uint32_t thread_node)
{
	uint32_t n = thread_node;
	for (int depth = 0; n && depth < 8; depth++) {
		uint32_t best = 0;
		uint64_t best_w = 0;
		for (uint32_t c = cpu_node_at(m, n)->first_child; c;
		     c = cpu_node_at(m, c)->next_sibling)
			if (cpu_node_at(m, c)->total > best_w) {
				best_w = cpu_node_at(m, c)->total;
				best = c;
			}
		if (!best)
			return -1;
		const struct cpu_func *fn = cpu_func_at(m, cpu_node_at(m, best)->func);
		if (!finding_frame_is_plumbing(fn->name, fn->module))
			return cpu_node_at(m, best)->func;
		n = best;
	}
	return -1;
}

static const struct pa_thread *thread_of(const struct pa_models *pm, size_t i)
{
	return *(struct pa_thread **)pa_vec_at(&pm->s->threads, i);
}

/* Pool of equals: threads other than the first (the main thread) with the
 * same name, whose busy members all enter through the same function. */
static void check_pool(const struct pa_models *pm, struct findings *out, size_t first, bool *seen,
		       const int32_t *entry)
{
	const struct cpu_model *m = pm->cpu;
	const char *name = thread_of(pm, first)->name;
	int32_t pool_entry = -1;
	size_t members = 0, busiest = first;
	uint64_t sum = 0, max = 0;
	for (size_t i = first; i < m->threads.len; i++) {
		if (seen[i] || strcmp(thread_of(pm, i)->name, name))
			continue;
		seen[i] = true;
		if (entry[i] >= 0) {
			if (pool_entry >= 0 && entry[i] != pool_entry)
				return; /* threads of one name doing different jobs */
			pool_entry = entry[i];
		}
		const struct cpu_thread_stats *ts = pa_vec_at(&m->threads, i);
		members++;
		sum += ts->weight;
		if (ts->weight > max) {
			max = ts->weight;
			busiest = i;
		}
	}
	double mean = (double)sum / (double)(members ? members : 1);
	if (members < POOL_MIN_THREADS || pool_entry < 0 || sum < POOL_MIN_SAMPLES ||
	    (double)max < POOL_IMBALANCE * mean)
		return;
	/* Spread evenly, the pool would finish when its average thread
	 * does: the busiest thread's excess is wall time to gain. */
	double saved = cpu_seconds(m, max) - cpu_seconds(m, (uint64_t)mean);
	double wall = pa_ticks_to_ns(pm->s, pa_session_duration_ticks(pm->s)) / 1e9;
	char sec[32];
	const struct cpu_func *fn = cpu_func_at(m, pool_entry);
	struct finding *f = finding_add(out, "thread_imbalance", wall > 0 ? saved / wall : 0);
	finding_impact(f, saved, "wall_seconds", wall > 0 ? 100 * saved / wall : 0,
		       "up to %s of wall time (%.1f%% of the run) if the work were spread evenly",
		       finding_seconds(saved, sec, sizeof(sec)), wall > 0 ? 100 * saved / wall : 0);
	finding_where(f, fn->name, fn->file, fn->line);
	finding_summary(f,
			"thread %u does %.0f%% of the CPU work of a pool of %zu '%s' threads "
			"running %s (%.1fx the average)",
			thread_of(pm, busiest)->tid, 100.0 * (double)max / (double)sum, members,
			name, fn->name, (double)max / mean);
	finding_count(f, "threads", (double)members);
	finding_count(f, "busiest_tid", thread_of(pm, busiest)->tid);
	finding_count(f, "busiest_cpu_seconds", cpu_seconds(m, max));
	finding_count(f, "average_cpu_seconds", cpu_seconds(m, (uint64_t)mean));
	finding_recommend(f, "Split the work into smaller pieces that idle threads can take "
			     "(a shared queue or work stealing) instead of a fixed share per "
			     "thread.");
}

void findings_thread_imbalance(const struct pa_models *pm, struct findings *out)
{
	const struct cpu_model *m = pm->cpu;
	if (!m || !m->weight || m->threads.len < POOL_MIN_THREADS + 1)
		return;
	bool *seen = pa_xcalloc(m->threads.len, sizeof(*seen));
	int32_t *entry = pa_xcalloc(m->threads.len, sizeof(*entry));
	for (size_t i = 0; i < m->threads.len; i++) {
		const struct cpu_thread_stats *ts = pa_vec_at(&m->threads, i);
		entry[i] = ts->node ? thread_entry(m, ts->node) : -1;
	}
	for (size_t i = 1; i < m->threads.len; i++)
		if (!seen[i])
			check_pool(pm, out, i, seen, entry);
	free(seen);
	free(entry);
}
