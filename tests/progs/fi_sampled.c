/*
 * Known answers for tree mode's sampled timing: short_work() is called
 * CALLS times (default 300000) from run_short() and takes a fixed few
 * hundred nanoseconds (a busy loop of SPIN iterations, default 300);
 * long_work() is called LONG times (default 50) and spins 2 ms each.
 * run_short() measures itself (first to last statement) and prints
 * short_ms= (wall) and short_cpu_ms= (the thread's CPU time): short_work's
 * total is a little under that (the loop and the hooks are the rest; on a
 * busy machine the wall time also holds time the thread did not run).
 * long_work's calls are timed exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile long sink;

__attribute__((no_instrument_function)) static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((noinline)) void short_work(int spin)
{
	for (int i = 0; i < spin; i++)
		sink += i;
}

__attribute__((no_instrument_function)) static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double short_cpu_ms;

__attribute__((noinline)) double run_short(int calls, int spin)
{
	double t0 = now_ms(), c0 = cpu_ms();
	for (int i = 0; i < calls; i++)
		short_work(spin);
	short_cpu_ms = cpu_ms() - c0;
	return now_ms() - t0;
}

__attribute__((noinline)) double long_work(void)
{
	double t0 = now_ms(), t;
	while ((t = now_ms()) < t0 + 2)
		sink++;
	return t - t0;
}

int main(int argc, char **argv)
{
	int calls = argc > 1 ? atoi(argv[1]) : 300000;
	int spin = argc > 2 ? atoi(argv[2]) : 300;
	int nlong = argc > 3 ? atoi(argv[3]) : 50;
	double short_ms = run_short(calls, spin), long_ms = 0;
	for (int i = 0; i < nlong; i++)
		long_ms += long_work();
	printf("short_ms=%.3f\nshort_cpu_ms=%.3f\nlong_ms=%.3f\n", short_ms, short_cpu_ms, long_ms);
	return 0;
}
