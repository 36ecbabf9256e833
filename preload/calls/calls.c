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
 */
#define _GNU_SOURCE
#include <sched.h>
#include <string.h>

#include "calls.h"
#include "clock.h"
#include "shim.h"

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

/* States of ended threads, reused by new ones: never unmapped, so a live
 * snapshot reading a state that just ended stays memory-safe, and a
 * program making many short threads keeps a bounded number of them (as
 * many as ran at once). Taken at thread start and end only. */
static struct ps_calls_thread *pool_head;
static int pool_lock;

/* ------------------------------------------------------------------ */
/* small tables                                                        */

static HOT uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full);
	return h ^ (h >> 29);
}

/* Allocation for tables, keeping errno (mmap may set it). */
static void *table_alloc(size_t bytes)
{
	int saved = errno;
	void *p = ps_alloc_pages(bytes);
	errno = saved;
	return p;
}

static void table_free(void *p, size_t bytes)
{
	int saved = errno;
	ps_free_pages(p, bytes);
	errno = saved;
}

static int funcs_grow(struct ps_calls_thread *c)
{
	uint32_t ncap = c->funcs ? (c->func_mask + 1) * 2 : 1024;
	struct func_slot *n = table_alloc(ncap * sizeof(*n));
	if (!n)
		return -1;
	for (uint32_t i = 0; c->funcs && i <= c->func_mask; i++) {
		struct func_slot *s = &c->funcs[i];
		if (!s->fn)
			continue;
		uint32_t j = (uint32_t)mix(s->fn, 0) & (ncap - 1);
		while (n[j].fn)
			j = (j + 1) & (ncap - 1);
		n[j] = *s;
	}
	if (c->funcs)
		table_free(c->funcs, (c->func_mask + 1) * sizeof(*n));
	c->funcs = n;
	c->func_mask = ncap - 1;
	return 0;
}

/* The slot of fn; a new one has id 0 (the caller assigns and defines it).
 * NULL when the table cannot grow. */
static struct func_slot *func_slot(struct ps_calls_thread *c, uintptr_t fn)
{
	uint32_t j = (uint32_t)mix(fn, 0) & c->func_mask;
	for (;;) {
		struct func_slot *s = &c->funcs[j];
		if (PS_LIKELY(s->fn == fn))
			return s;
		if (!s->fn)
			break;
		j = (j + 1) & c->func_mask;
	}
	if (c->func_used + 1 > (c->func_mask + 1) / 2) {
		if (funcs_grow(c))
			return NULL;
		return func_slot(c, fn);
	}
	c->func_used++;
	c->funcs[j].fn = fn;
	c->funcs[j].id = 0;
	return &c->funcs[j];
}

static COLD uint8_t *reserve_slow(struct ps_thread *t, size_t max)
{
	int saved = errno;
	uint8_t *p = ps_reserve(t, max);
	errno = saved;
	return p;
}

/* Reserve room for a record, keeping errno when the window slides. */
static HOT uint8_t *reserve(struct ps_thread *t, size_t max)
{
	if (PS_LIKELY(t->out.cur && (size_t)(t->out.limit - t->out.cur) >= max))
		return t->out.cur;
	return reserve_slow(t, max);
}

/* The id of fn in t's trace file, writing its FUNC record when new.
 * 0 when it cannot be defined (no memory, no space). */
static COLD uint32_t define_func(struct ps_thread *t, struct ps_calls_thread *c, uintptr_t fn)
{
	uint8_t *p = reserve(t, 2 * PST_VARINT_MAX);
	if (!p)
		return 0;
	uint32_t id = ++c->nfuncs;
	p = pst_put_tag(p, id, PST_K_FUNC);
	p = pst_put_varint(p, fn);
	ps_commit(t, p);
	return id;
}

static COLD uint32_t func_id_slow(struct ps_thread *t, struct ps_calls_thread *c, uintptr_t fn)
{
	struct func_slot *s = func_slot(c, fn);
	if (PS_UNLIKELY(!s)) {
		/* no memory for the table: such calls are "function 0x0",
		 * still paired with their exits */
		if (!c->unknown_id)
			c->unknown_id = define_func(t, c, 0);
		return c->unknown_id;
	}
	if (!s->id)
		s->id = define_func(t, c, fn);
	return s->id;
}

static HOT uint32_t func_id(struct ps_thread *t, struct ps_calls_thread *c, uintptr_t fn)
{
	const struct func_slot *s = &c->funcs[(uint32_t)mix(fn, 0) & c->func_mask];
	if (PS_LIKELY(s->fn == fn && s->id))
		return s->id;
	return func_id_slow(t, c, fn);
}

/* ------------------------------------------------------------------ */
/* calling-context tree                                                */

static int nodes_grow(struct ps_calls_thread *c)
{
	uint32_t ncap = c->node_cap ? c->node_cap * 2 : 256;
	if (ncap > CCT_MAX_NODES)
		ncap = CCT_MAX_NODES;
	if (ncap <= c->node_cap)
		return -1;
	struct cct_node *n = table_alloc((size_t)ncap * sizeof(*n));
	if (!n)
		return -1;
	if (c->nodes) {
		memcpy(n, c->nodes, (size_t)c->nnodes * sizeof(*n));
		if (c->nretired < sizeof(c->retired) / sizeof(c->retired[0])) {
			c->retired[c->nretired].p = c->nodes;
			c->retired[c->nretired].bytes = (size_t)c->node_cap * sizeof(*n);
			c->nretired++;
		}
	}
	/* A reader on another thread loads nnodes, then nodes: the new array
	 * is complete before it is published, and arrays only grow. */
	__atomic_store_n(&c->nodes, n, __ATOMIC_RELEASE);
	c->node_cap = ncap;
	return 0;
}

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

static int index_grow(struct ps_calls_thread *c)
{
	uint32_t ncap = c->index ? (c->index_mask + 1) * 2 : 1024;
	uint32_t *n = table_alloc(ncap * sizeof(*n));
	if (!n)
		return -1;
	uint32_t old_mask = c->index_mask;
	uint32_t *old = c->index;
	c->index = n;
	c->index_mask = ncap - 1;
	for (uint32_t i = 0; old && i <= old_mask; i++) {
		if (!old[i])
			continue;
		const struct cct_node *nd = &c->nodes[old[i]];
		uint32_t j = index_home(c, nd->parent, nd->fn);
		while (n[j])
			j = (j + 1) & c->index_mask;
		n[j] = old[i];
	}
	if (old)
		table_free(old, (old_mask + 1) * sizeof(*n));
	return 0;
}

static COLD uint32_t cct_child_slow(struct ps_calls_thread *c, uint32_t parent, uintptr_t fn)
{
	uint32_t found = index_find(c, parent, fn);
	if (found)
		return c->nodes[parent].kid[kid_slot(fn)] = found;
	uint32_t j = index_home(c, parent, fn);
	while (c->index[j])
		j = (j + 1) & c->index_mask;
	if (c->nnodes >= c->node_cap && nodes_grow(c))
		return CCT_UNTRACKED;
	if ((c->nnodes + 1) * 2 > c->index_mask + 1) {
		if (index_grow(c))
			return CCT_UNTRACKED;
		return cct_child_slow(c, parent, fn);
	}
	uint32_t id = c->nnodes;
	struct cct_node *nd = &c->nodes[id];
	memset(nd, 0, sizeof(*nd));
	nd->fn = fn;
	nd->parent = parent;
	nd->min = UINT64_MAX;
	nd->exact_until = c->exact_calls;
	/* the node is whole before a live snapshot can see it */
	__atomic_store_n(&c->nnodes, id + 1, __ATOMIC_RELEASE);
	c->index[j] = id;
	return c->nodes[parent].kid[kid_slot(fn)] = id;
}

static HOT uint32_t cct_child(struct ps_calls_thread *c, uint32_t parent, uintptr_t fn)
{
	if (PS_UNLIKELY(parent == CCT_UNTRACKED))
		return CCT_UNTRACKED;
	uint32_t kid = c->nodes[parent].kid[kid_slot(fn)];
	if (PS_LIKELY(kid && c->nodes[kid].fn == fn))
		return kid;
	return cct_child_slow(c, parent, fn);
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
static COLD uint64_t account_stall(struct cct_node *n, uint64_t dur, uint32_t weight,
				   uint64_t limit)
{
	hist_add(n, dur, 1);
	hist_add(n, limit, weight - 1);
	return limit * (weight - 1) + dur;
}

static uint64_t stall_floor; /* TREE_STALL_MIN_NS in ticks */

/* The longest a sampled call that made `sub` calls (itself included) may
 * take before it counts as interrupted: the node's typical time per call
 * in its subtree, times the subtree, times TREE_STALL_FACTOR. */
static inline uint64_t stall_limit(const struct cct_node *n, uint64_t sub)
{
	float l = n->cap * (float)(sub ? sub : 1);
	uint64_t limit = l < 1.8e19f ? (uint64_t)l : UINT64_MAX;
	return limit > stall_floor ? limit : stall_floor;
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

static uint64_t ns_to_ticks(uint64_t ns)
{
	return (uint64_t)((double)ns * (double)ps_ticks_per_sec_x1000 / 1e12) + 1;
}

/* A node's exact calls are over: keep timing every call, or sample. What
 * counts is the calls' own time (less their children's): a call that
 * spends its time in children costs those children's hooks, not its own. */
static COLD bool node_leaves_exact(struct cct_node *n)
{
	uint64_t self = n->incl > n->kids ? n->incl - n->kids : 0;
	uint64_t long_call = ns_to_ticks(TREE_LONG_CALL_NS);
	/* The average alone is not enough: one preemption among the first
	 * calls of a 100 ns function lifts it over 1 us on a loaded machine,
	 * and the node would stay exact for good. For a node without timed
	 * children (where the longest call is all own time), the average
	 * without the longest call must be long too. */
	uint64_t trimmed = self > n->max ? self - n->max : 0;
	bool one_stall = n->kids == 0 && n->timed > 1 && trimmed / (n->timed - 1) < long_call;
	if (!n->timed || (self / n->timed >= long_call && !one_stall)) {
		n->exact_until = UINT64_MAX;
		return true;
	}
	n->exact_until = 0; /* sampling from now on */
	if (!stall_floor)
		stall_floor = ns_to_ticks(TREE_STALL_MIN_NS);
	/* per call made in the exact calls (their timed_sub so far) */
	n->cap =
	    (float)n->incl * TREE_STALL_FACTOR / (float)(n->timed_sub ? n->timed_sub : n->timed);
	return false;
}

static COLD uint32_t next_gap(struct ps_calls_thread *c)
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
	if (PS_UNLIKELY(n->exact_until && calls == n->exact_until + 1) && node_leaves_exact(n))
		return 1;
	if (PS_LIKELY(--c->countdown))
		return 0;
	c->countdown = next_gap(c);
	return c->sample_every;
}

/* ------------------------------------------------------------------ */
/* per-thread state                                                    */

static void pool_lock_take(void)
{
	while (__atomic_exchange_n(&pool_lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void pool_put(struct ps_calls_thread *c)
{
	pool_lock_take();
	c->pool_next = pool_head;
	pool_head = c;
	__atomic_store_n(&pool_lock, 0, __ATOMIC_RELEASE);
}

static struct ps_calls_thread *pool_get(void)
{
	if (!__atomic_load_n(&pool_head, __ATOMIC_RELAXED))
		return NULL;
	pool_lock_take();
	struct ps_calls_thread *c = pool_head;
	if (c)
		pool_head = c->pool_next;
	__atomic_store_n(&pool_lock, 0, __ATOMIC_RELEASE);
	return c;
}

/* An empty function table: this thread file has no FUNC records yet. */
static void funcs_clear(struct ps_calls_thread *c)
{
	memset(c->funcs, 0, (c->func_mask + 1) * sizeof(struct func_slot));
	c->func_used = 0;
	c->nfuncs = 0;
	c->unknown_id = 0;
}

/* An empty tree: the root alone. Keeps the tables' sizes. */
static int tree_clear(struct ps_calls_thread *c)
{
	if (!c->nodes && nodes_grow(c))
		return -1;
	if (!c->index && index_grow(c))
		return -1;
	__atomic_store_n(&c->nnodes, 1, __ATOMIC_RELEASE);
	memset(&c->nodes[0], 0, sizeof(c->nodes[0]));
	memset(c->index, 0, (c->index_mask + 1) * sizeof(uint32_t));
	return 0;
}

/* A state with empty stack and tables: a pooled one, else new pages. */
static struct ps_calls_thread *calls_state(void)
{
	struct ps_calls_thread *c = pool_get();
	if (c) {
		c->depth = 0;
		c->written = 0;
		c->overflow = 0;
		c->pending_overflow = 0;
		c->npending = 0;
		funcs_clear(c);
		return c;
	}
	c = table_alloc(sizeof(*c));
	if (!c)
		return NULL;
	c->cap = ps_cfg.calls_max_depth ? ps_cfg.calls_max_depth : 1;
	c->frames_bytes = (size_t)c->cap * sizeof(struct call_frame);
	c->frames = table_alloc(c->frames_bytes);
	if (!c->frames || funcs_grow(c)) {
		table_free(c->frames, c->frames_bytes);
		table_free(c, sizeof(*c));
		return NULL;
	}
	return c;
}

static struct ps_calls_thread *calls_create(struct ps_thread *t)
{
	struct ps_calls_thread *c = calls_state();
	if (!c) {
		ps_log("calls: out of memory for the shadow stack; calls of this thread are not "
		       "recorded",
		       NULL);
		return NULL;
	}
	c->mode = ps_cfg.calls_mode;
	c->min_ticks = 0;
	c->sample_every = ps_cfg.calls_time_every;
	c->exact_calls = c->sample_every > 1 ? TREE_EXACT_CALLS : UINT64_MAX;
	/* xorshift needs a nonzero seed; threads get different ones */
	c->rng = ((uint64_t)(uintptr_t)t * 0x9e3779b97f4a7c15ull) ^ ps_now();
	if (!c->rng)
		c->rng = 1;
	c->countdown = c->sample_every > 1 ? next_gap(c) : 1;
	if (c->mode == PS_CALLS_TRACE && ps_cfg.calls_min_ns) {
		/* ns -> ticks, rounded up so that a call "at least min_ns" long
		 * is never dropped */
		double tpn = (double)ps_ticks_per_sec_x1000 / 1e12;
		c->min_ticks = (uint64_t)((double)ps_cfg.calls_min_ns * tpn + 0.999);
		if (!c->min_ticks)
			c->min_ticks = 1;
	}
	if (c->mode == PS_CALLS_TREE && tree_clear(c)) {
		ps_log(
		    "calls: out of memory for the call tree; calls of this thread are not recorded",
		    NULL);
		pool_put(c);
		return NULL;
	}
	t->calls = c;
	return c;
}

/* The thread is done with its state: back to the pool (never unmapped). */
static void calls_free(struct ps_thread *t)
{
	struct ps_calls_thread *c = t->calls;
	if (!c)
		return;
	__atomic_store_n(&t->calls, NULL, __ATOMIC_RELEASE);
	pool_put(c);
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

/* Minimum duration: write the held-back ENTERs of frames [written, upto]. */
static COLD void materialize(struct ps_thread *t, struct ps_calls_thread *c, uint32_t upto)
{
	for (uint32_t i = c->written; i <= upto; i++)
		write_enter(t, c, c->frames[i].fn, c->frames[i].start);
	c->written = upto + 1;
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
			materialize(t, c, d);
		write_exit(t, now);
		c->written = d;
	} else {
		t->counters[PST_C_DROP_CALL_SHORT]++;
	}
	c->depth = d;
}

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
	return PS_LIKELY(c != NULL) ? c : calls_create(t);
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
static __attribute__((noinline)) void pending_drain(struct ps_thread *t, struct ps_calls_thread *c)
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
			pending_drain(t, c);
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
	pending_drain(t, c)

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

/* ------------------------------------------------------------------ */
/* the thread's end                                                    */

/* The fields of a CCT_NODE after its function: counts, times, buckets,
 * timed calls. Exclusive time is the node's time less its children's. */
static uint8_t *put_node_counts(uint8_t *p, const struct cct_node *n)
{
	unsigned nb = CCT_BUCKETS;
	while (nb && !n->hist[nb - 1])
		nb--;
	p = pst_put_varint(p, n->calls);
	p = pst_put_varint(p, n->incl);
	p = pst_put_varint(p, n->incl > n->kids ? n->incl - n->kids : 0);
	p = pst_put_varint(p, n->timed ? n->min : 0);
	p = pst_put_varint(p, n->max);
	p = pst_put_varint(p, nb);
	for (unsigned i = 0; i < nb; i++)
		p = pst_put_varint(p, n->hist[i]);
	p = pst_put_varint(p, n->timed);
	p = pst_put_varint(p, n->stood_for);
	p = pst_put_varint(p, n->timed_sub);
	return p;
}

#define NODE_RECORD_MAX (19 * PST_VARINT_MAX + CCT_BUCKETS * 5)

/* Where a snapshot goes: the thread's own file (function ids), or the
 * process file for a thread still running (function addresses). */
struct snap_out {
	struct ps_thread *own; /* own file: the writing thread itself */
	uint32_t seq;	       /* process file: the thread's seq */
	uint32_t count;
};

static void emit_node(struct snap_out *o, struct ps_calls_thread *c, uint32_t id,
		      const struct cct_node *n)
{
	uint8_t buf[NODE_RECORD_MAX], *p = buf;
	if (o->own) {
		p = pst_put_varint(p, id);
		p = pst_put_varint(p, n->parent);
		p = pst_put_varint(p, func_id(o->own, c, n->fn));
		p = put_node_counts(p, n);
		ps_write_ext(o->own, PST_X_CCT_NODE, buf, (size_t)(p - buf));
	} else {
		p = pst_put_varint(p, o->seq);
		p = pst_put_varint(p, id);
		p = pst_put_varint(p, n->parent);
		p = pst_put_varint(p, n->fn);
		p = put_node_counts(p, n);
		ps_process_ext(PST_X_CCT_LIVE, buf, (size_t)(p - buf));
	}
	o->count++;
}

static void emit_end(struct snap_out *o)
{
	uint8_t buf[2 * PST_VARINT_MAX], *p = buf;
	if (o->own) {
		p = pst_put_varint(p, o->count);
		ps_write_ext(o->own, PST_X_CCT_END, buf, (size_t)(p - buf));
	} else {
		p = pst_put_varint(p, o->seq);
		p = pst_put_varint(p, o->count);
		ps_process_ext(PST_X_CCT_LIVE_END, buf, (size_t)(p - buf));
	}
}

/* Write c's tree as a full snapshot at `now`: calls still open on the
 * shadow stack count as ending now (as they would at the thread's end),
 * without changing the tree, so the thread can record on.
 *
 * May read another thread's state while it runs (live snapshots): every
 * load is bounded by what was published (nnodes after the node, nodes
 * arrays only grow and stay mapped, frames is fixed), so the read is
 * safe; the values of a call being counted right then may be off by it.
 * Open frames have increasing node ids from the root down (a child node is
 * created after its parent), which lets one pass pair them with nodes. */
static void write_snapshot(struct snap_out *o, struct ps_calls_thread *c, uint64_t now)
{
	uint32_t n = __atomic_load_n(&c->nnodes, __ATOMIC_ACQUIRE);
	const struct cct_node *nodes = __atomic_load_n(&c->nodes, __ATOMIC_ACQUIRE);
	uint32_t depth = __atomic_load_n(&c->depth, __ATOMIC_ACQUIRE);
	if (depth > c->cap)
		depth = c->cap;
	uint32_t k = 0;
	for (uint32_t id = 1; nodes && id < n; id++) {
		struct cct_node node = nodes[id];
		while (k < depth && c->frames[k].node < id)
			k++;
		if (k < depth && c->frames[k].node == id) {
			/* an open call (counted at its enter): its time so far,
			 * and its open child's, if that is this node's child */
			const struct call_frame *f = &c->frames[k];
			if (f->weight)
				node_account(&node, now > f->start ? now - f->start : 0, f->weight,
					     1); /* judged as a call alone, as it is cut short */
			const struct call_frame *in = k + 1 < depth ? &c->frames[k + 1] : NULL;
			if (in && in->weight && in->node != CCT_UNTRACKED && in->node < n &&
			    nodes[in->node].parent == id)
				node.kids += (now > in->start ? now - in->start : 0) * in->weight;
			k++;
		}
		emit_node(o, c, id, &node);
	}
	emit_end(o);
}

/* Close every open call at the thread's end (main() of a program that calls
 * exit() never returns), then write the tree. Runs with t->busy set. */
void ps_calls_thread_end(struct ps_thread *t)
{
	struct ps_calls_thread *c = t->calls;
	if (!c)
		return;
	pending_drain(t, c);
	uint64_t now = ps_now();
	c->overflow = 0;
	while (c->depth)
		pop(t, c, now);
	if (c->mode == PS_CALLS_TREE) {
		struct snap_out o = {.own = t};
		write_snapshot(&o, c, now);
	}
	calls_free(t);
}

/* Before exec: the thread's tree as it is now, into its own file (exec
 * would lose it). If exec fails the thread records on; its end writes a
 * newer full snapshot, which readers take instead. Runs with t->busy set. */
void ps_calls_flush(struct ps_thread *t)
{
	struct ps_calls_thread *c = t->calls;
	if (!c)
		return;
	pending_drain(t, c);
	if (c->mode == PS_CALLS_TREE) {
		struct snap_out o = {.own = t};
		write_snapshot(&o, c, ps_now());
	}
}

/* At the process's end (or exec), from the thread ending it: the tree of
 * thread t, which is still running, into the process file (writing into
 * t's own stream is not safe). */
void ps_calls_write_live(struct ps_thread *t)
{
	struct ps_calls_thread *c = __atomic_load_n(&t->calls, __ATOMIC_ACQUIRE);
	if (!c || c->mode != PS_CALLS_TREE)
		return;
	struct snap_out o = {.seq = t->seq};
	write_snapshot(&o, c, ps_now());
}

/* --- fork --- */

/* In a forked child, before the thread states are forgotten: the states
 * of threads that do not exist here go back to the pool (they are this
 * process's copies), the forking thread's own is handed over to
 * ps_calls_fork_child_adopt. A pool lock held by a vanished thread is
 * released: its half-done push or pop can only lose one state. */
struct ps_calls_thread *ps_calls_fork_child_take(struct ps_thread *self)
{
	pool_lock = 0;
	struct ps_calls_thread *kept = NULL;
	for (struct ps_thread *t = ps_thread_list(); t; t = t->next_all) {
		if (t->state != PS_T_ACTIVE || !t->calls)
			continue;
		if (t == self)
			kept = t->calls;
		else
			pool_put(t->calls);
		t->calls = NULL;
	}
	return kept;
}

/* The child's thread keeps the calls open at fork time: they end in the
 * child too, so their exits match. The child's file and tree start empty:
 * those calls are entered again at the child's start (ENTER records in
 * trace mode; one call each on a fresh tree path in tree mode), so the
 * child's times cover its own life only. */
void ps_calls_fork_child_adopt(struct ps_thread *t, struct ps_calls_thread *c)
{
	if (!c)
		return;
	if (!t || !ps_enter(t)) {
		pool_put(c);
		return;
	}
	c->npending = 0;
	c->pending_overflow = 0;
	funcs_clear(c);
	if (c->mode == PS_CALLS_TREE && tree_clear(c)) {
		pool_put(c);
		ps_leave(t);
		return;
	}
	uint64_t now = ps_now();
	for (uint32_t i = 0; i < c->depth; i++) {
		struct call_frame *f = &c->frames[i];
		f->start = now;
		if (c->mode == PS_CALLS_TREE)
			tree_open(t, c, f, i ? c->frames[i - 1].node : 0, now);
		else if (!c->min_ticks)
			write_enter(t, c, f->fn, now);
	}
	c->written = 0;
	t->counters[PST_C_CALLS] += c->depth;
	t->calls = c;
	ps_leave(t);
}

/* ------------------------------------------------------------------ */
/* the shadow stack for other recorders                                */

int ps_calls_depth(const struct ps_thread *t)
{
	const struct ps_calls_thread *c = t ? t->calls : NULL;
	return c ? (int)c->depth : 0;
}

int ps_calls_shadow(const struct ps_thread *t, uintptr_t *out, int max)
{
	const struct ps_calls_thread *c = t ? t->calls : NULL;
	if (!c || max <= 0)
		return 0;
	uint32_t depth = c->depth;
	__atomic_signal_fence(__ATOMIC_ACQUIRE);
	int n = depth < (uint32_t)max ? (int)depth : max;
	for (int i = 0; i < n; i++)
		out[i] = c->frames[depth - 1 - (uint32_t)i].fn;
	return n;
}

int ps_calls_sites(const struct ps_thread *t, uintptr_t *frame0, uintptr_t *out, int max)
{
	const struct ps_calls_thread *c = t ? t->calls : NULL;
	if (!c || max <= 0 || !c->depth)
		return 0;
	uint32_t depth = c->depth;
	__atomic_signal_fence(__ATOMIC_ACQUIRE);
	*frame0 = c->frames[depth - 1].sp;
	int n = depth < (uint32_t)max ? (int)depth : max;
	for (int i = 0; i < n; i++)
		out[i] = c->frames[depth - 1 - (uint32_t)i].site;
	return n;
}
