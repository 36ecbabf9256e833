/*
 * Known answers: ROUNDS times (default 100) main calls outer(), which calls
 * middle() -> inner(), and inner() longjmps back to main: the exits of
 * inner, middle and outer never run. After each jump main calls after()
 * (which returns normally). Exactly ROUNDS calls each of outer, middle,
 * inner and after; after() is never nested under the abandoned frames.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

static jmp_buf env;
static volatile int sink;

__attribute__((noinline)) void inner(void)
{
	sink++;
	longjmp(env, 1);
}

__attribute__((noinline)) void middle(void)
{
	inner();
	sink++;
}

__attribute__((noinline)) void outer(void)
{
	middle();
	sink++;
}

__attribute__((noinline)) void after(void)
{
	sink++;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 100;
	for (volatile int i = 0; i < rounds; i++) {
		if (setjmp(env) == 0)
			outer();
		after();
	}
	printf("rounds=%d\n", rounds);
	return 0;
}
