/*
 * CPU sampler test helper, preloaded before the shim: its constructor
 * starts a thread (before the shim starts, so the shim finds it only in
 * /proc/self/task) that burns 200 ms of its CPU in early_burn; the
 * destructor joins it and prints its CPU time.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_t early;
static volatile unsigned long sink;
static long long early_ns;
static long early_tid;

static long long cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

__attribute__((noinline)) static void early_burn(long ms)
{
	long long until = cpu_ns() + ms * 1000000LL;
	unsigned long x = 1;
	while (cpu_ns() < until)
		for (int i = 0; i < 20000; i++)
			x = x * 6364136223846793005ul + 1;
	sink += x;
}

static void *run(void *arg)
{
	(void)arg;
	/* Let the shim start meanwhile. */
	usleep(20000);
	early_burn(200);
	early_tid = syscall(SYS_gettid);
	early_ns = cpu_ns();
	return NULL;
}

__attribute__((constructor(101))) static void start_early(void)
{
	/* The real pthread_create: a thread the shim never sees start. */
	int (*create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *) =
	    (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))dlsym(
		RTLD_NEXT, "pthread_create");
	create(&early, NULL, run, NULL);
}

__attribute__((destructor)) static void stop_early(void)
{
	pthread_join(early, NULL);
	printf("early tid %ld cpu_ns %lld\n", early_tid, early_ns);
}
