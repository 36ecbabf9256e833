/*
 * Findings known answers: tail_latency of a span (profshim.h API), no
 * instrumentation needed. Each "request" span sleeps (wall time is what
 * matters; sleeping keeps the test's CPU use low on a loaded machine).
 *   trigger: 300 spans; every 50th (6, 2%) sleeps 60 ms, the rest 1 ms:
 *            p50 about 1 ms, p99 about 60 ms.
 *   control: 300 spans of 3 ms (3 rather than 1: a loaded machine's late
 *            wake-ups must not make a tail of 30 ms).
 * Prints the slowest span as the program timed it ("slowest_ms").
 */
#include "find_common.h"
#include "profshim.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	int trigger = trigger_mode(argc, argv);
	double slowest = 0;
	for (int i = 0; i < 300; i++) {
		long ns = !trigger ? 3000000 : i % 50 == 25 ? 60000000 : 1000000;
		struct timespec ts = {0, ns};
		double t = now_ms();
		PROFSHIM_SPAN_BEGIN("request");
		nanosleep(&ts, NULL);
		PROFSHIM_SPAN_END();
		t = now_ms() - t;
		slowest = t > slowest ? t : slowest;
	}
	printf("spans 300\nslowest_ms %.3f\n", slowest);
	return 0;
}
