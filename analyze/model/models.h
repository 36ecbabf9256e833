/*
 * The models profanalyze builds from one pass over the merged events, and
 * what every report writer receives. Each recorder's model lives in its own
 * file; a model that has no data for this session stays NULL.
 */
#ifndef PA_MODELS_H
#define PA_MODELS_H

#include <stdio.h>

#include "options.h"
#include "session.h"

struct pa_symbols;
struct summary_model;
struct cpu_model;
struct call_model;
struct heap_model;
struct io_model;
struct cJSON;

struct pa_models {
	struct pa_session *s;
	struct pa_symbols *syms;
	const struct pa_options *o;
	struct summary_model *summary;
	struct cpu_model *cpu;	  /* CPU samples (sample_model.h), NULL if none */
	struct call_model *calls; /* call_model.h */
	struct heap_model *heap;  /* heap_model.h */
	struct io_model *io;	  /* I/O, waits, locks, spans (io_model.h), NULL if none */
	struct findings *findings; /* findings.h, NULL when --findings=0 */
};

/* --- I/O, waits, locks, spans and counters (report_io.c) --- */
void io_report_text(const struct pa_models *pm, FILE *out);
void io_report_json(const struct pa_models *pm, struct cJSON *root);

/* --- the session summary (report_summary.c) --- */
struct summary_model *summary_model_new(struct pa_session *s);
void summary_model_event(struct summary_model *m, const struct pa_event *ev);
void summary_model_calls(struct summary_model *m, const struct pa_call_run *run);
void summary_model_free(struct summary_model *m);
struct cJSON;
void summary_report_json(const struct pa_models *pm, struct cJSON *root);
void summary_report_text(const struct pa_models *pm, FILE *out);

/* --- CPU samples (report_cpu.c, out_cpuprofile.c, out_flamegraph.c) --- */
void cpu_report_json(const struct pa_models *pm, struct cJSON *root);
void cpu_report_text(const struct pa_models *pm, FILE *out);
int cpu_write_cpuprofile(const struct pa_models *pm, FILE *out);
struct pa_speedscope;
int cpu_report_speedscope(const struct pa_models *pm, struct pa_speedscope *ss);

/* Format a pc as "function (file:line)" into buf (symbols when known). */
const char *pa_describe_pc(const struct pa_models *pm, uint64_t pc, bool ret_addr, uint64_t ticks,
			   char *buf, size_t cap);

/* The frames of stack node `node` (outermost first, inline frames
 * expanded) into out, a pa_vec of const struct pa_frame *; returns the
 * count. leaf_is_pc: the leaf is an interrupted pc (CPU samples), not a
 * return address (allocation stacks). */
int pa_stack_frames(const struct pa_models *pm, uint32_t node, bool leaf_is_pc, uint64_t ticks,
		    struct pa_vec *out);

/* --- stack outputs of any kind of data (--data), output/ --- */
/* SVG flame graph (out_flamegraph.c) and folded stacks (out_folded.c). */
int pa_write_flamegraph(const struct pa_models *pm, FILE *out);
/* The same for a tree the caller built (and frees): a run's CPU by command. */
struct stack_tree;
int pa_write_flamegraph_tree(const struct pa_models *pm, struct stack_tree *t, FILE *out);
int pa_write_folded(const struct pa_models *pm, FILE *out);
/* One self-contained HTML report (out_html.c). */
int pa_write_html(const struct pa_models *pm, FILE *out);
/* pprof profile.proto, gzipped (out_pprof.c). */
int pa_write_pprof(const struct pa_models *pm, FILE *out);
/* speedscope's heap profile (out_speedscope_mem.c). */
int heap_report_speedscope(const struct pa_models *pm, struct pa_speedscope *ss);

#endif
