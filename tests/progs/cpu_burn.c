/*
 * CPU sampler test: NTHREADS threads (argv[1], default 3) each burn their
 * own CPU time in burn_worker for (i + 1) * MS milliseconds (argv[2],
 * default 200), the main thread burns 2 * MS ms in burn_main (its CPU time
 * also holds the shim's start-up, before sampling starts). Every thread
 * prints "tid TID cpu_ns NS" from CLOCK_THREAD_CPUTIME_ID at its end so
 * the test can compare with samples x period.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static volatile unsigned long sink;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static long long thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void report(void)
{
	long long ns = thread_cpu_ns();
	pthread_mutex_lock(&print_lock);
	printf("tid %ld cpu_ns %lld\n", (long)syscall(SYS_gettid), ns);
	fflush(stdout);
	pthread_mutex_unlock(&print_lock);
}

/* Spin until this thread has used ms of CPU time. */
__attribute__((noinline)) static void burn_worker(long ms)
{
	long long until = thread_cpu_ns() + ms * 1000000LL;
	unsigned long x = 1;
	while (thread_cpu_ns() < until)
		for (int i = 0; i < 20000; i++)
			x = x * 6364136223846793005ul + 1442695040888963407ul;
	sink += x;
}

__attribute__((noinline)) static void burn_main(long ms)
{
	long long until = thread_cpu_ns() + ms * 1000000LL;
	unsigned long x = 3;
	while (thread_cpu_ns() < until)
		for (int i = 0; i < 20000; i++)
			x = x * 2862933555777941757ul + 3037000493ul;
	sink += x;
}

static long ms_base = 200;

static void *worker(void *arg)
{
	long i = (long)arg;
	burn_worker((i + 1) * ms_base);
	report();
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	if (argc > 2)
		ms_base = atol(argv[2]);
	pthread_t th[64];
	if (n > 64)
		n = 64;
	for (long i = 0; i < n; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	burn_main(2 * ms_base);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	report();
	return 0;
}
