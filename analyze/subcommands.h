/*
 * profanalyze's subcommands (issue 13): `diff BASE NEW` compares two runs,
 * `check TRACE --budget=FILE` enforces a performance budget. Options are
 * the report's own, parsed by main.c's parser (passed in).
 */
#ifndef PA_SUBCOMMANDS_H
#define PA_SUBCOMMANDS_H

#include <stdbool.h>

#include "options.h"

/* Exit statuses of check and diff --budget (documented in README). */
#define PA_EXIT_BREACH 3     /* the run is over budget */
#define PA_EXIT_BAD_BUDGET 4 /* the budget file is malformed */

typedef int (*pa_parse_fn)(int argc, char **argv, struct pa_options *o);

bool pa_is_subcommand(const char *arg);
/* argv[1] is the subcommand; returns the exit status. */
int pa_subcommand_main(int argc, char **argv, pa_parse_fn parse);

#endif
