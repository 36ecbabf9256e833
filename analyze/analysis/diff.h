/*
 * The diff of two runs (profanalyze diff BASE NEW): per function CPU self
 * and total time, per function calls and latency (when calls were
 * recorded), per allocation site calls, bytes, peak and leaks, per file
 * and peer I/O bytes, calls and time (io recorder), and the
 * summary figures, before -> after. Each side is one process, or several
 * (a run directory without --pid: every process of the run), summed:
 * functions and sites of the same name in two processes are one row.
 *
 * Functions are matched by name and sites by the names of their frames
 * (the site's own frame and up to three callers), each side symbolized
 * on its own: a rebuilt binary compares by name, not by address.
 *
 * Values are absolute (seconds, bytes, calls), or per occurrence of a
 * marker or per call of a function with --normalize=NAME, or shares of
 * each run's total with --normalize=share (CPU time, bytes allocated,
 * wall time), so runs of different lengths compare. A change counts (regressed or improved)
 * only above noise: for CPU samples three standard deviations of the
 * two sample counts (Poisson), and for every kind at least DIFF_MIN_REL
 * of the base value and DIFF_MIN_RUN of the base run's total; smaller
 * changes are "same". Rows: regressions first, then improvements, new,
 * vanished, and the unchanged, each by the size of the change.
 */
#ifndef PA_DIFF_H
#define PA_DIFF_H

#include <stdbool.h>
#include <stdio.h>

#include "session.h"

struct pa_models;

#define DIFF_MIN_REL 0.10 /* of the base value */
#define DIFF_MIN_RUN 0.01 /* of the base run's total (CPU, bytes, wall) */
#define DIFF_SIGMAS 3.0

enum diff_status { DIFF_REGRESSED, DIFF_IMPROVED, DIFF_NEW, DIFF_VANISHED, DIFF_SAME };

#define DIFF_MAX_METRICS 6

struct diff_metric {
	const char *name; /* JSON key: "self_s", "calls", "bytes" ... */
	const char *unit; /* "s", "calls", "bytes" */
	double base, new; /* normalized */
	bool base_known, new_known;
};

struct diff_row {
	char *name;  /* function, or a site's frames "own < caller < ..." */
	char *where; /* file:line (NEW's, else BASE's), NULL if unknown */
	enum diff_status status;
	double change;	   /* of the primary metric (m[0]), new - base */
	double change_pct; /* of m[0] vs base; 0 when base is 0 */
	struct diff_metric m[DIFF_MAX_METRICS];
	int nm;
	double base_weight, new_weight; /* private: raw CPU sample weights */
};

struct diff_section {
	const char *key;   /* JSON key: "cpu_functions", "calls", "allocation_sites" */
	const char *title; /* text heading */
	bool compared;
	char *why;	    /* why not compared, NULL if compared */
	struct pa_vec rows; /* struct diff_row, ranked */
};

struct diff_figure {
	const char *name, *unit;
	double base, new;
	bool known; /* both runs have it */
	const char *why;
};

#define DIFF_FIGURES 6

/* One side of a diff: the processes compared, the seed first. */
struct pa_diff_side {
	const struct pa_models *const *runs;
	size_t n;
};

struct pa_diff {
	const struct pa_models *base, *new; /* the seed process of each side */
	struct pa_diff_side bside, nside;
	const char *base_path, *new_path;
	const char *normalize;	    /* NULL: absolute values */
	bool shares;		    /* --normalize=share: % of each run's total */
	double norm_base, norm_new; /* divisors (1 without --normalize) */
	struct diff_figure fig[DIFF_FIGURES];
	struct diff_section cpu, calls, sites;
	struct diff_section io;		/* per file and peer, when both runs recorded I/O */
	const struct pa_models *one[2]; /* private: the sides of pa_diff_build */
};

/* Compare; returns 0, or -1 with a message (e.g. --normalize=NAME names
 * nothing in one of the runs). */
int pa_diff_build(struct pa_diff *d, const struct pa_models *base, const struct pa_models *new,
		  const char *normalize, struct pa_error *err);
/* The same for sides of several processes each (summed). */
int pa_diff_build_sides(struct pa_diff *d, struct pa_diff_side base, struct pa_diff_side new,
			const char *normalize, struct pa_error *err);
void pa_diff_free(struct pa_diff *d);
/* A row of a section by name, NULL if none. */
const struct diff_row *pa_diff_find(const struct diff_section *sec, const char *name);

const char *pa_diff_status_name(enum diff_status st);

/* Writers (out_diff.c, out_diff_flamegraph.c). */
void diff_report_text(const struct pa_diff *d, int top, FILE *out);
int diff_report_json(const struct pa_diff *d, FILE *out);
int diff_write_flamegraph(const struct pa_diff *d, FILE *out);

#endif
