/*
 * Findings known answers: leak (growing).
 *   trigger: remember_request allocates 1 KiB 400 times, 0.5 ms apart,
 *            and never frees them: 409600 bytes live at exit, allocated
 *            all through the run.
 *   control: the same, each block freed at the end.
 */
#include "find_common.h"

#define N 400

static void *volatile kept[N];

__attribute__((noinline)) void remember_request(int i)
{
	kept[i] = malloc(1024);
	memset(kept[i], i, 1024);
}

int main(int argc, char **argv)
{
	int trigger = trigger_mode(argc, argv);
	struct timespec half_ms = {0, 500000};
	for (int i = 0; i < N; i++) {
		remember_request(i);
		nanosleep(&half_ms, NULL);
	}
	if (!trigger)
		for (int i = 0; i < N; i++)
			free(kept[i]);
	return 0;
}
