/*
 * Known answers (calls recorder and exec). First image: main -> outer ->
 * leaf 5 times, a failed exec (try_exec), leaf 3 more times, then
 * try_exec of itself with "again". So the first image's tree holds
 * main 1, outer 1, try_exec 2, leaf 8 (the failed exec's snapshot must not
 * be counted on top). The second image: main -> leaf 2 times.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile long sink;

__attribute__((noinline)) void leaf(long i)
{
	sink += i;
}

__attribute__((noinline)) int try_exec(const char *path)
{
	char *args[] = {(char *)path, "again", NULL};
	execv(path, args);
	return -1;
}

__attribute__((noinline)) void outer(void)
{
	for (int i = 0; i < 5; i++)
		leaf(i);
	if (try_exec("/nonexistent/fi_exec") != -1)
		return;
	for (int i = 0; i < 3; i++)
		leaf(i);
	try_exec("/proc/self/exe");
	perror("exec");
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "again")) {
		leaf(1);
		leaf(2);
		printf("again\n");
		return 0;
	}
	outer();
	return 1;
}
