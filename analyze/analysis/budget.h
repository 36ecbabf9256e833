/*
 * Performance budgets (profanalyze check TRACE --budget=FILE, and
 * profanalyze diff BASE NEW --budget=FILE): limits a run must stay within.
 *
 * FILE holds one limit per line, "key = value"; '#' starts a comment;
 * sizes take K, M, G (powers of 1024, also KiB, MiB, GiB); times are in
 * seconds unless the key says _ms. Keys (README "Budgets"):
 *   absolute, of the run (NEW for diff):
 *     max_cpu_seconds, max_wall_seconds, max_peak_heap, max_leaked_bytes,
 *     max_allocations, max_io_bytes, max_p99_ms.NAME (NAME: a function
 *     or span with calls recorded), max_self_seconds.NAME (CPU self time)
 *   relative to the baseline (diff only; check skips them with a note):
 *     max_self_growth_pct (any function, above noise),
 *     max_self_growth_pct.NAME, max_cpu_growth_pct,
 *     max_peak_heap_growth_pct, max_allocations_growth_pct
 * A limit on something the run does not have (a function that is not in
 * it, io bytes without the io recorder) is a breach that says so.
 */
#ifndef PA_BUDGET_H
#define PA_BUDGET_H

#include <stdbool.h>
#include <stdio.h>

struct pa_models;
struct pa_diff;

struct budget_limit {
	char *key;  /* e.g. "max_p99_ms" */
	char *name; /* the part after '.', NULL if none */
	double value;
	int line;
	bool relative;
};

struct pa_budget {
	const char *path;
	struct budget_limit *limits;
	int n;
};

/* Read and validate FILE. Returns 0, or -1 with a message naming the
 * file and line in err. */
int pa_budget_load(struct pa_budget *b, const char *path, char *err, size_t cap);
void pa_budget_free(struct pa_budget *b);

/* Check run (NEW) against the limits, relative ones against d (NULL: skip
 * them with a note on `notes`). One line per breach on out; returns the
 * number of breaches. */
int pa_budget_check(const struct pa_budget *b, const struct pa_models *run, const struct pa_diff *d,
		    FILE *out, FILE *notes);

#endif
