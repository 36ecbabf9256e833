/*
 * Sampling mode's exact live bytes (heap_sampled.c): the shim counts every
 * block's usable bytes (malloc_usable_size) per thread and publishes the
 * counts in MEM_USABLE records, so the live heap is known exactly in usable
 * bytes at every record. The sampled live blocks only have to tell how much
 * of that is slack (usable - requested): a ratio, whose estimate is far
 * steadier than the estimate of the live bytes themselves.
 */
#ifndef PA_HEAP_SAMPLED_H
#define PA_HEAP_SAMPLED_H

#include <stdint.h>

#include "heap_model.h"

/* A MEM_USABLE event (the caller applies --thread). */
void heap_usable_event(struct heap_model *m, const struct pa_event *ev);
/* A sampled block of `size` requested bytes, `slack` more usable ones and
 * weight w becomes live (sign +1) or goes (-1). */
void heap_usable_block(struct heap_model *m, double w, uint64_t size, uint64_t slack, int sign);
/* heap_model.c: the live block at addr is `usable` bytes in the allocator
 * (adds it with heap_usable_block). */
void heap_block_usable(struct heap_model *m, uint64_t addr, uint64_t usable);
/* In settle_estimates, after the exact counts: the leak from the exact
 * live bytes at the end; sites' peak and live bytes scaled to the totals. */
void heap_usable_finish(struct heap_model *m);
void heap_usable_free(struct heap_model *m);

#endif
