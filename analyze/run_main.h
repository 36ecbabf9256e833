/* profanalyze on a run directory (run_main.c). */
#ifndef PA_RUN_MAIN_H
#define PA_RUN_MAIN_H

#include "options.h"

/* o->trace is a run directory. analyze_one reports on one process file
 * (o->trace set to it). Returns the exit status. */
int pa_run_main(struct pa_options *o, int (*analyze_one)(struct pa_options *o));

/* The one process file of run directory dir that o selects (--pid: the
 * last image of an exec chain; a run of one process: that one), malloc'd;
 * NULL after saying on stderr why there is none (diff and check). */
char *pa_run_one_file(const char *dir, const struct pa_options *o);

#endif
