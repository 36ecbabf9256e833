/* Streaming JSON output for reports too large to build in memory. */
#ifndef PA_JSONW_H
#define PA_JSONW_H

#include <stdio.h>

/* Write s as a JSON string literal (quoted, escaped; bad UTF-8 bytes are
 * replaced so the output always parses). */
void pa_json_string(FILE *f, const char *s);
/* A number that JSON accepts (no NaN/Inf; integers without exponent). */
void pa_json_number(FILE *f, double v);

#endif
