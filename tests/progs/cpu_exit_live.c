/*
 * Threads still burning CPU (and allocating, so samples land inside the
 * shim's hooks) when main calls exit(): their CPU accounting is taken by
 * the exiting thread while they run. Prints "workers N".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile unsigned long sink;

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *burn(void *arg)
{
	(void)arg;
	for (unsigned long i = 0;; i++) {
		sink += i * i;
		if ((i & 1023) == 0)
			free(malloc(64 + (i & 255)));
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2;
	pthread_t th;
	for (int i = 0; i < n; i++)
		pthread_create(&th, NULL, burn, NULL);
	double start = cpu_s();
	while (cpu_s() - start < 0.6) /* process CPU: main + workers */
		sink++;
	printf("workers %d\n", n);
	fflush(stdout);
	exit(0);
}
