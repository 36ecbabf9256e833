/*
 * Known answers for allocation ids (ALLOCATION IDS in profshim_trace.h).
 * Each mode prints what the program knows about its own heap; every
 * allocation of this file is made by a function named ids_* so a test can
 * pick this program's sites out of the report.
 *
 *   realloc   realloc(NULL, 100), then grown in place or moved, shrunk,
 *             a failed realloc (the block lives on), realloc(p, 0) (frees
 *             p); prints allocs, frees, failed, in_place and moved counts
 *   xthread N one thread allocates N blocks and hands them over a ring to
 *             another thread that frees them at once (frees race with the
 *             allocations: the same microsecond)
 *   xrealloc N  the same, but the second thread first reallocs each block
 *             (grown: moved or in place) and frees the result
 *   fork      the parent allocates 100 blocks and forks; the child frees
 *             them, allocates and frees 10 of its own; the parent waits
 *             and frees its blocks
 *   paused    a block allocated while recording is paused (start paused),
 *             freed while recording
 *   stale     a block allocated while recording, freed while it is stopped;
 *             a block allocated while stopped at that address (printed:
 *             same=1 when glibc handed it back), freed while recording:
 *             its free is by address, not the first block's
 *   timed     marker "a", 50 ms asleep, malloc(1 MiB) (the peak), marker
 *             "b", free
 * No stdio before the end (glibc's own buffers would be allocations).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "profshim.h"

static void *volatile sink;

__attribute__((noinline)) static void *ids_malloc(size_t n)
{
	return malloc(n);
}

__attribute__((noinline)) static void *ids_realloc(void *p, size_t n)
{
	return realloc(p, n);
}

static int mode_realloc(void)
{
	long allocs = 0, frees = 0, failed = 0, in_place = 0, moved = 0;
	char *p = ids_realloc(NULL, 100); /* realloc(NULL, n): a new block */
	allocs++;
	for (size_t n = 200; n <= 6400; n *= 2) {
		/* a neighbour allocated after p makes some growths move */
		void *next = ids_malloc(16);
		allocs++;
		char *q = ids_realloc(p, n);
		allocs++;
		if (!q)
			return 1;
		if (q == p)
			in_place++;
		else
			moved++;
		p = q;
		free(next);
		frees++;
	}
	char *q = ids_realloc(p, 50); /* shrinking: in place with glibc */
	allocs++;
	in_place += q == p;
	moved += q != p;
	p = q;
	q = ids_realloc(p, SIZE_MAX / 2); /* fails: p lives on */
	allocs++;
	failed += q == NULL;
	q = ids_realloc(p, 0); /* frees p (glibc returns NULL) */
	allocs++;
	frees++;
	if (q) /* another allocator: a minimal block */
		free(q);
	printf("allocs=%ld frees=%ld failed=%ld in_place=%ld moved=%ld\n", allocs, frees, failed,
	       in_place, moved);
	return 0;
}

#define RING 256
static void *volatile ring[RING];
static long total;

static int consumer_reallocs;

static void *consumer(void *arg)
{
	(void)arg;
	for (long i = 0; i < total; i++) {
		void *p;
		while (!(p = __atomic_load_n(&ring[i % RING], __ATOMIC_ACQUIRE)))
			;
		__atomic_store_n(&ring[i % RING], NULL, __ATOMIC_RELEASE);
		if (consumer_reallocs)
			p = ids_realloc(p, 40 + (size_t)(i % 3) * 24);
		free(p);
	}
	return NULL;
}

static int mode_xthread(long n)
{
	total = n;
	pthread_t th;
	if (pthread_create(&th, NULL, consumer, NULL))
		return 1;
	for (long i = 0; i < n; i++) {
		void *p = ids_malloc(24 + (size_t)(i % 5) * 8);
		while (__atomic_load_n(&ring[i % RING], __ATOMIC_ACQUIRE))
			;
		__atomic_store_n(&ring[i % RING], p, __ATOMIC_RELEASE);
	}
	pthread_join(th, NULL);
	printf("allocs=%ld frees=%ld\n", consumer_reallocs ? 2 * n : n, n);
	return 0;
}

static int mode_fork(void)
{
	static void *blocks[100];
	for (int i = 0; i < 100; i++)
		blocks[i] = ids_malloc(48);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		for (int i = 0; i < 100; i++)
			free(blocks[i]);
		void *own[10];
		for (int i = 0; i < 10; i++)
			own[i] = ids_malloc(32);
		for (int i = 0; i < 10; i++)
			free(own[i]);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	for (int i = 0; i < 100; i++)
		free(blocks[i]);
	printf("child=%d\n", (int)pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

static int mode_paused(void)
{
	void *early = ids_malloc(40); /* not recorded: paused */
	PROFSHIM_START();
	void *p = ids_malloc(64);
	free(early);
	free(p);
	return 0;
}

static int mode_stale(void)
{
	void *c = ids_malloc(24); /* numbered */
	uintptr_t at = (uintptr_t)c;
	PROFSHIM_STOP();
	free(c);		  /* not recorded */
	void *e = ids_malloc(24); /* not recorded: c's address again */
	PROFSHIM_START();
	int same = (uintptr_t)e == at;
	free(e); /* recorded: not c's free */
	printf("same=%d\n", same);
	return 0;
}

static int mode_timed(void)
{
	PROFSHIM_MARK("a");
	struct timespec ts = {0, 50 * 1000 * 1000};
	while (nanosleep(&ts, &ts))
		;
	sink = ids_malloc(1 << 20);
	PROFSHIM_MARK("b");
	free(sink);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "realloc"))
		return mode_realloc();
	if (!strcmp(mode, "xthread"))
		return mode_xthread(argc > 2 ? atol(argv[2]) : 100000);
	if (!strcmp(mode, "xrealloc")) {
		consumer_reallocs = 1;
		return mode_xthread(argc > 2 ? atol(argv[2]) : 100000);
	}
	if (!strcmp(mode, "fork"))
		return mode_fork();
	if (!strcmp(mode, "paused"))
		return mode_paused();
	if (!strcmp(mode, "stale"))
		return mode_stale();
	if (!strcmp(mode, "timed"))
		return mode_timed();
	return 2;
}
