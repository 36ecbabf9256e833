/*
 * One allocation site reached from two threads, and from two return
 * addresses on one line: make() allocates 64 bytes; each of THREADS (2)
 * workers calls it twice per round on one line, ROUNDS (argv[1], default
 * 1000) rounds, and frees both blocks except in its last 5 rounds (10
 * leaked blocks per worker). So the site "make <- worker" has
 * 2 * 2 * ROUNDS allocations of 64 bytes, 20 leaked, and each thread half.
 * Prints tid=<worker tid> per worker.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define THREADS 2

static int rounds = 1000;

__attribute__((noinline)) static char *make(size_t n)
{
	char *p = malloc(n);
	if (p)
		p[0] = 1;
	return p;
}

static void *worker(void *arg)
{
	char **keep = arg;
	for (int i = 0; i < rounds; i++) {
		char *a = make(64), *b = make(64);
		if (i >= rounds - 5) {
			keep[2 * (i - (rounds - 5))] = a;
			keep[2 * (i - (rounds - 5)) + 1] = b;
			continue;
		}
		free(a);
		free(b);
	}
	printf("tid=%d\n", (int)gettid());
	return NULL;
}

static char *kept[THREADS][10];

int main(int argc, char **argv)
{
	if (argc > 1)
		rounds = atoi(argv[1]);
	if (rounds < 5)
		rounds = 5;
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, worker, kept[i]);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	return 0;
}
