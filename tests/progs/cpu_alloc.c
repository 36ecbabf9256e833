/*
 * CPU sampler test: one thread (main) spends a known share of its CPU time
 * inside the allocator. It alternates alloc_phase (calloc and free of
 * 256 KiB blocks: calloc clears the block inside the allocator, so the
 * time is user time in calloc) and burn_phase (plain arithmetic), each for
 * a slice of CPU time, until argv[1] ms (default 1000) are used;
 * argv[2] is the allocator's share in percent (default 40). Prints
 * "alloc_ns A burn_ns B" measured by the thread's CPU clock.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BLOCK (256 * 1024)
#define SLICE_NS 2000000LL

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
	for (int i = 0; i < n * 20000; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	sink += x;
}

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 1000;
	long share = argc > 2 ? atol(argv[2]) : 40;
	/* Blocks from the heap, never given back: no system call in the loop. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	free(calloc(1, BLOCK));
	long long alloc_ns = 0, burn_ns = 0, start = thread_cpu_ns();
	while (thread_cpu_ns() - start < ms * 1000000LL) {
		long long t0 = thread_cpu_ns();
		/* the phase under its target share runs next, a slice at a time */
		int alloc = alloc_ns * 100 <= (alloc_ns + burn_ns) * share;
		long long until = t0 + SLICE_NS;
		while (thread_cpu_ns() < until) {
			if (alloc)
				alloc_phase(4);
			else
				burn_phase(1);
		}
		long long dt = thread_cpu_ns() - t0;
		if (alloc)
			alloc_ns += dt;
		else
			burn_ns += dt;
	}
	printf("alloc_ns %lld burn_ns %lld\n", alloc_ns, burn_ns);
	return 0;
}
