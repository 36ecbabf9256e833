/*
 * lock_contention: 4 threads each add 1000 results to a shared total under
 * one mutex, computing each result while holding it (about 20 us); the
 * control computes outside the lock and each thread keeps its own total
 * under its own mutex, merged at the end. Prints the time the threads
 * spent in pthread_mutex_lock, measured around each call ("lock_wait_s").
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "find_common.h"

#define THREADS 4
#define ITEMS 1000

static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t own[THREADS];
static unsigned long totals[THREADS], shared_total;
static double waited[THREADS];
static int trigger;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long compute(unsigned long x)
{
	for (int i = 0; i < 20000; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	return x >> 60;
}

__attribute__((noinline)) static void add_result(int t, unsigned long seed)
{
	pthread_mutex_t *m = trigger ? &shared : &own[t];
	unsigned long v = trigger ? 0 : compute(seed);
	double t0 = now_s();
	pthread_mutex_lock(m);
	waited[t] += now_s() - t0;
	if (trigger)
		shared_total += compute(seed);
	else
		totals[t] += v;
	pthread_mutex_unlock(m);
}

static void *worker(void *arg)
{
	int t = (int)(long)arg;
	for (int i = 0; i < ITEMS; i++)
		add_result(t, (unsigned long)(t * ITEMS + i));
	return NULL;
}

int main(int argc, char **argv)
{
	trigger = trigger_mode(argc, argv);
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++) {
		pthread_mutex_init(&own[t], NULL);
		pthread_create(&th[t], NULL, worker, (void *)(long)t);
	}
	double wait = 0;
	for (int t = 0; t < THREADS; t++) {
		pthread_join(th[t], NULL);
		wait += waited[t];
		shared_total += totals[t];
	}
	printf("total %lu\nlock_wait_s %.6f\n", shared_total, wait);
	return 0;
}
