/*
 * CPU sampler test: a thread that spends a known part of its CPU time in
 * the kernel. It alternates reads of 1 MiB from /dev/zero (the kernel
 * clears the buffer: system time) and user-mode arithmetic in user_burn
 * until argv[1] ms (default 600) of CPU time are used. Prints
 * "tid TID cpu_ns NS user_ns U sys_ns S": CPU clock and getrusage
 * (RUSAGE_THREAD) at its end.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;
static char buf[1 << 20];

static long long thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

__attribute__((noinline)) static void user_burn(void)
{
	unsigned long x = sink + 1;
	for (int i = 0; i < 200000; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	sink += x;
}

__attribute__((noinline)) static void kernel_reads(int fd)
{
	for (int i = 0; i < 8; i++)
		if (read(fd, buf, sizeof(buf)) <= 0)
			exit(1);
	sink += (unsigned long)buf[12345];
}

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 600;
	int fd = open("/dev/zero", O_RDONLY);
	if (fd < 0)
		return 1;
	long long until = thread_cpu_ns() + ms * 1000000LL;
	while (thread_cpu_ns() < until) {
		kernel_reads(fd);
		user_burn();
	}
	struct rusage ru;
	getrusage(RUSAGE_THREAD, &ru);
	printf("tid %ld cpu_ns %lld user_ns %lld sys_ns %lld\n", (long)syscall(SYS_gettid),
	       thread_cpu_ns(), ru.ru_utime.tv_sec * 1000000000LL + ru.ru_utime.tv_usec * 1000LL,
	       ru.ru_stime.tv_sec * 1000000000LL + ru.ru_stime.tv_usec * 1000LL);
	return 0;
}
