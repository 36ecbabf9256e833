/*
 * libFuzzer harness for profanalyze's reader. An input is a session: the
 * first 4 bytes (little-endian) give the length of the process file, the
 * rest is split into it and one thread file. Both are written to a private
 * directory and read with the same code profanalyze uses; any crash, leak
 * or sanitizer report is a bug. Run with: make fuzz (tools/fuzz.sh).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session.h"

static char dir[64];

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (n && fwrite(p, 1, n, f) != n)
		abort();
	fclose(f);
}

static void ignore_event(const struct pa_event *ev, void *ctx)
{
	(void)ev;
	(void)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/profshim-fuzz.%d", (int)getpid());
		mkdir(dir, 0700);
	}
	if (size < 4)
		return 0;
	uint32_t plen;
	memcpy(&plen, data, 4);
	data += 4;
	size -= 4;
	if (plen > size)
		plen = (uint32_t)size;
	char proc[128], thr[140];
	snprintf(proc, sizeof(proc), "%s/s.trace", dir);
	snprintf(thr, sizeof(thr), "%s.t1", proc);
	write_file(proc, data, plen);
	write_file(thr, data + plen, size - plen);
	struct pa_session s;
	struct pa_error err;
	if (pa_session_open(&s, proc, &err) == 0)
		pa_session_run(&s, ignore_event, NULL, &err);
	pa_session_close(&s);
	return 0;
}
