/* profanalyze diff and check (subcommands.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "subcommands.h"

bool pa_is_subcommand(const char *arg)
{
	return !strcmp(arg, "diff") || !strcmp(arg, "check");
}

int pa_subcommand_main(int argc, char **argv, pa_parse_fn parse)
{
	(void)argc;
	(void)argv;
	(void)parse;
	fprintf(stderr, "profanalyze: %s: not yet\n", argv[1]);
	return 2;
}
