/*
 * Findings known answers: peak_contributor.
 *   trigger: load_table holds 8 MiB while 8 other sites hold 256 KiB each:
 *            load_table has 80% of the 10 MiB peak.
 *   control: 10 sites hold 1 MiB each at the peak (10% each).
 */
#include "find_common.h"

#define PART(n)                                                                                    \
	__attribute__((noinline)) void *part_##n(size_t size)                                      \
	{                                                                                          \
		void *p = malloc(size + n);                                                        \
		memset(p, n, size);                                                                \
		return p;                                                                          \
	}
PART(0)
PART(1) PART(2) PART(3) PART(4) PART(5) PART(6) PART(7) PART(8)

    __attribute__((noinline)) void *load_table(size_t size)
{
	void *p = malloc(size);
	memset(p, 1, size);
	return p;
}

int main(int argc, char **argv)
{
	int trigger = trigger_mode(argc, argv);
	void *(*const parts[9])(size_t) = {part_0, part_1, part_2, part_3, part_4,
					   part_5, part_6, part_7, part_8};
	void *held[10];
	held[0] = load_table(trigger ? 8u << 20 : 1u << 20);
	for (int i = 0; i < 9; i++)
		held[i + 1] = parts[i](trigger ? 256u << 10 : 1u << 20);
	for (int i = 0; i < 10; i++)
		free(held[i]);
	return 0;
}
