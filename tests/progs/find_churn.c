/*
 * Findings known answers: allocation_churn.
 *   trigger: format_item mallocs a 64-byte key and a 64-byte value
 *            scratch buffer and frees both, 300,000 times: 600,000
 *            short-lived allocations, 300,000 of them temporary (the
 *            value: freed before the next allocation; the key saw the
 *            value's allocation in between, but is freed within 1 ms).
 *   control: the same work with two buffers allocated once.
 */
#include "find_common.h"

__attribute__((noinline)) void format_item(int i, char *key_buf, char *value_buf)
{
	char *key = key_buf ? key_buf : malloc(64);
	char *value = value_buf ? value_buf : malloc(64);
	snprintf(key, 64, "item %d", i);
	snprintf(value, 64, "%d", i * 7);
	find_sink += (unsigned char)key[5] + (unsigned char)value[0];
	if (!value_buf)
		free(value);
	if (!key_buf)
		free(key);
}

int main(int argc, char **argv)
{
	int trigger = trigger_mode(argc, argv);
	char *key = trigger ? NULL : malloc(64), *value = trigger ? NULL : malloc(64);
	for (int i = 0; i < 300000; i++)
		format_item(i, key, value);
	free(key);
	free(value);
	return 0;
}
