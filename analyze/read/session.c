/*
 * Opening a session: map the process file and every thread file it lists,
 * validate their headers, and read the process file's records
 * (process_file.c); closing it; time and module lookups.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "process_file.h"
#include "session.h"
#include "trace_file.h"
#include "zrun.h"

/* --- thread files --- */

static int open_thread(struct pa_session *s, struct pa_thread *t, struct pa_error *err)
{
	struct pa_mapped m;
	/* A file made on the thread's first record: none was made when its
	 * end put its counters here, or when the process was killed first.
	 * A process that ended with the thread's counters in its file lost
	 * the file. */
	if (t->lazy && (t->counters_here || !s->ended) && access(t->path, F_OK) != 0 &&
	    errno == ENOENT) {
		t->closed = t->ended;
		t->delta = true;
		t->now = t->start_ticks;
		return 0;
	}
	if (access(t->path, F_OK) != 0)
		return pa_fail_at(err, t->path, 0,
				  "missing thread file (thread %u, tid %u, listed in %s)", t->seq,
				  t->tid, s->path);
	if (pa_map_trace(t->path, PST_MAGIC_THREAD, &m, s, err)) {
		pa_unmap_trace(&m);
		return -1;
	}
	if (m.hdr->pid != s->pid || m.hdr->thread_seq != t->seq)
		return pa_fail_at(err, t->path, 16,
				  "belongs to another process or thread "
				  "(pid %u thread %u, expected pid %u thread %u)",
				  m.hdr->pid, m.hdr->thread_seq, s->pid, t->seq);
	t->map = m.map;
	t->map_len = m.size;
	t->data = m.data;
	t->data_len = m.data_len;
	t->closed = m.hdr->flags & PST_FLAG_CLOSED;
	t->delta = m.hdr->flags & PST_FLAG_DELTA;
	t->last_addr = t->last_stack = 0;
	t->ids = m.hdr->flags & PST_FLAG_ALLOC_IDS;
	t->mem_shift = t->ids ? m.hdr->mem_time_shift : 0;
	t->alloc_n = t->last_ref_n = 0;
	if (t->ids && (!t->delta || t->mem_shift > PST_MAX_MEM_TIME_SHIFT))
		return pa_fail_at(err, t->path, offsetof(struct pst_file_header, mem_time_shift),
				  "bad allocation-id header (mem_time_shift %u, flags %#x)",
				  m.hdr->mem_time_shift, m.hdr->flags);
	t->now = m.hdr->start_ticks;
	return 0;
}

int pa_session_open(struct pa_session *s, const char *path, struct pa_error *err)
{
	memset(s, 0, sizeof(*s));
	err->msg[0] = 0;
	s->path = pa_xstrdup(path);
	pa_vec_init(&s->modules, sizeof(struct pa_module));
	pa_vec_init(&s->threads, sizeof(struct pa_thread *));
	pa_vec_init(&s->stacks, sizeof(struct pa_stack_node));
	pa_vec_init(&s->funcs, sizeof(struct pa_func));
	pa_vec_init(&s->markers, sizeof(struct pa_marker));
	pa_vec_init(&s->io_open, sizeof(struct pa_io_open));
	pa_vec_init(&s->warnings, sizeof(char *));
	pa_vec_push(&s->stacks); /* node 0: the root */
	pa_vec_push(&s->funcs);	 /* func 0: unknown */
	struct pa_mapped m;
	int rc = pa_map_trace(path, PST_MAGIC_PROCESS, &m, s, err);
	if (!rc)
		rc = pa_read_process_file(s, &m, err);
	pa_unmap_trace(&m);
	for (size_t i = 0; !rc && i < s->threads.len; i++)
		rc = open_thread(s, *(struct pa_thread **)pa_vec_at(&s->threads, i), err);
	if (!s->ended)
		pa_warn(s,
			"%s: the process did not end normally (killed, crashed or _exit); "
			"everything recorded up to then is read",
			path);
	return rc;
}

void pa_session_close(struct pa_session *s)
{
	for (size_t i = 0; i < s->threads.len; i++) {
		struct pa_thread *t = *(struct pa_thread **)pa_vec_at(&s->threads, i);
		pa_zrun_free(t); /* first: its read-ahead thread reads the mapping */
		if (t->map)
			munmap((void *)t->map, t->map_len);
		pa_vec_free(&t->cct);
		pa_vec_free(&t->cct_live);
		pa_vec_free(&t->stack_map);
		pa_vec_free(&t->func_map);
		free(t->path);
		free(t);
	}
	for (size_t i = 0; i < s->modules.len; i++)
		free(((struct pa_module *)pa_vec_at(&s->modules, i))->path);
	for (size_t i = 0; i < s->markers.len; i++)
		free(((struct pa_marker *)pa_vec_at(&s->markers, i))->name);
	for (size_t i = 0; i < s->warnings.len; i++)
		free(*(char **)pa_vec_at(&s->warnings, i));
	for (int i = 0; i < s->argc; i++)
		free(s->argv[i]);
	free(s->argv);
	free(s->exe);
	free(s->path);
	free(s->command);
	free(s->parent_file);
	free(s->previous_file);
	pa_vec_free(&s->modules);
	pa_vec_free(&s->threads);
	pa_vec_free(&s->stacks);
	pa_vec_free(&s->funcs);
	pa_vec_free(&s->markers);
	pa_vec_free(&s->io_open);
	pa_vec_free(&s->warnings);
	pa_pairmap_free(&s->stack_index);
	pa_pairmap_free(&s->func_index);
}

/* --- time and modules --- */

double pa_ticks_to_ns(const struct pa_session *s, uint64_t ticks)
{
	return (double)ticks / s->ticks_per_ns;
}

double pa_ns_since_start(const struct pa_session *s, uint64_t ticks)
{
	if (ticks < s->start_ticks)
		return 0;
	return pa_ticks_to_ns(s, ticks - s->start_ticks);
}

uint64_t pa_session_duration_ticks(const struct pa_session *s)
{
	return s->end_ticks > s->start_ticks ? s->end_ticks - s->start_ticks : 0;
}

const struct pa_module *pa_module_for(const struct pa_session *s, uint64_t pc, uint64_t ticks)
{
	const struct pa_module *any = NULL;
	for (size_t i = 0; i < s->modules.len; i++) {
		const struct pa_module *m = pa_vec_at(&s->modules, i);
		if (pc < m->lo || pc >= m->hi)
			continue;
		if (ticks >= m->first_ticks && ticks < m->last_ticks)
			return m;
		any = m;
	}
	return any;
}
