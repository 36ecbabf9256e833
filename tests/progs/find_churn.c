/*
 * Findings known answers: allocation_churn.
 *   trigger: format_item mallocs a 64-byte scratch buffer and frees it,
 *            300,000 times: 300,000 temporary allocations.
 *   control: the same work with one buffer allocated once.
 */
#include "find_common.h"

__attribute__((noinline)) void format_item(int i, char *reuse)
{
	char *buf = reuse ? reuse : malloc(64);
	snprintf(buf, 64, "item %d", i);
	find_sink += (unsigned char)buf[5];
	if (!reuse)
		free(buf);
}

int main(int argc, char **argv)
{
	int trigger = trigger_mode(argc, argv);
	char *reuse = trigger ? NULL : malloc(64);
	for (int i = 0; i < 300000; i++)
		format_item(i, reuse);
	free(reuse);
	return 0;
}
