/*
 * The program behind the diff tests, built twice: diff_v1.c and
 * diff_v2.c define DIFF_VERSION and include this. Version 2 makes
 * changed_work twice as slow (200 ms of CPU instead of 100 ms) and
 * make_records allocate twice as much (1000 blocks of 2 KiB instead of
 * 1 KiB); steady_work (100 ms) and steady_alloc (500 x 512 B) stay.
 * Prints each function's CPU time measured by itself ("NAME_s X").
 */
#include "find_common.h"

__attribute__((noinline)) void steady_work(void)
{
	BURN_MS(100);
}

__attribute__((noinline)) void changed_work(void)
{
	BURN_MS(DIFF_VERSION == 1 ? 100 : 200);
}

static void *volatile blocks[1000];

__attribute__((noinline)) void make_records(void)
{
	for (int i = 0; i < 1000; i++)
		blocks[i] = malloc(DIFF_VERSION == 1 ? 1024 : 2048);
	for (int i = 0; i < 1000; i++)
		free(blocks[i]);
}

__attribute__((noinline)) void steady_alloc(void)
{
	for (int i = 0; i < 500; i++)
		blocks[i] = malloc(512);
	for (int i = 0; i < 500; i++)
		free(blocks[i]);
}

int main(void)
{
	double t0 = thread_cpu_s();
	steady_work();
	double t1 = thread_cpu_s();
	changed_work();
	double t2 = thread_cpu_s();
	make_records();
	steady_alloc();
	printf("steady_work_s %.6f\nchanged_work_s %.6f\n", t1 - t0, t2 - t1);
	return 0;
}
