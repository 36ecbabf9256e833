/*
 * Mapping a trace file and validating its header (trace_file.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session.h"
#include "trace_file.h"

int pa_map_trace(const char *path, const char *magic, struct pa_mapped *m, struct pa_session *s,
		 struct pa_error *err)
{
	memset(m, 0, sizeof(*m));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pa_fail_at(err, path, 0, "cannot open: %s", strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return pa_fail_at(err, path, 0, "not a regular file");
	}
	if (st.st_size == 0) {
		close(fd);
		return pa_fail_at(err, path, 0, "empty file, not a profshim trace");
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return pa_fail_at(err, path, 0, "cannot map: %s", strerror(errno));
	m->map = p;
	m->size = (size_t)st.st_size;
	if (m->size < sizeof(struct pst_file_header))
		return pa_fail_at(err, path, m->size, "truncated: the %zu-byte header is cut short",
				  sizeof(struct pst_file_header));
	m->hdr = p;
	if (memcmp(m->hdr->magic, magic, PST_MAGIC_LEN) != 0) {
		int other = !memcmp(m->hdr->magic, PST_MAGIC_THREAD, PST_MAGIC_LEN) ||
			    !memcmp(m->hdr->magic, PST_MAGIC_PROCESS, PST_MAGIC_LEN);
		return pa_fail_at(err, path, 0, "%s",
				  other ? (!strcmp(magic, PST_MAGIC_PROCESS)
					       ? "this is a thread file; give the process file"
					       : "expected a thread file")
					: "not a profshim trace (bad magic)");
	}
	if (m->hdr->version < PST_VERSION_OLDEST || m->hdr->version > PST_VERSION)
		return pa_fail_at(
		    err, path, 8,
		    "trace format version %u, this profanalyze reads versions %u to %u%s",
		    m->hdr->version, PST_VERSION_OLDEST, PST_VERSION,
		    m->hdr->version > PST_VERSION
			? " (written by a newer profshim: read it with that profshim's profanalyze)"
			: "");
	if (m->hdr->header_size != PST_DATA_OFFSET)
		return pa_fail_at(err, path, 12, "bad header size %u", m->hdr->header_size);
	uint64_t committed = m->hdr->committed;
	if (m->size < PST_DATA_OFFSET || committed > m->size - PST_DATA_OFFSET)
		return pa_fail_at(
		    err, path, m->size,
		    "truncated: header says %llu bytes of records, the file holds %zu",
		    (unsigned long long)committed,
		    m->size > PST_DATA_OFFSET ? m->size - PST_DATA_OFFSET : 0);
	m->data = m->map + PST_DATA_OFFSET;
	m->data_len = (size_t)committed;
	/* Bytes written past the last whole record: a record torn by a crash. */
	size_t tail = m->size - PST_DATA_OFFSET - m->data_len;
	size_t torn = 0;
	for (size_t i = 0; i < tail && i < PST_MAX_RECORD; i++)
		if (m->data[m->data_len + i])
			torn = i + 1;
	if (torn)
		pa_warn(s,
			"%s: offset %zu: torn record at the end (%zu bytes) ignored; "
			"the %zu bytes before it are intact",
			path, PST_DATA_OFFSET + m->data_len, torn, m->data_len);
	/* Space a killed writer preallocated: nothing reads past data + torn. */
	if (tail > torn + 4096)
		pa_trim_file(path, m->hdr->pid, PST_DATA_OFFSET + m->data_len + torn);
	return 0;
}

void pa_unmap_trace(struct pa_mapped *m)
{
	if (m->map)
		munmap((void *)m->map, m->size);
	m->map = NULL;
}
