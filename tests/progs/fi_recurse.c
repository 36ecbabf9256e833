/*
 * Known answers (built with -finstrument-functions):
 *   fib(N) makes exactly 2*fib(N+1)-1 calls of fib (fib(20): 21891);
 *   deep(D) recurses D levels (one call each), then returns;
 *   leaf() is called exactly LEAVES times from main.
 * Usage: fi_recurse [N [D [LEAVES]]]  (defaults 20, 0, 1000)
 */
#include <stdio.h>
#include <stdlib.h>

static volatile int sink;

__attribute__((noinline)) int fib(int n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

__attribute__((noinline)) int deep(int d)
{
	if (d <= 1)
		return 1;
	int r = deep(d - 1) + 1;
	sink = r;
	return r;
}

__attribute__((noinline)) void leaf(int i)
{
	sink += i;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20;
	int d = argc > 2 ? atoi(argv[2]) : 0;
	int leaves = argc > 3 ? atoi(argv[3]) : 1000;
	int f = fib(n);
	int r = d > 0 ? deep(d) : 0;
	for (int i = 0; i < leaves; i++)
		leaf(i);
	printf("fib(%d)=%d deep=%d\n", n, f, r);
	return 0;
}
