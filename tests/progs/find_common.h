/*
 * Shared by the findings test programs (find_*.c, fi_find_*.c): burn CPU
 * inside the calling function (always inlined, so the samples land in the
 * caller's own code) and read this thread's CPU clock, so a program can
 * print what it measured itself for the test to compare with.
 * Every program takes "trigger" or "control" as argv[1].
 */
#ifndef FIND_COMMON_H
#define FIND_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile unsigned long find_sink;

static inline double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Spin for ms of this thread's CPU time; the clock is read once per
 * 2^18 iterations (a fraction of a millisecond) so nearly every sample
 * lands in the loop: reading a thread's CPU clock is a system call, which
 * on a loaded machine can cost microseconds. */
#define BURN_MS(ms)                                                                                \
	do {                                                                                       \
		double until_ = thread_cpu_s() + (ms) / 1e3;                                       \
		unsigned long x_ = find_sink | 1;                                                  \
		do {                                                                               \
			for (int i_ = 0; i_ < (1 << 18); i_++)                                         \
				x_ = x_ * 6364136223846793005ul + 1442695040888963407ul;           \
			find_sink = x_;                                                            \
		} while (thread_cpu_s() < until_);                                                 \
	} while (0)

static inline int trigger_mode(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "trigger") && strcmp(argv[1], "control"))) {
		fprintf(stderr, "usage: %s trigger|control\n", argv[0]);
		exit(2);
	}
	return !strcmp(argv[1], "trigger");
}

#endif
