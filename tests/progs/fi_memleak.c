/*
 * Allocation stacks from the calls recorder's shadow stack (built with
 * -finstrument-functions). Known answers:
 *   leak_deep leaks 1 block of 300 bytes (main > outer > middle > leak_deep);
 *   leak_direct leaks 1 block of 100 bytes (main > leak_direct);
 *   leak_strdup leaks 1 block of 6 bytes through strdup (uninstrumented:
 *     its stack comes from unwinding, strdup's malloc call innermost);
 *   churn makes N (argument, default 1000) malloc(32)/free pairs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *volatile keep[3];
volatile unsigned sink;

__attribute__((noinline)) void leak_deep(void)
{
	keep[0] = malloc(300);
}

__attribute__((noinline)) void middle(void)
{
	leak_deep();
	sink++;
}

__attribute__((noinline)) void outer(void)
{
	middle();
	sink++;
}

__attribute__((noinline)) void leak_direct(void)
{
	keep[1] = malloc(100);
}

__attribute__((noinline)) void leak_strdup(void)
{
	keep[2] = strdup("hello");
}

__attribute__((noinline)) void churn(int n)
{
	for (int i = 0; i < n; i++) {
		char *p = malloc(32);
		p[0] = (char)i;
		sink += (unsigned)p[0];
		free(p);
	}
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	outer();
	leak_direct();
	leak_strdup();
	churn(n);
	return sink == 0;
}
