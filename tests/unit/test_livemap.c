/* Unit tests of the live-block map (preload/mem/livemap.c): ids come back
 * for the addresses they were entered for, once; an insert takes the first
 * free slot (a tombstone too) and a forgotten block is gone; a stale entry is
 * overwritten; a crowded neighbourhood says no instead of probing far;
 * tombstones are reused; threads entering and taking their own blocks at
 * once never see each other's ids; a forked child's clear empties it. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>

#include "../../preload/mem/livemap.c"
#include "unit.h"

void ps_log(const char *msg, ...)
{
	(void)msg;
}

#define HEAP 0x5555a0000000ull

static void test_round_trip(void)
{
	for (uint64_t i = 0; i < 1000; i++)
		CHECK(ps_livemap_insert(HEAP + i * 48, 1000 + i));
	int good = 0;
	for (uint64_t i = 0; i < 1000; i++)
		good += ps_livemap_take(HEAP + i * 48) == 1000 + i;
	CHECK(good == 1000);
	CHECK(ps_livemap_take(HEAP) == 0); /* taken once */
	CHECK(ps_livemap_take(HEAP + 7) == 0);
	CHECK(!ps_livemap_insert(0, 5));
	CHECK(!ps_livemap_insert(1, 5));
}

static void test_stale(void)
{
	CHECK(ps_livemap_insert(HEAP + 64, 1));
	CHECK(ps_livemap_insert(HEAP + 64, 2)); /* its free was never seen */
	CHECK(ps_livemap_take(HEAP + 64) == 2);
	CHECK(ps_livemap_take(HEAP + 64) == 0);
}

/* An insert takes the first free slot from home, a tombstone included:
 * three blocks of one granule (one home h) fill h, h+1, h+2; after the
 * first is taken, a fourth lands on h's tombstone and the others keep
 * their ids. A block forgotten on a hook's plain path is gone. */
static void test_first_free_slot(void)
{
	uint64_t g = 0x7e0000000000ull;
	size_t h = ps_livemap_home(g);
	CHECK(ps_livemap_insert(g, 1) && ps_livemap_insert(g + 8, 2) &&
	      ps_livemap_insert(g + 16, 3));
	CHECK(ps_livemap.slots[h].key == g &&
	      ps_livemap.slots[(h + 2) & ps_livemap.mask].key == g + 16);
	CHECK(ps_livemap_take(g) == 1);
	CHECK(ps_livemap.slots[h].key == KEY_TOMB);
	CHECK(ps_livemap_insert(g + 24, 4));
	CHECK(ps_livemap.slots[h].key == g + 24);
	ps_livemap_forget(g + 8);
	CHECK(ps_livemap_take(g + 8) == 0);
	CHECK(ps_livemap_take(g + 16) == 3 && ps_livemap_take(g + 24) == 4);
}

/* The 32 addresses of one 32-byte granule share a home slot h and fill
 * h .. h + 31; one of the granule before (home h - 1) takes h - 1; a
 * second one finds no room within MAX_PROBES slots. */
static void test_crowded(void)
{
	uint64_t base = 0x7f0000000000ull, granule = base + 32;
	int fit = 0;
	for (uint64_t i = 0; i < 32; i++)
		fit += ps_livemap_insert(granule + i, i + 1);
	CHECK(fit == 32);
	CHECK(ps_livemap_insert(base, 100));
	CHECK(!ps_livemap_insert(base + 1, 101)); /* falls back to its address */
	CHECK(ps_livemap_take(base + 1) == 0);
	for (uint64_t i = 0; i < 32; i++)
		CHECK(ps_livemap_take(granule + i) == i + 1);
	CHECK(ps_livemap_take(base) == 100);
	/* the tombstones are room again */
	CHECK(ps_livemap_insert(base + 1, 102));
	CHECK(ps_livemap_take(base + 1) == 102);
}

#define THREADS 4
#define ROUNDS 200000

static void *worker(void *arg)
{
	uint64_t t = (uint64_t)(uintptr_t)arg, bad = 0;
	uint64_t base = 0x600000000000ull + t * 16; /* interleaved neighbours */
	for (uint64_t r = 0; r < ROUNDS; r++) {
		uint64_t a = base + (r % 64) * 64, id = (t + 1) << 40 | (r + 1);
		if (!ps_livemap_insert(a, id))
			continue;
		bad += ps_livemap_take(a) != id;
	}
	return (void *)(uintptr_t)bad;
}

static void test_threads(void)
{
	pthread_t th[THREADS];
	for (uintptr_t i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	uint64_t bad = 0;
	for (int i = 0; i < THREADS; i++) {
		void *r;
		pthread_join(th[i], &r);
		bad += (uint64_t)(uintptr_t)r;
	}
	CHECK(bad == 0);
}

static void test_clear(void)
{
	CHECK(ps_livemap_insert(HEAP + 4096, 9));
	ps_livemap_clear();
	CHECK(ps_livemap_take(HEAP + 4096) == 0);
	CHECK(ps_livemap_insert(HEAP + 4096, 10));
	CHECK(ps_livemap_take(HEAP + 4096) == 10);
}

int main(void)
{
	setenv("PROFSHIM_LIVEMAP_SLOTS", "4096", 1);
	CHECK(!ps_livemap_on());
	CHECK(ps_livemap_take(HEAP) == 0); /* no table: nothing known */
	CHECK(ps_livemap_init());
	CHECK(ps_livemap_on());
	test_first_free_slot();
	test_round_trip();
	test_stale();
	test_crowded();
	test_threads();
	test_clear();
	return UNIT_DONE();
}
