/*
 * Known answers for outputs that expand inlined frames: make_block() is
 * always inlined into builder(), so the return address of its malloc(64)
 * stands for two frames, make_block (inlined) inside builder. builder()
 * runs BLOCKS times (argument, default 3); every block is freed.
 */
#include <stdlib.h>

static void *volatile keep;

static inline __attribute__((always_inline)) void *make_block(void)
{
	return malloc(64);
}

__attribute__((noinline)) void builder(void)
{
	keep = make_block();
	free(keep);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	for (int i = 0; i < n; i++)
		builder();
	return 0;
}
