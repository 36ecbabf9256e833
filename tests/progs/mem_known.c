/*
 * Known answers for the memory recorder. Allocations made by this
 * program's own functions (innermost frame in this executable):
 *
 *   leak_one          malloc(1000), never freed          1 alloc, 1 leak
 *   churn             10 x malloc(64) + free             10 allocs, 10 frees,
 *                                                        10 temporary
 *   zeroed            calloc(10, 100) + free             1 alloc, 1 free
 *   realloc_chain     realloc(NULL,10) -> 20,40,80,160,  5 allocs (310 B),
 *                     free                               1 free
 *   aligned           posix_memalign 100, aligned_alloc  5 allocs (478 B),
 *                     128, memalign 50, valloc 100,      5 frees
 *                     pvalloc 100, freed in order
 *   worker x 4        5 x malloc(100), frees 3 of them   20 allocs, 12 frees,
 *                                                        8 leaks (800 B)
 *   failures          calloc overflow, malloc(huge)      2 failed calls
 *   free(NULL)        not a free
 *
 *   own sites: 42 allocations, 5428 bytes, 29 frees, 9 leaked blocks,
 *   1800 leaked bytes; failed allocations: 2.
 *   temporary (no allocation of the thread between a block's allocation
 *   and its free): churn 10, zeroed 1, realloc_chain 1 (the last block),
 *   aligned 1 (pvalloc's block, freed last), worker 1 each (slots[4]) = 17.
 * No stdio before the end (glibc's own buffers would be allocations).
 */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "profshim.h"

void *volatile keep[64];

__attribute__((noinline)) void leak_one(void)
{
	keep[0] = malloc(1000);
}

__attribute__((noinline)) void churn(void)
{
	for (int i = 0; i < 10; i++) {
		keep[1] = malloc(64);
		free(keep[1]);
	}
}

__attribute__((noinline)) void zeroed(void)
{
	keep[2] = calloc(10, 100);
	free(keep[2]);
}

__attribute__((noinline)) void realloc_chain(void)
{
	void *p = realloc(NULL, 10);
	for (size_t n = 20; n <= 160; n *= 2)
		p = realloc(p, n);
	keep[4] = p;
	free(p);
}

__attribute__((noinline)) void aligned(void)
{
	void *a = NULL;
	if (posix_memalign(&a, 64, 100))
		_exit(3);
	void *b = aligned_alloc(64, 128);
	void *c = memalign(32, 50);
	void *d = valloc(100);
	void *e = pvalloc(100);
	if (!b || !c || !d || !e || ((uintptr_t)a & 63) || ((uintptr_t)b & 63) ||
	    ((uintptr_t)c & 31) || ((uintptr_t)d & 4095) || ((uintptr_t)e & 4095))
		_exit(4);
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
}

__attribute__((noinline)) void failures(void)
{
	volatile size_t huge = SIZE_MAX / 2;
	if (calloc(huge, 4) != NULL)
		_exit(5);
	if (malloc(huge) != NULL)
		_exit(6);
	free(NULL);
}

__attribute__((noinline)) void *worker(void *arg)
{
	void **slots = arg;
	for (int i = 0; i < 5; i++)
		slots[i] = malloc(100);
	free(slots[0]);
	free(slots[2]);
	free(slots[4]);
	return NULL;
}

int main(void)
{
	PROFSHIM_MARK("begin");
	leak_one();
	churn();
	zeroed();
	realloc_chain();
	aligned();
	failures();
	static void *slots[4][5];
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		if (pthread_create(&th[i], NULL, worker, slots[i]))
			_exit(7);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	PROFSHIM_MARK("end");
	return 0;
}
