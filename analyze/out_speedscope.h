/*
 * A speedscope JSON writer (https://www.speedscope.app/file-format-schema.json)
 * for any recorder: sampled profiles (CPU samples, or byte-weighted heap
 * stacks) and evented profiles (instrumented calls), sharing one frame
 * table. Profiles are streamed to the output; the frame table, known only
 * at the end, is written last (JSON key order does not matter).
 *
 *   ss = pa_ss_new(out, "name");
 *   f = pa_ss_frame(ss, "main", "/src/a.c", 12);
 *   pa_ss_begin_sampled(ss, "thread 1", "milliseconds", 0, 250);
 *   pa_ss_sample(ss, stack, n, weight);      stack: frame ids, root first
 *   pa_ss_end_profile(ss);
 *   pa_ss_begin_evented(ss, "thread 2", "nanoseconds", 0, 1e6);
 *   pa_ss_event(ss, true, f, 10); pa_ss_event(ss, false, f, 20);
 *   pa_ss_end_profile(ss);
 *   rc = pa_ss_finish(ss);
 * Units: "none", "nanoseconds", "microseconds", "milliseconds",
 * "seconds", "bytes".
 */
#ifndef PA_OUT_SPEEDSCOPE_H
#define PA_OUT_SPEEDSCOPE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct pa_ss;

struct pa_ss *pa_ss_new(FILE *out, const char *name);
/* Frame id of (name, file, line), deduplicated; file NULL, line 0 if unknown. */
uint32_t pa_ss_frame(struct pa_ss *ss, const char *name, const char *file, int line);
void pa_ss_begin_sampled(struct pa_ss *ss, const char *name, const char *unit, double start,
			 double end);
void pa_ss_sample(struct pa_ss *ss, const uint32_t *stack, size_t n, double weight);
void pa_ss_begin_evented(struct pa_ss *ss, const char *name, const char *unit, double start,
			 double end);
/* Open (true) or close a frame at time `at`; events in time order, closes
 * matching opens (speedscope checks the nesting). */
void pa_ss_event(struct pa_ss *ss, bool open, uint32_t frame, double at);
void pa_ss_end_profile(struct pa_ss *ss);
/* Write the frame table and close the document; 0, or -1 on a write error. */
int pa_ss_finish(struct pa_ss *ss);

#endif
