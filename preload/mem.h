/*
 * Memory recorder internals shared by mem.c (the malloc-family hooks),
 * mem_cxx.c (operator new/delete), memsample.c (PROFSHIM_MEM_SAMPLE) and
 * rss.c (resident set size over time).
 */
#ifndef PS_MEM_H
#define PS_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shim.h"

/* --- memsample.c: Poisson sampling by bytes --- */
/* Non-zero when PROFSHIM_MEM_SAMPLE is set: only sampled allocations (and
 * the frees of sampled blocks) are written. */
extern uint64_t ps_memsample_mean;
void ps_memsample_init(void);
/* Charge `size` bytes to this thread's sampling clock; true when this
 * allocation is a sample. */
bool ps_memsample_take(size_t size);
/* Remember a sampled block's address (false: the set is full, its free
 * will not be seen) / forget it at its free. forget returns true when addr
 * was a sampled block (its free must be written). */
bool ps_memsample_remember(uintptr_t addr);
bool ps_memsample_forget(uintptr_t addr);

/* --- rss.c --- */
/* Event clock time of the next due RSS reading (0: read at the next event,
 * UINT64_MAX: off). ps_rss_tick(t) must run with t entered (busy). */
extern uint64_t ps_rss_next;
void ps_rss_init(void);

#endif
