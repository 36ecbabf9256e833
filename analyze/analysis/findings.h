/*
 * Findings: what to fix first. A registry of detectors runs over the
 * models (CPU samples, calls, heap) and each detector adds findings: a
 * kind, a severity, an impact estimated as "what fixing this could save"
 * in the unit that matters, the evidence (function, file:line, stack,
 * counts) and a recommendation.
 *
 * Findings are sorted by score, the impact as a fraction of the run's
 * resource it concerns (CPU share, share of the peak heap, share of the
 * wall time), so CPU, memory and latency findings rank on one scale.
 * Severity follows the score: high >= 25%, medium >= 5%, low below.
 *
 * Detectors are conservative: each needs clear evidence above fixed
 * thresholds (documented at each detector), so a healthy program yields
 * none.
 */
#ifndef PA_FINDINGS_H
#define PA_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "session.h"

struct pa_models;

enum finding_severity { FINDING_LOW, FINDING_MEDIUM, FINDING_HIGH };

#define FINDING_MAX_COUNTS 8

/* One figure of a finding's evidence (calls, bytes, p99 ms, ...). */
struct finding_count {
	const char *name; /* static string, a JSON key */
	double value;
};

struct finding {
	const char *kind; /* static: "hot_function", "leak", ... */
	enum finding_severity severity;
	double score;		 /* impact as a fraction of its resource, 0..1 */
	double impact;		 /* what fixing could save, in impact_unit */
	const char *impact_unit; /* "cpu_seconds", "bytes", "wall_seconds" */
	double impact_pct;	 /* impact as % of the run's resource */
	char *impact_text;	 /* "up to 1.20 s of CPU (45.0% of the run)" */
	char *function;		 /* where: function, NULL if none */
	char *file;		 /* NULL if unknown */
	int line;		 /* 0 if unknown */
	char *object;		 /* the file, peer, host or lock it concerns, NULL if none */
	char *summary;		 /* one line: what was seen */
	char *recommendation;	 /* one or two sentences */
	struct pa_vec stack;	 /* char *, innermost first */
	struct finding_count counts[FINDING_MAX_COUNTS];
	int ncounts;
};

struct findings {
	struct pa_vec items; /* struct finding, sorted by score after run */
	size_t total;	     /* found before the cap */
};

/* A detector: needs names the recorder it reads (cpu, calls, mem, io). */
struct finding_detector {
	const char *kind;
	const char *needs;
	const char *what; /* one line for --help and the README */
	void (*run)(const struct pa_models *pm, struct findings *out);
};

/* The registry, terminated by an entry with kind NULL. */
extern const struct finding_detector pa_finding_detectors[];

/* Run every available detector, sort by score, keep at most cap
 * (cap <= 0: none). */
void findings_run(const struct pa_models *pm, int cap, struct findings *out);
void findings_free(struct findings *f);

/* --- for detectors (findings.c) --- */
/* A new finding of kind with its score; fill the rest with the helpers. */
struct finding *finding_add(struct findings *out, const char *kind, double score);
void finding_impact(struct finding *f, double value, const char *unit, double pct, const char *fmt,
		    ...) __attribute__((format(printf, 5, 6)));
void finding_where(struct finding *f, const char *function, const char *file, int line);
void finding_summary(struct finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void finding_object(struct finding *f, const char *object);
void finding_recommend(struct finding *f, const char *text);
void finding_count(struct finding *f, const char *name, double value);
void finding_stack_push(struct finding *f, const char *frame);

/* Human sizes and times for finding texts. */
const char *finding_bytes(double bytes, char *buf, size_t cap);
const char *finding_seconds(double s, char *buf, size_t cap);

/* Frames of the profiler itself, the C library's allocator and thread
 * start-up, which are never where a finding should point. */
bool finding_frame_is_plumbing(const char *function, const char *module);

/* Detector families (findings_cpu.c, findings_calls.c, findings_mem.c). */
void findings_hot_functions(const struct pa_models *pm, struct findings *out);
void findings_hot_paths(const struct pa_models *pm, struct findings *out);
void findings_calloc_zeroing(const struct pa_models *pm, struct findings *out);
void findings_thread_imbalance(const struct pa_models *pm, struct findings *out);
void findings_tiny_calls(const struct pa_models *pm, struct findings *out);
void findings_tail_latency(const struct pa_models *pm, struct findings *out);
void findings_span_tail_latency(const struct pa_models *pm, struct findings *out); /* spans */
void findings_leaks(const struct pa_models *pm, struct findings *out);
void findings_churn(const struct pa_models *pm, struct findings *out);
void findings_realloc_chains(const struct pa_models *pm, struct findings *out);
void findings_peak_contributors(const struct pa_models *pm, struct findings *out);
/* sampled_s: CPU seconds of samples inside calloc (under a calloc frame) */
void findings_calloc_heap(const struct pa_models *pm, struct findings *out, double sampled_s);

/* io recorder (findings_io.c: files, findings_net.c: network,
 * findings_wait.c: locks and waits). */
void findings_small_io(const struct pa_models *pm, struct findings *out);
void findings_reopened_files(const struct pa_models *pm, struct findings *out);
void findings_fsync_storms(const struct pa_models *pm, struct findings *out);
void findings_slow_peers(const struct pa_models *pm, struct findings *out);
void findings_chatty_network(const struct pa_models *pm, struct findings *out);
void findings_lock_contention(const struct pa_models *pm, struct findings *out);
void findings_short_sleeps(const struct pa_models *pm, struct findings *out);

/* Writers (report_findings.c). */
struct cJSON;
void findings_report_text(const struct findings *f, FILE *out);
void findings_report_json(const struct findings *f, struct cJSON *root);

#endif
