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

/* By the shim's own frame pointers (it is built with them): the return
 * address into the first frame outside the shim, and the frame address
 * (saved frame-pointer slot, 8 bytes below the return address) of the
 * outermost shim frame. The program's frames are never read. Returns 0
 * when the walk fails. */
int ps_unwind_caller(uintptr_t *ret, uintptr_t *frame);

#endif
