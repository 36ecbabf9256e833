/*
 * Sampling mode's fast paths count every call through a per-thread gate
 * (preload/mem/mem.c, sample_hot): this program crosses each place where
 * the gate must be closed or must not open, and prints the calls it made
 * that a profiler must count:
 *   - the main thread: ROUNDS rounds of malloc, realloc (grow), free;
 *   - recording stopped (profshim_stop) for ROUNDS more, not counted, then
 *     started again for ROUNDS;
 *   - two threads of ROUNDS rounds each, ended (their states are reused
 *     by the next thread), then two more;
 *   - a forked child: ROUNDS rounds of its own (counted in the child's
 *     process, not the parent's), ended by exit; the parent waits.
 * Prints counted=<allocation calls counted in this process> and
 * child=<pid>, child_counted=<the child's>, after the work (stdio last).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "profshim.h"

static int rounds = 2000;

/* malloc + realloc + free: two allocation calls, one free */
static void churn(int n)
{
	for (int i = 0; i < n; i++) {
		char *p = malloc(16 + (size_t)(i % 200));
		if (p)
			p[0] = 1;
		char *q = realloc(p, 300 + (size_t)(i % 500));
		free(q ? q : p);
	}
}

static void *worker(void *arg)
{
	(void)arg;
	churn(rounds);
	return NULL;
}

static void two_threads(void)
{
	pthread_t a, b;
	if (pthread_create(&a, NULL, worker, NULL) || pthread_create(&b, NULL, worker, NULL))
		exit(2);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		rounds = atoi(argv[1]);
	churn(rounds);
	PROFSHIM_STOP();
	churn(rounds);
	PROFSHIM_START();
	churn(rounds);
	two_threads();
	two_threads();
	long counted = 2L * rounds * 6;
	pid_t pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		churn(rounds);
		printf("child_counted=%ld\n", 2L * rounds);
		exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("counted=%ld\nchild=%d\n", counted, (int)pid);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
