/*
 * Known answers (calls recorder and fork): main -> outer -> middle, which
 * calls leaf 4 times, forks, then calls leaf 2 times (parent and child
 * both) and the child also calls child_only 3 times; both return through
 * middle, outer, main (the child calls exit from main after them).
 * Parent: main 1, outer 1, middle 1, leaf 6, child_only 0.
 * Child (continues the open calls): main 1, outer 1, middle 1, leaf 2,
 * child_only 3, no unmatched exits; tree main -> outer -> middle -> leaf.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile long sink;

__attribute__((noinline)) void leaf(long i)
{
	sink += i;
}

__attribute__((noinline)) void child_only(long i)
{
	sink -= i;
}

__attribute__((noinline)) pid_t middle(void)
{
	for (int i = 0; i < 4; i++)
		leaf(i);
	pid_t pid = fork();
	for (int i = 0; i < 2; i++)
		leaf(i);
	if (pid == 0)
		for (int i = 0; i < 3; i++)
			child_only(i);
	return pid;
}

__attribute__((noinline)) pid_t outer(void)
{
	return middle();
}

int main(void)
{
	pid_t pid = outer();
	if (pid == 0)
		exit(0);
	int st;
	waitpid(pid, &st, 0);
	printf("child=%d\n", (int)pid);
	return 0;
}
