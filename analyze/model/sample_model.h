/*
 * The CPU sample model: every SAMPLE event of the session placed in a call
 * tree of functions (symbolized, inline frames expanded), one subtree per
 * thread under a common root, plus per-function self and total weights.
 *
 * Weights are sample weights (1 + timer overruns), so weight x period is
 * CPU time. "self" of a function: weight of samples whose innermost frame
 * is that function; "total": weight of samples with the function anywhere
 * on the stack (counted once per sample, however deep the recursion).
 *
 * Built in two steps: cpu_model_event collects samples during the merged
 * pass; cpu_model_finish symbolizes and builds the tree. Writers only read.
 */
#ifndef PA_SAMPLE_MODEL_H
#define PA_SAMPLE_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"

struct pa_symbols;
struct pa_frame;

struct cpu_func {
	char *name;
	char *file;	      /* NULL if unknown */
	int line;	      /* the function's first line, 0 if unknown */
	char *module;	      /* NULL if unknown */
	uint64_t self, total; /* weights over all threads */
	uint32_t stamp;	      /* private: last sample counted in total */
};

#define CPU_ROOT_FUNC INT32_MIN

/* Node 0 is the root (func CPU_ROOT_FUNC); the root's children are one node per thread
 * (func == -1 - thread index); below them, functions. */
struct cpu_node {
	uint32_t parent;
	int32_t func;			    /* index into funcs, or -1 - thread index */
	uint32_t first_child, next_sibling; /* 0 = none */
	uint32_t depth;
	uint64_t self, total; /* weights */
	uint64_t samples;     /* sample records whose leaf is this node */
};

struct cpu_sample {
	uint64_t ticks;
	uint64_t weight;
	uint32_t thread; /* thread index */
	uint32_t stack;	 /* session stack node */
	uint32_t node;	 /* tree node (after finish) */
};

struct cpu_thread_stats {
	uint64_t samples, weight;
	/* From the thread's counters at its end (0 while it runs at the
	 * trace's end): periods its timer counted, and those no sample
	 * carries. weight + dropped + unsampled + paused == periods. */
	uint64_t periods, dropped, unsampled, paused;
	uint64_t cpu_ns;   /* its CPU time (user + system) by its own clock */
	uint64_t profshim; /* weight of its samples at [profshim] */
	bool accounted;	   /* the counters above were written */
	uint32_t node;	   /* the thread's top-level tree node, 0 = none */
	uint64_t first_ticks, last_ticks;
};

struct cpu_model {
	struct pa_session *s;
	unsigned hz;	 /* requested rate (CPU_TIMER), 0 if unknown */
	unsigned timer;	 /* enum pst_cpu_timer */
	double period_s; /* seconds of CPU per unit of weight */
	uint64_t samples, weight, dropped;
	uint64_t dropped_weight;   /* periods of the dropped samples */
	uint64_t unsampled_weight; /* periods of threads' CPU no sample carries */
	uint64_t profshim_weight;  /* weight of samples at [profshim] */
	struct pa_vec samples_v;   /* struct cpu_sample */
	struct pa_vec funcs;	   /* struct cpu_func */
	struct pa_vec nodes;	   /* struct cpu_node */
	struct pa_vec threads;	   /* struct cpu_thread_stats, per thread index */
	/* funcs as symbolizer frames, for writers that take struct pa_frame
	 * (speedscope, folded); valid until cpu_model_free */
	struct pa_frame *frames;
	/* private */
	struct pa_pairmap func_index;  /* (hash name, hash file) -> func + 1 */
	struct pa_pairmap child_index; /* (node, func) -> node */
	struct pa_pairmap path_index;  /* (thread, stack node) -> node */
};

struct cpu_model *cpu_model_new(struct pa_session *s);
void cpu_model_event(struct cpu_model *m, const struct pa_event *ev);
/* Symbolize (syms may be NULL: addresses as module+offset) and build the
 * tree. */
void cpu_model_finish(struct cpu_model *m, struct pa_symbols *syms);
void cpu_model_free(struct cpu_model *m);

static inline struct cpu_node *cpu_node_at(const struct cpu_model *m, uint32_t i)
{
	return (struct cpu_node *)pa_vec_at(&m->nodes, i);
}
static inline struct cpu_func *cpu_func_at(const struct cpu_model *m, int32_t i)
{
	return (struct cpu_func *)pa_vec_at(&m->funcs, (size_t)i);
}
/* The thread a top-level node stands for, NULL for function nodes. */
struct pa_thread *cpu_node_thread(const struct cpu_model *m, const struct cpu_node *n);
/* Label of a node: function name, or "thread NAME (TID)" for a thread. */
const char *cpu_node_label(const struct cpu_model *m, const struct cpu_node *n, char *buf,
			   size_t cap);
/* Functions sorted by self (or total) weight, descending, limited to those
 * with weight; returns a malloc'd array of indices and sets *n. Restricted
 * to thread index `thread` when >= 0 (then weights are that thread's, in
 * out_self/out_total if non-NULL, arrays of funcs.len). */
int32_t *cpu_top_funcs(const struct cpu_model *m, bool by_total, long thread, size_t *n,
		       uint64_t **out_self, uint64_t **out_total);
/* Index of the thread with this tid, -1 if none. */
long cpu_thread_by_tid(const struct cpu_model *m, long tid);
/* The thread --thread selects (index, -1 = all); -1 with a message when
 * the trace has no such thread. */
struct pa_models;
int cpu_selected_thread(const struct pa_models *pm, long *thread);
/* Name of the pseudo-frame of the profiler's own time. */
#define CPU_PROFSHIM_FRAME "[profshim]"
/* Name of the pseudo-frame of system time with no stack (perf timer). */
#define CPU_KERNEL_FRAME "[kernel]"
/* Name of the timer mechanism. */
const char *cpu_timer_name(unsigned timer);

#endif
