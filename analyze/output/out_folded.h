/* Folded stacks ("root;child;leaf 123"), input of flame graph tools. */
#ifndef PA_OUT_FOLDED_H
#define PA_OUT_FOLDED_H

#include <stdint.h>
#include <stdio.h>

#include "symbols.h"

/* One line: frame names outermost first joined by ';', one space, an
 * integer weight. Semicolons and line breaks inside names are replaced so
 * every line stays parseable. Zero weights are skipped. */
void pa_folded_line(FILE *f, const struct pa_frame *const *frames, int n, uint64_t weight);

#endif
