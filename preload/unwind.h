/*
 * Stack capture outside signal handlers (allocation hooks): libunwind's
 * local unwinder, with the shim's own frames removed from the top.
 * The CPU sampler has its own signal-path capture from a ucontext.
 */
#ifndef PS_UNWIND_H
#define PS_UNWIND_H

#include <stdint.h>

/* Find the shim's own code range and set libunwind's cache policy; call
 * once at start, outside any hook. */
void ps_unwind_init(void);
/* Return addresses of the current call stack, innermost first, starting at
 * the first frame outside the shim; at most max (<= 256). Returns the
 * count; sets *truncated when the stack was deeper than max. */
int ps_unwind_here(uintptr_t *pcs, int max, int *truncated);

#endif
