/*
 * Calls recorder: the __cyg_profile_func_enter/exit hooks that GCC and Clang
 * emit for code built with -finstrument-functions.
 *
 * Each thread keeps a shadow stack of the instrumented functions it is in.
 * An exit is matched against that stack: when it is not the innermost frame
 * (longjmp, C++ exceptions, a hook missing on one side) the frames above the
 * match are popped with synthesized exits, so the stack never drifts. An
 * exit that matches no frame (its enter came before recording) is ignored
 * and counted.
 *
 * Two modes (PROFSHIM_CALLS):
 *   trace  every call as an ENTER and an EXIT record (the timeline). Function
 *          ids are small per-thread numbers defined by FUNC records on first
 *          use, so a typical call costs 3-5 bytes. With a minimum duration
 *          the ENTER is held back in the shadow frame and written only once
 *          the call has lasted long enough or a descendant is written.
 *   tree   a calling-context tree per thread, held in memory and written at
 *          the thread's end as CCT_NODE records: its size depends on the
 *          number of distinct call paths, not on the run length.
 *
 * Depth is bounded by PROFSHIM_CALLS_MAX_DEPTH: deeper calls are counted
 * (PST_C_DROP_CALL_DEPTH) and their hooks skip everything else. While they
 * are open, the stack pointer of the first one tells a later exit whether a
 * longjmp or exception has left them all.
 *
 * Stale frames: each frame keeps the stack pointer of its enter hook and
 * its call site. A new call whose stack pointer is above the innermost
 * frame's (shallower), or equal with another call site (a sibling; equal
 * with the same site is a function inlined into it), means that frame was
 * left by longjmp or an exception without an exit: it is closed then, not
 * at some later exit of an ancestor.
 *
 * Signals: every hook runs with the thread's busy flag set. A handler that
 * interrupts the program outside the shim nests its calls on the shadow
 * stack like any other calls. A handler whose instrumented functions run
 * while a hook (or any shim code) is interrupted sees the flag: its hook
 * calls are held back with their time in a small per-thread queue (slots
 * claimed atomically, handlers may nest) and applied, in order, by the next
 * hook before its own call. Signals interrupt code a lot: in a call-heavy
 * loop most of a thread's time is inside hooks, so dropping those calls
 * would lose most of a handler's calls. Only a full queue drops (counted in
 * PST_C_DROP_REENTRANT); a dropped exit is repaired like a longjmp.
 *
 * Fast path: no call that can change errno (only the slow paths that grow
 * a table or slide the trace window make system calls, and those save and
 * restore errno), no lock, no allocation.
 *
 * This file holds the hooks, the shadow stack's repair and the held-back
 * calls; the helpers they inline are in calls_internal.h, the cold paths
 * in trace_mode.c (function ids), cct.c (the tree's tables), state.c (a
 * thread's state), snapshot.c (writing the tree), fork.c and shadow.c.
 * The hooks' machine code must not change when code moves between these
 * files: tools/calls-hotpath-asm.sh compares two builds.
 */
#define _GNU_SOURCE
#include "calls_internal.h"

/* Innermost frame index of fn, or -1. */
static int find_frame(const struct ps_calls_thread *c, uintptr_t fn)
{
	for (int i = (int)c->depth - 1; i >= 0; i--)
		if (c->frames[i].fn == fn)
			return i;
	return -1;
}

/* ------------------------------------------------------------------ */
/* the hooks                                                           */

static inline struct ps_calls_thread *calls_of(struct ps_thread *t)
{
	struct ps_calls_thread *c = t->calls;
	return PS_LIKELY(c != NULL) ? c : ps_calls_create(t);
}

static __attribute__((noinline)) void enter_overflow(struct ps_thread *t, struct ps_calls_thread *c,
						     uintptr_t sp)
{
	if (!c->overflow)
		c->overflow_sp = sp;
	c->overflow++;
	t->counters[PST_C_DROP_CALL_DEPTH]++;
}

/* An exit while calls beyond the depth limit are open: true when it is one
 * of them. Hooks called from shallower frames have a higher stack pointer
 * (the stack grows down): then a longjmp or exception has left them all. */
static __attribute__((noinline)) bool exit_overflow(struct ps_calls_thread *c, uintptr_t sp)
{
	if (sp <= c->overflow_sp) {
		c->overflow--;
		return true;
	}
	c->overflow = 0;
	return false;
}

/* Is frame f dead, given a new call of fn at stack depth sp from site? A
 * live caller's enter hook ran higher up the stack than any callee's (the
 * stack grows down). The same stack pointer is either a function inlined
 * into f (same call site as f, another function) or a sibling called from
 * f's caller after f was left without an exit (another call site, or the
 * same function from the same site again). A caller whose stack pointer
 * differs between call sites can hide a dead frame until its next call or
 * exit: that frame then ends late, but the stack does not grow. */
static inline bool frame_dead(const struct call_frame *f, uintptr_t fn, uintptr_t sp,
			      uintptr_t site)
{
	if (f->sp == sp)
		return f->site != site || f->fn == fn;
	return f->sp < sp && sp - f->sp < UNWIND_SPAN;
}

/* Frames below a new call's stack depth are dead (longjmp, exception):
 * close them now, so that the new call is not nested under them. */
static __attribute__((noinline)) void pop_dead(struct ps_thread *t, struct ps_calls_thread *c,
					       uintptr_t fn, uintptr_t sp, uintptr_t site,
					       uint64_t now)
{
	while (c->depth && frame_dead(&c->frames[c->depth - 1], fn, sp, site)) {
		if (!now)
			now = ps_now(); /* all of them end at one time */
		pop(t, c, now);
	}
}

static HOT void do_enter(struct ps_thread *t, struct ps_calls_thread *c, uintptr_t fn, uintptr_t sp,
			 uintptr_t site, uint64_t now)
{
	/* a function inlined into its caller shares its stack pointer: the
	 * common case of this test, answered here without a call */
	if (PS_UNLIKELY(c->depth && c->frames[c->depth - 1].sp <= sp) &&
	    frame_dead(&c->frames[c->depth - 1], fn, sp, site))
		pop_dead(t, c, fn, sp, site, now);
	if (PS_LIKELY(c->depth < c->cap && !c->overflow))
		push(t, c, fn, sp, site, now);
	else
		enter_overflow(t, c, sp);
}

static __attribute__((noinline)) void exit_unwound(struct ps_thread *t, struct ps_calls_thread *c,
						   uintptr_t fn, uint64_t now)
{
	int k = find_frame(c, fn);
	if (k < 0) {
		t->counters[PST_C_DROP_CALL_UNMATCHED]++;
		return;
	}
	if (!now)
		now = ps_now(); /* all of them end at one time */
	while ((int)c->depth > k)
		pop(t, c, now);
}

static HOT void do_exit(struct ps_thread *t, struct ps_calls_thread *c, uintptr_t fn, uintptr_t sp,
			uint64_t now)
{
	if (PS_UNLIKELY(c->overflow) && exit_overflow(c, sp))
		return;
	if (PS_LIKELY(c->depth && c->frames[c->depth - 1].fn == fn))
		pop(t, c, now);
	else
		exit_unwound(t, c, fn, now);
}

/* --- hook calls made while the thread was busy --- */

/* Hold back a hook call of a signal handler that interrupted a hook (or
 * another part of the shim): the interrupted code owns the shadow stack
 * and the trace window until it returns. Slots are claimed atomically, as
 * handlers can nest. */
static __attribute__((noinline)) void pending_add(struct ps_thread *t, struct ps_calls_thread *c,
						  uintptr_t fn, uintptr_t sp, uintptr_t site,
						  bool is_exit)
{
	uint64_t now = ps_now();
	uint32_t i = __atomic_fetch_add(&c->npending, 1, __ATOMIC_RELAXED);
	if (i >= PENDING_MAX) {
		__atomic_fetch_sub(&c->npending, 1, __ATOMIC_RELAXED);
		t->counters[PST_C_DROP_REENTRANT]++;
		return;
	}
	c->pending[i].fn = fn;
	c->pending[i].sp = sp;
	c->pending[i].site = site;
	c->pending[i].at_exit = now << 1 | is_exit;
	__atomic_signal_fence(__ATOMIC_RELEASE);
}

/* Apply the held-back calls, in order. They all happened before the
 * current hook read its clock, or after the previous one: either way
 * between two hook calls, which is where they are applied. Handlers that
 * interrupt this loop append; the final compare-and-swap sees them. */
__attribute__((noinline)) void ps_calls_pending_drain(struct ps_thread *t,
						      struct ps_calls_thread *c)
{
	uint32_t i = 0;
	for (;;) {
		uint32_t n = __atomic_load_n(&c->npending, __ATOMIC_ACQUIRE);
		if (i >= n) {
			if (__atomic_compare_exchange_n(&c->npending, &n, 0, 0, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				return;
			continue;
		}
		struct pending_call p = c->pending[i++];
		uint64_t at = p.at_exit >> 1;
		if (!(p.at_exit & 1)) {
			if (c->depth < c->cap && !c->overflow && !c->pending_overflow) {
				if (c->depth && c->frames[c->depth - 1].sp <= p.sp)
					pop_dead(t, c, p.fn, p.sp, p.site, at);
				push(t, c, p.fn, p.sp, p.site, at);
			} else {
				c->pending_overflow++;
				t->counters[PST_C_DROP_CALL_DEPTH]++;
			}
		} else if (c->pending_overflow) {
			c->pending_overflow--;
		} else if (c->depth && c->frames[c->depth - 1].fn == p.fn) {
			pop(t, c, at);
		} else {
			exit_unwound(t, c, p.fn, at);
		}
	}
}

/* --- the hooks --- */

/* Everything but the common case: the thread's first event, its first
 * call, a busy thread (a signal handler's calls), recording paused. */
static COLD void hook_slow(uintptr_t fn, uintptr_t sp, uintptr_t site, bool is_exit)
{
	if (!ps_recording || !(ps_cfg.record & PST_REC_CALLS))
		return;
	struct ps_thread *t = ps_self;
	if (!t) {
		int saved = errno;
		t = ps_thread_get();
		errno = saved;
		if (!t)
			return;
	}
	if (t->busy) {
		if (t->calls)
			pending_add(t, t->calls, fn, sp, site, is_exit);
		else
			t->counters[PST_C_DROP_REENTRANT]++;
		return;
	}
	t->busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	struct ps_calls_thread *c = calls_of(t);
	if (c) {
		uint64_t now = ps_now();
		if (c->npending)
			ps_calls_pending_drain(t, c);
		if (is_exit)
			do_exit(t, c, fn, sp, now);
		else
			do_enter(t, c, fn, sp, site, now);
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
}

/* Every hook call but the fastest: checks what the fast path left out. */
#define HOOK_GENERAL_PATH(t, c)                                                                    \
	struct ps_thread *t = ps_self;                                                             \
	struct ps_calls_thread *c;                                                                 \
	if (PS_UNLIKELY(!t || !(c = t->calls) || t->busy || !ps_recording))                        \
		goto slow;                                                                         \
	t->busy = 1;                                                                               \
	__atomic_signal_fence(__ATOMIC_SEQ_CST);                                                   \
	/* tree mode reads the clock only for the calls it times */                                \
	uint64_t now = c->mode == PS_CALLS_TREE ? 0 : ps_now();                                    \
	if (PS_UNLIKELY(c->npending))                                                              \
	ps_calls_pending_drain(t, c)

static __attribute__((noinline)) void enter_general(uintptr_t fn, uintptr_t sp, uintptr_t site)
{
	HOOK_GENERAL_PATH(t, c);
	do_enter(t, c, fn, sp, site, now);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
	return;
slow:
	hook_slow(fn, sp, site, false);
}

static __attribute__((noinline)) void exit_general(uintptr_t fn, uintptr_t sp, uintptr_t site)
{
	HOOK_GENERAL_PATH(t, c);
	do_exit(t, c, fn, sp, now);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
	return;
slow:
	hook_slow(fn, sp, site, true);
}

/* The thread records calls in tree mode and nothing unusual is going on:
 * no held-back calls of a signal handler, no calls beyond the depth limit.
 * (t->calls exists only when calls are recorded.) */
static HOT struct ps_calls_thread *tree_fast(struct ps_thread *t)
{
	struct ps_calls_thread *c;
	_Static_assert(PS_CALLS_TREE == 0, "mode_and_pending is 0 in tree mode");
	if (PS_LIKELY(t && (c = t->calls) && !t->busy && ps_recording && !c->mode_and_pending &&
		      !c->overflow))
		return c;
	return NULL;
}

/* The end of every fast enter: frame d is complete, push it. */
static HOT void tree_push_frame(struct ps_thread *t, struct ps_calls_thread *c, uint32_t d)
{
	__atomic_signal_fence(__ATOMIC_RELEASE); /* frame before depth */
	c->depth = d + 1;
	t->counters[PST_C_CALLS]++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
}

/* The end of a timed enter on the fast path: a tail call, so that the
 * untimed path makes no call and saves few registers. The clock is read
 * last, so that little of the hook is inside the call's time: timed calls
 * must cost what the untimed ones they stand for do. */
static __attribute__((noinline)) void tree_enter_timed(struct ps_thread *t,
						       struct ps_calls_thread *c, uint32_t d,
						       struct cct_node *n, bool exact)
{
	n->calls++;
	uint32_t weight = 1;
	if (!exact) {
		c->countdown = next_gap(c);
		weight = c->sample_every;
	}
	struct call_frame *f = &c->frames[d];
	f->weight = weight;
	f->calls0 = t->counters[PST_C_CALLS]; /* tree_push_frame counts it */
	f->start = ps_now();
	tree_push_frame(t, c, d);
}

/* Frame d (function, stack pointer, call site and node written) opens a
 * call of node n: timed or not as tree_timing decides, and pushed. False
 * for the call after the node's exact ones, which leaves the choice
 * between exact and sampling to the general path; nothing has changed. */
static HOT bool tree_enter_node(struct ps_thread *t, struct ps_calls_thread *c, uint32_t d,
				struct cct_node *n)
{
	uint64_t calls = n->calls;
	if (calls < n->exact_until) {
		tree_enter_timed(t, c, d, n, true);
		return true;
	}
	if (PS_UNLIKELY(n->exact_until))
		return false;
	if (PS_UNLIKELY(c->countdown == 1)) {
		tree_enter_timed(t, c, d, n, false);
		return true;
	}
	c->countdown--;
	n->calls = calls + 1;
	c->frames[d].weight = 0;
	tree_push_frame(t, c, d);
	return true;
}

/* The fast enter of a child missing from its parent's cache (a parent
 * with more callees than cache slots, like an interpreter's dispatch
 * loop): found in the index, it is entered here; else the general path
 * creates it. Frame d has its function, stack pointer and call site. */
static __attribute__((noinline)) void
tree_enter_indexed(struct ps_thread *t, struct ps_calls_thread *c, uint32_t d, uint32_t parent)
{
	struct call_frame *f = &c->frames[d];
	uint32_t kid = index_find(c, parent, f->fn);
	if (kid) {
		c->nodes[parent].kid[kid_slot(f->fn)] = kid;
		f->node = kid;
		if (tree_enter_node(t, c, d, &c->nodes[kid]))
			return;
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
	enter_general(f->fn, f->sp, f->site);
}

/* Tree mode's usual enter: a call of a function the parent's node already
 * knows, from a deeper stack frame. Anything else (a new child, the end of
 * a node's exact calls, longjmp repair, the depth limit) goes to the
 * general path with nothing changed but frame d above the stack. */
PS_EXPORT void __cyg_profile_func_enter(void *fn_, void *call_site)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t fn = (uintptr_t)fn_, site = (uintptr_t)call_site;
	struct ps_thread *t = ps_self;
	struct ps_calls_thread *c = tree_fast(t);
	if (PS_UNLIKELY(c == NULL))
		goto general;
	t->busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	uint32_t d = c->depth;
	if (PS_UNLIKELY(d - 1 >= c->cap - 1)) /* d == 0 or d >= cap */
		goto leave;
	const struct call_frame *top = &c->frames[d - 1];
	uint32_t parent = top->node;
	if (PS_UNLIKELY(parent == CCT_UNTRACKED))
		goto leave;
	if (PS_UNLIKELY(top->sp <= sp) && frame_dead(top, fn, sp, site))
		goto leave;
	struct call_frame *f = &c->frames[d];
	f->fn = fn;
	f->sp = sp;
	f->site = site;
	uint32_t kid = c->nodes[parent].kid[kid_slot(fn)];
	struct cct_node *n = &c->nodes[kid];
	if (PS_UNLIKELY(!kid || n->fn != fn))
		return tree_enter_indexed(t, c, d, parent);
	f->node = kid;
	if (PS_LIKELY(tree_enter_node(t, c, d, n)))
		return;
leave:
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
general:
	enter_general(fn, sp, site);
}

/* Tree mode's timed exit of the call on top of the stack: the clock is
 * read first thing. (A tail call from the hook, which then needs no saved
 * registers for its usual, untimed case.) */
static __attribute__((noinline)) void tree_exit_timed(struct ps_thread *t,
						      struct ps_calls_thread *c, uint32_t d)
{
	uint64_t now = ps_now();
	t->busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	cct_account(t, c, &c->frames[d - 1], now);
	c->depth = d - 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->busy = 0;
}

/* Tree mode's usual exit, an untimed call on top of the stack, is one
 * store: it needs no busy flag, as a signal handler that runs its own
 * calls in between leaves the stack as it found it. */
PS_EXPORT void __cyg_profile_func_exit(void *fn, void *call_site)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	struct ps_thread *t = ps_self;
	struct ps_calls_thread *c = tree_fast(t);
	if (PS_LIKELY(c != NULL)) {
		uint32_t d = c->depth;
		if (PS_LIKELY(d && c->frames[d - 1].fn == (uintptr_t)fn)) {
			if (PS_LIKELY(!c->frames[d - 1].weight))
				c->depth = d - 1;
			else
				tree_exit_timed(t, c, d);
			return;
		}
	}
	exit_general((uintptr_t)fn, sp, (uintptr_t)call_site);
}
