/*
 * Memory recorder internals shared by mem.c (the malloc-family hooks),
 * mem_cxx.c (operator new/delete), memsample.c (PROFSHIM_MEM_SAMPLE) and
 * rss.c (resident set size over time).
 */
#ifndef PS_MEM_H
#define PS_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shim.h"

/* --- memsample.c: Poisson sampling by bytes --- */
/* Non-zero when PROFSHIM_MEM_SAMPLE is set: only sampled allocations (and
 * the frees of sampled blocks) are written. */
extern uint64_t ps_memsample_mean __attribute__((visibility("hidden")));
void ps_memsample_init(void);
struct ps_sample_tls {
	int64_t until; /* bytes to the next sample point */
	int64_t drawn; /* `until` when last drawn (or settled): drawn - until
			* bytes were charged since, not yet counted */
	uint64_t rng;  /* xorshift64* state, 0 = not seeded */
	/* `until` was drawn (ps_memsample_passed) since the thread started
	 * or its fast paths closed: reaching it is a sample */
	bool armed;
	/* exact usable bytes (counters MEM_USABLE_*): the highest
	 * (alloc - freed) since the last MEM_USABLE record, and the bytes
	 * left to free before the next one is due (<= 0: due) */
	int64_t high;
	int64_t left;
	/* The fast paths' thread (mem.c): this thread's state, set where the
	 * two countdowns are armed (ps_memsample_passed draws `until`,
	 * ps_memsample_publish sets `left`), both run by the thread inside
	 * a hook, its state entered. Closed before, at its end and before
	 * an exec (ps_memsample_settle), in a forked child
	 * (ps_memsample_fork_child): then `until` and `left` are 0 as well.
	 * So a fast path that found its countdown short needs no test of
	 * the gate: closed => both countdowns <= 0 => the slow path. Closed
	 * is NULL at first, &ps_memsample_closed later: a fork or a failed
	 * exec in a signal handler that interrupted a fast path between its
	 * countdown and its load of the gate then counts into that dummy
	 * state (those few counts are lost) instead of through NULL. */
	struct ps_thread *gate;
};
extern __thread struct ps_sample_tls ps_sample_tls PS_TLS;
extern struct ps_thread ps_memsample_closed __attribute__((visibility("hidden")));
static inline bool ps_memsample_gate_open(const struct ps_thread *t)
{
	return t && t != &ps_memsample_closed;
}
/* The sample point was passed: draw the next one; true when this
 * allocation is a sample. */
bool ps_memsample_passed(void);
/* Count the bytes charged to this thread's sampling clock and not yet
 * counted into t->counters[PST_C_MEM_SAMPLE_BYTES] (t is this thread's
 * state; called before its counters are written). */
void ps_memsample_settle(struct ps_thread *t);
/* A forked child: the parent's thread state is forgotten (the gate, and
 * the countdowns: the parent counts what it charged). */
void ps_memsample_fork_child(void);
/* The fast paths' charge: true when `size` bytes stay short of the sample
 * point. False: the charge must be undone (ps_memsample_uncharge, out of
 * line, on the way to the recording path, which charges again with
 * ps_memsample_take). Charging first and undoing on the rare miss keeps
 * the fast path at a subtraction from memory and a branch on its result.
 * size 0 (charged 1) is left to the recording path, charged nothing: a
 * test here is cheaper than an adjustment on every call. A signal
 * handler's allocation between the charge and its undo sees the clock a
 * little early; the bytes counted (drawn - until) still add up, the undo
 * comes after any draw in between. */
static inline bool ps_memsample_charge_short(size_t size)
{
	if (PS_UNLIKELY(size == 0))
		return false;
#if defined(__x86_64__)
	/* GCC loads, subtracts, stores and tests (5 instructions): the
	 * subtraction from memory sets the flags the branch needs (2). */
	bool reached;
	__asm__("subq %2, %0" : "+m"(ps_sample_tls.until), "=@ccle"(reached) : "r"(size));
	return PS_LIKELY(!reached);
#else
	return PS_LIKELY((ps_sample_tls.until -= (int64_t)size) > 0);
#endif
}
static inline void ps_memsample_uncharge(size_t size)
{
	ps_sample_tls.until += (int64_t)size;
}
/* The fast paths' count of a free of `u` usable bytes towards the next
 * MEM_USABLE record: true when it stays short (then the gate is open:
 * see ps_sample_tls.gate). False: undo with ps_memsample_unfree, or count
 * the free and publish. Same form as ps_memsample_charge_short. */
static inline bool ps_memsample_free_short(size_t u)
{
#if defined(__x86_64__)
	bool due;
	__asm__("subq %2, %0" : "+m"(ps_sample_tls.left), "=@ccle"(due) : "r"(u));
	return PS_LIKELY(!due);
#else
	return PS_LIKELY((ps_sample_tls.left -= (int64_t)u) > 0);
#endif
}
static inline void ps_memsample_unfree(size_t u)
{
	ps_sample_tls.left += (int64_t)u;
}
/* Charge `size` bytes to this thread's sampling clock; true when this
 * allocation is a sample. */
static inline bool ps_memsample_take(size_t size)
{
	ps_sample_tls.until -= (int64_t)(size ? size : 1);
	if (PS_LIKELY(ps_sample_tls.until > 0))
		return false;
	return ps_memsample_passed();
}
/* Remember a sampled block's address and size (false: the set is full,
 * its free will not be seen) / forget it at its free. forget returns true
 * (and its size) when addr was a sampled block (its free must be
 * written). */
bool ps_memsample_remember(uintptr_t addr, uint64_t size);
/* Counting filter in front of the set: zero for the bucket of an address
 * means it is surely not a sampled block. The free path reads a bitmap of
 * the non-zero buckets (2 KiB, static: stays in L1, no pointer to load;
 * the byte counters were a cache miss per free), the counters are only
 * touched by sampled blocks. A bucket is address bits 4-9 (its bit in a
 * word) and 12-19 (the word): blocks are 16-byte aligned and spread over
 * the heap. Both come from one shift of the address: the word is the
 * shifted address's second byte (one byte move on x86-64, no mask), the
 * bit its low 6 bits (the bit test takes them mod 64). 7 instructions on
 * the free path, where bits 4-18 took 9. */
#define PS_FILTER_WORD_BITS 8
#define PS_FILTER_WORDS (1u << PS_FILTER_WORD_BITS)
#define PS_FILTER_BITS (PS_FILTER_WORD_BITS + 6)
extern uint64_t ps_memsample_nonzero[PS_FILTER_WORDS]
    __attribute__((visibility("hidden"))); /* bit per bucket: counter != 0 */
static inline uint32_t ps_memsample_hash(uintptr_t a)
{
	return (uint32_t)(((uint64_t)a * 0x9e3779b97f4a7c15ull) >> 32);
}
static inline uint32_t ps_memsample_bucket(uintptr_t a)
{
	uintptr_t b = a >> 4;
	return (uint32_t)(((b >> 8) & (PS_FILTER_WORDS - 1)) << 6 | (b & 63));
}
static inline bool ps_memsample_maybe(uintptr_t a)
{
	uintptr_t b = a >> 4;
	uintptr_t w;
#if defined(__x86_64__)
	/* the second byte of b, read as its register's high byte (GCC and
	 * clang split (b >> 8) & 255 into a shift and a byte move); the
	 * 32-bit move clears the rest */
	__asm__("movzbl %h1, %k0" : "=r"(w) : "Q"(b));
#else
	w = (b >> 8) & (PS_FILTER_WORDS - 1);
#endif
	uint64_t word = __atomic_load_n(&ps_memsample_nonzero[w], __ATOMIC_RELAXED);
	return (word >> (b & 63)) & 1;
}
bool ps_memsample_forget(uintptr_t addr, uint64_t *size);
/* Live bytes a sampled block of `size` stands for (approximately
 * size / (1 - exp(-size / mean)), without libm). */
static inline int64_t ps_memsample_estimate(uint64_t size)
{
	uint64_t m = ps_memsample_mean;
	return (int64_t)(size >= m ? size + m / 2 : m + size / 2);
}

/* Exact live bytes in sampling mode (MEM_USABLE in profshim_trace.h):
 * every allocation and free adds the block's usable size to this thread's
 * counters (a load of the allocator's chunk header, no syscall), so the
 * reader knows the live heap exactly at every record, not only as an
 * estimate from ~live/M samples. `u` is malloc_usable_size of the block. */
static inline void ps_memsample_usable_alloc(struct ps_thread *t, size_t u)
{
	uint64_t a = t->counters[PST_C_MEM_USABLE_ALLOC] += u;
	int64_t live = (int64_t)(a - t->counters[PST_C_MEM_USABLE_FREED]);
	if (live > ps_sample_tls.high)
		ps_sample_tls.high = live;
}
/* Write a MEM_USABLE record (t entered): ticks 0 = at the record just
 * written; addr / usable: the sampled block just allocated, or 0. */
void ps_memsample_publish(struct ps_thread *t, uint64_t ticks, uintptr_t addr, size_t usable);
/* The same, timed now, with no block (t entered). */
void ps_memsample_publish_now(struct ps_thread *t);
/* Freed about M bytes since the last record: publish (t not entered). */
void ps_memsample_publish_frees(struct ps_thread *t);
/* A free of a block of `u` usable bytes: true when a MEM_USABLE record is
 * due (then call ps_memsample_publish_now, or ps_memsample_publish_frees
 * when t is not entered; the fast path keeps the call out of line). */
static inline bool ps_memsample_freed(struct ps_thread *t, size_t u)
{
	t->counters[PST_C_MEM_USABLE_FREED] += u;
	return PS_UNLIKELY((ps_sample_tls.left -= (int64_t)u) <= 0);
}

/* A forked child (recorder.h after_fork): the RSS timer, and the memory
 * settings written into the child's process file. */
void ps_mem_after_fork(int side);
/* Recording started or stopped (recorder.h start, recording_changed):
 * the hooks' paths follow. */
void ps_mem_recording_changed(void);
/* The process ends: the RSS timer's last reading; the hooks leave the
 * fast paths (recording is about to stop). */
void ps_mem_finish(void);

/* --- rss.c --- */
/* Event clock time of the next due RSS reading (0: read at the next event,
 * UINT64_MAX: off). ps_rss_tick(t) must run with t entered (busy). */
extern uint64_t ps_rss_next __attribute__((visibility("hidden")));
void ps_rss_init(void);

#endif
