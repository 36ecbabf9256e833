/*
 * Reading a process file's records (process_file.c; the records about its
 * threads: process_file_threads.c). Private to those two files and
 * session.c.
 */
#ifndef PA_PROCESS_FILE_H
#define PA_PROCESS_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "session.h"
#include "trace_file.h"

/* The state of reading one process file's records. */
struct proc_parse {
	struct pa_session *s;
	const char *path;
	size_t base; /* file offset of the payload */
	struct pa_error *err;
	uint64_t map_gen; /* module map being read */
	unsigned maps_seen;
	uint64_t map_ticks;
	uint64_t sync_first[2], sync_last[2]; /* (ticks, mono ns) */
	unsigned nsync;
	uint64_t tps_x1000;
};

/* Read one varint field into *v, or fail: "malformed field" at its offset
 * (needs pp in scope). */
#define GET(c, v)                                                                                  \
	do {                                                                                       \
		if (pa_get_varint(c, v))                                                           \
			return pa_fail_at(pp->err, pp->path, pp->base + pa_cursor_off(c),          \
					  "malformed field");                                      \
	} while (0)

/* Read every record of the mapped process file m into s: process info,
 * clock calibration, module maps, thread list, counters. 0, or -1 with
 * *err filled. */
int pa_read_process_file(struct pa_session *s, const struct pa_mapped *m, struct pa_error *err);

/* One EXT record of the process file about its threads (the cursor holds
 * its payload). 0, or -1 with *pp->err filled. */
int pa_parse_thread_file(struct proc_parse *pp, struct pa_cursor *c);
int pa_parse_counters(struct proc_parse *pp, struct pa_cursor *c);
int pa_parse_cct_live(struct proc_parse *pp, struct pa_cursor *c);
int pa_parse_cct_live_end(struct proc_parse *pp, struct pa_cursor *c);
int pa_parse_thread_exit(struct proc_parse *pp, struct pa_cursor *c);
int pa_parse_io_open(struct proc_parse *pp, struct pa_cursor *c);

#endif
