/*
 * Call tree snapshots (see CALL TREE SNAPSHOTS in profshim_trace.h): which
 * of a thread's snapshots is complete, and which tree the thread keeps.
 */
#define _GNU_SOURCE
#include <string.h>

#include "session.h"

void pa_cct_commit(struct pa_vec *v, size_t *done)
{
	size_t n = v->len - *done;
	if (*done)
		memmove(v->items, (char *)v->items + *done * v->item, n * v->item);
	v->len = n;
	*done = n;
}

void pa_cct_settle(struct pa_session *s, struct pa_thread *t)
{
	if (t->cct_marked && t->cct.len > t->cct_done) {
		pa_warn(
		    s,
		    "thread %u: its last call tree snapshot is cut short; the previous one is used",
		    t->seq);
		t->cct.len = t->cct_done;
	}
	t->cct_live.len = t->cct_live_marked ? t->cct_live_done : 0;
	if (!t->cct_marked && t->cct_live.len) {
		if (t->cct.len)
			pa_warn(s,
				"thread %u: its call tree is cut short; the one the process "
				"wrote at its end is used",
				t->seq);
		struct pa_vec tmp = t->cct;
		t->cct = t->cct_live;
		t->cct_live = tmp;
	}
	t->cct_live.len = 0;
}
