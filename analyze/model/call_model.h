/*
 * The call model: what the calls recorder (-finstrument-functions) says
 * about a session, built from trace-mode ENTER/EXIT events (exact times of
 * every call) or from the calling-context trees of tree mode.
 *
 * Per function: calls, total (inclusive; a recursive function's nested
 * activations are not counted twice), self, min, max and percentiles
 * (trace mode: exact from the durations while a function has at most
 * CALL_MAX_DURATIONS calls; beyond that from a log-linear histogram of
 * every call's duration: exact under 128 ticks, above that 64 buckets per
 * power of two (a bucket spans under 1.6% of its values; the rank's value
 * is interpolated inside it) -- an increment per call, where keeping or
 * sampling durations cost cache misses and random draws; tree mode: from
 * the log2 histograms).
 * A call tree merged over all threads, caller -> callee edges, per-thread
 * totals and, when a timeline is wanted, the calls themselves (spans),
 * already filtered by the options.
 */
#ifndef PA_CALL_MODEL_H
#define PA_CALL_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "options.h"
#include "session.h"

#define CALL_MAX_DURATIONS (1u << 16)
#define CALL_FINE_SUB_BITS 6 /* log2 of the histogram's buckets per power of two */
/* values under 2^(SUB_BITS+1), then SUB_BITS bits below each higher top bit */
#define CALL_FINE_BUCKETS ((65 - CALL_FINE_SUB_BITS) << CALL_FINE_SUB_BITS)

/* The fields every call updates come first: they share cache lines.
 * Trace mode: calls, total and self are summed from the tree's nodes
 * after the run (call_model_finish); min, max and the duration per call. */
struct call_func {
	uint64_t min, max;  /* ticks */
	uint64_t *fine;	    /* trace mode, past CALL_MAX_DURATIONS calls:
			     * [CALL_FINE_BUCKETS] counts (call_fine_bucket) */
	struct pa_vec durs; /* trace mode, until then: uint64_t durations */
	uint64_t calls;
	uint64_t timed;	      /* calls with a measured duration (trace: all) */
	uint64_t total, self; /* ticks */
	uint64_t hist[64];    /* tree mode: bucket i = [2^(i-1), 2^i) ticks */
	double p50, p95, p99; /* ticks, after call_model_finish */
	/* names, after call_model_finish */
	const struct pa_frame *frame;
	const char *name, *file; /* file "" when unknown */
	int line;		 /* first line of the function, 0 if unknown */
};

struct call_node {
	uint32_t func; /* session function; the root has 0 */
	uint32_t parent;
	uint32_t first_child, next_sibling; /* 0 = none */
	uint32_t last_child;		    /* lookup cache behind the model's */
	uint64_t calls, incl, excl;	    /* ticks */
	uint64_t timed;			    /* tree mode: calls with a measured time */
};

struct call_edge {
	uint32_t caller, callee;
	uint64_t count;
};

/* One call on a thread's timeline (trace mode, --format=trace/speedscope). */
struct call_span {
	uint64_t start, dur; /* ticks */
	uint32_t func;
	uint32_t depth;	 /* 0 = outermost */
	uint32_t thread; /* index into session.threads */
};

struct call_thread_total {
	uint64_t calls;
	uint64_t self;	/* ticks: sum of self times of its calls */
	uint64_t outer; /* ticks: sum of its outermost calls' durations */
};

struct pa_models;
struct pa_frame;
struct pa_trace_out;
struct pa_speedscope;

/* A direct-mapped cache of (parent, func) -> node of the merged tree. */
#define CALL_CHILD_CACHE (1u << 14)
struct call_child_slot {
	uint32_t parent, func, node; /* node 0 = empty */
};

struct call_model {
	struct pa_session *s;
	const struct pa_options *o;
	bool from_trace, from_tree;
	uint64_t calls;
	uint64_t timed;		      /* calls with a measured duration: below calls, tree
				       * mode sampled the timing and times are estimates */
	uint64_t unmatched_exits;     /* EXIT with no open call */
	struct pa_vec funcs;	      /* struct call_func, by session function */
	struct pa_vec nodes;	      /* struct call_node; [0] = root */
	struct pa_pairmap node_index; /* (parent, func) -> node */
	struct pa_vec edges;	      /* struct call_edge */
	struct pa_pairmap edge_index; /* (caller, callee) -> edge + 1 */
	struct pa_vec threads;	      /* struct call_thread_total, by thread */
	struct pa_vec stacks;	      /* struct pa_vec of open calls, by thread
				       * ([0]: the thread's outside, node 0) */
	bool keep_spans;
	struct pa_vec spans;		     /* struct call_span */
	struct call_child_slot *child_cache; /* [CALL_CHILD_CACHE] */
};

struct call_model *call_model_new(struct pa_session *s, const struct pa_options *o);
/* Trace mode: a thread's ENTER and EXIT records, in that thread's order
 * (pa_session_run_calls); the bulk of the work. */
void call_model_calls(struct call_model *m, struct pa_call_run *run);
/* THREAD_END closes the thread's open calls; ENTER and EXIT events (when
 * not given as runs) go to call_model_calls. */
void call_model_event(struct call_model *m, const struct pa_event *ev);
/* After the run: tree-mode trees, percentiles, names. */
void call_model_finish(struct call_model *m, const struct pa_models *pm);
void call_model_free(struct call_model *m);
/* Any call data at all. */
bool call_model_has_data(const struct call_model *m);

/* Function i of the model (grows the table as functions appear). */
struct call_func *call_model_func(struct call_model *m, uint32_t func);

/* Reports (report_calls.c). */
struct cJSON;
void calls_report_json(const struct pa_models *pm, struct cJSON *root);
void calls_report_text(const struct pa_models *pm, FILE *out);
/* Folded stacks weighted by self time in microseconds. */
void calls_report_folded(const struct pa_models *pm, FILE *out);
/* Chrome trace events of the calls: an X event per call (trace mode
 * only: returns -1 after a message otherwise), filtered by the options. */
int call_model_trace_events(const struct pa_models *pm, struct pa_trace_out *t);
/* speedscope: evented profiles, one per thread (trace mode), or one
 * sampled profile of self times from the call tree (tree mode). */
void calls_report_speedscope(const struct pa_models *pm, struct pa_speedscope *ss);

#endif
