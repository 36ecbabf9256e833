/* The heap model's live blocks: see live_table.h. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "live_table.h"

#define HUGE_BYTES ((size_t)2 << 20)

/* ---------------------------------------------------------------------
 * The hash: linear probing with backward-shift deletion.
 * ------------------------------------------------------------------- */

/* Where a key's search starts. A malloc hands out neighbouring addresses
 * close in time, and frees them in runs too: keeping neighbouring 16-byte
 * granules in neighbouring slots (the low bits of the granule, folded with
 * the next ones) makes the table walked like the heap, a cache line and a
 * page serving several events, where a scattering hash costs a cache and a
 * TLB miss per event. Address patterns that pile up under the folding
 * (long probe runs) switch the table to the scattering hash
 * (check_probes). Synthetic keys (swept pages' blocks) always scatter:
 * their low bits count allocations, not granules. */
static inline size_t hash_home(const struct live_table *t, uint64_t key)
{
	if (t->scatter || (key & LIVE_SYNTHETIC))
		return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (t->cap - 1);
	uint64_t g = key >> 4;
	return (size_t)(g ^ (g >> t->cap_bits)) & (t->cap - 1);
}

/* Zeroed slots on a cache-line boundary: a 32-byte slot then never
 * straddles two lines (malloc's 16-byte alignment split every other one:
 * two misses, and the prefetch fetched only the first line). */
static struct heap_block *slots_alloc(size_t n)
{
	void *p = NULL;
	size_t bytes = n * sizeof(struct heap_block);
	/* A large table in huge pages where the system gives them: every
	 * event touches a random slot, and with 4 KiB pages most of those
	 * are a TLB miss as well (a 16 MiB table: 4096 pages). */
	size_t align = bytes >= HUGE_BYTES ? HUGE_BYTES : 64;
	if (posix_memalign(&p, align, bytes))
		p = pa_xmalloc(bytes); /* exits with a message */
	else if (align == HUGE_BYTES)
		madvise(p, bytes, MADV_HUGEPAGE);
	memset(p, 0, bytes);
	return p;
}

/* Rebuild the hash with new_cap slots (the current hash function). */
static void hash_rebuild(struct live_table *t, size_t new_cap)
{
	size_t old_cap = t->cap;
	struct heap_block *old = t->slots;
	t->cap = new_cap;
	t->cap_bits = (unsigned)__builtin_ctzll(new_cap);
	t->slots = slots_alloc(t->cap);
	for (size_t i = 0; i < old_cap; i++) {
		if (!old[i].addr)
			continue;
		size_t j = hash_home(t, old[i].addr);
		while (t->slots[j].addr)
			j = (j + 1) & (t->cap - 1);
		t->slots[j] = old[i];
	}
	free(old);
}

/* Searches and the slots they looked at, over the last stretch: more
 * than MAX_PROBES slots per search on average means the address pattern
 * defeats the folding hash; scatter from then on. */
#define CHECK_EVERY (1u << 16)
#define MAX_PROBES 4

static void check_probes(struct live_table *t)
{
	if (!t->scatter && t->probes > MAX_PROBES * (uint64_t)t->finds) {
		t->scatter = true;
		hash_rebuild(t, t->cap);
	}
	t->finds = 0;
	t->probes = 0;
}

static struct heap_block *hash_find(struct live_table *t, uint64_t key)
{
	if (!t->cap)
		return NULL;
	if (__builtin_expect(++t->finds >= CHECK_EVERY, 0))
		check_probes(t);
	for (size_t i = hash_home(t, key);; i = (i + 1) & (t->cap - 1)) {
		if (t->slots[i].addr == key)
			return &t->slots[i];
		if (!t->slots[i].addr)
			return NULL;
		t->probes++;
	}
}

static struct heap_block *hash_insert(struct live_table *t, uint64_t key)
{
	if ((t->len + 1) * 4 > t->cap * 3)
		hash_rebuild(t, t->cap ? t->cap * 2 : 1024);
	size_t i = hash_home(t, key);
	while (t->slots[i].addr)
		i = (i + 1) & (t->cap - 1);
	t->len++;
	if (key & LIVE_SYNTHETIC)
		t->hash_synthetic++;
	t->slots[i].addr = key;
	return &t->slots[i];
}

static void hash_remove(struct live_table *t, struct heap_block *b)
{
	size_t i = (size_t)(b - t->slots), mask = t->cap - 1;
	if (b->addr & LIVE_SYNTHETIC)
		t->hash_synthetic--;
	t->slots[i].addr = 0;
	t->len--;
	/* Move later members of the cluster back into the hole when their
	 * home slot does not lie between the hole and them. */
	for (size_t j = (i + 1) & mask; t->slots[j].addr; j = (j + 1) & mask) {
		size_t home = hash_home(t, t->slots[j].addr);
		bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
		if (movable) {
			t->slots[i] = t->slots[j];
			t->slots[j].addr = 0;
			i = j;
		}
	}
}

static bool in_hash(const struct live_table *t, const struct heap_block *b)
{
	uintptr_t p = (uintptr_t)b, lo = (uintptr_t)t->slots;
	return t->cap && p >= lo && p < lo + t->cap * sizeof(*b);
}

/* ---------------------------------------------------------------------
 * Windows: per thread seq, pages of LIVE_PAGE blocks indexed by n, found
 * through chunks of LIVE_CHUNK pages.
 * ------------------------------------------------------------------- */

#define LIVE_CHUNK_BITS 10
#define LIVE_CHUNK (1u << LIVE_CHUNK_BITS)
#define CHUNK_SHIFT (LIVE_PAGE_BITS + LIVE_CHUNK_BITS)

struct live_chunk {
	struct heap_block *page[LIVE_CHUNK];
	uint16_t live[LIVE_CHUNK]; /* live blocks per page */
	uint32_t pages;		   /* pages held */
};

struct live_window {
	uint64_t seq;
	struct live_chunk **chunks; /* chunk i: n in [i << CHUNK_SHIFT, ...) */
	size_t n_chunks;
	uint64_t front; /* past the highest n inserted */
};

/* Sparse pages: a sweep runs when the pages hold less than a quarter of
 * what they could (past a slack of SWEEP_SLACK pages, 512 KiB), and
 * moves the blocks of every page under half full into the hash. After it
 * the pages are at least half full, so the next sweep waits for as many
 * new pages as there are now: each sweep is paid by the pages made. */
#define SWEEP_SLACK 64

static uint64_t key_seq(uint64_t key)
{
	return (key >> LIVE_SEQ_SHIFT) & LIVE_SEQ_MASK;
}

static struct live_window *window_of(struct live_table *t, uint64_t seq, bool create)
{
	if (t->last && t->last_seq == seq)
		return t->last;
	uint32_t k = pa_pairmap_get(&t->window_of, seq, 0);
	if (!k) {
		if (!create)
			return NULL;
		struct live_window *w = pa_xcalloc(1, sizeof(*w));
		w->seq = seq;
		t->windows = pa_xrealloc(t->windows, (t->n_windows + 1) * sizeof(*t->windows));
		t->windows[t->n_windows++] = w;
		k = (uint32_t)t->n_windows;
		pa_pairmap_put(&t->window_of, seq, 0, k);
	}
	t->last = t->windows[k - 1];
	t->last_seq = seq;
	return t->last;
}

static struct live_chunk *chunk_at(const struct live_window *w, uint64_t n)
{
	size_t ci = (size_t)(n >> CHUNK_SHIFT);
	return ci < w->n_chunks ? w->chunks[ci] : NULL;
}

static size_t page_index(uint64_t n)
{
	return (size_t)(n >> LIVE_PAGE_BITS) & (LIVE_CHUNK - 1);
}

static struct live_chunk *chunk_make(struct live_window *w, uint64_t n)
{
	size_t ci = (size_t)(n >> CHUNK_SHIFT);
	if (ci >= w->n_chunks) {
		size_t cap = w->n_chunks ? w->n_chunks : 4;
		while (cap <= ci)
			cap *= 2;
		w->chunks = pa_xrealloc(w->chunks, cap * sizeof(*w->chunks));
		memset(w->chunks + w->n_chunks, 0, (cap - w->n_chunks) * sizeof(*w->chunks));
		w->n_chunks = cap;
	}
	if (!w->chunks[ci])
		w->chunks[ci] = pa_xcalloc(1, sizeof(struct live_chunk));
	return w->chunks[ci];
}

static void page_drop(struct live_table *t, struct live_window *w, uint64_t n)
{
	size_t ci = (size_t)(n >> CHUNK_SHIFT), pi = page_index(n);
	struct live_chunk *c = w->chunks[ci];
	t->page_blocks -= c->live[pi];
	free(c->page[pi]);
	c->page[pi] = NULL;
	c->live[pi] = 0;
	t->pages--;
	if (--c->pages == 0) {
		free(c);
		w->chunks[ci] = NULL;
	}
}

/* A page with no live block left is given back once the thread has
 * allocated past it (no later block can land in it). */
static void page_settle(struct live_table *t, struct live_window *w, uint64_t n)
{
	struct live_chunk *c = chunk_at(w, n);
	if (!c || !c->page[page_index(n)] || c->live[page_index(n)])
		return;
	if ((n >> LIVE_PAGE_BITS) < ((w->front - 1) >> LIVE_PAGE_BITS))
		page_drop(t, w, n);
}

static bool sweep_due(const struct live_table *t)
{
	return t->pages > SWEEP_SLACK + 4 * (t->page_blocks / LIVE_PAGE + 1);
}

static void sweep_page(struct live_table *t, struct live_window *w, uint64_t n0)
{
	struct heap_block *page = chunk_at(w, n0)->page[page_index(n0)];
	for (unsigned i = 0; i < LIVE_PAGE; i++)
		if (page[i].addr)
			*hash_insert(t, page[i].addr) = page[i];
	page_drop(t, w, n0);
}

static void sweep(struct live_table *t)
{
	t->sweeps++;
	for (size_t wi = 0; wi < t->n_windows; wi++) {
		struct live_window *w = t->windows[wi];
		for (size_t ci = 0; ci < w->n_chunks; ci++)
			for (size_t pi = 0; pi < LIVE_CHUNK && w->chunks[ci]; pi++) {
				const struct live_chunk *c = w->chunks[ci];
				if (c->page[pi] && c->live[pi] < LIVE_PAGE / 2)
					sweep_page(t, w,
						   ((uint64_t)ci << CHUNK_SHIFT) |
						       (pi << LIVE_PAGE_BITS));
			}
	}
}

static struct heap_block *window_find(struct live_table *t, uint64_t key)
{
	struct live_window *w = window_of(t, key_seq(key), false);
	if (!w)
		return NULL;
	uint64_t n = key & LIVE_N_MASK;
	const struct live_chunk *c = chunk_at(w, n);
	struct heap_block *page = c ? c->page[page_index(n)] : NULL;
	if (page && page[n & (LIVE_PAGE - 1)].addr == key)
		return &page[n & (LIVE_PAGE - 1)];
	return NULL;
}

static struct heap_block *window_insert(struct live_table *t, uint64_t key)
{
	if (__builtin_expect(sweep_due(t), 0))
		sweep(t);
	struct live_window *w = window_of(t, key_seq(key), true);
	uint64_t n = key & LIVE_N_MASK;
	struct live_chunk *c = chunk_make(w, n);
	size_t pi = page_index(n);
	if (!c->page[pi]) {
		c->page[pi] = slots_alloc(LIVE_PAGE);
		c->pages++;
		t->pages++;
	}
	struct heap_block *b = &c->page[pi][n & (LIVE_PAGE - 1)];
	b->addr = key;
	c->live[pi]++;
	t->page_blocks++;
	if (n >= w->front) {
		uint64_t before = w->front;
		w->front = n + 1;
		if (before && (before - 1) >> LIVE_PAGE_BITS != n >> LIVE_PAGE_BITS)
			page_settle(t, w, before - 1);
	}
	return b;
}

static void window_remove(struct live_table *t, struct heap_block *b)
{
	uint64_t key = b->addr, n = key & LIVE_N_MASK;
	struct live_window *w = window_of(t, key_seq(key), false);
	struct live_chunk *c = chunk_at(w, n);
	b->addr = 0;
	c->live[page_index(n)]--;
	t->page_blocks--;
	page_settle(t, w, n);
}

/* ---------------------------------------------------------------------
 * The table.
 * ------------------------------------------------------------------- */

void live_init(struct live_table *t)
{
	memset(t, 0, sizeof(*t));
	pa_pairmap_init(&t->window_of);
}

void live_free(struct live_table *t)
{
	for (size_t wi = 0; wi < t->n_windows; wi++) {
		struct live_window *w = t->windows[wi];
		for (size_t ci = 0; ci < w->n_chunks; ci++) {
			struct live_chunk *c = w->chunks[ci];
			for (size_t pi = 0; c && pi < LIVE_CHUNK; pi++)
				free(c->page[pi]);
			free(c);
		}
		free(w->chunks);
		free(w);
	}
	free(t->windows);
	free(t->slots);
	pa_pairmap_free(&t->window_of);
	memset(t, 0, sizeof(*t));
}

struct heap_block *live_find(struct live_table *t, uint64_t key)
{
	if (!(key & LIVE_SYNTHETIC))
		return hash_find(t, key);
	struct heap_block *b = window_find(t, key);
	if (!b && t->hash_synthetic)
		b = hash_find(t, key);
	return b;
}

struct heap_block *live_claim(struct live_table *t, uint64_t key, bool *was_live)
{
	struct heap_block *b = NULL;
	*was_live = false;
	if ((key & LIVE_SYNTHETIC) || !t->cap || (t->len + 1) * 4 > t->cap * 3) {
		/* a window, or a hash that grows first: a search, then an insert */
		b = live_find(t, key);
		*was_live = b != NULL;
		return b ? b : live_insert(t, key);
	}
	/* hash_find and hash_insert in one probe (the same counts) */
	if (__builtin_expect(++t->finds >= CHECK_EVERY, 0))
		check_probes(t);
	size_t i = hash_home(t, key);
	for (;; i = (i + 1) & (t->cap - 1)) {
		if (t->slots[i].addr == key) {
			*was_live = true;
			return &t->slots[i];
		}
		if (!t->slots[i].addr)
			break;
		t->probes++;
	}
	t->len++;
	t->slots[i].addr = key;
	return &t->slots[i];
}

struct heap_block *live_insert(struct live_table *t, uint64_t key)
{
	if (key & LIVE_SYNTHETIC)
		return window_insert(t, key);
	return hash_insert(t, key);
}

void live_remove(struct live_table *t, struct heap_block *b)
{
	if (!(b->addr & LIVE_SYNTHETIC) || in_hash(t, b))
		hash_remove(t, b);
	else
		window_remove(t, b);
}

void live_prefetch(const struct live_table *t, uint64_t key, bool removal)
{
	if (!(key & LIVE_SYNTHETIC)) {
		if (!t->cap)
			return;
		size_t home = hash_home(t, key);
		__builtin_prefetch(&t->slots[home]);
		/* a removal looks at the next slot too (backward shift): in
		 * the next cache line when home is the second of its line */
		if (removal && (home & 1))
			__builtin_prefetch(&t->slots[(home + 1) & (t->cap - 1)]);
		return;
	}
	if (!t->last || t->last_seq != key_seq(key))
		return;
	uint64_t n = key & LIVE_N_MASK;
	const struct live_chunk *c = chunk_at(t->last, n);
	const struct heap_block *page = c ? c->page[page_index(n)] : NULL;
	if (page)
		__builtin_prefetch(&page[n & (LIVE_PAGE - 1)]);
}

size_t live_count(const struct live_table *t)
{
	return t->len + t->page_blocks;
}

void live_for_each(const struct live_table *t, live_fn fn, void *ctx)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].addr)
			fn(&t->slots[i], ctx);
	for (size_t wi = 0; wi < t->n_windows; wi++) {
		const struct live_window *w = t->windows[wi];
		for (size_t ci = 0; ci < w->n_chunks; ci++) {
			const struct live_chunk *c = w->chunks[ci];
			for (size_t pi = 0; c && pi < LIVE_CHUNK; pi++)
				for (unsigned i = 0; c->page[pi] && i < LIVE_PAGE; i++)
					if (c->page[pi][i].addr)
						fn(&c->page[pi][i], ctx);
		}
	}
}
