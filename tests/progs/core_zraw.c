/*
 * The raw compressor thread (issue 15n): a single-threaded program that
 * allocates enough to slide its window many times (ROUNDS = argv[2],
 * default 200000 malloc/free pairs of the site "zraw_alloc <- main"),
 * then prints what glibc and the kernel say about its threads:
 *   single=S threads=N compressors=C
 * S is glibc's __libc_single_threaded (1: malloc takes no locks), N the
 * threads besides main in /proc/self/task, C how many are "profshim-z".
 * argv[1] picks what happens next:
 *   plain   nothing more;
 *   pause   then sleeps 1 s (the compressor has time to start on the
 *           last run handed to it) and exits;
 *   thread  then a pthread allocates ROUNDS more (the site
 *           "zraw_alloc <- worker"): glibc turns multi-threaded, both go on;
 *   fork    then a forked child allocates ROUNDS (and prints its own line,
 *           prefixed "child "), the parent waits for it;
 *   exec    then the program execs itself in "plain" mode (line prefixed
 *           by the exec'd image as any other).
 * Each line is printed with write(2) before any exit.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/wait.h>
#include <unistd.h>

#include "task_count.h"

static int rounds = 200000;

__attribute__((noinline)) static void zraw_alloc(size_t n)
{
	volatile char *p = malloc(n);
	if (p)
		p[0] = 1;
	free((void *)p);
}

static void report(const char *prefix)
{
	int single = __libc_single_threaded, others, compressors;
	char line[160];
	count_threads(&others, &compressors);
	int n = snprintf(line, sizeof(line), "%ssingle=%d threads=%d compressors=%d\n", prefix,
			 single, others, compressors);
	if (write(1, line, (size_t)n) < 0)
		exit(3);
}

static void allocate(void)
{
	for (int i = 0; i < rounds; i++)
		zraw_alloc(16 + (size_t)(i % 200));
}

static void *worker(void *arg)
{
	(void)arg;
	allocate();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "plain";
	if (argc > 2)
		rounds = atoi(argv[2]);
	allocate();
	report("");
	if (!strcmp(mode, "pause")) {
		sleep(1);
	} else if (!strcmp(mode, "thread")) {
		pthread_t t;
		if (pthread_create(&t, NULL, worker, NULL))
			return 2;
		allocate();
		pthread_join(t, NULL);
		report("after ");
	} else if (!strcmp(mode, "fork")) {
		pid_t pid = fork();
		if (pid == 0) {
			allocate();
			report("child ");
			exit(0);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
			return 2;
	} else if (!strcmp(mode, "exec")) {
		char n[24];
		snprintf(n, sizeof(n), "%d", rounds);
		execl("/proc/self/exe", argv[0], "plain", n, (char *)NULL);
		return 2;
	}
	return 0;
}
