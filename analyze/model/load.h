/*
 * One run read into its models, for the analyses that need more than one
 * (profanalyze diff) or none of the writers (check): open the session,
 * one merged pass, finish every model. main.c does the same steps inline
 * for the single-run reports.
 */
#ifndef PA_LOAD_H
#define PA_LOAD_H

#include "models.h"

struct pa_loaded {
	struct pa_session s;
	struct pa_models pm;
	const char *path;
};

/* Load the run at path (whatever pa_session_open accepts). Returns 0, or
 * -1 with a message in err (the session is closed again). */
int pa_load(struct pa_loaded *l, const char *path, const struct pa_options *o,
	    struct pa_error *err);
void pa_unload(struct pa_loaded *l);

#endif
