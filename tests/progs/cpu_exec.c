/*
 * CPU sampler test, exec: with no argument, two threads and the main
 * thread burn CPU, then the main thread execs this program again with
 * "child" while the threads still burn; the new image burns in
 * exec_child_burn and prints "exec child ok". A signal left pending
 * across exec would kill the new image before its handler exists.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

static long long cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

__attribute__((noinline)) static void spin(long ms)
{
	long long until = cpu_ns() + ms * 1000000LL;
	unsigned long x = 1;
	while (cpu_ns() < until)
		for (int i = 0; i < 2000; i++)
			x = x * 6364136223846793005ul + 1;
	sink += x;
}

__attribute__((noinline)) static void exec_child_burn(long ms)
{
	spin(ms);
}

static void *burner(void *arg)
{
	(void)arg;
	for (;;)
		spin(10);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "child")) {
		exec_child_burn(100);
		printf("exec child ok\n");
		return 0;
	}
	pthread_t t1, t2;
	pthread_create(&t1, NULL, burner, NULL);
	pthread_create(&t2, NULL, burner, NULL);
	spin(50);
	/* A failing exec first: the sampler must come back. */
	char *bad[] = {"/nonexistent/prog", NULL};
	execv(bad[0], bad);
	spin(50);
	char *args[] = {argv[0], "child", NULL};
	execv("/proc/self/exe", args);
	perror("execv");
	return 1;
}
