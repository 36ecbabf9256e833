/*
 * The heap model: built from the merged ALLOC / FREE / RSS / MARK events of
 * a session (one pass), it holds what the memory reports need — totals,
 * peak heap (its time and the sites that held it), leaks (blocks live at
 * the end), temporary allocations (freed with no allocation of the same
 * thread in between), per-site statistics (a site is a distinct
 * allocation stack), a size histogram, heap size and RSS over time, and the
 * --between=M1,M2 snapshot difference.
 *
 * Sampling mode (PROFSHIM_MEM_SAMPLE=M): every sampled allocation of s bytes
 * stands for 1 / (1 - exp(-s/M)) allocations; every figure becomes an
 * estimate (heap_model.estimated), except what the shim counted exactly
 * (COUNTERS: allocation and free calls, requested bytes), which replaces
 * the estimates at heap_model_finish. Temporary allocations (freed with
 * no other allocation in between) need every call: not estimable, the
 * reports say so. Estimates are kept possible: none negative, leaked at
 * most allocated, peak between leaked and allocated.
 */
#ifndef PA_HEAP_MODEL_H
#define PA_HEAP_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "heap_early.h"
#include "live_table.h"
#include "options.h"
#include "session.h"

struct pa_models;
struct cJSON;

/* Per allocation site (leaf stack node). Weighted sums: exact integers
 * without sampling. */
struct heap_site {
	uint32_t stack;			      /* session stack node of the allocation */
	uint64_t ticks;			      /* first allocation (picks the module map) */
	double allocs, bytes;		      /* allocations and requested bytes */
	double frees;			      /* blocks of this site freed by free() */
	double live_blocks, live_bytes;	      /* at the end: leaks */
	double peak_bytes;		      /* live bytes of this site at the peak */
	double temporary;		      /* temporary allocations */
	double between_blocks, between_bytes; /* --between snapshot */
	uint64_t peak_epoch;		      /* private: peak generation peak_bytes is from */
	/* realloc growth chains (findings): a chain is one block followed
	 * through realloc; its length is the reallocs it went through */
	double reallocs;	    /* realloc calls of this site on a live block */
	double realloc_moved_bytes; /* bytes of blocks realloc moved (copied) */
	uint32_t chain_max;	    /* longest chain that ended at this site */
	double long_chains;	    /* chains of HEAP_LONG_CHAIN reallocs or more */
	double calloc_bytes;	    /* bytes asked of calloc (cleared by it) */
	double churn;		    /* blocks freed that were temporary or short-lived */
	/* leaks over time: allocation times of the blocks live at the end */
	uint64_t live_first, live_last;
	/* bytes live at the end allocated between the first and the last
	 * occurrence of heap_model.growth_marker */
	double live_between_marks;
};

#define HEAP_LONG_CHAIN 16	/* reallocs of one block that make a long chain */
#define HEAP_SHORT_LIVED_NS 1e6 /* a block freed within 1 ms lived short */

/* A point of a time series (heap size or RSS). */
struct heap_point {
	uint64_t ticks;
	double bytes;
};

#define HEAP_AHEAD 16	     /* events read ahead of the model (prefetch distance) */
#define HEAP_HIST_BUCKETS 65 /* bucket k: size in [2^(k-1), 2^k), 0: size 0 */

struct heap_model {
	struct pa_session *s;
	const struct pa_options *o;
	bool has_data;	  /* any ALLOC, FREE or RSS event */
	bool estimated;	  /* sampling mode: figures are estimates */
	bool bytes_exact; /* sampling mode: alloc_bytes counted by the shim */
	/* sampling mode: the process did not end (killed, crashed, _exit),
	 * so the counts of threads still running then were never written:
	 * calls and bytes are lower bounds */
	bool counts_partial;
	double sample_bytes; /* sampling mean M, 0 = every allocation */

	/* totals (weighted) */
	double allocs, alloc_bytes, frees, failed;
	double temporary; /* 0 in sampling mode: not estimable */
	double live_bytes, live_blocks;
	uint64_t unknown_frees;		  /* frees of blocks never seen allocated */
	uint64_t first_ticks, last_ticks; /* first and last memory event */

	double peak_bytes;
	uint64_t peak_ticks;
	/* sampling mode: variances of the estimates of the live bytes and
	 * blocks (at the end: the leak) and of the peak (0 when exact) */
	double live_var_bytes, live_var_blocks, peak_var_bytes;
	uint64_t peak_epoch;

	double rss_peak;
	uint64_t rss_peak_ticks;

	double hist_count[HEAP_HIST_BUCKETS], hist_bytes[HEAP_HIST_BUCKETS];

	struct pa_vec sites;	   /* struct heap_site */
	struct pa_vec site_of;	   /* uint32_t per session stack node: site + 1 */
	struct pa_vec last_alloc;  /* uint64_t per thread index: last block */
	struct pa_vec heap_series; /* struct heap_point */
	struct pa_vec rss_series;  /* struct heap_point */
	uint64_t series_step, series_next;
	double series_max;
	uint64_t series_max_ticks;

	uint64_t short_lived_ticks; /* HEAP_SHORT_LIVED_NS in ticks */

	/* Leak growth per marker: the marker name that occurs most often
	 * (at least 3 times), its count and first and last time. */
	const char *growth_marker;
	size_t growth_marks;
	uint64_t growth_from, growth_to;

	/* --between=M1,M2 */
	bool between_started, between_done;
	uint64_t between_from, between_to;
	double between_bytes, between_blocks;

	/* sampling mode with the shim's exact usable bytes (heap_sampled.c):
	 * peak and leaked bytes come from them */
	struct heap_usable *usable;
	bool usable_mode;

	/* live blocks by key (live_table.h) */
	struct live_table live;
	/* ALLOC and FREE events wait here a few events (a ring) while the
	 * live-table memory they will touch is loaded: the misses of
	 * neighbouring events overlap instead of following one another */
	struct pa_event ahead[HEAP_AHEAD];
	unsigned ahead_first, ahead_len;

	/* numbered blocks ended before their ALLOC came (heap_early.h) */
	struct heap_early early;
};

struct heap_model *heap_model_new(struct pa_session *s, const struct pa_options *o);
/* ALLOC and FREE events are applied a few events late (HEAP_AHEAD): the
 * figures are whole after heap_model_flush or heap_model_finish. */
void heap_model_event(struct heap_model *m, const struct pa_event *ev);
void heap_model_flush(struct heap_model *m);
/* After the last event: settles the peak per site. Returns 0, or -1 with
 * a message in err (e.g. a --between marker that never came). */
int heap_model_finish(struct heap_model *m, struct pa_error *err);
void heap_model_free(struct heap_model *m);
/* After heap_model_finish: merge the sites whose symbolized stacks are the
 * same (heap_merge.c): one row per place in the code, whatever the thread
 * or the return addresses. */
void heap_model_merge_sites(struct heap_model *m, const struct pa_models *pm);

/* The weight of a value per --heap (allocated, leaked, peak) or, with
 * --between, the bytes allocated between the markers and live at the
 * second. */
double heap_site_value(const struct heap_model *m, const struct heap_site *site);
/* Sites sorted by a key, largest first (caller frees the array). */
enum heap_sort { HEAP_BY_BYTES, HEAP_BY_COUNT, HEAP_BY_PEAK, HEAP_BY_LEAKED, HEAP_BY_BETWEEN };
const struct heap_site **heap_sites_sorted(const struct heap_model *m, enum heap_sort by,
					   size_t *n);

/* --- reports (report_mem.c, out_heapprofile.c) --- */
void heap_report_text(const struct pa_models *pm, FILE *out);
void heap_report_json(const struct pa_models *pm, struct cJSON *root);
/* DevTools sampling heap profile (.heapprofile); sizes per --heap. */
int heap_write_heapprofile(const struct pa_models *pm, FILE *out);
/* Chrome trace counter events ("C") for heap size and RSS over time,
 * through the trace writer (out_trace.h; its time and thread filters
 * apply). */
struct pa_trace_out;
void heap_trace_counters(const struct pa_models *pm, struct pa_trace_out *t);

#endif
