/* RSS over time without allocations: one 64 MiB block (mapped, untouched
 * by malloc), then its pages touched in 32 steps over ~320 ms of CPU time
 * (spinning between steps), with no allocation in that phase. Markers
 * "touch_begin" and "touch_end" bracket the phase, then 40 ms more of
 * spinning with everything resident. Also sleeps 50 ms
 * first: the RSS timer must not cut the sleep short (exit status 2). */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include "profshim.h"

#define BLOCK (64u << 20)
#define STEPS 32

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(void)
{
	volatile char *p = malloc(BLOCK);
	if (!p)
		return 1;
	struct timespec nap = {0, 50 * 1000 * 1000};
	if (nanosleep(&nap, NULL))
		return 2;
	PROFSHIM_MARK("touch_begin");
	for (unsigned s = 0; s < STEPS; s++) {
		double until = now_ms() + 10;
		for (size_t i = s * (BLOCK / STEPS); i < (s + 1) * (BLOCK / STEPS); i += 4096)
			p[i] = 1;
		while (now_ms() < until)
			;
	}
	PROFSHIM_MARK("touch_end");
	/* All pages resident: spin on so the timer reads that too. */
	double until = now_ms() + 40;
	while (now_ms() < until)
		;
	unsigned sum = 0;
	for (size_t i = 0; i < BLOCK; i += 4096)
		sum += (unsigned)p[i];
	free((void *)p);
	return sum == BLOCK / 4096 ? 0 : 3;
}
