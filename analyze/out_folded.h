/* Folded stacks ("root;child;leaf 123": frames outermost first, one space,
 * an integer count), the input of flamegraph.pl, speedscope, inferno. */
#ifndef PA_OUT_FOLDED_H
#define PA_OUT_FOLDED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One line; ';' and newlines inside frame names become ':' and ' '. */
void pa_folded_line(FILE *out, const char *const *frames, size_t n, uint64_t count);

#endif
