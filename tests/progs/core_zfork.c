/*
 * Compressed runs across fork and exec (issue 15f): with N = argv[1]
 * (default 100000), the parent records N markers "parent-before" (its
 * file slides many windows: the compressor thread is running), forks; the
 * child records N "child", then execs this program as "exec N", which
 * records N "after-exec" and exits 0; the parent meanwhile records N
 * "parent-after" and waits for the child. Prints "child=PID".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "profshim.h"

static void marks(const char *name, int n)
{
	for (int i = 0; i < n; i++)
		PROFSHIM_MARK(name);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100000;
	if (argc > 2 && !strcmp(argv[2], "exec")) {
		marks("after-exec", n);
		return 0;
	}
	marks("parent-before", n);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		marks("child", n);
		printf("child=%d\n", (int)getpid());
		fflush(stdout);
		char *args[] = {argv[0], argv[1] ? argv[1] : "100000", "exec", NULL};
		execv("/proc/self/exe", args);
		return 1;
	}
	marks("parent-after", n);
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
