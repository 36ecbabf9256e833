/*
 * Known answers for the wall-time split (tests/io.bats): a thread that
 * alternates CPU-heavy system calls (read of /dev/zero in 8 MiB chunks:
 * the kernel clears the buffer, so the call is on CPU) with sleeps. It
 * prints what it measured itself: its wall time, the time in read() and
 * in usleep(), and its CPU time. The profiler's split for the thread must
 * sum to its wall time and no class may exceed the program's figure.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (8u << 20)

static double now_ms(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void *worker(void *arg)
{
	(void)arg;
	/* named here: a name set by the creator may come before the thread's state exists */
	pthread_setname_np(pthread_self(), "split");
	double t0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_THREAD_CPUTIME_ID);
	double read_ms = 0, sleep_ms = 0;
	int fd = open("/dev/zero", O_RDONLY);
	char *buf = malloc(CHUNK);
	if (fd < 0 || !buf)
		exit(1);
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 8; i++) {
			double a = now_ms(CLOCK_MONOTONIC);
			if (read(fd, buf, CHUNK) != (ssize_t)CHUNK)
				exit(1);
			read_ms += now_ms(CLOCK_MONOTONIC) - a;
		}
		double a = now_ms(CLOCK_MONOTONIC);
		usleep(40000);
		sleep_ms += now_ms(CLOCK_MONOTONIC) - a;
	}
	close(fd);
	free(buf);
	printf("wall_ms=%.3f read_ms=%.3f sleep_ms=%.3f cpu_ms=%.3f\n",
	       now_ms(CLOCK_MONOTONIC) - t0, read_ms, sleep_ms,
	       now_ms(CLOCK_THREAD_CPUTIME_ID) - c0);
	return NULL;
}

int main(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL))
		return 1;
	pthread_join(t, NULL);
	return 0;
}
