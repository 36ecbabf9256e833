/*
 * CPU sampler test: a worker thread that blocks every signal burns argv[2]
 * ms (default 300) of CPU time in blocked_burn. argv[1] says how it
 * blocks them:
 *   self     the worker calls pthread_sigmask(SIG_BLOCK, all) itself;
 *   inherit  the creator blocks all around pthread_create (as liblzma
 *            does), the worker starts with everything blocked;
 *   raw      the worker blocks all with a raw rt_sigprocmask system call
 *            (no libc function a preload can see).
 * The worker prints "tid TID cpu_ns NS" (its CPU clock at its end) and
 * "mask_ok 1" when the mask it reads back has every signal it blocked
 * (SIGPROF included) as the program expects.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;
static const char *mode = "self";
static long ms = 300;

static long long thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

__attribute__((noinline)) static void blocked_burn(long burn_ms)
{
	long long until = thread_cpu_ns() + burn_ms * 1000000LL;
	unsigned long x = 7;
	while (thread_cpu_ns() < until)
		for (int i = 0; i < 20000; i++)
			x = x * 6364136223846793005ul + 1442695040888963407ul;
	sink += x;
}

static void *worker(void *arg)
{
	(void)arg;
	sigset_t all, now;
	sigfillset(&all);
	if (!strcmp(mode, "self"))
		pthread_sigmask(SIG_BLOCK, &all, NULL);
	else if (!strcmp(mode, "raw"))
		syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, 8);
	pthread_sigmask(SIG_BLOCK, NULL, &now);
	int ok = sigismember(&now, SIGPROF) == 1 && sigismember(&now, SIGUSR1) == 1;
	blocked_burn(ms);
	printf("tid %ld cpu_ns %lld\nmask_ok %d\n", (long)syscall(SYS_gettid), thread_cpu_ns(), ok);
	fflush(stdout);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		mode = argv[1];
	if (argc > 2)
		ms = atol(argv[2]);
	sigset_t all, old;
	sigfillset(&all);
	if (!strcmp(mode, "inherit"))
		pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t th;
	if (pthread_create(&th, NULL, worker, NULL))
		return 1;
	if (!strcmp(mode, "inherit"))
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_join(th, NULL);
	return 0;
}
