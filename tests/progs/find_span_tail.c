/*
 * Findings known answers: tail_latency of a span (profshim.h API), no
 * instrumentation needed. Each "request" span sleeps (wall time is what
 * matters; sleeping keeps the test's CPU use low on a loaded machine).
 *   trigger: 300 spans; every 50th (6, 2%) sleeps 60 ms, the rest 1 ms:
 *            p50 about 1 ms, p99 about 60 ms.
 *   control: 300 spans of 3 ms (3 rather than 1: a loaded machine's late
 *            wake-ups must not make a tail of 30 ms).
 * Prints the slowest span as the program timed it ("slowest_ms") and its
 * own p50 and p99 of the spans (nearest rank), so a test can tell a tail
 * the machine's load made from none.
 */
#include "find_common.h"
#include "profshim.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int trigger = trigger_mode(argc, argv);
	double slowest = 0, took[300];
	for (int i = 0; i < 300; i++) {
		long ns = !trigger ? 3000000 : i % 50 == 25 ? 60000000 : 1000000;
		struct timespec ts = {0, ns};
		double t = now_ms();
		PROFSHIM_SPAN_BEGIN("request");
		nanosleep(&ts, NULL);
		PROFSHIM_SPAN_END();
		t = now_ms() - t;
		slowest = t > slowest ? t : slowest;
		took[i] = t;
	}
	qsort(took, 300, sizeof(double), cmp_double);
	printf("spans 300\nslowest_ms %.3f\nown_p50_ms %.3f\nown_p99_ms %.3f\n", slowest, took[149],
	       took[296]);
	return 0;
}
