/*
 * PROFSHIM_MEM_SAMPLE=<bytes>: sample allocations by bytes with a Poisson
 * process, as tcmalloc and jemalloc do. Each thread draws an exponential
 * distance (mean = the setting) to the next sample point; the allocation
 * that crosses it is recorded with its stack, the others only counted. The
 * reader weighs a sampled allocation of size s by 1 / (1 - exp(-s / mean)),
 * which makes totals unbiased estimates.
 *
 * Frees of sampled blocks must be recorded, the others not: sampled
 * addresses live in a lock-free open-addressing set (few entries: one per
 * `mean` bytes live), with a counting filter in front (per bucket of
 * addresses, the number of sampled blocks live) so that the common free of
 * an unsampled block costs one bit test. Counts are exact, so the filter
 * never fills. The set and the counters are made at the first sample (a
 * process that takes none pays no mapping); the bitmap is static.
 */
#define _GNU_SOURCE
#include <errno.h>

#include "clock.h"
#include "mem.h"

#define SET_BITS 16
#define SET_SLOTS (1u << SET_BITS)
#define SET_MAX_LIVE (SET_SLOTS / 2)
#define FILTER_BITS PS_FILTER_BITS
#define EMPTY 0u
#define TOMBSTONE 1u

uint64_t ps_memsample_mean;

/* One mapping, made by the first sample (tables_get). */
struct sample_tables {
	uintptr_t slots[SET_SLOTS];	   /* addresses */
	uint64_t sizes[SET_SLOTS];	   /* the blocks' requested sizes */
	uint8_t filter[1u << FILTER_BITS]; /* sampled blocks live per bucket */
};
static struct sample_tables *tables;
uint64_t ps_memsample_nonzero[PS_FILTER_WORDS]; /* bit per bucket: counter != 0 */
static unsigned set_live;			/* sampled blocks in the set */

__thread struct ps_sample_tls ps_sample_tls PS_TLS;
struct ps_thread ps_memsample_closed; /* the closed gate (mem.h) */
#define tls ps_sample_tls

void ps_memsample_init(void)
{
	ps_memsample_mean = ps_cfg.mem_sample;
}

/* The tables, made on first use: a thread that finds none maps its own
 * and publishes it unless another thread was first (then it unmaps its
 * own). No lock, no waiting; NULL when no memory could be mapped (the
 * caller counts the sample's free as unseen). */
static struct sample_tables *tables_get(void)
{
	struct sample_tables *cur = __atomic_load_n(&tables, __ATOMIC_ACQUIRE);
	if (PS_LIKELY(cur))
		return cur;
	struct sample_tables *mine = ps_alloc_pages(sizeof(struct sample_tables));
	if (!mine)
		return NULL;
	if (__atomic_compare_exchange_n(&tables, &cur, mine, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return mine;
	ps_free_pages(mine, sizeof(struct sample_tables));
	return cur;
}

/* Natural logarithm of x in (0, 1] to about 1e-6, without libm (the shim
 * does not link it): x = m * 2^e, ln m by the atanh series. */
static double ln_approx(double x)
{
	int e = 0;
	while (x < 1.0) {
		x *= 2.0;
		e--;
	}
	double t = (x - 1.0) / (x + 1.0), t2 = t * t;
	double s =
	    t * (1.0 + t2 * (1.0 / 3 +
			     t2 * (1.0 / 5 +
				   t2 * (1.0 / 7 + t2 * (1.0 / 9 + t2 * (1.0 / 11 + t2 / 13))))));
	return e * 0.6931471805599453 + 2.0 * s;
}

static uint64_t next_random(void)
{
	if (PS_UNLIKELY(!tls.rng)) {
		uint64_t seed = (uint64_t)(uintptr_t)&tls ^ ((uint64_t)ps_gettid() << 32);
		uint32_t lo, hi;
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		seed ^= ((uint64_t)hi << 32 | lo) * 0x9e3779b97f4a7c15ull;
		tls.rng = seed ? seed : 1;
	}
	uint64_t x = tls.rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	tls.rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* An exponentially distributed distance with the configured mean. */
static int64_t draw_distance(void)
{
	/* u in (0, 1]: 53 random bits, never 0. */
	double u = ((double)(next_random() >> 11) + 1.0) / 9007199254740992.0;
	double d = -ln_approx(u) * (double)ps_memsample_mean;
	if (d < 1.0)
		d = 1.0;
	if (d > 9.0e18)
		d = 9.0e18;
	return (int64_t)d;
}

/* The bytes charged since the last draw go to the thread's exact count of
 * requested bytes: counting them here, once per sample, keeps the
 * per-allocation path at one subtraction. */
static void count_charged(struct ps_thread *t)
{
	if (t)
		t->counters[PST_C_MEM_SAMPLE_BYTES] += (uint64_t)(tls.drawn - tls.until);
	tls.drawn = tls.until;
}

/* The gate closed, the countdowns at 0 (nothing left charged: the
 * caller counted it, or it is the parent's). The next draw starts the
 * clock again without a sample (ps_memsample_passed). */
static void fast_paths_closed(void)
{
	tls.gate = &ps_memsample_closed;
	tls.until = tls.drawn = 0;
	tls.left = 0;
	tls.armed = false;
}

void ps_memsample_settle(struct ps_thread *t)
{
	if (ps_memsample_mean && tls.rng)
		count_charged(t);
	/* the thread's last state (its end, an exec): what it did since its
	 * last record would otherwise be missed */
	if (ps_memsample_mean && t && t->counters[PST_C_MEM_USABLE_ALLOC])
		ps_memsample_publish_now(t);
	/* the thread's end (or a flush, an exec): the fast paths give way
	 * until a recorded path arms the countdowns again (see
	 * ps_sample_tls.gate) */
	fast_paths_closed();
}

void ps_memsample_fork_child(void)
{
	fast_paths_closed();
}

void ps_memsample_publish(struct ps_thread *t, uint64_t ticks, uintptr_t addr, size_t usable)
{
	uint64_t a = t->counters[PST_C_MEM_USABLE_ALLOC], f = t->counters[PST_C_MEM_USABLE_FREED];
	int64_t live = (int64_t)(a - f);
	if (tls.high < live)
		tls.high = live;
	uint8_t buf[6 * PST_VARINT_MAX], *p = buf;
	p = pst_put_varint(p, ticks);
	p = pst_put_varint(p, a);
	p = pst_put_varint(p, f);
	p = pst_put_varint(p, pst_zigzag(tls.high));
	p = pst_put_varint(p, addr);
	p = pst_put_varint(p, usable);
	ps_write_ext(t, PST_X_MEM_USABLE, buf, (size_t)(p - buf));
	tls.high = live;
	/* the next record when about M bytes more were freed (frees do not
	 * move the sampling clock); armed: the gate opens (t is this
	 * thread's state, entered) */
	tls.left = (int64_t)ps_memsample_mean;
	tls.gate = t;
}

void ps_memsample_publish_now(struct ps_thread *t)
{
	/* never before the record written last (whose time the writer
	 * clamps the same way) */
	uint64_t now = ps_now();
	ps_memsample_publish(t, now > t->last_ticks ? now : t->last_ticks, 0, 0);
}

void ps_memsample_publish_frees(struct ps_thread *t)
{
	if (!ps_enter(t)) {
		tls.left = (int64_t)ps_memsample_mean;
		return;
	}
	int saved = errno;
	ps_memsample_publish_now(t);
	ps_leave(t);
	errno = saved;
}

bool ps_memsample_passed(void)
{
	/* Called inside a hook, this thread's state entered (ps_self) */
	struct ps_thread *t = ps_self;
	if (PS_UNLIKELY(!t)) {
		/* no state to open the gate to: the clock stays closed */
		count_charged(NULL);
		return false;
	}
	/* First use in this thread, or first since the gate closed: start
	 * with a random distance (the charge just made is forgiven as a
	 * sample, but counted; exponential distances have no memory). */
	bool first = !tls.armed;
	/* One sample, however many sample points the block spans: the
	 * reader's weight 1 / (1 - exp(-s/mean)) accounts for that. */
	count_charged(t);
	tls.until = tls.drawn = draw_distance();
	tls.armed = true;
	/* armed: the gate opens (see ps_sample_tls.gate) */
	tls.gate = t;
	return !first;
}

#define addr_hash ps_memsample_hash

/* The bucket's bit follows its counter. Clearing races with another
 * thread's increment: after clearing, a counter found non-zero sets the
 * bit again, so a live sampled block's bucket never reads as empty. */
static void bucket_added(uint32_t b)
{
	__atomic_or_fetch(&ps_memsample_nonzero[b >> 6], 1ull << (b & 63), __ATOMIC_RELEASE);
}

static void bucket_removed(struct sample_tables *s, uint32_t b, uint8_t left)
{
	if (left)
		return;
	__atomic_and_fetch(&ps_memsample_nonzero[b >> 6], ~(1ull << (b & 63)), __ATOMIC_ACQ_REL);
	if (__atomic_load_n(&s->filter[b], __ATOMIC_ACQUIRE))
		bucket_added(b);
}

bool ps_memsample_remember(uintptr_t addr, uint64_t size)
{
	struct sample_tables *s = tables_get();
	if (!s)
		return false;
	uint32_t h = addr_hash(addr), b = ps_memsample_bucket(addr);
	uint8_t *f = &s->filter[b];
	/* Full set, or a saturated counter: this block's free goes
	 * unrecorded and the reader sees it as live (the caller
	 * counts it). */
	if (__atomic_load_n(&set_live, __ATOMIC_RELAXED) >= SET_MAX_LIVE ||
	    __atomic_load_n(f, __ATOMIC_RELAXED) == 255)
		return false;
	__atomic_add_fetch(&set_live, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(f, 1, __ATOMIC_RELEASE);
	bucket_added(b);
	for (uint32_t i = h >> (32 - SET_BITS);; i = (i + 1) & (SET_SLOTS - 1)) {
		uintptr_t cur = __atomic_load_n(&s->slots[i], __ATOMIC_ACQUIRE);
		if (cur != EMPTY && cur != TOMBSTONE)
			continue;
		/* The size goes in first: a slot is only found by its
		 * address once the block is live, and only its owner frees
		 * it. */
		__atomic_store_n(&s->sizes[i], size, __ATOMIC_RELAXED);
		if (__atomic_compare_exchange_n(&s->slots[i], &cur, addr, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return true;
	}
}

bool ps_memsample_forget(uintptr_t addr, uint64_t *size)
{
	/* none yet: no block was sampled */
	struct sample_tables *s = __atomic_load_n(&tables, __ATOMIC_ACQUIRE);
	if (!s)
		return false;
	uint32_t h = addr_hash(addr), b = ps_memsample_bucket(addr);
	uint8_t *f = &s->filter[b];
	if (PS_LIKELY(__atomic_load_n(f, __ATOMIC_ACQUIRE) == 0))
		return false;
	for (uint32_t i = h >> (32 - SET_BITS), n = 0; n < SET_SLOTS;
	     i = (i + 1) & (SET_SLOTS - 1), n++) {
		uintptr_t cur = __atomic_load_n(&s->slots[i], __ATOMIC_ACQUIRE);
		if (cur == EMPTY)
			return false;
		if (cur == addr)
			*size = __atomic_load_n(&s->sizes[i], __ATOMIC_RELAXED);
		if (cur == addr &&
		    __atomic_compare_exchange_n(&s->slots[i], &cur, TOMBSTONE, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			bucket_removed(s, b, __atomic_sub_fetch(f, 1, __ATOMIC_ACQ_REL));
			__atomic_sub_fetch(&set_live, 1, __ATOMIC_RELAXED);
			return true;
		}
	}
	return false;
}
