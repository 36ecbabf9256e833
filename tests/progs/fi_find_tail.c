/*
 * Findings known answers: tail_latency (built with -finstrument-functions).
 * handle_request sleeps: it is wall time that matters, and sleeping keeps
 * the test's CPU use low on a loaded machine.
 *   trigger: 300 calls; every 50th (6 calls, 2%) sleeps 60 ms, the rest
 *            1 ms: p50 about 1 ms, p99 about 60 ms.
 *   control: 300 calls of 3 ms (3 ms rather than 1: a loaded machine's
 *            late wake-ups must not make a tail of 30 ms).
 */
#include "find_common.h"

__attribute__((noinline)) void handle_request(long ns)
{
	struct timespec ts = {0, ns};
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	int trigger = trigger_mode(argc, argv);
	for (int i = 0; i < 300; i++)
		handle_request(!trigger ? 3000000 : i % 50 == 25 ? 60000000 : 1000000);
	return 0;
}
