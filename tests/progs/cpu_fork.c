/*
 * CPU sampler test, fork: the parent burns in parent_burn, forks a child
 * that burns in child_burn (MS ms of its CPU, argv[1], default 200) and
 * exits 7; the parent waits and checks the status. Prints
 * "child_status=7" and each side's CPU time.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

static long long cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#define BURNER(name, mul)                                                                          \
	__attribute__((noinline)) static void name(long ms)                                        \
	{                                                                                          \
		long long until = cpu_ns() + ms * 1000000LL;                                       \
		unsigned long x = 1;                                                               \
		while (cpu_ns() < until)                                                           \
			for (int i = 0; i < 20000; i++)                                            \
				x = x * mul + 1;                                                   \
		sink += x;                                                                         \
	}
BURNER(parent_burn, 6364136223846793005ul)
BURNER(child_burn, 2862933555777941757ul)

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 200;
	parent_burn(ms / 2);
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		child_burn(ms);
		printf("child pid %d cpu_ns %lld\n", getpid(), cpu_ns());
		fflush(stdout);
		exit(7);
	}
	parent_burn(ms / 2);
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return 3;
	printf("child_status=%d\nparent pid %d cpu_ns %lld\n", WEXITSTATUS(st), getpid(), cpu_ns());
	return 0;
}
