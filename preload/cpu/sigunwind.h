/*
 * Stack capture from inside a signal handler.
 *
 * Frame 0 is the interrupted pc taken from the signal's ucontext; the
 * caller frames come from libunwind, started on that ucontext as a signal
 * frame. libunwind starts on its first use (ps_unwind_start, unwind.c:
 * its locks are taken with every signal blocked, its memory comes from
 * mmap, so that may be a sample's walk in the handler), and a thread's
 * fast path (unw_backtrace's frame cache) is made by ps_sigunwind_warm()
 * outside a handler, or by a sample that ps_sigunwind_may_warm allows;
 * until then the thread's samples take the general walk, which needs no
 * per-thread allocation.
 *
 * A stack is unsafe to walk while the thread is inside the dynamic loader
 * (libunwind looks up unwind tables through dl_iterate_phdr, whose data the
 * loader is changing); ps_sigunwind_capture() says so and the caller drops
 * the sample.
 */
#ifndef PS_SIGUNWIND_H
#define PS_SIGUNWIND_H

#include <stdbool.h>
#include <stdint.h>

/* Once per process, outside a handler: the code ranges of the loader,
 * libunwind, libc and the shim. */
void ps_sigunwind_init(void);
/* Outside a handler, in the thread itself: the thread's frame cache. */
void ps_sigunwind_warm(void);
/* In a handler: may this sample make the thread's frame cache (the warmed
 * walk of ps_sigunwind_capture)? Yes when it interrupted code that holds
 * nothing the cache's making takes: not libc, the loader, libunwind or
 * the shim. */
bool ps_sigunwind_may_warm(const void *ucontext);
/* Whether samples may make frame caches at all (the allocator is glibc's):
 * if not, the starting thread is warmed at start. */
bool ps_sigunwind_lazy_ok(void);

enum { PS_UNWIND_OK = 0, PS_UNWIND_IN_LOADER = -1 };

/* Fill pcs[0..max) from the signal's ucontext, innermost first; returns
 * the number of frames (>= 1) or PS_UNWIND_IN_LOADER. Signal-safe once
 * warmed; `warmed`: this thread ran ps_sigunwind_warm (then the fast,
 * cached walk is used; else the general one). */
int ps_sigunwind_capture(void *ucontext, uintptr_t *pcs, int max, bool warmed);

/* Is pc in libunwind's code (known once ps_sigunwind_init ran)? */
bool ps_in_unwinder(uintptr_t pc);

#endif
