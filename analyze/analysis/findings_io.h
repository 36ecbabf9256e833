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

/* The io site's frames into f (innermost first) and its place: the
 * innermost frame that is neither the profiler nor the C library. */
void fio_site_where(const struct pa_models *pm, uint32_t site, struct finding *f);

/* The index of the group (file, pipe or peer) of a call, UINT32_MAX when
 * it has none (waits, locks, DNS, an undescribed descriptor). */
uint32_t fio_block_group(const struct io_model *m, const struct io_block *b);

/* A count of calls per (key, site). */
struct fio_tally {
	struct pa_vec rows; /* struct fio_tally_row */
	struct pa_pairmap index;
};
struct fio_tally_row {
	uint64_t key;
	uint32_t site;
	uint64_t count;
};
void fio_tally_init(struct fio_tally *t);
void fio_tally_add(struct fio_tally *t, uint64_t key, uint32_t site);
/* The site with most calls for key; UINT32_MAX if none. */
uint32_t fio_tally_top(const struct fio_tally *t, uint64_t key);
void fio_tally_free(struct fio_tally *t);

/* Severity scale of io impacts: a share of the wall time, 0..1. */
double fio_share(double seconds, double wall_s);

#endif
