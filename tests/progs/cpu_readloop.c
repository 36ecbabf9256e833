/*
 * A program that lives in the kernel: N reads of 1 MiB from /dev/zero and
 * nothing else. With the perf timer (user-mode signals only) almost no
 * sample is signalled: the periods the timer counted must still land on
 * [kernel] or read, never on the profiler's own frame or on whatever stack
 * was sampled last. usage: cpu_readloop [N]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3000;
	int fd = open("/dev/zero", O_RDONLY);
	char *b = malloc(1 << 20);
	if (fd < 0 || !b)
		return 1;
	for (int i = 0; i < n; i++)
		if (read(fd, b, 1 << 20) < 0)
			return 1;
	printf("reads %d\n", n);
	return 0;
}
