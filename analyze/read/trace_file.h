/*
 * A trace file (process or thread file) mapped read-only, its header
 * validated: the records it holds, a torn record at its end warned about.
 */
#ifndef PA_TRACE_FILE_H
#define PA_TRACE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

/* A mapped trace file with a validated header. */
struct pa_mapped {
	const uint8_t *map;
	size_t size;
	const struct pst_file_header *hdr;
	const uint8_t *data; /* records */
	size_t data_len;     /* committed bytes */
};

/* Map the file at path and check its header (magic: PST_MAGIC_PROCESS or
 * PST_MAGIC_THREAD). 0, or -1 with *err filled (unmap *m all the same). */
int pa_map_trace(const char *path, const char *magic, struct pa_mapped *m, struct pa_session *s,
		 struct pa_error *err);
void pa_unmap_trace(struct pa_mapped *m);

#endif
