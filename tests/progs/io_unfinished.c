/*
 * Known answer for calls still in progress at exit (tests/io.bats): a
 * worker blocks in pthread_cond_wait forever, another in read() on a pipe
 * nobody writes, a third on a mutex main holds, while main sleeps 500 ms and returns. main prints
 * how long each had been waiting when main returned (the workers' own starts, read from main).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static _Atomic double wait_start_ms; /* set before the worker's first wait */
static _Atomic double read_start_ms;
static int pipe_fds[2];
static _Atomic double lock_start_ms;
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "waiter");
	pthread_mutex_lock(&mu);
	wait_start_ms = now_ms();
	for (;;)
		pthread_cond_wait(&cv, &mu);
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "reader");
	char c;
	read_start_ms = now_ms();
	while (read(pipe_fds[0], &c, 1) > 0)
		;
	return NULL;
}

static void *locker(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "locker");
	lock_start_ms = now_ms();
	pthread_mutex_lock(&held);
	return NULL;
}

int main(void)
{
	pthread_t t, r, l;
	pthread_mutex_lock(&held);
	if (pipe(pipe_fds) || pthread_create(&t, NULL, worker, NULL) ||
	    pthread_create(&r, NULL, reader, NULL) || pthread_create(&l, NULL, locker, NULL))
		return 1;
	usleep(500000);
	double now = now_ms(), start = wait_start_ms, rstart = read_start_ms,
	       lstart = lock_start_ms;
	printf("waited_ms=%.3f\n", start > 0 ? now - start : 0);
	printf("read_ms=%.3f\n", rstart > 0 ? now - rstart : 0);
	printf("lock_ms=%.3f\n", lstart > 0 ? now - lstart : 0);
	return 0;
}
