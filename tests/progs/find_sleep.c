/*
 * short_sleep_poll: the main thread waits for a worker's "job done" flag.
 * The trigger checks the flag in a loop, first with usleep(1000) and then
 * with poll() on a pipe with a 1 ms timeout; the control waits on a
 * condition variable and then with poll() without a timeout. The worker
 * finishes after the trigger's loop has checked 300 times (so the counts
 * are exact); it prints how many times each loop woke up, and how many of
 * those waits took at most 10 ms by its own clock ("short_*": a loaded
 * machine can make a 1 ms sleep longer).
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include "find_common.h"

#define CHECKS 300

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile int checks, done;
static int pipefd[2];
static int short_waits;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void timed(double t0)
{
	short_waits += now_s() - t0 <= 0.010;
}

/* The worker: done once the waiter has checked CHECKS times (trigger), or
 * at once (control). Signals both the condition variable and the pipe. */
static void *worker(void *arg)
{
	int trigger = (int)(long)arg;
	pthread_mutex_lock(&mu);
	while (trigger && checks < CHECKS)
		pthread_cond_wait(&cv, &mu);
	done = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	if (write(pipefd[1], "x", 1) != 1)
		exit(1);
	return NULL;
}

static void checked(void)
{
	pthread_mutex_lock(&mu);
	checks++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

__attribute__((noinline)) static int sleep_until_done(void)
{
	int n = 0;
	while (!done) {
		double t = now_s();
		usleep(1000);
		timed(t);
		n++;
		checked();
	}
	return n;
}

__attribute__((noinline)) static int poll_until_ready(int timeout_ms)
{
	struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
	int n = 0;
	for (;;) {
		double t = now_s();
		if (poll(&p, 1, timeout_ms) != 0)
			break;
		timed(t);
		n++;
		checked();
	}
	return n;
}

static void wait_done(void)
{
	pthread_mutex_lock(&mu);
	while (!done)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

int main(int argc, char **argv)
{
	int trigger = trigger_mode(argc, argv);
	pthread_t th;
	if (pipe(pipefd))
		return 1;
	/* first job: sleep loop (trigger) or condition variable */
	pthread_create(&th, NULL, worker, (void *)(long)trigger);
	int sleeps = 0;
	if (trigger)
		sleeps = sleep_until_done();
	else
		wait_done();
	int short_sleeps = short_waits;
	short_waits = 0;
	pthread_join(th, NULL);
	char c;
	if (read(pipefd[0], &c, 1) != 1)
		return 1;
	/* second job: poll with a 1 ms timeout (trigger) or none */
	done = 0;
	checks = 0;
	pthread_create(&th, NULL, worker, (void *)(long)trigger);
	int timeouts = poll_until_ready(trigger ? 1 : -1);
	pthread_join(th, NULL);
	printf("sleeps %d\npoll_timeouts %d\nshort_sleeps %d\nshort_timeouts %d\n", sleeps,
	       timeouts, short_sleeps, short_waits);
	return 0;
}
