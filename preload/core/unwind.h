/*
 * Stack capture outside signal handlers (allocation hooks): libunwind's
 * local unwinder, with the shim's own frames removed from the top.
 * The CPU sampler has its own signal-path capture from a ucontext.
 */
#ifndef PS_UNWIND_H
#define PS_UNWIND_H

#include <stdint.h>

#ifndef UNW_LOCAL_ONLY
#define UNW_LOCAL_ONLY
#endif
#include <libunwind.h>

/* Find the shim's own code range and set libunwind's cache policy; call
 * once at start, outside any hook. */
void ps_unwind_init(void);
/* Frames the shim adds on top of the program's: the hook, the recorder,
 * operator new wrappers. Generous; only the top is cut. */
#define PS_MAX_SHIM_FRAMES 8
#define PS_MAX_CAPTURE 256

extern uintptr_t ps_shim_lo, ps_shim_hi; /* the shim's executable code */

static inline int ps_in_shim(uintptr_t pc)
{
	return pc >= ps_shim_lo && pc < ps_shim_hi;
}

/* Return addresses of the current call stack, innermost first, starting at
 * the first frame outside the shim; at most max (<= 256). Returns the
 * count; sets *truncated when the stack was deeper than max. Inline: a
 * frame of its own would be one more for libunwind to step through. */
static inline __attribute__((always_inline)) int ps_unwind_here(uintptr_t *pcs, int max,
								int *truncated)
{
	void *buf[PS_MAX_CAPTURE + PS_MAX_SHIM_FRAMES + 1];
	if (max > PS_MAX_CAPTURE)
		max = PS_MAX_CAPTURE;
	/* One extra frame tells whether the stack was cut. */
	int n = unw_backtrace(buf, max + PS_MAX_SHIM_FRAMES + 1);
	int skip = 0;
	while (skip < n && skip < PS_MAX_SHIM_FRAMES && ps_in_shim((uintptr_t)buf[skip]))
		skip++;
	/* Below the top, the shim's wrappers of calls the program made
	 * (pthread_create, a thread's start) are not the program's frames
	 * either: dropped too, so no stack shows the shim */
	int k = 0;
	*truncated = 0;
	for (int i = skip; i < n; i++) {
		if (ps_in_shim((uintptr_t)buf[i]))
			continue;
		if (k == max) {
			*truncated = 1;
			break;
		}
		pcs[k++] = (uintptr_t)buf[i];
	}
	return k;
}

/* By the shim's own frame pointers (it is built with them): the return
 * address into the first frame outside the shim, and the frame address
 * (saved frame-pointer slot, 8 bytes below the return address) of the
 * outermost shim frame. The program's frames are never read. Returns 0
 * when the walk fails. */
int ps_unwind_caller(uintptr_t *ret, uintptr_t *frame);

#endif
