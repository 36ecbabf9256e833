/*
 * Whole-run analysis: each selected process of a run read on its own (its
 * CPU samples, counters and times), then the CPU trees merged into one
 * model with a root per command: root -> command -> functions. The merged
 * model is an ordinary cpu_model (sample_model.h), so the CPU writers
 * (flame graph) draw the whole run.
 */
#ifndef PA_RUN_CPU_H
#define PA_RUN_CPU_H

#include "run.h"
#include "sample_model.h"
#include "session.h"

struct pa_run_cpu {
	struct pa_session s; /* stands for the run (title, no threads) */
	struct cpu_model *m; /* merged CPU tree; depth-1 nodes are commands */
	bool mixed_rates;    /* processes sampled at different rates */
	/* private */
	struct pa_pairmap names; /* (hash name, hash file) -> func + 1 */
};

/* Read every selected process of r: fills each one's figures and the
 * merged tree. Processes that cannot be read are warned about in r. */
void pa_run_analyze(struct pa_run *r, struct pa_run_cpu *rc, bool with_functions);
void pa_run_cpu_free(struct pa_run_cpu *rc);

#endif
