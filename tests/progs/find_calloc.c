/*
 * Findings known answers: calloc_zeroing.
 *   trigger: 400 times calloc(1, 4 MiB), fill it, free it. After the first
 *            free glibc serves the block from the heap it already has,
 *            so calloc clears 4 MiB each time before the fill overwrites
 *            it: zeroing is about half the CPU.
 *   control: the same with malloc: nothing is cleared.
 * Prints "calloc_s X": thread CPU time spent inside the calloc calls.
 */
#include "find_common.h"

#define BLOCK (4u << 20)

__attribute__((noinline)) double fill_blocks(int use_calloc)
{
	double in_calloc = 0;
	for (int i = 0; i < 400; i++) {
		double t0 = thread_cpu_s();
		unsigned char *p = use_calloc ? calloc(1, BLOCK) : malloc(BLOCK);
		in_calloc += thread_cpu_s() - t0;
		if (!p)
			exit(1);
		memset(p, i | 1, BLOCK);
		find_sink += p[i];
		free(p);
	}
	return in_calloc;
}

int main(int argc, char **argv)
{
	double s = fill_blocks(trigger_mode(argc, argv));
	printf("calloc_s %.6f\n", s);
	return 0;
}
