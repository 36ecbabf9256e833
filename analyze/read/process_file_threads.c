/*
 * The records of a process file about its threads: the thread files it
 * lists, the ends and counters of its threads, the call trees of threads
 * still running at its end, and waits still in progress then.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "process_file.h"
#include "session.h"

int pa_parse_thread_file(struct proc_parse *pp, struct pa_cursor *c)
{
	uint64_t seq, tid, start;
	GET(c, &seq);
	GET(c, &tid);
	GET(c, &start);
	struct pa_session *s = pp->s;
	if (seq == 0 || seq > UINT32_MAX)
		return pa_fail_at(pp->err, pp->path, pp->base, "bad thread number %llu",
				  (unsigned long long)seq);
	for (size_t i = 0; i < s->threads.len; i++)
		if ((*(struct pa_thread **)pa_vec_at(&s->threads, i))->seq == seq)
			return pa_fail_at(pp->err, pp->path, pp->base, "thread %llu listed twice",
					  (unsigned long long)seq);
	struct pa_thread *t = pa_xcalloc(1, sizeof(*t));
	t->seq = (uint32_t)seq;
	t->tid = (uint32_t)tid;
	t->start_ticks = start;
	t->end_ticks = start;
	t->index = s->threads.len;
	char buf[32];
	snprintf(buf, sizeof(buf), ".t%u", t->seq);
	size_t plen = strlen(s->path);
	t->path = pa_xmalloc(plen + strlen(buf) + 1);
	memcpy(t->path, s->path, plen);
	strcpy(t->path + plen, buf);
	pa_vec_init(&t->cct, sizeof(struct pa_cct_node));
	pa_vec_init(&t->cct_live, sizeof(struct pa_cct_node));
	pa_vec_init(&t->stack_map, sizeof(uint32_t));
	pa_vec_init(&t->func_map, sizeof(uint32_t));
	*(struct pa_thread **)pa_vec_push(&s->threads) = t;
	return 0;
}

static struct pa_thread *thread_by_seq(struct pa_session *s, uint64_t seq)
{
	for (size_t i = 0; i < s->threads.len; i++) {
		struct pa_thread *t = *(struct pa_thread **)pa_vec_at(&s->threads, i);
		if (t->seq == seq)
			return t;
	}
	return NULL;
}

/* Counters of threads still running at the end: (seq, pairs...). */
int pa_parse_counters(struct proc_parse *pp, struct pa_cursor *c)
{
	uint64_t seq;
	GET(c, &seq);
	struct pa_thread *t = thread_by_seq(pp->s, seq);
	if (t)
		t->counters_here = true;
	while (c->p < c->end) {
		uint64_t id, v;
		GET(c, &id);
		GET(c, &v);
		if (id >= PST_C_COUNTER_MAX)
			continue; /* a counter newer than this reader */
		if (t)
			t->counters[id] = v;
	}
	return 0;
}

static uint32_t session_func(struct pa_session *s, uint64_t addr)
{
	uint32_t f = pa_pairmap_get(&s->func_index, addr, 0);
	if (!f) {
		((struct pa_func *)pa_vec_push(&s->funcs))->addr = addr;
		f = (uint32_t)(s->funcs.len - 1);
		pa_pairmap_put(&s->func_index, addr, 0, f);
	}
	return f;
}

/* A call tree node of a thread still running at the end (CCT_LIVE). */
int pa_parse_cct_live(struct proc_parse *pp, struct pa_cursor *c)
{
	struct pa_cct_node n;
	memset(&n, 0, sizeof(n));
	uint64_t seq, addr, nb;
	GET(c, &seq);
	GET(c, &n.id);
	GET(c, &n.parent);
	GET(c, &addr);
	GET(c, &n.calls);
	GET(c, &n.incl_ticks);
	GET(c, &n.excl_ticks);
	GET(c, &n.min_ticks);
	GET(c, &n.max_ticks);
	GET(c, &nb);
	if (nb > 64)
		return pa_fail_at(pp->err, pp->path, pp->base,
				  "call tree node with %llu histogram buckets",
				  (unsigned long long)nb);
	n.nbuckets = (uint32_t)nb;
	for (unsigned i = 0; i < nb; i++)
		GET(c, &n.buckets[i]);
	n.timed = n.stood_for = n.calls; /* absent from older writers: all timed */
	if (c->p < c->end)
		GET(c, &n.timed);
	if (c->p < c->end)
		GET(c, &n.stood_for);
	if (c->p < c->end) /* added later: absent, 0 */
		GET(c, &n.timed_sub);
	struct pa_thread *t = thread_by_seq(pp->s, seq);
	if (!t)
		return pa_fail_at(pp->err, pp->path, pp->base,
				  "call tree of thread %llu, which never started",
				  (unsigned long long)seq);
	n.func = session_func(pp->s, addr);
	*(struct pa_cct_node *)pa_vec_push(&t->cct_live) = n;
	return 0;
}

int pa_parse_cct_live_end(struct proc_parse *pp, struct pa_cursor *c)
{
	uint64_t seq;
	GET(c, &seq);
	struct pa_thread *t = thread_by_seq(pp->s, seq);
	if (!t)
		return pa_fail_at(pp->err, pp->path, pp->base,
				  "call tree of thread %llu, which never started",
				  (unsigned long long)seq);
	pa_cct_commit(&t->cct_live, &t->cct_live_done);
	t->cct_live_marked = true;
	return 0;
}

/* A thread's end and last name: the fallback when its own file lost them. */
int pa_parse_thread_exit(struct proc_parse *pp, struct pa_cursor *c)
{
	uint64_t seq, end;
	const char *name;
	size_t nlen;
	GET(c, &seq);
	GET(c, &end);
	if (pa_get_str(c, &name, &nlen, PST_MAX_STR))
		return pa_fail_at(pp->err, pp->path, pp->base + pa_cursor_off(c),
				  "malformed thread name");
	struct pa_thread *t = thread_by_seq(pp->s, seq);
	if (!t)
		return pa_fail_at(pp->err, pp->path, pp->base,
				  "end of thread %llu, which never started",
				  (unsigned long long)seq);
	t->end_ticks = end;
	t->ended = true;
	if (nlen >= sizeof(t->name))
		nlen = sizeof(t->name) - 1;
	memcpy(t->name, name, nlen);
	t->name[nlen] = 0;
	return 0;
}

/* A wait still in progress at the end (io recorder). */
int pa_parse_io_open(struct proc_parse *pp, struct pa_cursor *c)
{
	uint64_t seq, op, obj, start, end, site;
	GET(c, &seq);
	GET(c, &op);
	GET(c, &obj);
	GET(c, &start);
	GET(c, &end);
	GET(c, &site);
	uint64_t desc = 0;
	if (c->p < c->end) /* older writers stop before it */
		GET(c, &desc);
	struct pa_thread *t = thread_by_seq(pp->s, seq);
	if (!t || op == 0 || op >= PST_IO_OP_MAX || start > end)
		return pa_fail_at(pp->err, pp->path, pp->base + pa_cursor_off(c),
				  "bad unfinished I/O record (thread %llu, operation %llu)",
				  (unsigned long long)seq, (unsigned long long)op);
	struct pa_io_open *o = pa_vec_push(&pp->s->io_open);
	o->thread = (uint32_t)t->index;
	o->op = (unsigned)op;
	o->obj = obj;
	o->start = start;
	o->end = end;
	o->site = site;
	o->desc = (uint32_t)desc;
	return 0;
}
