/*
 * The allocation hooks' unwinder: walks the program's frames with the CFA
 * rules of its code (cfi.c), cached per thread by address, and reuses the
 * outer part of the previous walk of the same thread together with its
 * stack-trie nodes.
 *
 * Why: libunwind's unw_backtrace costs a context save and a cursor set-up
 * per call plus a step per frame, and the stack trie then looked up every
 * frame again: together most of the shim's cost on an allocation-heavy
 * program whose stacks are deep but change only at the top.
 *
 * Reuse is a proof, not a guess. A frame is (ip, sp, bp): its return
 * address, its stack pointer (the CFA of the frame inside it) and its rbp.
 * When the walk reaches a frame equal to one of the previous walk's, every
 * stack slot the previous walk read from there outward (kept with it as
 * address and value) must still hold the same value: then a fresh walk
 * would make the very same reads with the same results, so the stack is
 * the same as a fresh walk's (the argument is at tail_intact). Only then
 * are their ids reused.
 *
 * Anything the rules do not cover (no unwind information, signal frames,
 * CFA expressions, a stack deeper than the chain) returns -1: the caller
 * unwinds with libunwind as before. PROFSHIM_UNWIND=libunwind always does;
 * PROFSHIM_UNWIND=nocache walks without reusing the previous walk (both
 * for tests that compare the three).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "shim.h"
#include "unwind.h"
#include "unwind_fast.h"

int ps_unwind_mode = PS_UNWIND_CACHED;
uint64_t ps_unwind_code_gen;

void ps_unwind_code_changed(void)
{
	__atomic_add_fetch(&ps_unwind_code_gen, 1, __ATOMIC_RELEASE);
}

void ps_unwind_mode_init(void)
{
	const char *v = getenv("PROFSHIM_UNWIND");
	if (!v || !*v || !strcmp(v, "cached"))
		ps_unwind_mode = PS_UNWIND_CACHED;
	else if (!strcmp(v, "nocache"))
		ps_unwind_mode = PS_UNWIND_NOCACHE;
	else if (!strcmp(v, "libunwind"))
		ps_unwind_mode = PS_UNWIND_LIBUNWIND;
	else
		ps_log("PROFSHIM_UNWIND: expected cached, nocache or libunwind; using cached",
		       NULL);
}

static inline uint32_t rule_hash(uintptr_t ip)
{
	return (uint32_t)((ip * 0x9e3779b97f4a7c15ull) >> (64 - PS_RULE_BITS));
}

/* The rule for the frame whose return address is ip (its code is at
 * ip - 1: a call may be the last instruction of a function). */
static inline bool rule_of(struct ps_unwind_cache *uc, uintptr_t ip, struct ps_frame_rule *r)
{
	struct ps_rule_slot *s = &uc->rules[rule_hash(ip)];
	if (PS_LIKELY(s->ip == ip)) {
		*r = s->rule;
		return true;
	}
	if (!ps_cfi_rule(ip - 1, r))
		return false; /* not cached: the fallback handles it */
	s->ip = ip;
	s->rule = *r;
	return true;
}

/* One frame out: false when the result cannot be a caller's frame. */
static inline bool step(const struct ps_frame_rule *r, uintptr_t *ip, uintptr_t *sp, uintptr_t *bp)
{
	uintptr_t cfa = (r->cfa_is_rbp ? *bp : *sp) + (uintptr_t)(intptr_t)r->cfa_off;
	if (PS_UNLIKELY(cfa <= *sp || cfa - *sp > PS_MAX_FRAME_BYTES))
		return false;
	*ip = *(const uintptr_t *)(cfa - 8);
	if (r->rbp_off)
		*bp = *(const uintptr_t *)(cfa + (intptr_t)r->rbp_off);
	*sp = cfa;
	return true;
}

/* A kept walk's frames from q outward are the stack still, given that
 * frame q itself is equal (same ip and sp, and same bp where the walk
 * outward reads it: match checks those).
 *
 * Why this proves it: the walk from a frame is a function of the frame's
 * (ip, sp, bp), the rules of the code (fixed while the code generation is
 * unchanged: cache_of drops the chains otherwise) and the stack slots it
 * reads. A step reads the return address at CFA - 8 and the saved rbp at
 * CFA + rbp_off; its CFA comes from sp or bp. Starting from an equal
 * frame q, if every slot the kept walk read from q outward holds the
 * value it held then, each step computes the same CFA (by induction: the
 * same sp, and the same bp wherever a CFA reads it), so reads the same
 * slot addresses, finds the same values and ends the same way (the final
 * null return address is one of the slots). So the slots are all there
 * is to compare: one load and compare per slot, nothing recomputed.
 * A saved rbp that no CFA further out depends on (bp_needed of the frame
 * it goes into) is not compared: code built without frame pointers keeps
 * any value in rbp, which may differ while the stack does not.
 *
 * Why not less: one frame's (return address, CFA) being equal does not
 * prove its callers are. main calls f at call site A, f calls malloc;
 * later main calls f at call site B with the same stack depth: f's frame
 * has the same return address (into f) and the same stack pointer both
 * times, while main's frame above it differs (A or B, in the slot f's
 * frame was called with). Only the slots say that; nothing outside the
 * shim tells when a frame returned (no return-address patching: that
 * breaks exceptions, longjmp and code that reads its own stack). For the
 * same reason longjmp, signal handlers and swapcontext need no
 * invalidation: whatever they did to the stack, the slots show it.
 *
 * The slots are compared innermost first: when a new path shares part of
 * a kept walk, its inner slots are the ones that differ (and see
 * ps_slots_same in unwind_fast.h). */

/* Kept walk c's frames from q outward are the stack still (see above). */
static inline bool tail_intact(const struct ps_unwind_chain *c, int q)
{
	return ps_slots_same(c->checks, c->f[q].checks);
}

/* Code was loaded or unloaded since uc's rules and walks were made: they
 * start over. */
static void cache_reset(struct ps_unwind_cache *uc, uint64_t gen)
{
	memset(uc->rules, 0, sizeof(uc->rules));
	for (int c = 0; c < PS_CHAINS; c++) {
		uc->ch[c].n = 0;
		uc->ch[c].reusable = false;
		uc->top[c].ip = 0;
	}
	uc->gen = gen;
}

static struct ps_unwind_cache *cache_of(struct ps_thread *t)
{
	struct ps_unwind_cache *uc = ps_stack_unwind_cache(t);
	if (!uc)
		return NULL;
	uint64_t gen = __atomic_load_n(&ps_unwind_code_gen, __ATOMIC_ACQUIRE);
	if (PS_UNLIKELY(uc->gen != gen))
		cache_reset(uc, gen);
	return uc;
}

enum { PS_WALK_FAIL = -1, PS_WALK_CUT = -2 };
#define PS_LAST_CUT (-1) /* uc->last: the last walk was cut, in uc->fresh */

/* A kept walk with frame (ip, sp, bp) proven the stack from there out:
 * its index (*keep: its frames kept, outermost first), or -1. q[c]
 * follows each chain down as the walk goes up the stack. */
static int match(struct ps_unwind_cache *uc, int *q, uintptr_t ip, uintptr_t sp, uintptr_t bp,
		 int *keep)
{
	for (int c = 0; c < PS_CHAINS; c++) {
		const struct ps_unwind_chain *ch = &uc->ch[c];
		if (!ch->reusable)
			continue;
		int i = q[c];
		while (i >= 0 && ch->f[i].sp < sp)
			i--;
		q[c] = i;
		if (i >= 0 && ch->f[i].sp == sp && ch->f[i].ip == ip &&
		    (!ch->f[i].bp_needed || ch->f[i].bp == bp) && tail_intact(ch, i)) {
			*keep = i + 1;
			return c;
		}
	}
	return -1;
}

/* The chain a walk matching none replaces: the least recently used. */
static int victim(const struct ps_unwind_cache *uc)
{
	int v = 0;
	for (int c = 1; c < PS_CHAINS; c++)
		if (!uc->ch[c].reusable ||
		    (uc->ch[v].reusable && (int32_t)(uc->top[c].stamp - uc->top[v].stamp) < 0))
			v = c;
	return v;
}

/* Walk from the program frame (ip, sp, bp) into uc->fresh until a frame
 * proven equal to one of a kept walk's (*chain: that walk, *keep: its
 * frames kept, outermost first) or the end of the stack (*chain: the walk
 * to replace, *keep 0). Returns the number of fresh frames; PS_WALK_CUT
 * once more than max frames are shown (uc->fresh holds them),
 * PS_WALK_FAIL when the walk cannot go on. */
static int walk(struct ps_unwind_cache *uc, uintptr_t ip, uintptr_t sp, uintptr_t bp, int max,
		int *chain, int *keep)
{
	int k = 0, shown = 0, q[PS_CHAINS];
	bool reuse = ps_unwind_mode == PS_UNWIND_CACHED;
	for (int c = 0; c < PS_CHAINS; c++)
		q[c] = uc->ch[c].n - 1;
	*keep = 0;
	for (;;) {
		if (reuse && (*chain = match(uc, q, ip, sp, bp, keep)) >= 0)
			return k;
		if (k == PS_CHAIN_MAX)
			return PS_WALK_FAIL;
		struct ps_unwind_frame *f = &uc->fresh[k++];
		f->ip = ip;
		f->sp = sp;
		f->bp = bp;
		f->shown = !ps_in_shim(ip);
		shown += f->shown;
		if (shown > max)
			return PS_WALK_CUT; /* the stack is cut: nothing more needed */
		if (!rule_of(uc, ip, &f->rule))
			return PS_WALK_FAIL;
		if (f->rule.outermost)
			break;
		if (!step(&f->rule, &ip, &sp, &bp))
			return PS_WALK_FAIL;
		if (ip == 0)
			break;
	}
	*chain = victim(uc);
	return k;
}

/* The slots the walk read stepping out of frame i (see tail_intact), in
 * ch->checks after those of the frames outside it. */
static void note_checks(struct ps_unwind_chain *ch, int i)
{
	struct ps_unwind_frame *f = &ch->f[i];
	int k = i > 0 ? ch->f[i - 1].checks : 0;
	if (i == 0) {
		/* the outermost: the walk ended here on a null return
		 * address, unless the rules say the stack ends */
		if (!f->rule.outermost) {
			uintptr_t cfa = (f->rule.cfa_is_rbp ? f->bp : f->sp) +
					(uintptr_t)(intptr_t)f->rule.cfa_off;
			ch->checks[k++] = (struct ps_slot_check){cfa - 8, 0};
		}
	} else {
		const struct ps_unwind_frame *out = &ch->f[i - 1];
		ch->checks[k++] = (struct ps_slot_check){out->sp - 8, out->ip};
		if (f->rule.rbp_off && out->bp_needed)
			ch->checks[k++] = (struct ps_slot_check){
			    out->sp + (uintptr_t)(intptr_t)f->rule.rbp_off, out->bp};
	}
	f->checks = (uint16_t)k;
}

/* Put the fresh frames on top of the kept ones, outermost first, with
 * their depth, whether their bp is read further out and the slots that
 * prove them; false when the chain grows too long. */
static bool stack_fresh(struct ps_unwind_chain *ch, const struct ps_unwind_frame *fresh, int keep,
			int n)
{
	if (keep + n > PS_CHAIN_MAX)
		return false;
	for (int j = n - 1, i = keep; j >= 0; j--, i++) {
		struct ps_unwind_frame *f = &ch->f[i];
		*f = fresh[j];
		const struct ps_unwind_frame *out = i > 0 ? &ch->f[i - 1] : NULL;
		f->depth = (uint16_t)((out ? out->depth : 0) + f->shown);
		bool ends = f->rule.outermost || !out;
		bool uses = !f->rule.outermost && f->rule.cfa_is_rbp;
		f->bp_needed = uses || (!ends && !f->rule.rbp_off && out->bp_needed);
		note_checks(ch, i);
	}
	ch->n = keep + n;
	return true;
}

/* Stack-trie ids for frames from..n-1, on top of frame from-1's. */
static bool intern_from(struct ps_thread *t, struct ps_unwind_chain *ch, int from)
{
	uint64_t node = from > 0 ? ch->f[from - 1].node : 0;
	for (int i = from; i < ch->n; i++) {
		struct ps_unwind_frame *f = &ch->f[i];
		if (f->shown) {
			node = ps_stack_child(t, node, f->ip);
			if (!node)
				return false;
		}
		f->node = node;
	}
	return true;
}

/* Kept walk c is reusable: its innermost frame and slots into uc->top[c]
 * (only in the cached mode: nocache must never reuse a walk). */
static void set_top(struct ps_unwind_cache *uc, int c)
{
	struct ps_unwind_chain *ch = &uc->ch[c];
	struct ps_unwind_top *top = &uc->top[c];
	top->stamp = ++uc->clock;
	if (ps_unwind_mode != PS_UNWIND_CACHED || !ch->n)
		return;
	const struct ps_unwind_frame *f = &ch->f[ch->n - 1];
	top->sp = f->sp;
	top->bp = f->bp;
	top->bp_mask = f->bp_needed ? ~(uintptr_t)0 : 0;
	top->checks = ch->checks;
	top->nchecks = f->checks;
	top->node = f->node;
	top->depth = f->depth;
	top->ip = f->ip;
}

/* The walk from the program's frame (ip, sp, bp) when no kept walk is the
 * stack from its top: up to a frame proven equal to a kept walk's, whose
 * outer part it reuses, or to the end. Out of line: the common case does
 * not set up its frame (room for a cut stack's frames). */
int ps_unwind_walk(struct ps_thread *t, struct ps_unwind_cache *uc, uintptr_t ip, uintptr_t sp,
		   uintptr_t bp, int max, uint64_t *leaf)
{
	int c, keep, shown;
	int fresh = walk(uc, ip, sp, bp, max, &c, &keep);
	if (fresh == PS_WALK_CUT) {
		/* cut to the innermost max frames (the kept walks stay as they
		 * were: ids of a cut stack depend on where it was cut) */
		uintptr_t pcs[PS_MAX_CAPTURE];
		uc->last = PS_LAST_CUT;
		int n = ps_unwind_cached_pcs(t, pcs, max);
		*leaf = ps_stack_intern(t, pcs, n);
		return max + 1;
	}
	if (fresh < 0)
		return -1;
	if (fresh > 0 && keep > 0) {
		/* a new path on a kept walk's outer frames: into the least
		 * recent walk, so the one matched stays for its own path */
		int v = victim(uc);
		if (v != c) {
			memcpy(uc->ch[v].f, uc->ch[c].f, (size_t)keep * sizeof(uc->ch[c].f[0]));
			memcpy(uc->ch[v].checks, uc->ch[c].checks,
			       (size_t)uc->ch[c].f[keep - 1].checks * sizeof(uc->ch[c].checks[0]));
			c = v;
		}
	}
	struct ps_unwind_chain *ch = &uc->ch[c];
	ch->reusable = false;
	uc->top[c].ip = 0;
	uc->last = c;
	if (!stack_fresh(ch, uc->fresh, keep, fresh)) {
		ch->n = 0;
		return -1;
	}
	shown = ch->n ? ch->f[ch->n - 1].depth : 0;
	if (shown > max) {
		/* cut to the innermost max frames: ids of a cut stack depend on
		 * where it was cut, so this walk's are not kept */
		uintptr_t pcs[PS_MAX_CAPTURE];
		int n = ps_unwind_cached_pcs(t, pcs, max);
		*leaf = ps_stack_intern(t, pcs, n);
		return max + 1;
	}
	if (!intern_from(t, ch, keep)) {
		*leaf = 0;
		return shown;
	}
	ch->reusable = true;
	set_top(uc, c);
	*leaf = ch->n ? ch->f[ch->n - 1].node : 0;
	return shown;
}

/* ps_unwind_cached when the inline part cannot start: no stack table yet
 * (made here), code loaded or unloaded since the rules were cached, or
 * the shim's frames cannot be climbed (-1). */
int ps_unwind_cached_slow(struct ps_thread *t, int max, uint64_t *leaf)
{
	struct ps_unwind_cache *uc = cache_of(t);
	uintptr_t ret, frame;
	if (!uc || !ps_program_frame(&ret, &frame))
		return -1;
	return ps_unwind_from(t, uc, ret, frame, max, leaf);
}

int ps_unwind_cached_pcs(struct ps_thread *t, uintptr_t *pcs, int max)
{
	struct ps_unwind_cache *uc = ps_stack_unwind_cache(t);
	if (!uc)
		return 0;
	int k = 0;
	if (uc->last == PS_LAST_CUT) { /* innermost first, max + 1 shown */
		for (int i = 0; k < max; i++)
			if (uc->fresh[i].shown)
				pcs[k++] = uc->fresh[i].ip;
		return k;
	}
	const struct ps_unwind_chain *ch = &uc->ch[uc->last];
	for (int i = ch->n - 1; i >= 0 && k < max; i--)
		if (ch->f[i].shown)
			pcs[k++] = ch->f[i].ip;
	return k;
}
