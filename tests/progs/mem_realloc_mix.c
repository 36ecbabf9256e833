/*
 * Known program for sampled memory mode through realloc, the way
 * interpreters allocate (Lua's allocator: realloc(NULL, n) for a new
 * block, realloc(p, n) to grow one, free(p) to release it): the same calls
 * on every run (a fixed-seed generator), so exact and sampled runs can be
 * compared. N blocks (argv[1], default 200000) of 16 B to 4 KiB in a ring
 * of 2048 live ones; every fourth block grows once or twice; every 50th
 * block of the ring is never freed (the leak); halfway, 600 blocks of
 * 8 KiB are held and released (the peak). Prints the calls it made.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define RING 2048
#define HELD 600

static uint64_t state = 0x2545f4914f6cdd1dull;

static uint32_t next(void)
{
	state = state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(state >> 33);
}

static void *ring[RING];
void *held[HELD]; /* global: the compiler may not elide the pairs */

static void *grow(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q)
		exit(1);
	((char *)q)[n - 1] = 1;
	return q;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	if (n <= 0)
		n = 200000;
	long reallocs = 0, frees = 0;
	for (long i = 0; i < n; i++) {
		size_t size = 16 + next() % (next() % 8 ? 240 : 4080);
		void *p = grow(NULL, size);
		reallocs++;
		for (int k = 0; i % 4 == 0 && k < 1 + (int)(i % 3 == 0); k++, reallocs++)
			p = grow(p, size *= 2);
		if (i == n / 2) {
			for (int h = 0; h < HELD; h++, reallocs++)
				held[h] = grow(NULL, 8192);
			for (int h = 0; h < HELD; h++, frees++)
				free(held[h]);
		}
		size_t slot = next() % RING;
		if (ring[slot] && i % 50 != 7) {
			free(ring[slot]);
			frees++;
		}
		ring[slot] = p;
	}
	printf("reallocs=%ld frees=%ld\n", reallocs, frees);
	return 0;
}
