/*
 * Stack capture outside signal handlers (allocation hooks): libunwind's
 * local unwinder, with the shim's own frames removed from the top.
 * The CPU sampler has its own signal-path capture from a ucontext.
 */
#ifndef PS_UNWIND_H
#define PS_UNWIND_H

#include <stdbool.h>
#include <stdint.h>

#ifndef UNW_LOCAL_ONLY
#define UNW_LOCAL_ONLY
#endif
#include <libunwind.h>

/* Find the shim's own code range; call once at start, outside any hook. */
void ps_unwind_init(void);
/* libunwind's start (unwind.c): before any libunwind walk, on first need. */
extern int ps_unwind_started;
void ps_unwind_start_slow(void);
static inline void ps_unwind_start(void)
{
	if (__builtin_expect(!__atomic_load_n(&ps_unwind_started, __ATOMIC_ACQUIRE), 0))
		ps_unwind_start_slow();
}
/* Frames the shim adds on top of the program's: the hook, the recorder,
 * operator new wrappers. Generous; only the top is cut. */
#define PS_MAX_SHIM_FRAMES 8
#define PS_MAX_CAPTURE 256

/* Hidden in the declaration too, not only by -fvisibility=hidden (which
 * covers definitions): otherwise every read in a hook goes through the
 * GOT (relaxed by the linker to a lea, still one instruction more). */
#ifndef PS_HIDDEN
#define PS_HIDDEN __attribute__((visibility("hidden")))
#endif
extern PS_HIDDEN uintptr_t ps_shim_lo, ps_shim_hi; /* the shim's executable code */

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
	ps_unwind_start();
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

/* --- the cached unwinder (cfi.c, unwind_cache.c) --- */

/* How to find the caller of a frame: CFA = (rbp or rsp) + cfa_off, the
 * return address at CFA - 8, rbp saved at CFA + rbp_off (0: unchanged);
 * outermost: the return address is undefined (the stack ends here). */
struct ps_frame_rule {
	int32_t cfa_off;
	int32_t rbp_off;
	uint8_t cfa_is_rbp;
	uint8_t outermost;
};
/* The rule at code address ip from its .eh_frame; false when the rule is
 * not one of those (the caller falls back to libunwind). */
bool ps_cfi_rule(uintptr_t ip, struct ps_frame_rule *out);

#define PS_RULE_BITS 12
#define PS_CHAIN_MAX (PS_MAX_CAPTURE + 2 * PS_MAX_SHIM_FRAMES)
#define PS_MAX_FRAME_BYTES ((uintptr_t)1 << 28) /* a larger step is no frame */

struct ps_rule_slot {
	uintptr_t ip; /* return address; 0 = empty */
	struct ps_frame_rule rule;
};
struct ps_unwind_frame {
	uintptr_t ip, sp, bp; /* return address, stack pointer, rbp */
	uint64_t node;	      /* stack-trie id of the stack ending here */
	struct ps_frame_rule rule;
	uint16_t depth;	   /* frames shown from the outermost to here */
	uint8_t shown;	   /* not the shim's own */
	uint8_t bp_needed; /* the walk outward from here reads this bp */
	uint16_t checks;   /* the chain's slot checks that prove the frames
			    * from here outward: checks[0 .. this) */
};
/* One stack slot a walk read and the value it found there: while every
 * slot a walk read from a frame outward holds the same value, a new walk
 * from an equal frame makes the same reads with the same results. */
struct ps_slot_check {
	uintptr_t addr, value;
};
/* A frame's step reads its return address and at most one saved rbp;
 * the walk's end reads one more return address (0). */
#define PS_CHECKS_MAX (2 * PS_CHAIN_MAX + 1)
/* One walk, OUTERMOST frame first, so the part a new walk reuses stays
 * where it is and only the top is rewritten. */
struct ps_unwind_chain {
	int n;	       /* frames */
	bool reusable; /* complete, with every node: a walk may reuse it */
	struct ps_unwind_frame f[PS_CHAIN_MAX];
	/* the slots the walk read, outermost first (see tail_intact) */
	struct ps_slot_check checks[PS_CHECKS_MAX];
};
/* A few recent walks: programs alternate between a few paths (an
 * interpreter's allocation of an object, then of its array part), each
 * walk is matched against all of them. */
#define PS_CHAINS 4
/* Per thread, kept with its stack trie (stacks.c): the ids it holds are
 * that trie's. */
/* A reusable chain's innermost frame and all the common case needs to
 * prove and use it, in one cache line: the call that finds its stack
 * equal to a kept walk's from the top reads only this and the slots. */
struct ps_unwind_top {
	uintptr_t ip, sp;		    /* ip 0: not reusable (or not in cached mode) */
	uintptr_t bp;			    /* compared under bp_mask: all ones when the walk */
	uintptr_t bp_mask;		    /* outward reads this rbp, 0 when it does not */
	const struct ps_slot_check *checks; /* the chain's slots, outermost */
	uint64_t node;			    /* stack-trie id of the stack */
	uint16_t depth;			    /* frames shown */
	uint16_t nchecks;		    /* slots that prove the chain */
	uint32_t stamp;			    /* when last used (the least recent is replaced) */
};
struct ps_unwind_cache {
	uint64_t gen;	/* ps_unwind_code_gen the rules are valid for */
	int last;	/* the chain of the last walk (-1: it was cut short) */
	uint32_t clock; /* stamps */
	/* each chain's innermost frame, side by side: the first thing every
	 * call compares */
	struct ps_unwind_top top[PS_CHAINS] __attribute__((aligned(64)));
	struct ps_unwind_chain ch[PS_CHAINS];
	struct ps_unwind_frame fresh[PS_CHAIN_MAX]; /* a walk's new frames,
						     * innermost first */
	struct ps_rule_slot rules[1u << PS_RULE_BITS];
};

enum { PS_UNWIND_CACHED, PS_UNWIND_NOCACHE, PS_UNWIND_LIBUNWIND };
extern PS_HIDDEN int ps_unwind_mode; /* PROFSHIM_UNWIND */
void ps_unwind_mode_init(void);
/* dlopen/dlclose: code at an address may have changed; rules start over. */
void ps_unwind_code_changed(void);

struct ps_thread;
/* ps_unwind_cached(t, max, &leaf) (unwind_fast.h, inline): the calling
 * hook's program stack interned into t's stack trie: the leaf id in *leaf;
 * returns the number of program frames (more than max: the stack was cut
 * to max), or -1 when the walk cannot be done here (unwind with
 * libunwind). t entered (busy). */
/* The last walk's program frames, innermost first, at most max. */
int ps_unwind_cached_pcs(struct ps_thread *t, uintptr_t *pcs, int max);

/* By the shim's own frame pointers (it is built with them): the return
 * address into the first frame outside the shim, and the frame address
 * (saved frame-pointer slot, 8 bytes below the return address) of the
 * outermost shim frame. The program's frames are never read. Returns 0
 * when the walk fails. */
int ps_unwind_caller(uintptr_t *ret, uintptr_t *frame);

#include "unwind_fast.h"

#endif
