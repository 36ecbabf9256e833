/*
 * What the io detectors share (findings_io.c, findings_net.c,
 * findings_wait.c): the process's wall time, a call site's place and
 * stack, the group (file or peer) of a recorded call, and a tally of
 * call sites per key, to name the site that made most of the calls a
 * finding is about.
 */
#ifndef PA_FINDINGS_IO_H
#define PA_FINDINGS_IO_H

#include <stdint.h>

#include "findings.h"
#include "io_model.h"
#include "models.h"

/* The process's wall time in seconds (what io impacts are a share of). */
double fio_wall_s(const struct pa_models *pm);

/* Where a finding points: a call site and, when known, the stack of one
 * of the very calls the finding counts (else the site's longest call's,
 * which may have been made for another file or peer). */
struct fio_where {
	uint32_t site; /* index into io->sites; UINT32_MAX: none */
	uint32_t stack;
	uint64_t ticks;
};
/* The site of a call, with its own stack if it has one. */
struct fio_where fio_where_of(const struct io_block *b);

/* The frames into f (innermost first) and its place: the innermost frame
 * that is neither the profiler nor the C library (nor unnamed). */
void fio_site_where(const struct pa_models *pm, struct fio_where w, struct finding *f);

/* The index of the group (file, pipe or peer) of a call, UINT32_MAX when
 * it has none (waits, locks, DNS, an undescribed descriptor). */
uint32_t fio_block_group(const struct io_model *m, const struct io_block *b);

/* A count of calls per (key, id): id is a call site (with the first of
 * its calls that has a stack) or any other index (b NULL). */
struct fio_tally {
	struct pa_vec rows; /* struct fio_tally_row */
	struct pa_pairmap index;
};
struct fio_tally_row {
	uint64_t key;
	uint32_t id;
	uint64_t count;
	struct fio_where first; /* the first call with a stack */
};
void fio_tally_init(struct fio_tally *t);
void fio_tally_add(struct fio_tally *t, uint64_t key, uint32_t id, const struct io_block *b);
/* The id with most calls for key (.site; UINT32_MAX if none) and the
 * stack of its first call that had one. */
struct fio_where fio_tally_top(const struct fio_tally *t, uint64_t key);
void fio_tally_free(struct fio_tally *t);

/* Severity scale of io impacts: a share of the wall time, 0..1. */
double fio_share(double seconds, double wall_s);

#endif
