/*
 * Findings known answers: tiny_calls (built with -finstrument-functions).
 *   trigger: add_one, a one-line function, called 3,000,000 times.
 *   control: sum_block, 2000 additions per call, called 3000 times.
 */
#include "find_common.h"

__attribute__((noinline)) unsigned long add_one(unsigned long x)
{
	return x + 1;
}

__attribute__((noinline)) unsigned long sum_block(unsigned long x)
{
	for (int i = 0; i < 2000; i++)
		x += (unsigned long)i * find_sink;
	return x;
}

int main(int argc, char **argv)
{
	unsigned long x = 0;
	if (trigger_mode(argc, argv))
		for (int i = 0; i < 3000000; i++)
			x = add_one(x);
	else
		for (int i = 0; i < 3000; i++)
			x = sum_block(x);
	find_sink = x;
	return 0;
}
