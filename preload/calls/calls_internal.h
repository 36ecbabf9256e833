/*
 * What the calls recorder's files share (private to preload/calls/): the
 * per-thread state, the shadow stack's frames, the calling-context tree's
 * nodes, and the helpers every hook runs. The helpers on the hot path are
 * static inline here (HOT: always inlined) so that the hooks in calls.c
 * compile to the same code as when they all lived in one file; the cold
 * paths they call are in the other files, declared hidden below so that
 * calls and data loads are direct.
 */
#ifndef PS_CALLS_INTERNAL_H
#define PS_CALLS_INTERNAL_H

#include <string.h>

#include "calls.h"
#include "clock.h"
#include "shim.h"

#pragma GCC visibility push(hidden)

#define HOT inline __attribute__((always_inline))
#define COLD __attribute__((noinline, cold))

#define CCT_BUCKETS 34		 /* log2 duration buckets per node (2^34 ticks: a minute) */
#define CCT_MAX_NODES (1u << 20) /* bound of a thread's tree */
#define CCT_UNTRACKED UINT32_MAX /* frame in a context the tree had no room for */
#define PENDING_MAX 256		 /* hook calls of signal handlers held back */
/* A new frame whose stack pointer lies above the innermost frame's by less
 * than this is a shallower call: the frames below it were left by longjmp
 * or an exception. (Farther away is another stack: sigaltstack.) */
#define UNWIND_SPAN (1u << 20)

struct call_frame {
	uintptr_t fn;
	uint64_t start;	 /* ticks at enter (tree: timed calls only) */
	uintptr_t sp;	 /* the enter hook's frame address: stack depth */
	uintptr_t site;	 /* call site (the caller's return address) */
	uint32_t node;	 /* tree: CCT node index */
	uint32_t weight; /* tree: 0 = untimed, else the calls it stands for */
	uint64_t calls0; /* tree, timed calls: the thread's call count at enter */
};

/* A hook call made while the thread was busy (a signal handler's
 * instrumented function interrupting a hook), applied later. */
struct pending_call {
	uintptr_t fn;
	uintptr_t sp, site;
	uint64_t at_exit; /* ticks << 1 | is_exit */
};

#define CCT_KID_SLOTS 8

/* A node's figures. `calls` counts every call, at its enter. The times
 * come from the timed calls: each adds its duration times its weight (the
 * number of calls it stands for: 1 when every call is timed) to `incl` and
 * `hist`, so both estimate the figures of all calls; `kids` is the same
 * sum over the node's children, which gives exclusive time at a snapshot
 * (incl - kids) without any per-call bookkeeping of child time.
 *
 * The first 64 bytes are what every call touches: the function, the count,
 * when timing turns to sampling, and a direct-mapped cache of children by
 * function address (a parent alternating between a few callees finds each
 * one without hashing). */
struct cct_node {
	uintptr_t fn;
	uint64_t calls;
	uint64_t exact_until; /* calls up to this one are all timed */
	uint32_t parent;
	uint32_t kid[CCT_KID_SLOTS]; /* child node ids, 0 = empty */
	/* sampled calls: longer than cap x (the calls made in them, themselves
	 * included) is an interruption (see TREE_STALL_FACTOR) */
	float cap;
	/* touched by timed calls only */
	uint64_t timed, incl, kids, min, max;
	uint64_t stood_for; /* sum of the timed calls' weights */
	/* sum over the timed calls of weight x the calls made in them,
	 * themselves included: the reader's estimate of time per call made */
	uint64_t timed_sub;
	uint32_t hist[CCT_BUCKETS]; /* weighted, saturating counts */
} __attribute__((aligned(64)));

/* 256 bytes: a node's address is a shift away from its id, and its hot
 * first 64 bytes are one cache line */
_Static_assert(sizeof(struct cct_node) == 256, "cct_node is 256 bytes");

static inline unsigned kid_slot(uintptr_t fn)
{
	return (unsigned)((fn >> 4) ^ (fn >> 7) ^ (fn >> 11)) & (CCT_KID_SLOTS - 1);
}

struct func_slot {
	uintptr_t fn; /* 0 = empty */
	uint32_t id;
	uint32_t unused;
};

struct ps_calls_thread {
	struct call_frame *frames; /* [cap] */
	uint32_t depth, cap;
	uint32_t written; /* trace + min duration: frames below have an ENTER */
	union {
		struct {
			uint32_t mode;	   /* PS_CALLS_TREE (0) / PS_CALLS_TRACE */
			uint32_t npending; /* held-back hook calls, see pending_call */
		};
		/* 0: tree mode and nothing held back, one test for the hooks */
		uint64_t mode_and_pending;
	};
	/* tree: which calls are timed (see tree_timing) */
	uint64_t exact_calls;	   /* a node's first calls, all timed */
	uint32_t countdown;	   /* untimed calls left before the next timed one */
	uint32_t sample_every;	   /* after that one call in this many, on average */
	uint64_t rng;		   /* xorshift state for the gaps */
	uint64_t min_ticks;	   /* trace: shortest call written, 0 = all */
	uint64_t overflow;	   /* open calls beyond cap */
	uintptr_t overflow_sp;	   /* stack pointer of the first of them */
	uint64_t pending_overflow; /* the same, for replayed pending calls */
	struct pending_call pending[PENDING_MAX];
	size_t frames_bytes;
	/* per-thread function ids, addr -> id */
	struct func_slot *funcs;
	uint32_t func_mask, func_used, nfuncs;
	uint32_t unknown_id; /* id of address 0, when the table could not grow */
	/* tree mode: nodes[0] is the root; index maps (parent, fn) -> node */
	struct cct_node *nodes;
	uint32_t nnodes, node_cap;
	uint32_t *index;
	uint32_t index_mask;
	/* Node arrays replaced by bigger ones: kept mapped as long as this
	 * state exists (another thread may be reading the tree for a live
	 * snapshot, see ps_calls_write_live). At most log2(max/initial). */
	struct {
		void *p;
		size_t bytes;
	} retired[24];
	uint32_t nretired;
	struct ps_calls_thread *pool_next; /* free list of ended threads' states */
};

/* ------------------------------------------------------------------ */
/* the cold paths, in the files of their concern                       */

/* state.c: a thread's state and its memory */
extern int ps_calls_pool_lock;
void *ps_calls_table_alloc(size_t bytes);
void ps_calls_table_free(void *p, size_t bytes);
void ps_calls_pool_put(struct ps_calls_thread *c);
void ps_calls_funcs_clear(struct ps_calls_thread *c);
int ps_calls_tree_clear(struct ps_calls_thread *c);
struct ps_calls_thread *ps_calls_create(struct ps_thread *t);
void ps_calls_free(struct ps_thread *t);

/* trace_mode.c: function ids, room in the trace window, held-back ENTERs */
int ps_calls_funcs_grow(struct ps_calls_thread *c);
COLD uint8_t *ps_calls_reserve_slow(struct ps_thread *t, size_t max);
COLD uint32_t ps_calls_func_id_slow(struct ps_thread *t, struct ps_calls_thread *c, uintptr_t fn);
COLD void ps_calls_materialize(struct ps_thread *t, struct ps_calls_thread *c, uint32_t upto);

/* cct.c: the tree's tables, and which calls it times */
extern uint64_t ps_calls_stall_floor; /* TREE_STALL_MIN_NS in ticks */
int ps_calls_nodes_grow(struct ps_calls_thread *c);
int ps_calls_index_grow(struct ps_calls_thread *c);
COLD uint32_t ps_calls_cct_child_slow(struct ps_calls_thread *c, uint32_t parent, uintptr_t fn);
COLD bool ps_calls_node_leaves_exact(struct cct_node *n);

/* calls.c: the hook calls of signal handlers, held back */
__attribute__((noinline)) void ps_calls_pending_drain(struct ps_thread *t,
						      struct ps_calls_thread *c);

/* ------------------------------------------------------------------ */
/* small tables                                                        */

static HOT uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full);
	return h ^ (h >> 29);
}

/* Reserve room for a record, keeping errno when the window slides. */
static HOT uint8_t *reserve(struct ps_thread *t, size_t max)
{
	if (PS_LIKELY(t->out.cur && (size_t)(t->out.limit - t->out.cur) >= max))
		return t->out.cur;
	return ps_calls_reserve_slow(t, max);
}

static HOT uint32_t func_id(struct ps_thread *t, struct ps_calls_thread *c, uintptr_t fn)
{
	const struct func_slot *s = &c->funcs[(uint32_t)mix(fn, 0) & c->func_mask];
	if (PS_LIKELY(s->fn == fn && s->id))
		return s->id;
	return ps_calls_func_id_slow(t, c, fn);
}

/* ------------------------------------------------------------------ */
/* calling-context tree                                                */

static inline uint32_t index_home(const struct ps_calls_thread *c, uint32_t parent, uintptr_t fn)
{
	return (uint32_t)mix(fn, parent + 1) & c->index_mask;
}

/* The node of (parent, fn) if the tree has it, else 0. */
static inline uint32_t index_find(const struct ps_calls_thread *c, uint32_t parent, uintptr_t fn)
{
	uint32_t j = index_home(c, parent, fn);
	for (uint32_t id; (id = c->index[j]) != 0; j = (j + 1) & c->index_mask) {
		if (c->nodes[id].fn == fn && c->nodes[id].parent == parent)
			return id;
	}
	return 0;
}

static HOT uint32_t cct_child(struct ps_calls_thread *c, uint32_t parent, uintptr_t fn)
{
	if (PS_UNLIKELY(parent == CCT_UNTRACKED))
		return CCT_UNTRACKED;
	uint32_t kid = c->nodes[parent].kid[kid_slot(fn)];
	if (PS_LIKELY(kid && c->nodes[kid].fn == fn))
		return kid;
	return ps_calls_cct_child_slow(c, parent, fn);
}

static HOT unsigned duration_bucket(uint64_t d)
{
	unsigned b = d ? 64u - (unsigned)__builtin_clzll(d) : 0;
	return b < CCT_BUCKETS ? b : CCT_BUCKETS - 1;
}

/* Account a timed call of `dur` ticks standing for `weight` calls (its
 * count was taken at its enter). Returns the weighted time, which the
 * caller adds to the parent's `kids`. */
static inline void hist_add(struct cct_node *n, uint64_t dur, uint32_t weight)
{
	uint32_t *h = &n->hist[duration_bucket(dur)];
	*h = *h > UINT32_MAX - weight ? UINT32_MAX : *h + weight;
}

/* A sampled call far longer than the node's calls have been: the thread
 * was most likely preempted or stalled in it. Standing for `weight` calls,
 * the stall would be counted `weight` times; it is counted once, as exact
 * timing would, and the other calls get the cap. */
static COLD __attribute__((unused)) uint64_t account_stall(struct cct_node *n, uint64_t dur,
							   uint32_t weight, uint64_t limit)
{
	hist_add(n, dur, 1);
	hist_add(n, limit, weight - 1);
	return limit * (weight - 1) + dur;
}

/* The longest a sampled call that made `sub` calls (itself included) may
 * take before it counts as interrupted: the node's typical time per call
 * in its subtree, times the subtree, times TREE_STALL_FACTOR. */
static inline uint64_t stall_limit(const struct cct_node *n, uint64_t sub)
{
	float l = n->cap * (float)(sub ? sub : 1);
	uint64_t limit = l < 1.8e19f ? (uint64_t)l : UINT64_MAX;
	return limit > ps_calls_stall_floor ? limit : ps_calls_stall_floor;
}

/* The time a sampled call stands for: its duration less the clock read
 * that untimed calls do not make, times its weight. (Exact calls keep
 * their read: their callers' times hold it too.) */
static inline uint64_t sampled_time(uint64_t dur, uint32_t weight)
{
	uint64_t read = (uint64_t)ps_clock_read_x16 * weight / 16;
	return dur * weight > read ? dur * weight - read : 0;
}

/* `sub`: the calls made during this one, itself included. */
static HOT uint64_t node_account(struct cct_node *n, uint64_t dur, uint32_t weight, uint64_t sub)
{
	uint64_t wdur, limit;
	if (PS_LIKELY(weight == 1)) {
		wdur = dur;
		hist_add(n, dur, 1);
	} else if (PS_LIKELY(dur <= (limit = stall_limit(n, sub)))) {
		wdur = sampled_time(dur, weight);
		hist_add(n, dur, weight);
	} else {
		wdur = account_stall(n, dur, weight, limit);
	}
	n->timed++;
	n->stood_for += weight;
	n->timed_sub += sub * weight;
	n->incl += wdur;
	if (dur < n->min)
		n->min = dur;
	if (dur > n->max)
		n->max = dur;
	return wdur;
}

/* Account the timed call of frame f, ended at `now`. */
static HOT void cct_account(struct ps_thread *t, struct ps_calls_thread *c,
			    const struct call_frame *f, uint64_t now)
{
	if (PS_UNLIKELY(f->node == CCT_UNTRACKED))
		return;
	uint64_t dur = now > f->start ? now - f->start : 0;
	struct cct_node *n = &c->nodes[f->node];
	c->nodes[n->parent].kids +=
	    node_account(n, dur, f->weight, t->counters[PST_C_CALLS] - f->calls0);
}

/* ------------------------------------------------------------------ */
/* which calls the tree times                                          */

/* Reading the clock is most of a call's cost (two TSC reads of about
 * 11 ns each on an EPYC VM, where an instrumented call costs ~5 ns), so by
 * default the tree times each node's first calls exactly, which covers
 * every function called a few times per context (main, the slow calls).
 * A node whose calls took TREE_LONG_CALL_NS or more of their own time on
 * average stays exact: there the clock costs little next to the call. The others, short
 * calls made often, are then timed one call in `sample_every` on average,
 * chosen by a random gap so that no pattern in the program lines up with
 * the choice. Every timed call stands for `sample_every` calls: the node's
 * time and histogram are estimates, and the record says how many calls
 * were timed. PROFSHIM_CALLS_TIMING=exact times every call. */
#define TREE_EXACT_CALLS 256
#define TREE_LONG_CALL_NS 1000
/* A sampled call over this many times the average of the node's exact
 * calls (and over TREE_STALL_MIN_NS) is a stall, see account_stall.
 * Weighed like the others, one preemption of a millisecond in a path of
 * 100 ns calls would add 64 ms; counted once, the error is never more than
 * the time itself (a short function that really waits that long now and
 * then is then undercounted, and the time shows as its caller's own). The
 * average, not the longest: one page fault among the first calls must not
 * raise the cap a hundredfold. */
#define TREE_STALL_FACTOR 8
#define TREE_STALL_MIN_NS 20000

static COLD __attribute__((unused)) uint32_t next_gap(struct ps_calls_thread *c)
{
	uint64_t x = c->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	c->rng = x;
	/* uniform in [1, 2n-1] (by multiply and shift, not a division):
	 * mean n, so calls are timed at a rate of 1/n */
	return 1 + (uint32_t)(((x >> 32) * (2 * (uint64_t)c->sample_every - 1)) >> 32);
}

/* The weight of a call of n just counted: 0 when it is not timed. A node
 * times its first exact_until calls; then it either stays exact
 * (exact_until UINT64_MAX) or samples (exact_until 0). */
static HOT uint32_t tree_timing(struct ps_calls_thread *c, struct cct_node *n)
{
	uint64_t calls = ++n->calls;
	if (calls <= n->exact_until)
		return 1;
	if (PS_UNLIKELY(n->exact_until && calls == n->exact_until + 1) &&
	    ps_calls_node_leaves_exact(n))
		return 1;
	if (PS_LIKELY(--c->countdown))
		return 0;
	c->countdown = next_gap(c);
	return c->sample_every;
}

/* ------------------------------------------------------------------ */
/* trace mode records                                                  */

static HOT void write_enter(struct ps_thread *t, struct ps_calls_thread *c, uintptr_t fn,
			    uint64_t at)
{
	uint32_t id = func_id(t, c, fn);
	uint8_t *p = reserve(t, 2 * PST_VARINT_MAX);
	if (PS_UNLIKELY(!p))
		return;
	p = pst_put_tag(p, id, PST_K_ENTER);
	p = pst_put_varint(p, ps_dt(t, at));
	ps_commit(t, p);
}

static HOT void write_exit(struct ps_thread *t, uint64_t at)
{
	uint8_t *p = reserve(t, PST_VARINT_MAX);
	if (PS_UNLIKELY(!p))
		return;
	p = pst_put_tag(p, ps_dt(t, at), PST_K_EXIT);
	ps_commit(t, p);
}

/* ------------------------------------------------------------------ */
/* push and pop                                                        */

/* Tree: frame f (not yet on the stack) opens a call of fn under parent:
 * count it, and start its clock if it is timed. `now` 0: read the clock
 * here, after the bookkeeping, so the hook's own work stays outside the
 * call's time. */
static HOT void tree_open(struct ps_thread *t, struct ps_calls_thread *c, struct call_frame *f,
			  uint32_t parent, uint64_t now)
{
	f->node = cct_child(c, parent, f->fn);
	if (PS_UNLIKELY(f->node == CCT_UNTRACKED)) {
		t->counters[PST_C_DROP_CALL_CONTEXT]++;
		f->weight = 0;
		return;
	}
	f->weight = tree_timing(c, &c->nodes[f->node]);
	f->calls0 = t->counters[PST_C_CALLS]; /* push counts this call next */
	if (f->weight)
		f->start = now ? now : ps_now();
}

/* Push a call of fn. `now` 0 (tree mode only): the clock is read only if
 * the call is timed. */
static HOT void push(struct ps_thread *t, struct ps_calls_thread *c, uintptr_t fn, uintptr_t sp,
		     uintptr_t site, uint64_t now)
{
	struct call_frame *f = &c->frames[c->depth];
	f->fn = fn;
	f->sp = sp;
	f->site = site;
	if (c->mode == PS_CALLS_TREE) {
		tree_open(t, c, f, c->depth ? c->frames[c->depth - 1].node : 0, now);
	} else {
		f->start = now;
		if (!c->min_ticks)
			write_enter(t, c, fn, now);
	}
	__atomic_signal_fence(__ATOMIC_RELEASE); /* frame before depth */
	c->depth++;
	t->counters[PST_C_CALLS]++;
}

/* Pop the innermost frame: its call ended at `now` (tree mode: 0 reads
 * the clock if the call is timed). */
static HOT void pop(struct ps_thread *t, struct ps_calls_thread *c, uint64_t now)
{
	uint32_t d = c->depth - 1;
	struct call_frame *f = &c->frames[d];
	if (c->mode == PS_CALLS_TREE) {
		if (f->weight)
			cct_account(t, c, f, now ? now : ps_now());
	} else if (!c->min_ticks) {
		write_exit(t, now);
	} else if (d < c->written || (now > f->start ? now - f->start : 0) >= c->min_ticks) {
		if (d >= c->written)
			ps_calls_materialize(t, c, d);
		write_exit(t, now);
		c->written = d;
	} else {
		t->counters[PST_C_DROP_CALL_SHORT]++;
	}
	c->depth = d;
}

#pragma GCC visibility pop

#endif
