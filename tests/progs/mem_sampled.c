/*
 * Known program for sampled memory mode (PROFSHIM_MEM_SAMPLE): the same
 * allocations on every run (a fixed-seed generator), so exact and sampled
 * runs can be compared. N allocations (argv[1], default 300000) of mixed
 * sizes (16 B to 64 KiB) kept in a ring of 4096 live blocks; every third
 * allocation is freed at once (temporary); every 40th block of the ring is
 * never freed (a leak of about 3% of the bytes); halfway, a burst of
 * 2000 blocks of 16 KiB is held and freed (the peak).
 * Smaller heaps: argv[2] live blocks in the ring (at most 4096), argv[3]
 * blocks in the burst (at most 2000).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING 4096

static uint64_t state = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
	state = state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(state >> 33);
}

static size_t draw_size(void)
{
	uint32_t r = next() % 100;
	if (r < 70)
		return 16 + next() % 240;
	if (r < 95)
		return 256 + next() % 3840;
	return 4096 + next() % 61440;
}

static void *ring[RING];

void *held[2000]; /* global: the compiler may not elide the pairs */

static void burst(int n)
{
	for (int i = 0; i < n; i++) {
		held[i] = malloc(16384);
		memset(held[i], 1, 64);
	}
	for (int i = 0; i < n; i++)
		free(held[i]);
}

static long arg(int argc, char **argv, int i, long dflt, long max)
{
	long v = argc > i ? atol(argv[i]) : dflt;
	return v > 0 && v <= max ? v : dflt;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 300000;
	long ring_len = arg(argc, argv, 2, RING, RING);
	int held_len = (int)arg(argc, argv, 3, 2000, 2000);
	uint64_t leaked = 0, total = 0;
	for (long i = 0; i < n; i++) {
		size_t size = draw_size();
		char *p = malloc(size);
		if (!p)
			return 1;
		p[0] = (char)i;
		total += size;
		if (i == n / 2)
			burst(held_len);
		if (i % 3 == 0) {
			free(p); /* temporary */
			continue;
		}
		size_t slot = next() % (size_t)ring_len;
		if (ring[slot] && i % 40 == 1)
			leaked += 1; /* the old block is never freed */
		else
			free(ring[slot]);
		ring[slot] = p;
	}
	printf("allocations=%ld bytes=%llu leaked_blocks_at_least=%llu\n", n + held_len,
	       (unsigned long long)(total + (uint64_t)held_len * 16384),
	       (unsigned long long)leaked);
	return 0;
}
