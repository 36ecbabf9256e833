/*
 * Helpers every output writer shares: threads in the order viewers should
 * list them (by tid), and writing -o FILE through a temporary file that is
 * renamed into place only when the whole report was written.
 */
#ifndef PA_OUT_UTIL_H
#define PA_OUT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "session.h"

/* Index (into session.threads) of the k-th thread sorted by tid, then by
 * the order the files were read (a tid can be reused). */
size_t pa_thread_order(const struct pa_session *s, size_t k);

/* An output stream: stdout, or a temporary file next to `path` that
 * pa_output_close renames to `path` when ok, and removes otherwise. A
 * path that exists and is no regular file (a device, a pipe, a symlink
 * such as /dev/stdout) is written in place. */
struct pa_output {
	FILE *f;
	const char *path; /* NULL: stdout */
	char *tmp;
	bool direct; /* not a regular file (device, pipe, symlink): written in place */
};
/* Returns 0, or -1 after a message on stderr. */
int pa_output_open(struct pa_output *o, const char *path);
/* Flushes and closes; ok false (or a write error) leaves no file behind.
 * Returns 0, or -1 after a message. */
int pa_output_close(struct pa_output *o, bool ok);

struct pa_models;
/* The recorders this trace ran with, "cpu, mem, calls" ("none"). */
const char *pa_recorded_names(const struct pa_models *pm);
/* Report on stderr -- even with -q, since it explains a missing part of
 * the output -- that a part was left out and why. */
void pa_note_missing(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A prefix for those notes ("pid 12 (cc1): "), while one process of a
 * run is written; NULL: none. */
void pa_note_context(const char *prefix);
/* On: notes are held and counted; off: each distinct one is printed once,
 * with how many processes it concerns. */
void pa_note_collect(bool on);

#endif
