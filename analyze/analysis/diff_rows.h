/*
 * The rows of a diff section, for the files that build sections (diff.c,
 * diff_io.c): rows found by name, metrics set per side (summed when a
 * name comes twice: two processes of one side), each row's status from
 * its first metric, and the ranking (diff.h).
 */
#ifndef PA_DIFF_ROWS_H
#define PA_DIFF_ROWS_H

#include "diff.h"

struct row_index {
	struct pa_pairmap map; /* (hash, 0) -> row + 1 */
};

struct diff_row *diff_row_for(struct diff_section *sec, struct row_index *ix, const char *name,
			      const char *where);
void diff_metric_set(struct diff_row *r, int i, const char *name, const char *unit);
void diff_set_side(struct diff_row *r, int i, bool new_side, double v);
/* Status from the first metric: a change counts above noise, above
 * DIFF_MIN_RUN of run_total and DIFF_MIN_REL of the base value. */
void diff_settle_row(struct diff_row *r, double run_total, double noise);
void diff_rank(struct diff_section *sec);
void diff_not_compared(struct diff_section *sec, const char *what, bool in_base, bool in_new);

/* The I/O section: per file and peer (diff_io.c). */
void diff_io(struct pa_diff *d);

#endif
