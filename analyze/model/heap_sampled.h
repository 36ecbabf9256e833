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

#include <stdbool.h>
#include <stdint.h>

#include "heap_model.h"

/* A MEM_USABLE event (the caller applies --thread). */
void heap_usable_event(struct heap_model *m, const struct pa_event *ev);
/* release() of a live block (sampling mode): its slack, if known, goes. */
void heap_usable_release(struct heap_model *m, uint64_t addr, uint64_t size);
/* heap_model.c: the requested size of the live block at addr. */
bool heap_block_size(struct heap_model *m, uint64_t addr, uint64_t *size);
/* In settle_estimates, after the exact counts: the leak from the exact
 * live bytes at the end; sites' peak and live bytes scaled to the totals. */
void heap_usable_finish(struct heap_model *m);
void heap_usable_free(struct heap_model *m);

#endif
