/*
 * Findings known answers: realloc_chain.
 *   trigger: append_bytes grows 100 buffers 16 bytes at a time, 50 times
 *            each: 5000 reallocs (the first of each buffer from NULL is a
 *            plain allocation, so 4900 reallocs of live blocks), chains of
 *            49.
 *   control: the same final buffers, capacity doubled when full (about 7
 *            reallocs per buffer).
 */
#include "find_common.h"

static void *volatile bufs[100];

__attribute__((noinline)) char *append_bytes(char *buf, size_t *cap, size_t len, int step)
{
	if (len + 16 > *cap) {
		*cap = step ? len + 16 : (*cap ? *cap * 2 : 16);
		buf = realloc(buf, *cap);
		if (!buf)
			exit(1);
	}
	memset(buf + len, 'x', 16);
	return buf;
}

int main(int argc, char **argv)
{
	int step = trigger_mode(argc, argv);
	for (int b = 0; b < 100; b++) {
		char *buf = NULL;
		size_t cap = 0;
		for (int i = 0; i < 50; i++)
			buf = append_bytes(buf, &cap, (size_t)i * 16, step);
		bufs[b] = buf;
	}
	for (int b = 0; b < 100; b++)
		free(bufs[b]);
	return 0;
}
