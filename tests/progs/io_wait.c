/* Known answers for waits, locks, spans and counters: sleeps, a poll
 * timeout and a condvar timed wait of known length (the program measures
 * each itself and prints it), two threads contending for a mutex with a
 * known hold time, an uncontended lock, nested spans of known lengths and
 * a counter. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "profshim.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t quiet = PTHREAD_MUTEX_INITIALIZER;
static volatile int holder_has_lock, main_round;
#define ROUNDS 4
#define HOLD_MS 30

static void *holder(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&m);
		holder_has_lock = 1;
		struct timespec hold = {0, HOLD_MS * 1000000L};
		nanosleep(&hold, NULL);
		holder_has_lock = 0;
		pthread_mutex_unlock(&m);
		/* the next round once main has had the lock: never contends */
		while (main_round <= i)
			sched_yield();
	}
	return NULL;
}

static void contend(void)
{
	pthread_t th;
	pthread_create(&th, NULL, holder, NULL);
	double waited = 0;
	int contended = 0;
	for (int i = 0; i < ROUNDS; i++) {
		while (!holder_has_lock) /* wait until the holder has it */
			;
		double t0 = now_ms();
		pthread_mutex_lock(&m);
		waited += now_ms() - t0;
		contended++;
		pthread_mutex_unlock(&m);
		main_round = i + 1;
	}
	pthread_join(th, NULL);
	printf("contended=%d waited_ms=%.3f\n", contended, waited);
	/* uncontended: records nothing */
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&quiet);
		pthread_mutex_unlock(&quiet);
	}
}

static void waits(void)
{
	double t0 = now_ms();
	struct timespec ts = {0, 50000000L};
	nanosleep(&ts, NULL);
	double t1 = now_ms();
	poll(NULL, 0, 40);
	double t2 = now_ms();
	usleep(30000);
	double t3 = now_ms();
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 60000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&cm);
	double t4 = now_ms();
	int rc = pthread_cond_timedwait(&cv, &cm, &until);
	double t5 = now_ms();
	pthread_mutex_unlock(&cm);
	printf("nanosleep_ms=%.3f poll_ms=%.3f usleep_ms=%.3f cond_ms=%.3f cond_rc=%d\n", t1 - t0,
	       t2 - t1, t3 - t2, t5 - t4, rc == ETIMEDOUT);
}

static void spans(void)
{
	for (int i = 0; i < 5; i++) {
		PROFSHIM_SPAN_BEGIN("outer");
		for (int k = 0; k < 2; k++) {
			PROFSHIM_SPAN_SCOPE("inner");
			usleep(2000);
		}
		PROFSHIM_COUNTER("queue_depth", i * 10);
		if (i == 4)
			PROFSHIM_SPAN_END_ERROR();
		else
			PROFSHIM_SPAN_END();
	}
	PROFSHIM_SPAN_END(); /* unmatched: counted, not written */
}

int main(void)
{
	double t0 = now_ms();
	waits();
	contend();
	spans();
	printf("main_ms=%.3f\n", now_ms() - t0);
	return 0;
}
