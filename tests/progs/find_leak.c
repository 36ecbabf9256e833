/*
 * Findings known answers: leak (growing).
 *   trigger: handle_request allocates four 1 KiB blocks per request and
 *            frees three (the fourth is forgotten), 1000 requests 0.2 ms
 *            apart: 1024000 bytes in 1000 blocks live at exit, allocated
 *            all through the run.
 *            A marker "request" starts each request: the leak grows
 *            1024 bytes per marker.
 *   control: the same, all four freed.
 */
#include "find_common.h"
#include "profshim.h"

static void *volatile kept[4];

__attribute__((noinline)) void handle_request(int i, int forget)
{
	for (int k = 0; k < 4; k++) {
		kept[k] = malloc(1024);
		memset(kept[k], i, 1024);
	}
	for (int k = forget ? 1 : 0; k < 4; k++)
		free(kept[k]);
}

int main(int argc, char **argv)
{
	int trigger = trigger_mode(argc, argv);
	struct timespec pause = {0, 200000};
	for (int i = 0; i < 1000; i++) {
		PROFSHIM_MARK("request");
		handle_request(i, trigger);
		nanosleep(&pause, NULL);
	}
	return 0;
}
