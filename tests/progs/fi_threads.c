#define _GNU_SOURCE
/*
 * Known answers: THREADS threads (default 4) each call work() exactly CALLS
 * times (default 10000), and work() calls step() twice per call. main calls
 * spawn() once. Thread i is named "worker-i".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static int calls = 10000;
static volatile long sink;

__attribute__((noinline)) void step(long i)
{
	sink += i;
}

__attribute__((noinline)) void work(long i)
{
	step(i);
	step(-i);
}

static void *worker(void *arg)
{
	char name[16];
	snprintf(name, sizeof(name), "worker-%ld", (long)arg);
	pthread_setname_np(pthread_self(), name);
	for (int i = 0; i < calls; i++)
		work(i);
	return NULL;
}

__attribute__((noinline)) void spawn(int n)
{
	pthread_t th[64];
	for (long i = 0; i < n; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	if (argc > 2)
		calls = atoi(argv[2]);
	if (n > 64)
		n = 64;
	spawn(n);
	printf("threads=%d calls=%d\n", n, calls);
	return 0;
}
