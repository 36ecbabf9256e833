/*
 * speedscope JSON (https://www.speedscope.app/file-format-schema.json):
 * shared frames plus any number of sampled profiles (CPU samples, or byte
 * weights for the heap) and evented profiles (open/close events of calls).
 * Profiles are streamed; frames are deduplicated and written at the end.
 */
#ifndef PA_OUT_SPEEDSCOPE_H
#define PA_OUT_SPEEDSCOPE_H

#include <stdbool.h>
#include <stdio.h>

#include "models.h"
#include "symbols.h"

struct pa_speedscope;

struct pa_speedscope *pa_ss_begin(FILE *f, const char *name);
/* Index of a frame (function, file, line), added on first use. */
int pa_ss_frame(struct pa_speedscope *ss, const struct pa_frame *fr);
/* unit: "none", "nanoseconds", "microseconds", "milliseconds", "bytes". */
void pa_ss_sampled_begin(struct pa_speedscope *ss, const char *name, const char *unit, double start,
			 double end);
/* One sample: frame indices outermost first, and its weight. */
void pa_ss_sample(struct pa_speedscope *ss, const int *frames, int n, double weight);
void pa_ss_evented_begin(struct pa_speedscope *ss, const char *name, const char *unit, double start,
			 double end);
/* type 'O' (open) or 'C' (close) of frame at time `at` (profile units). */
void pa_ss_event(struct pa_speedscope *ss, char type, double at, int frame);
void pa_ss_profile_end(struct pa_speedscope *ss);
/* Copy the frames used so far, so the models they came from can be
 * freed (a run's processes, one after the other). */
void pa_ss_detach(struct pa_speedscope *ss);
/* Put prefix before the names of the profiles that follow (NULL: none). */
void pa_ss_name_prefix(struct pa_speedscope *ss, const char *prefix);
/* Whether pm has data for speedscope under --data (every recorded kind
 * under auto), and its profiles. */
bool pa_ss_has_data(const struct pa_models *pm);
int pa_ss_add_profiles(const struct pa_models *pm, struct pa_speedscope *ss);
/* Write the frames, close the document and free ss. */
void pa_ss_end(struct pa_speedscope *ss);

#endif
