/* Folded stack lines: see out_folded.h. */
#define _GNU_SOURCE
#include "out_folded.h"

#include <inttypes.h>

static void folded_name(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc(*s == ';' ? ':' : (*s == '\n' || *s == '\r') ? ' ' : *s, f);
}

void pa_folded_line(FILE *f, const struct pa_frame *const *frames, int n, uint64_t weight)
{
	if (!weight)
		return;
	for (int i = 0; i < n; i++) {
		if (i)
			fputc(';', f);
		folded_name(f, frames[i]->function ? frames[i]->function : "??");
	}
	fprintf(f, " %" PRIu64 "\n", weight);
}
