/*
 * The memory hooks' recording steps shared by mem.c's hooks and the full
 * recording paths: the real call inside a hook, the allocating stack, the
 * RSS check, and full recording's ALLOC records (numbered blocks,
 * mem_ids.h).
 *
 * Inline: every shim frame on the stack is one more frame the unwinder
 * must step through.
 */
#ifndef PS_MEM_RECORD_H
#define PS_MEM_RECORD_H

#include "calls.h"
#include "clock.h"
#include "mem.h"
#include "mem_below.h"
#include "mem_ids.h"
#include "unwind.h"

#define PS_INLINE inline __attribute__((always_inline))

/* --- the real call inside a hook --- */

/* A CPU sample landing in the real allocator while a hook runs it is the
 * program's time (shim.h, PS_REAL_CALL); two stores per recorded call. */
#define REAL_CALL(t, expr) PS_REAL_CALL(t, expr)
#define REAL_FREE(t, p) PS_REAL_VOID(t, real.free(p))

/* --- records --- */

/* With calls recorded, the shadow stack gives the stack without unwinding
 * when the allocating code is the innermost instrumented function itself:
 * its call of malloc and its call of the enter hook then left their return
 * addresses in the same slot, so the frame address of the outermost shim
 * frame equals the one the enter hook saw. The stack is then the call
 * site (return address of the shim's caller) and each instrumented
 * function's call site in its caller: return addresses, as unwinding
 * would give (ending one frame into the code that called the outermost
 * instrumented function). Otherwise (called through uninstrumented code,
 * an alloca'd frame, deeper than the shadow stack): -1, unwind. */
static PS_INLINE int shadow_stack(struct ps_thread *t, uintptr_t *pcs, int max, int *truncated)
{
	uintptr_t ret, frame, frame0 = 0;
	if (max < 2 || !ps_unwind_caller(&ret, &frame))
		return -1;
	int depth = ps_calls_depth(t);
	int k = ps_calls_sites(t, &frame0, pcs + 1, max - 1);
	if (k <= 0 || frame0 != frame)
		return -1;
	pcs[0] = ret;
	*truncated = depth > k;
	return k + 1;
}

/* Inlined into the hooks, like write_alloc and note_alloc: every shim
 * frame on the stack is one more frame libunwind must step through and
 * drop (~100 instructions each). */
static PS_INLINE uint64_t capture_stack(struct ps_thread *t)
{
	uintptr_t pcs[256];
	int truncated = 0;
	int n = t->calls ? shadow_stack(t, pcs, (int)ps_cfg.stack_depth, &truncated) : -1;
	if (n < 0 && ps_unwind_mode != PS_UNWIND_LIBUNWIND) {
		/* The cached unwinder interns as it goes (unwind_cache.c); it
		 * does not use libunwind, so a CPU sample may walk meanwhile. */
		uint64_t leaf;
		int max = (int)ps_cfg.stack_depth;
		int k = ps_unwind_cached(t, max, &leaf);
		if (PS_LIKELY(k >= 0)) {
			if (k > max)
				t->counters[PST_C_DROP_STACK_TRUNC]++;
			if (PS_UNLIKELY(t->cpu_pending))
				ps_cpu_hook_stack(t, pcs, ps_unwind_cached_pcs(t, pcs, max));
			return leaf;
		}
	}
	if (n < 0) {
		/* A CPU sample cannot walk the stack while libunwind does. */
		t->unwinding = 1;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		n = ps_unwind_here(pcs, (int)ps_cfg.stack_depth, &truncated);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		t->unwinding = 0;
	}
	if (PS_UNLIKELY(t->cpu_pending))
		ps_cpu_hook_stack(t, pcs, n);
	if (truncated)
		t->counters[PST_C_DROP_STACK_TRUNC]++;
	return ps_stack_intern(t, pcs, n);
}

/* RSS reading due? `now` is the time of the event just written (reading
 * the clock costs ~20 ns in a VM: once per event is enough). */
static inline void rss_check(struct ps_thread *t, uint64_t now)
{
	if (PS_UNLIKELY(now >= __atomic_load_n(&ps_rss_next, __ATOMIC_RELAXED)))
		ps_rss_tick(t);
}

/* A new block p (or a failed call, p == NULL) of `size` requested bytes,
 * full tracking: numbered (mem_ids.h). */
static PS_INLINE void note_alloc(struct ps_thread *t, unsigned fn, uint64_t size, void *p)
{
	ps_livemap_prefetch((uintptr_t)p); /* inserted after the stack walk */
	t->counters[PST_C_ALLOCS]++;
	t->live_bytes += (int64_t)usable(p);
	struct ps_alloc_rec r = {.fn = fn, .size = size, .addr = (uintptr_t)p};
	r.stack = capture_stack(t);
	uint64_t now = ps_now();
	ps_write_alloc_id(t, &r, now);
	rss_check(t, now);
}

/* A realloc's record, full tracking. old_id: p's id, taken from the map
 * before the real call (0: by address); the map is set right here: p back
 * when it lives on (the call failed), or as the resized block when it
 * stayed in place. */
static PS_INLINE uint64_t note_realloc(struct ps_thread *t, unsigned fn, uint64_t size, void *p,
				       void *q, bool old_gone, uint64_t old_id)
{
	if (q != p)
		ps_livemap_prefetch((uintptr_t)q); /* inserted after the stack walk */
	struct ps_alloc_rec r = {.fn = fn, .size = size, .addr = (uintptr_t)q};
	if (old_gone) {
		r.old = (uintptr_t)p;
		r.old_id = old_id;
		/* in place: the block keeps its identity (not a move) */
		if (q == p)
			r.same = !old_id || ps_livemap_insert((uintptr_t)q, old_id);
	} else if (old_id) {
		ps_livemap_insert((uintptr_t)p, old_id); /* failed: p lives on */
	}
	r.stack = capture_stack(t);
	uint64_t now = ps_now();
	ps_write_alloc_id(t, &r, now);
	return now;
}

#endif
