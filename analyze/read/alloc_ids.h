/*
 * ALLOC and FREE records of thread files with PST_FLAG_ALLOC_IDS
 * (ALLOCATION IDS in include/profshim_trace.h): blocks named by number
 * become the 64-bit keys the heap model uses like addresses
 * (pst_block_key), times come in units of 2^mem_time_shift ticks.
 */
#ifndef PA_ALLOC_IDS_H
#define PA_ALLOC_IDS_H

#include "decode.h"
#include "session.h"

#define PA_IDS_WHY 96

/* The fields of an ALLOC after its tag (q: the tag's value): fills
 * ev->u.alloc except the stack, whose file-local id goes to *stack_local,
 * and advances t->now. 0, or -1 with why (PA_IDS_WHY bytes) saying what
 * is wrong. */
int pa_ids_alloc(struct pa_thread *t, struct pa_cursor *c, uint64_t q, struct pa_event *ev,
		 uint64_t *stack_local, char *why);
/* The same for a FREE: fills ev->u.free. */
int pa_ids_free(struct pa_thread *t, struct pa_cursor *c, uint64_t q, struct pa_event *ev,
		char *why);

#endif
