/*
 * CPU benchmark program: a fixed amount of work (argv[2] rounds, default
 * 400) split over argv[1] threads (default 1), through a few levels of
 * calls so stacks have some depth. Prints the process CPU seconds
 * (getrusage) so a benchmark can compute samples per CPU second.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static volatile unsigned long sink;
static long rounds = 400;
static int nthreads = 1;

__attribute__((noinline)) static unsigned long mix(unsigned long x, int n)
{
	for (int i = 0; i < n; i++)
		x = (x ^ (x >> 31)) * 0x9e3779b97f4a7c15ul + (unsigned long)i;
	return x;
}

__attribute__((noinline)) static unsigned long leaf_a(unsigned long x)
{
	return mix(x, 30000);
}

__attribute__((noinline)) static unsigned long leaf_b(unsigned long x)
{
	return mix(x + 1, 10000);
}

__attribute__((noinline)) static unsigned long step(unsigned long x)
{
	return leaf_a(x) ^ leaf_b(x);
}

static long floor_hz;
static volatile long floor_signals;

static void on_floor_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	floor_signals++;
}

static void floor_timer(void)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_CPU_CLOCK;
	a.sample_period = 1000000000 / floor_hz;
	a.wakeup_events = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return;
	struct f_owner_ex own = {F_OWNER_TID, tid};
	fcntl(fd, F_SETOWN_EX, &own);
	fcntl(fd, F_SETSIG, SIGPROF);
	fcntl(fd, F_SETFL, O_ASYNC);
}

static void *run(void *arg)
{
	unsigned long x = (unsigned long)arg;
	if (floor_hz)
		floor_timer();
	for (long r = 0; r < rounds * 100 / nthreads; r++)
		x = step(x);
	sink += x;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		nthreads = atoi(argv[1]);
	if (argc > 2)
		rounds = atol(argv[2]);
	if (nthreads < 1 || nthreads > 64)
		nthreads = 1;
	const char *fh = getenv("BENCH_FLOOR_HZ");
	if (fh && atol(fh) > 0) {
		floor_hz = atol(fh);
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_floor_signal;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigaction(SIGPROF, &sa, NULL);
	}
	pthread_t th[64];
	for (long i = 1; i < nthreads; i++)
		pthread_create(&th[i], NULL, run, (void *)i);
	run((void *)0);
	for (int i = 1; i < nthreads; i++)
		pthread_join(th[i], NULL);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	if (floor_hz)
		printf("signals %ld\n", floor_signals);
	printf("cpu_s %.6f\n", ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
				   (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	return 0;
}
