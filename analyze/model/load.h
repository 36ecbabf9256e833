/*
 * One run read into its models: open the session, one merged pass,
 * finish every model. Every report (main.c), diff and check read a run
 * through here.
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
/* The same in two steps, so a caller can check the session (the threads
 * an option names) before the pass: */
int pa_load_open(struct pa_loaded *l, const char *path, const struct pa_options *o,
		 struct pa_error *err);
int pa_load_models(struct pa_loaded *l, const struct pa_options *o, struct pa_error *err);
void pa_unload(struct pa_loaded *l);

#endif
