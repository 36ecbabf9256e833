/*
 * Stacks the cached unwinder could get wrong if it trusted a frame it had
 * seen before without proof (tests/mem.bats compares its stacks with
 * libunwind's): the same function called from two call sites of a frame
 * that stays where it is (its frame comes back at the same address with
 * the same return address, only its caller's differs), recursion to
 * varying depths, a frame with a variable-length array (CFA from rbp),
 * frames without frame pointers, a signal handler that allocates, and two
 * threads.
 *
 * Known answers: 300 allocations of 24 bytes through main's first call of
 * outer, 200 of 40 bytes through its second.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __thread void *keep[64];

static void free_keep(void)
{
	for (int i = 0; i < 64; i++)
		free(keep[i]);
}

__attribute__((noinline)) static void leaf(size_t n, int i)
{
	void *p = malloc(n);
	free(keep[i & 63]);
	keep[i & 63] = p;
}

/* Without a frame pointer: its CFA comes from rsp. */
__attribute__((noinline, optimize("omit-frame-pointer"))) static void nofp(size_t n, int i)
{
	leaf(n, i);
	__asm__ volatile("" ::: "memory");
}

/* A variable-length array: the CFA comes from rbp, rsp moves with n. */
__attribute__((noinline)) static void vla(size_t n, int i)
{
	volatile char buf[16 + (i % 7) * 16];
	buf[0] = (char)i;
	nofp(n, i + buf[0] - (char)i);
}

__attribute__((noinline)) static void recurse(int depth, size_t n, int i)
{
	if (depth > 0) {
		recurse(depth - 1, n, i);
		__asm__ volatile("" ::: "memory");
		return;
	}
	vla(n, i);
}

/* Two call sites in one frame, alternating; the first and the last call
 * take the same one, so the next outer call's first stack equals this
 * one's last up to main's frame, whose return address differs. */
__attribute__((noinline)) static void outer(size_t n, int count)
{
	for (int i = 0; i < count; i++) {
		if (i % 2 || i == 0 || i == count - 1)
			nofp(n, i);
		else
			recurse(i % 5, n, i);
	}
}

static void on_signal(int sig)
{
	(void)sig;
	void *p = malloc(77);
	free(p);
}

static void *worker(void *arg)
{
	int seed = (int)(size_t)arg;
	for (int i = 0; i < 100; i++)
		recurse((i + seed) % 9, 56, i);
	free_keep();
	return NULL;
}

int main(void)
{
	signal(SIGUSR1, on_signal);
	outer(24, 300); /* SITE_A */
	raise(SIGUSR1);
	outer(40, 200); /* SITE_B */
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, worker, (void *)(size_t)i);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	free_keep();
	printf("done\n");
	return 0;
}
