/*
 * CPU sampler test: one thread (main) spends a known share of its CPU time
 * inside the allocator. Each of argv[1] rounds (default 30000; in batches of 16) runs
 * alloc_phase (8 calloc and free of 64 KiB blocks: calloc clears the
 * block inside the allocator, user time in calloc) and burn_phase
 * (argv[2] units of plain arithmetic, default 12). The work is fixed, so
 * the allocator's share of the program's own time is the same whatever
 * the profiler adds around the calls. Prints "alloc_ns A burn_ns B",
 * each phase's time by the thread's CPU clock (A includes any hook time).
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BLOCK (64 * 1024) /* cleared in cache: memory bandwidth stays out */

static volatile unsigned long sink;

static long long thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Nothing but allocator calls: its total is the allocator's time. */
__attribute__((noinline)) static void alloc_phase(int n)
{
	for (int i = 0; i < n; i++) {
		char *p = calloc(1, BLOCK);
		sink += (unsigned long)p[BLOCK / 2];
		free(p);
	}
}

__attribute__((noinline)) static void burn_phase(int n)
{
	unsigned long x = sink + 1;
	for (int i = 0; i < n * 1000; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	sink += x;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 30000;
	int units = argc > 2 ? atoi(argv[2]) : 12;
	/* Blocks from the heap, never given back: no system call in the loop. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	free(calloc(1, BLOCK));
	long long alloc_ns = 0, burn_ns = 0;
	for (long r = 0; r < rounds; r += 16) {
		long long t0 = thread_cpu_ns();
		for (int i = 0; i < 16; i++)
			alloc_phase(8);
		long long t1 = thread_cpu_ns();
		for (int i = 0; i < 16; i++)
			burn_phase(units);
		alloc_ns += t1 - t0;
		burn_ns += thread_cpu_ns() - t1;
	}
	printf("alloc_ns %lld burn_ns %lld\n", alloc_ns, burn_ns);
	return 0;
}
