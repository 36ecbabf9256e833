/* Known answer: THREADS threads each record PER_THREAD markers, the main
 * thread records MAIN_MARKS; every thread names itself "worker-N". */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "profshim.h"

#define THREADS 4
#define PER_THREAD 1000
#define MAIN_MARKS 7

static void *worker(void *arg)
{
	char name[16];
	snprintf(name, sizeof(name), "worker-%d", (int)(long)arg);
	pthread_setname_np(pthread_self(), name);
	for (int i = 0; i < PER_THREAD; i++)
		PROFSHIM_MARK("work");
	return NULL;
}

int main(void)
{
	pthread_t th[THREADS];
	for (long i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < MAIN_MARKS; i++)
		PROFSHIM_MARK("main");
	struct profshim_counters c;
	if (profshim_active() && profshim_get_counters(&c) == 0)
		printf("events=%llu\n", (unsigned long long)c.events);
	return 0;
}
