/*
 * The process files related to a session: the processes it started and
 * the image an exec put in its place, from its run directory, else from
 * the files next to it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "run.h"
#include "session.h"
#include "trace_file.h"

/* pid and ppid from the process file at path, without reading more. */
static int peek_process(const char *path, uint32_t *pid, uint32_t *ppid)
{
	struct pa_session tmp;
	struct pa_error err;
	memset(&tmp, 0, sizeof(tmp));
	pa_vec_init(&tmp.warnings, sizeof(char *));
	struct pa_mapped m;
	int rc = pa_map_trace(path, PST_MAGIC_PROCESS, &m, &tmp, &err);
	if (!rc) {
		struct pa_cursor c;
		uint64_t tag, len, v1 = 0, v2 = 0;
		pa_cursor_init(&c, m.data, m.data_len);
		rc = pa_get_varint(&c, &tag) ||
		     tag != ((PST_X_PROCESS_INFO << PST_KIND_BITS) | PST_K_EXT) ||
		     pa_get_varint(&c, &len) || pa_get_varint(&c, &v1) || pa_get_varint(&c, &v2);
		*pid = (uint32_t)v1;
		*ppid = (uint32_t)v2;
	}
	pa_unmap_trace(&m);
	for (size_t i = 0; i < tmp.warnings.len; i++)
		free(*(char **)pa_vec_at(&tmp.warnings, i));
	pa_vec_free(&tmp.warnings);
	return rc ? -1 : 0;
}

static bool all_digits(const char *p)
{
	if (!*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* In a run directory: the processes this image started and the image that
 * replaced it, from the run's tree. false when s is not in a run. */
static bool related_in_run(const struct pa_session *s, struct pa_vec *out)
{
	size_t plen = strlen(s->path);
	if (!s->has_run_link || plen < 7 || strcmp(s->path + plen - 6, ".trace"))
		return false;
	char *dcopy = pa_xstrdup(s->path);
	const char *base = strrchr(s->path, '/');
	base = base ? base + 1 : s->path;
	struct pa_run r;
	struct pa_error err;
	bool ok = !pa_run_open(&r, dirname(dcopy), &err);
	long self = -1;
	for (size_t i = 0; ok && i < r.procs.len; i++)
		if (!strcmp(pa_run_at(&r, i)->file, base))
			self = (long)i;
	for (size_t k = 0; self >= 0 && k < r.order.len; k++) {
		size_t i = *(size_t *)pa_vec_at(&r.order, k);
		const struct pa_run_proc *p = pa_run_at(&r, i);
		if (p->parent != self && p->prev != self)
			continue;
		struct pa_related *rel = pa_vec_push(out);
		rel->pid = p->pid;
		rel->exec = p->prev == self;
		rel->path = pa_xstrdup(p->path);
	}
	pa_run_close(&r);
	free(dcopy);
	return self >= 0;
}

void pa_session_related(const struct pa_session *s, struct pa_vec *out)
{
	pa_vec_init(out, sizeof(struct pa_related));
	if (related_in_run(s, out))
		return;
	char *dcopy = pa_xstrdup(s->path), *bcopy = pa_xstrdup(s->path);
	const char *dir = dirname(dcopy), *base = basename(bcopy);
	size_t blen = strlen(base);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, base, blen) || e->d_name[blen] != '.' ||
		    !all_digits(e->d_name + blen + 1))
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		uint32_t pid = 0, ppid = 0;
		if (peek_process(path, &pid, &ppid))
			continue;
		if (ppid != s->pid && pid != s->pid)
			continue;
		struct pa_related *r = pa_vec_push(out);
		r->pid = pid;
		r->exec = pid == s->pid;
		r->path = pa_xstrdup(path);
	}
	if (d)
		closedir(d);
	free(dcopy);
	free(bcopy);
}
