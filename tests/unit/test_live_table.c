/* Unit tests: the heap model's live-block table (live_table.c) with both
 * kinds of key: synthetic keys (thread seq, allocation number n) in
 * per-thread pages, real addresses in the hash, and synthetic keys the
 * sweep of sparse pages moved into the hash. Every block must be found
 * with what was stored in it, nothing else found, and the pages must stay
 * within a small multiple of what the live blocks need. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "live_table.h"
#include "unit.h"

static uint64_t skey(uint64_t seq, uint64_t n)
{
	return LIVE_SYNTHETIC | seq << LIVE_SEQ_SHIFT | n;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The size a block of key is given: checks the right block is found. */
static uint64_t size_of(uint64_t key)
{
	return (key * 2654435761u) >> 7 & 0xffff;
}

static void put(struct live_table *t, uint64_t key)
{
	struct heap_block *b = live_insert(t, key);
	b->size = size_of(key);
	b->ticks = key & LIVE_N_MASK;
}

static int found(struct live_table *t, uint64_t key)
{
	const struct heap_block *b = live_find(t, key);
	return b && b->addr == key && b->size == size_of(key);
}

static int take(struct live_table *t, uint64_t key)
{
	struct heap_block *b = live_find(t, key);
	if (!b || b->addr != key || b->size != size_of(key))
		return 0;
	live_remove(t, b);
	return !live_find(t, key);
}

/* The pages hold at most four times what the live blocks fill, past the
 * sweep's slack (live_table.c: SWEEP_SLACK). */
static int pages_bounded(const struct live_table *t)
{
	return t->pages <= 64 + 4 * (t->page_blocks / LIVE_PAGE + 1) + 1;
}

/* Frees in allocation order, in reverse, and shuffled within batches (a
 * garbage collector's sweep): every page is given back at the end but
 * the front one. */
static void frees_in_any_order_give_pages_back(void)
{
	for (int order = 0; order < 3; order++) {
		struct live_table t;
		live_init(&t);
		const uint64_t n = 200000, batch = 5000;
		int ok = 1;
		for (uint64_t base = 1; base <= n; base += batch) {
			for (uint64_t i = base; i < base + batch; i++)
				put(&t, skey(1, i));
			uint64_t idx[5000];
			for (uint64_t i = 0; i < batch; i++)
				idx[i] = order == 1 ? base + batch - 1 - i : base + i;
			for (uint64_t i = batch - 1; order == 2 && i > 0; i--) {
				uint64_t j = next_rand() % (i + 1), x = idx[i];
				idx[i] = idx[j];
				idx[j] = x;
			}
			for (uint64_t i = 0; i < batch; i++)
				ok &= take(&t, skey(1, idx[i]));
			ok &= pages_bounded(&t);
		}
		CHECK(ok);
		CHECK(live_count(&t) == 0);
		CHECK(t.pages <= 1);
		CHECK(t.len == 0); /* nothing went to the hash */
		live_free(&t);
	}
}

/* Every 300th block lives on, the rest are freed: the pages would hold
 * 300 times what they need; sweeps move the long-lived blocks to the hash. */
static void sparse_long_lived_blocks_are_swept(void)
{
	struct live_table t;
	live_init(&t);
	const uint64_t n = 1000000;
	int ok = 1;
	for (uint64_t i = 1; i <= n; i++) {
		put(&t, skey(3, i));
		if (i > 1000 && (i - 1000) % 300)
			ok &= take(&t, skey(3, i - 1000));
		if (i % 1024 == 0)
			ok &= pages_bounded(&t);
	}
	CHECK(ok);
	CHECK(t.sweeps > 0);
	CHECK(t.hash_synthetic > 0);
	uint64_t live = 0;
	for (uint64_t i = 1; i <= n; i++) {
		/* key j was freed at step j + 1000 unless j % 300 == 0 */
		int kept = i > n - 1000 || i % 300 == 0;
		if (kept)
			live++;
		ok &= found(&t, skey(3, i)) == kept;
	}
	CHECK(ok);
	CHECK(live_count(&t) == live);
	for (uint64_t i = 1; i <= n; i++)
		if (live_find(&t, skey(3, i)))
			ok &= take(&t, skey(3, i));
	CHECK(ok);
	CHECK(live_count(&t) == 0);
	CHECK(t.hash_synthetic == 0);
	live_free(&t);
}

/* Threads allocating in turn, frees from any thread in a random order,
 * with real addresses in between. */
static void threads_and_addresses_mix(void)
{
	struct live_table t;
	live_init(&t);
	enum { THREADS = 7, PER = 20000 };
	uint64_t *keys = calloc(THREADS * PER * 2, sizeof(*keys));
	size_t k = 0;
	for (uint64_t i = 1; i <= PER; i++)
		for (uint64_t s = 0; s < THREADS; s++) {
			/* seqs far apart: the window map is not an array */
			keys[k] = skey(s * 100003 + 1, i);
			put(&t, keys[k++]);
			keys[k] = 0x55550000010ull + (i * THREADS + s) * 48;
			put(&t, keys[k++]);
		}
	CHECK(live_count(&t) == k);
	CHECK(t.n_windows == THREADS);
	/* unknown keys: a thread never seen, past a thread's front, a
	 * free address */
	CHECK(!live_find(&t, skey(5, 1)));
	CHECK(!live_find(&t, skey(1, PER + 1)));
	CHECK(!live_find(&t, skey(1, 1ull << 39)));
	CHECK(!live_find(&t, 0x55550000018ull));
	/* the walk sees every block once */
	for (size_t i = k - 1; i > 0; i--) {
		size_t j = next_rand() % (i + 1);
		uint64_t x = keys[i];
		keys[i] = keys[j];
		keys[j] = x;
	}
	int ok = 1;
	for (size_t i = 0; i < k; i++)
		ok &= take(&t, keys[i]);
	CHECK(ok);
	CHECK(live_count(&t) == 0);
	CHECK(t.pages <= THREADS);
	free(keys);
	live_free(&t);
}

struct walk {
	uint64_t blocks, key_sum, size_sum;
};

static void count_block(const struct heap_block *b, void *ctx)
{
	struct walk *w = ctx;
	w->blocks++;
	w->key_sum += b->addr;
	w->size_sum += b->size;
}

static void walk_sees_every_block_once(void)
{
	struct live_table t;
	live_init(&t);
	struct walk want = {0, 0, 0}, got = {0, 0, 0};
	for (uint64_t i = 1; i <= 100000; i++) {
		uint64_t key = i % 3 ? skey(i % 2, i) : 0x7f0000001000ull + i * 32;
		put(&t, key);
		/* free most of them, so some pages get sparse and swept */
		if (i % 5 && i % 3) {
			take(&t, key);
			continue;
		}
		want.blocks++;
		want.key_sum += key;
		want.size_sum += size_of(key);
	}
	live_for_each(&t, count_block, &got);
	CHECK(got.blocks == want.blocks);
	CHECK(got.key_sum == want.key_sum);
	CHECK(got.size_sum == want.size_sum);
	CHECK(live_count(&t) == want.blocks);
	live_free(&t);
}

/* live_claim: a search and an insert in one, for both kinds of key,
 * across the hash's growth. */
static void claim_finds_or_inserts(void)
{
	struct live_table t;
	live_init(&t);
	int ok = 1;
	for (uint64_t i = 1; i <= 50000; i++) {
		uint64_t key = i % 2 ? skey(9, i) : 0x7f0000001000ull + i * 64;
		bool was_live = true;
		struct heap_block *b = live_claim(&t, key, &was_live);
		ok &= !was_live && b->addr == key;
		b->size = size_of(key);
		b = live_claim(&t, key, &was_live);
		ok &= was_live && b->addr == key && b->size == size_of(key);
	}
	CHECK(ok);
	CHECK(live_count(&t) == 50000);
	for (uint64_t i = 1; i <= 50000; i++)
		ok &= take(&t, i % 2 ? skey(9, i) : 0x7f0000001000ull + i * 64);
	CHECK(ok);
	CHECK(live_count(&t) == 0);
	live_free(&t);
}

int main(void)
{
	frees_in_any_order_give_pages_back();
	sparse_long_lived_blocks_are_swept();
	threads_and_addresses_mix();
	walk_sees_every_block_once();
	claim_finds_or_inserts();
	return UNIT_DONE();
}
