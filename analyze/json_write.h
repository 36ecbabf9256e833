/* Streaming JSON output for large reports (writers that do not build a
 * cJSON tree in memory). */
#ifndef PA_JSON_WRITE_H
#define PA_JSON_WRITE_H

#include <stdio.h>

/* s as a JSON string literal, quotes included; NULL writes null. */
void pa_json_string(FILE *out, const char *s);

#endif
