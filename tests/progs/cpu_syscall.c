/*
 * CPU sampler test: a thread that spends a known part of its CPU time in
 * the kernel. It alternates reads from /dev/zero (the kernel clears the
 * buffer: system time) and user-mode arithmetic in user_burn until
 * argv[1] ms (default 600) of CPU time are used. Prints
 * "tid TID cpu_ns NS user_ns U sys_ns S read_ns R burn_ns B": its CPU
 * clock, getrusage (RUSAGE_THREAD) user and system time, and the CPU time
 * it measured itself around its reads and around user_burn.
 *
 * getrusage's split of user from system time is the kernel's tick
 * sampling (250 Hz): R and B are exact. The length of each phase varies
 * (a fixed seed, so every run does the same work), so that no sampling
 * timer can fire in step with the loop, always in the same phase.
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
static unsigned long rng = 88172645463325252ul;

/* xorshift64: the next phase length in [lo, lo + span) */
static int vary(int lo, int span)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return lo + (int)(rng % (unsigned long)span);
}

static long long thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

__attribute__((noinline)) static void user_burn(void)
{
	unsigned long x = sink + 1;
	int n = vary(50000, 300000);
	for (int i = 0; i < n; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	sink += x;
}

static long long in_read_ns;

__attribute__((noinline)) static void kernel_reads(int fd)
{
	int n = vary(1, 12);
	long long t0 = thread_cpu_ns();
	for (int i = 0; i < n; i++)
		if (read(fd, buf, (size_t)vary(256 << 10, 768 << 10)) <= 0)
			exit(1);
	in_read_ns += thread_cpu_ns() - t0;
	sink += (unsigned long)buf[12345];
}

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 600;
	int fd = open("/dev/zero", O_RDONLY);
	if (fd < 0)
		return 1;
	long long until = thread_cpu_ns() + ms * 1000000LL;
	long long burn_ns = 0;
	while (thread_cpu_ns() < until) {
		kernel_reads(fd);
		long long t0 = thread_cpu_ns();
		user_burn();
		burn_ns += thread_cpu_ns() - t0;
	}
	struct rusage ru;
	getrusage(RUSAGE_THREAD, &ru);
	printf("tid %ld cpu_ns %lld user_ns %lld sys_ns %lld read_ns %lld burn_ns %lld\n",
	       (long)syscall(SYS_gettid), thread_cpu_ns(),
	       ru.ru_utime.tv_sec * 1000000000LL + ru.ru_utime.tv_usec * 1000LL,
	       ru.ru_stime.tv_sec * 1000000000LL + ru.ru_stime.tv_usec * 1000LL, in_read_ns,
	       burn_ns);
	return 0;
}
