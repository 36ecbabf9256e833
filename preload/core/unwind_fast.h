/*
 * The cached unwinder's common case, inline in the allocation hooks: the
 * stack is one of the kept walks' from its innermost frame out (an
 * allocation in a loop; the few paths of an interpreter's allocations),
 * proven by the slots that walk read (the argument is at tail_intact in
 * unwind_cache.c). Inline because on an allocation-heavy program this is
 * most of the walk's cost: a call, a frame with its saved registers and
 * one more shim frame to climb were a quarter of it. Everything else
 * (no cache yet, code loaded since, a walk) is out of line.
 */
#ifndef PS_UNWIND_FAST_H
#define PS_UNWIND_FAST_H

#include "shim.h"
#include "unwind.h"

extern PS_HIDDEN uint64_t ps_unwind_code_gen; /* bumped when code is loaded or unloaded */

/* The whole cached unwinder from the calling hook (unwind_cache.c). */
int ps_unwind_cached_slow(struct ps_thread *t, int max, uint64_t *leaf);
/* The walk from the program's frame (ip, sp, bp) when no kept walk is the
 * stack from its top (unwind_cache.c). */
int ps_unwind_walk(struct ps_thread *t, struct ps_unwind_cache *uc, uintptr_t ip, uintptr_t sp,
		   uintptr_t bp, int max, uint64_t *leaf);

static inline bool ps_slot_same(const struct ps_slot_check *s)
{
	return *(const uintptr_t *)s->addr == s->value;
}

/* Slots first[0 .. n), innermost (the last) first, and no slot read past
 * the first that differs: as long as the slots so far are equal, the next
 * one is a slot a fresh walk would read too, so this reads no memory a
 * fresh walk would not (a stack that is no longer there, say a fiber's,
 * is not read past the point where it differs). A branch each (a load may
 * not move above the branch before it): 4 instructions a slot. The odd
 * ones first (one jump into the unrolled compares), then eight at a time:
 * the loop's own count and branch once per eight slots. */
static inline __attribute__((always_inline)) bool ps_slots_same(const struct ps_slot_check *first,
								unsigned n)
{
	const struct ps_slot_check *s = first + n;
	switch (n & 7) {
	case 7:
		if (!ps_slot_same(--s))
			return false;
		/* fall through */
	case 6:
		if (!ps_slot_same(--s))
			return false;
		/* fall through */
	case 5:
		if (!ps_slot_same(--s))
			return false;
		/* fall through */
	case 4:
		if (!ps_slot_same(--s))
			return false;
		/* fall through */
	case 3:
		if (!ps_slot_same(--s))
			return false;
		/* fall through */
	case 2:
		if (!ps_slot_same(--s))
			return false;
		/* fall through */
	case 1:
		if (!ps_slot_same(--s))
			return false;
		/* fall through */
	default:
		break;
	}
	for (; s != first; s -= 8)
		if (!ps_slot_same(s - 1) || !ps_slot_same(s - 2) || !ps_slot_same(s - 3) ||
		    !ps_slot_same(s - 4) || !ps_slot_same(s - 5) || !ps_slot_same(s - 6) ||
		    !ps_slot_same(s - 7) || !ps_slot_same(s - 8))
			return false;
	return true;
}

/* Kept walk `top` is the stack from the program frame (ip, sp, bp) out:
 * the walk's test for its innermost frame (match in unwind_cache.c), from
 * the top record alone. An ip is never 0: top->ip 0 is no kept walk. */
static inline __attribute__((always_inline)) bool
ps_top_same(const struct ps_unwind_top *top, uintptr_t ip, uintptr_t sp, uintptr_t bp)
{
	return top->ip == ip && top->sp == sp && !((top->bp ^ bp) & top->bp_mask) &&
	       ps_slots_same(top->checks, top->nchecks);
}

/* The return address into the first frame outside the shim and the frame
 * address of the outermost shim frame, by the shim's own frame pointers
 * (ps_unwind_caller inline, from the hook's own frame). The same answer
 * wherever inside the shim it starts: it stops at the first return
 * address outside the shim. */
static inline __attribute__((always_inline)) bool ps_program_frame(uintptr_t *ret, uintptr_t *frame)
{
	const uintptr_t *fp = __builtin_frame_address(0);
	uintptr_t lo = ps_shim_lo, size = ps_shim_hi - ps_shim_lo;
	for (int i = 0; i < 2 * PS_MAX_SHIM_FRAMES && fp; i++) {
		uintptr_t r = fp[1];
		if (r - lo >= size) { /* outside [lo, hi) */
			*ret = r;
			*frame = (uintptr_t)fp;
			return true;
		}
		fp = (const uintptr_t *)fp[0];
	}
	return false;
}

/* The stack from the program frame whose return address is ret and whose
 * frame address (the outermost shim frame's) is frame. Any kept walk
 * matching gives the same stack, so the order they are tried in changes
 * no stack. Outside the cached mode no top is set, so none matches. */
static inline __attribute__((always_inline)) int ps_unwind_from(struct ps_thread *t,
								struct ps_unwind_cache *uc,
								uintptr_t ret, uintptr_t frame,
								int max, uint64_t *leaf)
{
	/* The program's frame: the return address into it, its stack pointer
	 * once the shim's outermost frame is gone, and its rbp, saved by that
	 * frame's prologue (the shim keeps frame pointers). */
	uintptr_t sp = frame + 16, bp = *(const uintptr_t *)frame;
	for (int c = 0; c < PS_CHAINS; c++) {
		struct ps_unwind_top *top = &uc->top[c];
		if (ps_top_same(top, ret, sp, bp)) {
			top->stamp = ++uc->clock;
			uc->last = c;
			*leaf = top->node;
			return top->depth;
		}
	}
	return ps_unwind_walk(t, uc, ret, sp, bp, max, leaf);
}

/* The calling hook's program stack interned into t's stack trie (see
 * unwind.h). */
static inline __attribute__((always_inline)) int ps_unwind_cached(struct ps_thread *t, int max,
								  uint64_t *leaf)
{
	/* the cache is at the start of the thread's stack table (stacks.c) */
	struct ps_unwind_cache *uc = (struct ps_unwind_cache *)t->stacks;
	uintptr_t ret, frame;
	if (PS_UNLIKELY(!uc || uc->gen != __atomic_load_n(&ps_unwind_code_gen, __ATOMIC_ACQUIRE) ||
			!ps_program_frame(&ret, &frame)))
		return ps_unwind_cached_slow(t, max, leaf);
	return ps_unwind_from(t, uc, ret, frame, max, leaf);
}

#endif
