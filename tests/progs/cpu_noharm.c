/*
 * CPU sampler test, no harm: two threads burn CPU while the main thread
 * sleeps (nanosleep), reads a pipe fed by a slow writer thread, waits in
 * poll and epoll_wait, and does short bursts of work between the waits.
 * Any call failing with EINTR is reported and the exit status is 1. Prints
 * the results, which do not depend on timing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

static volatile int stop;
static volatile unsigned long sink;
static int failures;
static int pipefd[2];

#define ROUNDS 150

static void fail(const char *what)
{
	fprintf(stderr, "cpu_noharm: %s failed: %s\n", what, strerror(errno));
	failures++;
}

__attribute__((noinline)) static void burn_bg(void)
{
	unsigned long x = 1;
	while (!stop)
		for (int i = 0; i < 100000; i++)
			x = x * 6364136223846793005ul + 1;
	sink += x;
}

static void *burner(void *arg)
{
	(void)arg;
	burn_bg();
	return NULL;
}

/* Writes ROUNDS bytes, one every 200 µs: reads block often. */
static void *writer(void *arg)
{
	(void)arg;
	struct timespec ts = {0, 200000};
	for (int i = 0; i < ROUNDS; i++) {
		char c = (char)('a' + i % 26);
		if (nanosleep(&ts, NULL))
			fail("writer nanosleep");
		if (write(pipefd[1], &c, 1) != 1)
			fail("write");
	}
	return NULL;
}

static unsigned long work(int n)
{
	unsigned long x = (unsigned long)n;
	for (int i = 0; i < 20000; i++)
		x = x * 2862933555777941757ul + 3037000493ul;
	return x;
}

int main(void)
{
	pthread_t b1, b2, w;
	if (pipe(pipefd))
		return 2;
	pthread_create(&b1, NULL, burner, NULL);
	pthread_create(&b2, NULL, burner, NULL);
	pthread_create(&w, NULL, writer, NULL);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN}, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, pipefd[0], &ev);
	unsigned long sum = 0;
	int bytes = 0, sleeps = 0, polls = 0, epolls = 0;
	struct timespec nap = {0, 100000};
	for (int i = 0; i < ROUNDS; i++) {
		sink += work(i);
		if (nanosleep(&nap, NULL))
			fail("nanosleep");
		else
			sleeps++;
		struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
		int r = poll(&p, 1, 10000); /* long: a busy machine can starve the writer */
		if (r < 0)
			fail("poll");
		else if (r == 1)
			polls++;
		r = epoll_wait(ep, &out, 1, 10000);
		if (r < 0)
			fail("epoll_wait");
		else if (r == 1)
			epolls++;
		char c;
		ssize_t n = read(pipefd[0], &c, 1);
		if (n < 0)
			fail("read");
		else if (n == 1) {
			bytes++;
			sum += (unsigned char)c;
		}
	}
	stop = 1;
	pthread_join(b1, NULL);
	pthread_join(b2, NULL);
	pthread_join(w, NULL);
	printf("sleeps=%d polls=%d epolls=%d bytes=%d sum=%lu failures=%d\n", sleeps, polls, epolls,
	       bytes, sum, failures);
	return failures ? 1 : 0;
}
