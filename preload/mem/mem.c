/*
 * Memory recorder: the malloc-family hooks.
 *
 * Every exported function forwards to the allocator found below the shim
 * with dlsym(RTLD_NEXT) (glibc, or jemalloc / tcmalloc preloaded after the
 * shim or linked into the program) and, when recording, writes an ALLOC or
 * FREE record (include/profshim_trace.h). Allocations carry the stack
 * captured with libunwind and interned into the thread's stack trie; frees
 * never unwind.
 *
 * Safety (DESIGN.md, hard rules):
 *  - dlsym itself may call calloc/malloc before the real functions are
 *    known: those calls are served from a static bootstrap arena, and free
 *    ignores pointers into it.
 *  - malloc can run before any constructor: the first hook starts the shim
 *    (ps_init). While the shim is starting, and whenever the thread is
 *    already inside a hook (the shim's own work, libunwind, a signal
 *    handler), calls take the plain path: forwarded, not recorded.
 *  - errno is what the real call left (ENOMEM on failure); the recording
 *    never changes it.
 *  - Allocator independence: functions the allocator below does not define
 *    itself (jemalloc has no pvalloc or reallocarray) are built from the
 *    ones it does, never taken from another allocator.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem_full.h"
#include "mem_record.h"

static bool mem_on; /* PST_REC_MEM in PROFSHIM_RECORD */
/* Set once the real functions are known and memory recording is off for
 * the whole run: every hook is then one load and a tail call. */
static bool mem_off;

/* --- entering a hook --- */

static __thread int thread_starting PS_TLS;

/* Slow part of hook entry: start the shim, or this thread's state. */
static __attribute__((noinline)) struct ps_thread *enter_slow(void)
{
	if (ps_self || thread_starting)
		return ps_self; /* an allocation while starting: plain */
	if (!ps_initialized) {
		thread_starting = 1;
		ps_init(); /* returns at once while starting: plain path */
		thread_starting = 0;
		if (!ps_initialized || !ps_recording || !mem_on)
			return NULL;
		if (ps_self)
			return ps_self;
	}
	thread_starting = 1;
	struct ps_thread *t = ps_thread_get();
	thread_starting = 0;
	return t;
}

/* The thread to record into, entered (busy), or NULL for the plain path. */
static inline struct ps_thread *mem_enter(void)
{
	if (PS_UNLIKELY(!ps_recording || !mem_on)) {
		if (ps_initialized)
			return NULL;
	}
	struct ps_thread *t = ps_self;
	if (PS_UNLIKELY(!t)) {
		t = enter_slow();
		if (!t)
			return NULL;
	}
	if (PS_UNLIKELY(!ps_enter(t))) {
		t->counters[PST_C_DROP_REENTRANT]++;
		return NULL;
	}
	return t;
}

/* Returns the event time. */
static PS_INLINE uint64_t write_alloc(struct ps_thread *t, unsigned fn, uint64_t size, void *p,
				      uintptr_t old)
{
	uint64_t stack = capture_stack(t);
	uint64_t now = ps_now();
	uint8_t *w = ps_reserve(t, 7 * PST_VARINT_MAX);
	if (!w)
		return now;
	w = pst_put_tag(w, ps_dt(t, now), PST_K_ALLOC);
	w = pst_put_varint(w, fn);
	w = pst_put_varint(w, size);
	/* delta-coded (PST_FLAG_DELTA); the state moves only with a record
	 * that is written */
	w = pst_put_varint(w, pw_delta(&t->out.last_addr, (uintptr_t)p));
	w = pst_put_varint(w, pw_delta(&t->out.last_stack, stack));
	if (fn == PST_FN_REALLOC || fn == PST_FN_REALLOCARRAY)
		w = pst_put_varint(w, pw_delta_old((uintptr_t)p, old));
	ps_commit(t, w);
	return now;
}

static void write_free(struct ps_thread *t, uintptr_t addr)
{
	uint8_t *w = ps_reserve(t, 3 * PST_VARINT_MAX);
	if (!w)
		return;
	w = pst_put_tag(w, ps_dt(t, ps_now()), PST_K_FREE);
	w = pst_put_varint(w, pw_delta(&t->out.last_addr, addr));
	ps_commit(t, w);
}

/* The same in sampling mode, past the sampling decision. */
static __attribute__((noinline)) void note_sampled(struct ps_thread *t, unsigned fn, uint64_t size,
						   void *p)
{
	size_t u = block_bytes(p);
	ps_memsample_usable_alloc(t, u);
	if (p) {
		if (ps_memsample_remember((uintptr_t)p, size))
			t->live_bytes += ps_memsample_estimate(size);
		else
			t->counters[PST_C_DROP_MEM_SAMPLE_SET]++;
	}
	uint64_t now = write_alloc(t, fn, size, p, 0);
	ps_memsample_publish(t, 0, (uintptr_t)p, u);
	rss_check(t, now);
}

/* Either mode, for the rarer calls. */
static void note_any(struct ps_thread *t, unsigned fn, uint64_t size, void *p)
{
	if (!ps_memsample_mean) {
		note_alloc(t, fn, size, p);
		return;
	}
	t->counters[PST_C_ALLOCS]++;
	if (ps_memsample_take(size))
		note_sampled(t, fn, size, p);
	else
		ps_memsample_usable_alloc(t, block_bytes(p));
}

/* Sampling mode is on (memory recorded, PROFSHIM_MEM_SAMPLE set, the
 * allocator resolved): set once by ps_mem_init, so the hooks decide on one
 * load instead of four. */
static bool sample_mode;
/* The same with glibc's allocator below: malloc, free and realloc take
 * the fast paths below (malloc_hot, free_hot, realloc_hot), which read
 * glibc's chunk header. */
static bool sample_glibc;

/* Sampling mode's thread for a hook, when the fast path applies:
 * recording, the thread started and not inside a hook. */
static inline struct ps_thread *sample_thread(void)
{
	if (!PS_LIKELY(sample_mode) || PS_UNLIKELY(!ps_recording))
		return NULL;
	struct ps_thread *t = ps_self;
	return PS_LIKELY(t && !t->busy) ? t : NULL;
}

/* Sampling mode's fast path: count the call and, unless it is a sample,
 * hand it to the allocator as a tail call, without entering the thread
 * (nothing is written; a signal handler that allocates meanwhile records
 * as usual). A sample takes the recording path below. */
#define SAMPLE_FAST(fn, size, call)                                                                \
	do {                                                                                       \
		struct ps_thread *s_ = sample_thread();                                            \
		if (s_) {                                                                          \
			s_->counters[PST_C_ALLOCS]++;                                              \
			if (PS_LIKELY(!ps_memsample_take(size))) {                                 \
				void *q_ = call;                                                   \
				ps_memsample_usable_alloc(s_, block_bytes(q_));                    \
				return q_;                                                         \
			}                                                                          \
			ps_enter(s_);                                                              \
			void *p_ = REAL_CALL(s_, call);                                            \
			int e_ = errno;                                                            \
			note_sampled(s_, fn, size, p_);                                            \
			ps_leave(s_);                                                              \
			errno = e_;                                                                \
			return p_;                                                                 \
		}                                                                                  \
	} while (0)

/* A block allocated on a hook's plain path (not recorded): out of the
 * live-block map, in case a stale entry names its address (livemap.h). */
static inline void *plain_block(void *p)
{
	ps_livemap_forget((uintptr_t)p);
	return p;
}

/* Recording wrapper for the plain allocating calls. Sampling mode only
 * counts the call unless it is a sample: no clock, no errno traffic. */
#define RECORD_ALLOC(fn, size, call)                                                               \
	do {                                                                                       \
		SAMPLE_FAST(fn, size, call);                                                       \
		struct ps_thread *t_ = mem_enter();                                                \
		if (!t_)                                                                           \
			return plain_block(call);                                                  \
		void *p_ = REAL_CALL(t_, call);                                                    \
		if (ps_memsample_mean) {                                                           \
			t_->counters[PST_C_ALLOCS]++;                                              \
			if (PS_LIKELY(!ps_memsample_take(size))) {                                 \
				ps_memsample_usable_alloc(t_, block_bytes(p_));                    \
				ps_leave(t_);                                                      \
				return p_;                                                         \
			}                                                                          \
			int e_ = errno;                                                            \
			note_sampled(t_, fn, size, p_);                                            \
			ps_leave(t_);                                                              \
			errno = e_;                                                                \
			return p_;                                                                 \
		}                                                                                  \
		int e_ = errno;                                                                    \
		note_alloc(t_, fn, size, p_);                                                      \
		ps_leave(t_);                                                                      \
		errno = e_;                                                                        \
		return p_;                                                                         \
	} while (0)

/* --- sampling mode's fast paths (glibc below) ---
 *
 * Short of the sample point and for a block surely not sampled, a hook only
 * counts: the call, the sampling clock, the block's size in the allocator
 * (read from its chunk header, the word before the block; see block_bytes)
 * into the exact live bytes. No clock, no errno, no thread entry (a signal
 * handler that allocates meanwhile is counted as usual), and no call but
 * the allocator's. Everything else (a sample, a block that may be sampled,
 * a MEM_USABLE record due, the bootstrap arena) is left to the recorded
 * paths, which decide again from the start: the fast path has counted
 * nothing when it gives up (a countdown it took is given back).
 *
 * The thread's state (the gate, mem.h) is not tested: the countdowns
 * (sampling clock, bytes to the next MEM_USABLE record) are only armed
 * with the gate open, so a countdown that stays short means the gate is
 * open, and a closed gate sends every call to the slow path. */

#include "glibc_chunk.h" /* the chunk-header read */
#include "recorder.h"	 /* PS_FORK_CHILD (ps_mem_after_fork) */

/* The recording switch (shim.h), read by sample_thread: declared
 * hidden here (it is the shim's own), a direct load, not one through the
 * GOT. */
extern volatile int ps_recording __attribute__((visibility("hidden")));

/* The fast paths keep no frame pointer: the frame they make only aligns
 * the stack for the allocator's call (CPU samples landing here unwind by
 * the unwind tables, and the recorded paths they jump to, whose frames the
 * shim walks by frame pointer, keep theirs). */
#if defined(__clang__) /* no per-function optimize attribute */
#define PS_HOT __attribute__((noinline))
#else
#define PS_HOT __attribute__((noinline, optimize("omit-frame-pointer")))
#endif

/* A new block p counted into this thread's exact live bytes. The thread
 * is found again (the gate, next to the sampling clock): cheaper than
 * keeping it across the allocator's call. */
static inline void malloc_usable_counted(void *p)
{
	ps_memsample_usable_alloc(ps_sample_tls.gate, chunk_bytes(chunk_word(p)));
}

/* realloc_hot's call failed: the call is counted, the old block of u
 * usable bytes stays (its countdown given back). Returns the call's
 * NULL (realloc_hot keeps nothing else across its call). */
static __attribute__((noinline)) void *realloc_failed(size_t u)
{
	ps_sample_tls.gate->counters[PST_C_ALLOCS]++;
	ps_memsample_unfree(u);
	return NULL;
}

/* The allocation after the charge: the call and its block counted, both
 * after the call (the thread's state loaded once). */
static inline void *malloc_counted(size_t n)
{
	void *p = real.malloc(n);
	struct ps_thread *t = ps_sample_tls.gate; /* open: see above */
	t->counters[PST_C_ALLOCS]++;
	if (PS_LIKELY(p))
		ps_memsample_usable_alloc(t, chunk_bytes(chunk_word(p)));
	return p;
}

/* --- the hooks --- */

static __attribute__((noinline)) void *malloc_recorded(size_t n)
{
	if (PS_UNLIKELY(resolving()))
		return boot_alloc(n, 0);
	RECORD_ALLOC(PST_FN_MALLOC, n, real.malloc(n));
}

/* The hottest hooks keep sampling mode's fast path free of any prologue:
 * the rest lives in functions of their own, reached by tail calls. */
static void *malloc_missed(size_t n);
static PS_HOT void *malloc_hot(size_t n)
{
	if (PS_LIKELY(ps_memsample_charge_short(n)))
		return malloc_counted(n);
	return malloc_missed(n);
}

/* The charge reached the sample point (or size 0, or the gate is
 * closed): undone, and the recorded path decides from the start. */
static __attribute__((noinline)) void *malloc_missed(size_t n)
{
	ps_memsample_uncharge(n);
	return malloc_recorded(n);
}

/* --- the dispatch of malloc, free and realloc ---
 *
 * Each jumps through a pointer chosen once by ps_mem_init (set_hot_hooks):
 * the allocator itself when memory is not recorded, sampling mode's fast
 * paths with glibc below, the recorded paths otherwise, and until
 * ps_mem_init has run (they start the shim). One indirect jump, where the
 * hook tested two flags on every call. */
struct hot_hooks {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*realloc)(void *, size_t);
	void *(*calloc)(size_t, size_t);
};
static void free_checked(void *p);
static void *realloc_recorded(void *p, size_t n);
static void *calloc_recorded(size_t nmemb, size_t size);
static struct hot_hooks hot = {malloc_recorded, free_checked, realloc_recorded, calloc_recorded};

PS_EXPORT void *malloc(size_t n)
{
	return hot.malloc(n);
}

PS_EXPORT void *calloc(size_t nmemb, size_t size)
{
	return hot.calloc(nmemb, size);
}

static __attribute__((noinline)) void *calloc_recorded(size_t nmemb, size_t size)
{
	if (PS_UNLIKELY(resolving())) {
		size_t n;
		return __builtin_mul_overflow(nmemb, size, &n) ? NULL : boot_alloc(n, 0);
	}
	size_t bytes;
	if (__builtin_mul_overflow(nmemb, size, &bytes))
		bytes = 0; /* recorded as size 0, as the format says */
	RECORD_ALLOC(PST_FN_CALLOC, bytes, real.calloc(nmemb, size));
}

/* Free of a possibly sampled block in sampling mode. */
static __attribute__((noinline)) void free_sampled(struct ps_thread *t, void *p)
{
	uint64_t size = 0;
	int saved = errno;
	if (ps_memsample_forget((uintptr_t)p, &size)) {
		t->live_bytes -= ps_memsample_estimate(size);
		write_free(t, (uintptr_t)p);
		ps_memsample_publish(t, 0, 0, 0);
	}
	errno = saved;
}

/* Sampling mode, a block that may have been sampled (counted already). */
static __attribute__((noinline)) void free_maybe_sampled(struct ps_thread *t, void *p)
{
	if (!ps_enter(t)) {
		/* inside another hook (the fast path does not check): its
		 * free cannot be written here */
		t->counters[PST_C_DROP_REENTRANT]++;
		real.free(p);
		return;
	}
	free_sampled(t, p);
	REAL_FREE(t, p);
	ps_leave(t);
}

static __attribute__((noinline)) void free_recorded(void *p);

/* Sampling mode's fast path, a MEM_USABLE record due: out of line, so
 * that the fast path keeps nothing across a call. */
static __attribute__((noinline)) void free_publish(struct ps_thread *t, void *p)
{
	ps_memsample_publish_frees(t);
	if (ps_memsample_maybe((uintptr_t)p))
		free_maybe_sampled(t, p);
	else
		real.free(p);
}

PS_EXPORT void free(void *p)
{
	hot.free(p);
}

/* free, memory not recorded: the bootstrap arena's blocks stay. */
static void free_off(void *p)
{
	if (PS_LIKELY(!is_boot(p)))
		real.free(p);
}

/* free, the recorded paths (not sampling mode's fast path). */
static void free_checked(void *p)
{
	if (PS_LIKELY(p))
		free_recorded(p);
}

/* free, sampling mode with glibc below: a block surely not sampled goes
 * back as a tail call, nothing written. */
static void free_missed(void *p, size_t u);
static PS_HOT void free_hot(void *p)
{
	if (PS_UNLIKELY(!p))
		return;
	size_t u = chunk_bytes(chunk_word(p));
	if (PS_UNLIKELY(!ps_memsample_free_short(u)))
		return free_missed(p, u);
	struct ps_thread *t = ps_sample_tls.gate; /* open: see above */
	t->counters[PST_C_FREES]++;
	t->counters[PST_C_MEM_USABLE_FREED] += u;
	if (PS_LIKELY(!ps_memsample_maybe((uintptr_t)p)))
		return real.free(p);
	return free_maybe_sampled(t, p);
}

/* free_hot's countdown ran out: with the gate open, a MEM_USABLE record
 * is due (the free counted as the fast path counts it, then published);
 * closed, the countdown is given back and the recorded path decides. */
static __attribute__((noinline)) void free_missed(void *p, size_t u)
{
	struct ps_thread *t = ps_sample_tls.gate;
	if (!ps_memsample_gate_open(t)) {
		ps_memsample_unfree(u);
		free_recorded(p);
		return;
	}
	t->counters[PST_C_FREES]++;
	t->counters[PST_C_MEM_USABLE_FREED] += u;
	free_publish(t, p);
}

/* free_hot's dispatch when a bootstrap block was handed out (rare: only
 * another thread's allocation while the allocator is being resolved): its
 * block has no chunk header and stays. Otherwise no pointer into the
 * arena exists and free_hot needs no check. */
static void free_hot_boot(void *p)
{
	if (PS_UNLIKELY(is_boot(p)))
		return;
	free_hot(p);
}

static __attribute__((noinline)) void free_recorded(void *p)
{
	if (PS_UNLIKELY(is_boot(p)))
		return;
	ensure_real();
	struct ps_thread *t = mem_enter();
	if (!t) {
		ps_livemap_forget((uintptr_t)p); /* before the block goes back */
		real.free(p);
		return;
	}
	t->counters[PST_C_FREES]++;
	/* Written before the block goes back: another thread may get the
	 * same address at once, and its ALLOC must come later in time. */
	if (ps_memsample_mean) {
		/* Sampling: no errno traffic unless the block may be sampled
		 * (the real free leaves errno as it would without us). */
		if (ps_memsample_freed(t, block_bytes(p)))
			ps_memsample_publish_now(t);
		if (PS_UNLIKELY(ps_memsample_maybe((uintptr_t)p)))
			free_sampled(t, p);
		REAL_FREE(t, p);
		ps_leave(t);
		return;
	}
	ps_mem_free_full(t, p);
}

/* realloc on the plain path (not recorded): the map keeps p's entry
 * while p lives on (resized in place, or the call failed), and has none
 * for a new block. p's entry is taken before the call, when p may go. */
static void *realloc_plain(void *p, size_t n)
{
	uint64_t id = ps_livemap_take((uintptr_t)p);
	void *q = real.realloc(p, n);
	if (id && (q == p || (!q && n)))
		ps_livemap_insert((uintptr_t)p, id);
	else
		ps_livemap_forget((uintptr_t)q);
	return q;
}

static void *realloc_common(void *p, size_t n, unsigned fn)
{
	if (PS_UNLIKELY(p && is_boot(p)))
		return boot_realloc(p, n);
	/* sampling mode: the old block's size in the allocator, before it goes */
	size_t old_bytes = ps_memsample_mean ? block_bytes(p) : 0;
	struct ps_thread *t = mem_enter();
	if (!t)
		return realloc_plain(p, n);
	if (!ps_memsample_mean)
		return ps_mem_realloc_full(t, p, n, fn);
	void *q = REAL_CALL(t, real.realloc(p, n));
	int e = errno;
	t->counters[PST_C_ALLOCS]++;
	/* p is gone unless the call failed (NULL result for a non-zero size). */
	bool old_gone = p && (q || n == 0);
	uint64_t now = 0;
	/* Sampling: the old block's free, when it was sampled, and the new
	 * block as a fresh allocation when it is sampled. */
	if (old_gone && ps_memsample_freed(t, old_bytes))
		ps_memsample_publish_now(t);
	if (old_gone && ps_memsample_maybe((uintptr_t)p))
		free_sampled(t, p);
	size_t u = block_bytes(q);
	ps_memsample_usable_alloc(t, u);
	if (ps_memsample_take(n)) {
		if (q && ps_memsample_remember((uintptr_t)q, n))
			t->live_bytes += ps_memsample_estimate(n);
		else if (q)
			t->counters[PST_C_DROP_MEM_SAMPLE_SET]++;
		now = write_alloc(t, fn, n, q, 0);
		ps_memsample_publish(t, 0, (uintptr_t)q, u);
	}
	if (now)
		rss_check(t, now);
	ps_leave(t);
	errno = e;
	return q;
}

/* Sampling mode's realloc of a block (glibc below): short of the
 * sample point, with an old block surely not sampled and no MEM_USABLE
 * record due, the old block counted as freed and the new one as
 * allocated. Both countdowns are taken before the call (a miss changes
 * nothing), the counts after it, the free first, as exact mode sees a
 * realloc (the peak is not the old and the new block together); only the
 * old block's size is kept across the call. */
static void *realloc_null_hot(size_t n);
static void *realloc_given_back(void *p, size_t n, size_t u, size_t charged);
static PS_HOT void *realloc_hot(void *p, size_t n)
{
	if (PS_UNLIKELY(!p))
		return realloc_null_hot(n);
	/* the old block's size in the allocator, before it goes */
	size_t u = chunk_bytes(chunk_word(p));
	if (PS_UNLIKELY(!n || ps_memsample_maybe((uintptr_t)p)))
		return realloc_common(p, n, PST_FN_REALLOC);
	if (PS_UNLIKELY(!ps_memsample_free_short(u)))
		return realloc_given_back(p, n, u, 0);
	if (PS_UNLIKELY(!ps_memsample_charge_short(n)))
		return realloc_given_back(p, n, u, n);
	void *q = real.realloc(p, n);
	if (PS_UNLIKELY(!q))
		return realloc_failed(u);	  /* p stays */
	struct ps_thread *t = ps_sample_tls.gate; /* open: see above */
	t->counters[PST_C_ALLOCS]++;
	t->counters[PST_C_MEM_USABLE_FREED] += u;
	malloc_usable_counted(q);
	return q;
}

static __attribute__((noinline)) void *realloc_recorded(void *p, size_t n)
{
	if (PS_UNLIKELY(resolving()))
		return p ? NULL : boot_alloc(n, 0);
	return realloc_common(p, n, PST_FN_REALLOC);
}

/* realloc_hot's countdowns ran out (a MEM_USABLE record due, the sample
 * point, the gate closed): the free's (u) and the charge's (charged: 0 if
 * not taken) given back, and the recorded path decides from the start. */
static __attribute__((noinline)) void *realloc_given_back(void *p, size_t n, size_t u,
							  size_t charged)
{
	ps_memsample_unfree(u);
	ps_memsample_uncharge(charged);
	return realloc_common(p, n, PST_FN_REALLOC);
}

/* realloc(NULL, n)'s charge ran out: undone, and the recorded path
 * decides from the start. */
static __attribute__((noinline)) void *realloc_missed(size_t n)
{
	ps_memsample_uncharge(n);
	return realloc_recorded(NULL, n);
}

/* realloc(NULL, n) is malloc(n) (C11 7.22.3.5; glibc's realloc calls its
 * malloc): in sampling mode's fast path, one call less */
static PS_HOT void *realloc_null_hot(size_t n)
{
	if (PS_LIKELY(ps_memsample_charge_short(n)))
		return malloc_counted(n);
	return realloc_missed(n);
}

/* realloc_hot's dispatch when a bootstrap block was handed out (see
 * free_hot_boot): such a block moves to the allocator. */
static void *realloc_hot_boot(void *p, size_t n)
{
	if (PS_UNLIKELY(is_boot(p)))
		return realloc_recorded(p, n);
	return realloc_hot(p, n);
}

/* realloc, memory not recorded (a bootstrap block moves to the
 * allocator). */
static void *realloc_off(void *p, size_t n)
{
	if (PS_UNLIKELY(is_boot(p)))
		return realloc_recorded(p, n);
	return real.realloc(p, n);
}

/* Each path its own function, reached by a tail call: the fast ones keep
 * a small frame. */
PS_EXPORT void *realloc(void *p, size_t n)
{
	return hot.realloc(p, n);
}

/* The process has ended (ps_mem_finish): recorded paths from now on. */
static bool hooks_finished;

/* The hooks' paths (ps_mem_init, once the allocator and the mode are
 * known; then at every start and stop of recording): sampling mode's fast
 * paths only while recording, so they need not check ps_recording on
 * every call; the recorded paths check it. */
static void set_hot_hooks(void)
{
	/* boot_alloc's pairing (mem_below.c): the allocator is resolved
	 * (state 2, ps_mem_init's ensure_real), then the flag is read */
	bool boot = __atomic_load_n(&resolve_state, __ATOMIC_SEQ_CST) != 2 ||
		    __atomic_load_n(&boot_handed_out, __ATOMIC_SEQ_CST);
	struct hot_hooks h = {malloc_recorded, free_checked, realloc_recorded, calloc_recorded};
	if (mem_off)
		/* the allocator itself, one jump: nothing to check unless a
		 * bootstrap block exists */
		h = (struct hot_hooks){real.malloc, boot ? free_off : real.free,
				       boot ? realloc_off : real.realloc, real.calloc};
	else if (sample_glibc && ps_recording &&
		 !__atomic_load_n(&hooks_finished, __ATOMIC_ACQUIRE))
		h = (struct hot_hooks){malloc_hot, boot ? free_hot_boot : free_hot,
				       boot ? realloc_hot_boot : realloc_hot, calloc_recorded};
	__atomic_store_n(&hot.malloc, h.malloc, __ATOMIC_RELAXED);
	__atomic_store_n(&hot.free, h.free, __ATOMIC_RELAXED);
	__atomic_store_n(&hot.realloc, h.realloc, __ATOMIC_RELAXED);
	__atomic_store_n(&hot.calloc, h.calloc, __ATOMIC_RELAXED);
}

/* Built on the allocator's realloc: glibc's reallocarray would call glibc's
 * own realloc even when another allocator owns the block. */
PS_EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
	ensure_real();
	size_t n;
	if (__builtin_mul_overflow(nmemb, size, &n)) {
		struct ps_thread *t = mem_enter();
		if (t) {
			note_any(t, PST_FN_REALLOCARRAY, 0, NULL);
			ps_leave(t);
		}
		errno = ENOMEM;
		return NULL;
	}
	return realloc_common(p, n, PST_FN_REALLOCARRAY);
}

PS_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	if (PS_UNLIKELY(resolving())) {
		*out = boot_alloc(n, align);
		return *out ? 0 : ENOMEM;
	}
	struct ps_thread *t = mem_enter();
	int rc;
	void *p = NULL;
	if (t)
		t->in_real = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (real.posix_memalign) {
		rc = real.posix_memalign(&p, align, n);
	} else {
		/* Same contract from memalign: EINVAL for a bad alignment. */
		if (align < sizeof(void *) || (align & (align - 1)))
			rc = EINVAL;
		else
			rc = (p = real_memalign(align, n)) ? 0 : ENOMEM;
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (t)
		t->in_real = 0;
	if (rc == 0)
		*out = p;
	if (t) {
		int e = errno;
		note_any(t, PST_FN_POSIX_MEMALIGN, n, rc == 0 ? p : NULL);
		ps_leave(t);
		errno = e;
	} else if (rc == 0) {
		ps_livemap_forget((uintptr_t)p);
	}
	return rc;
}

PS_EXPORT void *aligned_alloc(size_t align, size_t n)
{
	if (PS_UNLIKELY(resolving()))
		return boot_alloc(n, align);
	RECORD_ALLOC(PST_FN_ALIGNED_ALLOC, n,
		     real.aligned_alloc ? real.aligned_alloc(align, n) : real_memalign(align, n));
}

PS_EXPORT void *memalign(size_t align, size_t n)
{
	if (PS_UNLIKELY(resolving()))
		return boot_alloc(n, align);
	RECORD_ALLOC(PST_FN_MEMALIGN, n, real_memalign(align, n));
}

PS_EXPORT void *valloc(size_t n)
{
	if (PS_UNLIKELY(resolving()))
		return boot_alloc(n, page_size());
	RECORD_ALLOC(PST_FN_VALLOC, n,
		     real.valloc ? real.valloc(n) : real_memalign(page_size(), n));
}

PS_EXPORT void *pvalloc(size_t n)
{
	if (PS_UNLIKELY(resolving()))
		return boot_alloc(n, page_size());
	RECORD_ALLOC(PST_FN_PVALLOC, n, real.pvalloc ? real.pvalloc(n) : pvalloc_fallback(n));
}

PS_EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (is_boot(p))
		return boot_size(p);
	ensure_real();
	return real.malloc_usable_size ? real.malloc_usable_size(p) : 0;
}

/* Called by ps_init before recording starts. */
void ps_mem_init(void)
{
	ensure_real();
	mem_on = (ps_cfg.record & PST_REC_MEM) != 0;
	mem_off = !mem_on;
	ps_unwind_init();
	ps_memsample_init();
	if (mem_on && !ps_memsample_mean)
		ps_mem_ids_init(); /* numbered blocks (mem_ids.h) */
	ps_rss_init();
	uint8_t buf[32], *p = buf;
	p = pst_put_varint(p, ps_memsample_mean);
	p = pst_put_varint(p, mem_on ? ps_cfg.rss_ms : 0);
	ps_process_ext(PST_X_MEM_CONFIG, buf, (size_t)(p - buf));
	/* the fast paths' switches, once everything above is set */
	sample_mode = mem_on && ps_memsample_mean;
	sample_glibc = sample_mode && glibc_chunks;
	set_hot_hooks();
}

/* A recorded forked child has a process file of its own: it needs the
 * memory settings too, or its reader takes sampled counts for every call
 * (sampling mode's totals come from its counters; the parent's file said
 * so, the child's did not). */
void ps_mem_after_fork(int side)
{
	ps_rss_after_fork(side);
	if (side != PS_FORK_CHILD || !mem_on)
		return;
	uint8_t buf[32], *p = buf;
	p = pst_put_varint(p, ps_memsample_mean);
	p = pst_put_varint(p, ps_cfg.rss_ms);
	ps_process_ext(PST_X_MEM_CONFIG, buf, (size_t)(p - buf));
}

void ps_mem_recording_changed(void)
{
	set_hot_hooks();
}

void ps_mem_finish(void)
{
	ps_rss_finish();
	/* the end's records are being written: the recorded paths check
	 * ps_recording, which goes to 0 right after */
	__atomic_store_n(&hooks_finished, true, __ATOMIC_RELEASE);
	set_hot_hooks();
}
