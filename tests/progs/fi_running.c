#define _GNU_SOURCE
/*
 * Known answers (calls recorder, threads still running at exit): the
 * worker thread calls tick() exactly TICKS times (default 1000) from
 * loop(), then blocks in wait_forever() (a read on a pipe nobody writes)
 * or, with "spin", spins in spin_forever() calling nothing. main waits for
 * the ticks, calls leaf() 3 times and returns: the worker is still inside
 * worker_main -> loop -> wait_forever (or spin_forever) when the process
 * exits. Its tree: worker_main 1, loop 1, tick TICKS, wait_forever 1.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile long sink;
static volatile int ticks_done;
static int ticks = 1000, spin;
static int block_pipe[2];

__attribute__((noinline)) void tick(long i)
{
	sink += i;
}

__attribute__((noinline)) void leaf(long i)
{
	sink += i;
}

__attribute__((noinline)) void wait_forever(void)
{
	char c;
	__atomic_store_n(&ticks_done, 1, __ATOMIC_RELEASE);
	while (read(block_pipe[0], &c, 1) != 0)
		;
}

__attribute__((noinline)) void spin_forever(void)
{
	__atomic_store_n(&ticks_done, 1, __ATOMIC_RELEASE);
	for (;;)
		sink++;
}

__attribute__((noinline)) void loop(void)
{
	for (int i = 0; i < ticks; i++)
		tick(i);
	if (spin)
		spin_forever();
	else
		wait_forever();
}

__attribute__((noinline)) void *worker_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "runner");
	loop();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		ticks = atoi(argv[1]);
	spin = argc > 2 && !strcmp(argv[2], "spin");
	if (pipe(block_pipe))
		return 1;
	pthread_t th;
	pthread_create(&th, NULL, worker_main, NULL);
	while (!__atomic_load_n(&ticks_done, __ATOMIC_ACQUIRE))
		usleep(1000);
	for (int i = 0; i < 3; i++)
		leaf(i);
	printf("ticks=%d\n", ticks);
	return 0;
}
