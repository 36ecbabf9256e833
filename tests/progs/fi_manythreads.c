/*
 * Shim memory with many short threads: THREADS threads (default 10000),
 * one after another, each calling work() 10 times (the calls recorder
 * builds a tree or trace per thread). Prints VmRSS (kB) after the first
 * WARM threads (default 100) and after all, as "rss_warm=N rss_end=N", and
 * the calls as "calls=N".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile long sink;

__attribute__((noinline)) void work(long i)
{
	sink += i;
}

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 10; i++)
		work(i);
	return NULL;
}

static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10000;
	int warm = argc > 2 ? atoi(argv[2]) : 100;
	long rss_warm = 0;
	for (int i = 0; i < n; i++) {
		pthread_t th;
		if (pthread_create(&th, NULL, worker, NULL))
			return 1;
		pthread_join(th, NULL);
		if (i + 1 == warm)
			rss_warm = rss_kb();
	}
	printf("rss_warm=%ld rss_end=%ld calls=%d\n", rss_warm, rss_kb(), n * 10);
	return 0;
}
