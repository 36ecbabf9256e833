/*
 * Compressor thread test (issue 15f): THREADS (argv[1], default 8) workers
 * start together and each calls zalloc() ROUNDS (argv[2], default 100000)
 * times (malloc, touch, free), so the site "zalloc <- worker" has exactly
 * THREADS * ROUNDS allocations and as many frees, and every worker's file
 * slides its window many times at about the same moment. When the workers
 * are done, main looks at its own threads in /proc/self/task and prints
 * "threads=N compressors=C": N threads besides main, C of them named
 * "profshim-z" (the shim's compressor; 0 without it).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "task_count.h"

static int rounds = 100000;
static pthread_barrier_t start;

__attribute__((noinline)) static void zalloc(size_t n)
{
	volatile char *p = malloc(n);
	if (p)
		p[0] = 1;
	free((void *)p);
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	for (int i = 0; i < rounds; i++)
		zalloc(16 + (size_t)(i % 200));
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 8;
	if (argc > 2)
		rounds = atoi(argv[2]);
	if (n < 1 || n > 256 || rounds < 1)
		return 2;
	pthread_t th[256];
	pthread_barrier_init(&start, NULL, (unsigned)n);
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	int others, compressors;
	count_threads(&others, &compressors);
	printf("threads=%d compressors=%d\n", others, compressors);
	return 0;
}
