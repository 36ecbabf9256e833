/* The output formats of one process on a run directory of several
 * (run_formats.c). */
#ifndef PA_RUN_FORMATS_H
#define PA_RUN_FORMATS_H

#include <stdbool.h>
#include <stdio.h>

#include "options.h"
#include "run.h"

/* Formats that show every process of a run in one output. */
bool pa_run_format_is_merged(enum pa_format f);
/* For a format of one process: the first selected process of the run with
 * data for it (else the first), named on stderr. NULL: none selected. */
const struct pa_run_proc *pa_run_pick_one(const struct pa_run *r, const struct pa_options *o);
/* The HTML page of the run: the process tree, each process's sections. */
int pa_run_write_html(const struct pa_run *r, const struct pa_options *o, FILE *out);
/* One timeline of every selected process, a pid each. */
int pa_run_write_trace(const struct pa_run *r, const struct pa_options *o, FILE *out);

/* speedscope: every selected process's profiles (threads) in one file. */
int pa_run_write_speedscope(const struct pa_run *r, const struct pa_options *o, FILE *out);

#endif
