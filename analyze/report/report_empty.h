/*
 * Why a part of a report is empty: the recorder was off, or it was on and
 * found nothing (and what to do about it). Every report and every "no data"
 * error says which; an error names an option only if the user gave it.
 */
#ifndef PA_REPORT_EMPTY_H
#define PA_REPORT_EMPTY_H

#include <stdio.h>

struct pa_models;
struct cJSON;

/* NULL when the part has data; else one sentence without a final period. */
const char *pa_why_no_calls(const struct pa_models *pm);
const char *pa_why_no_memory(const struct pa_models *pm);
const char *pa_why_no_cpu(const struct pa_models *pm);

/* Text: a "Not in this report" section with a line per empty part. */
void empty_sections_text(const struct pa_models *pm, FILE *out);
/* JSON: "empty_sections": {"calls": why, "memory": why, "cpu": why}. */
void empty_sections_json(const struct pa_models *pm, struct cJSON *root);
/* The message of a "nothing for this output" error on stderr:
 * "--format=FORMAT" (and "--data=D" only when the user gave it and the
 * format weighs by it: more than one part), then why each part (PST_REC_*
 * mask; with --data, that part) is empty. */
void pa_no_data_error(const struct pa_models *pm, const char *format, unsigned parts);

#endif
