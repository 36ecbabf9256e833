/*
 * CPU benchmark program: a fixed amount of work (argv[2] rounds, default
 * 400) split over argv[1] threads (default 1), through a few levels of
 * calls so stacks have some depth. Prints the process CPU seconds
 * (getrusage) so a benchmark can compute samples per CPU second.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static volatile unsigned long sink;
static long rounds = 400;
static int nthreads = 1;

__attribute__((noinline)) static unsigned long mix(unsigned long x, int n)
{
	for (int i = 0; i < n; i++)
		x = (x ^ (x >> 31)) * 0x9e3779b97f4a7c15ul + (unsigned long)i;
	return x;
}

__attribute__((noinline)) static unsigned long leaf_a(unsigned long x)
{
	return mix(x, 30000);
}

__attribute__((noinline)) static unsigned long leaf_b(unsigned long x)
{
	return mix(x + 1, 10000);
}

__attribute__((noinline)) static unsigned long step(unsigned long x)
{
	return leaf_a(x) ^ leaf_b(x);
}

static void *run(void *arg)
{
	unsigned long x = (unsigned long)arg;
	for (long r = 0; r < rounds * 100 / nthreads; r++)
		x = step(x);
	sink += x;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		nthreads = atoi(argv[1]);
	if (argc > 2)
		rounds = atol(argv[2]);
	if (nthreads < 1 || nthreads > 64)
		nthreads = 1;
	pthread_t th[64];
	for (long i = 1; i < nthreads; i++)
		pthread_create(&th[i], NULL, run, (void *)i);
	run((void *)0);
	for (int i = 1; i < nthreads; i++)
		pthread_join(th[i], NULL);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("cpu_s %.6f\n", ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
				       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	return 0;
}
