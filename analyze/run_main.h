/* profanalyze on a run directory (run_main.c). */
#ifndef PA_RUN_MAIN_H
#define PA_RUN_MAIN_H

#include "options.h"

/* o->trace is a run directory. analyze_one reports on one process file
 * (o->trace set to it). Returns the exit status. */
int pa_run_main(struct pa_options *o, int (*analyze_one)(struct pa_options *o));

#endif
