/*
 * libFuzzer harness for profanalyze's reader. An input is a session: the
 * first 4 bytes (little-endian) give the length of the process file (low
 * 31 bits), the rest is split into it and one thread file. Both are written
 * to a private directory and read with the same code profanalyze uses: with
 * the top bit clear through the plain reader, with it set the way the
 * report reads them (call records in runs into the call model, which then
 * builds its figures); the plain reader feeds the io model.
 * Any crash, leak or sanitizer report is a bug. Run with: make fuzz
 * (tools/fuzz.sh).
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "call_model.h"
#include "io_model.h"
#include "models.h"
#include "options.h"
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

static void io_event(const struct pa_event *ev, void *ctx)
{
	io_model_event(ctx, ev);
}

/* The io model over the session (I/O, descriptors, spans, DNS). */
static void run_io_model(struct pa_session *s, struct pa_error *err)
{
	struct io_model *m = io_model_new(s, NULL);
	if (pa_session_run(s, io_event, m, err) == 0)
		io_model_finish(m);
	io_model_free(m);
}

static void model_event(const struct pa_event *ev, void *ctx)
{
	call_model_event(((struct pa_models *)ctx)->calls, ev);
}

static void model_calls(struct pa_call_run *run, void *ctx)
{
	call_model_calls(((struct pa_models *)ctx)->calls, run);
}

/* The call model over the session, as the report runs it (no symbols). */
static void run_call_model(struct pa_session *s, struct pa_error *err)
{
	struct pa_options o;
	memset(&o, 0, sizeof(o));
	struct pa_models pm = {.s = s, .o = &o};
	pm.calls = call_model_new(s, &o);
	if (pa_session_run_calls(s, model_event, model_calls, &pm, err) == 0)
		call_model_finish(pm.calls, &pm);
	call_model_free(pm.calls);
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
	bool call_model = plen >> 31;
	plen &= 0x7fffffffu;
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
	if (pa_session_open(&s, proc, &err) == 0) {
		if (call_model)
			run_call_model(&s, &err);
		else
			run_io_model(&s, &err);
	}
	pa_session_close(&s);
	return 0;
}
