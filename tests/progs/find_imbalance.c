/*
 * Findings known answers: thread_imbalance.
 *   trigger: a pool of 4 threads running pool_worker; the first burns
 *            200 ms of CPU, the others 25 ms each.
 *   control: the same pool, each burns 60 ms.
 * Prints "excess_s X": the busiest worker's CPU time minus the pool's
 * average (each worker's CPU time measured by itself).
 */
#include <pthread.h>

#include "find_common.h"

#define WORKERS 4

static double work_ms[WORKERS], used_s[WORKERS];

__attribute__((noinline)) void *pool_worker(void *arg)
{
	long i = (long)arg;
	double t0 = thread_cpu_s();
	BURN_MS(work_ms[i]);
	used_s[i] = thread_cpu_s() - t0;
	return NULL;
}

int main(int argc, char **argv)
{
	int trigger = trigger_mode(argc, argv);
	pthread_t t[WORKERS];
	for (long i = 0; i < WORKERS; i++) {
		work_ms[i] = trigger ? (i == 0 ? 200 : 25) : 60;
		pthread_create(&t[i], NULL, pool_worker, (void *)i);
	}
	double max = 0, sum = 0;
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(t[i], NULL);
		sum += used_s[i];
		if (used_s[i] > max)
			max = used_s[i];
	}
	printf("excess_s %.6f\n", max - sum / WORKERS);
	return 0;
}
