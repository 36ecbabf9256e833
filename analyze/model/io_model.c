/* The io model: see io_model.h. */
#define _GNU_SOURCE
#include "io_model.h"

#include <stdlib.h>
#include <string.h>

#include "options.h"

static const char *const op_names[PST_IO_OP_MAX] = {
    [PST_IO_OPEN] = "open",
    [PST_IO_CLOSE] = "close",
    [PST_IO_READ] = "read",
    [PST_IO_WRITE] = "write",
    [PST_IO_PREAD] = "pread",
    [PST_IO_PWRITE] = "pwrite",
    [PST_IO_READV] = "readv",
    [PST_IO_WRITEV] = "writev",
    [PST_IO_PREADV] = "preadv",
    [PST_IO_PWRITEV] = "pwritev",
    [PST_IO_FSYNC] = "fsync",
    [PST_IO_FDATASYNC] = "fdatasync",
    [PST_IO_SYNC_RANGE] = "sync_file_range",
    [PST_IO_FTRUNCATE] = "ftruncate",
    [PST_IO_FALLOCATE] = "fallocate",
    [PST_IO_SENDFILE] = "sendfile",
    [PST_IO_COPY_RANGE] = "copy_file_range",
    [PST_IO_SPLICE] = "splice",
    [PST_IO_STDIO_READ] = "stdio_read",
    [PST_IO_STDIO_WRITE] = "stdio_write",
    [PST_IO_STDIO_FLUSH] = "fflush",
    [PST_IO_FOPEN] = "fopen",
    [PST_IO_FCLOSE] = "fclose",
    [PST_IO_SOCKET] = "socket",
    [PST_IO_CONNECT] = "connect",
    [PST_IO_ACCEPT] = "accept",
    [PST_IO_SEND] = "send",
    [PST_IO_SENDTO] = "sendto",
    [PST_IO_SENDMSG] = "sendmsg",
    [PST_IO_SENDMMSG] = "sendmmsg",
    [PST_IO_RECV] = "recv",
    [PST_IO_RECVFROM] = "recvfrom",
    [PST_IO_RECVMSG] = "recvmsg",
    [PST_IO_RECVMMSG] = "recvmmsg",
    [PST_IO_SHUTDOWN] = "shutdown",
    [PST_IO_POLL] = "poll",
    [PST_IO_SELECT] = "select",
    [PST_IO_EPOLL_WAIT] = "epoll_wait",
    [PST_IO_SLEEP] = "sleep",
    [PST_IO_COND_WAIT] = "cond_wait",
    [PST_IO_JOIN] = "pthread_join",
    [PST_IO_SEM_WAIT] = "sem_wait",
    [PST_IO_WAITPID] = "waitpid",
    [PST_IO_MUTEX] = "mutex",
    [PST_IO_RDLOCK] = "rwlock_read",
    [PST_IO_WRLOCK] = "rwlock_write",
    [PST_IO_SPIN] = "spinlock",
};

const char *io_op_name(unsigned op)
{
	return op < PST_IO_OP_MAX && op_names[op] ? op_names[op] : "io";
}

const char *io_class_name(enum io_class c)
{
	static const char *const n[] = {"io", "network", "waiting", "locks"};
	return c < IO_CLASS_N ? n[c] : "?";
}

static bool is_net_kind(unsigned kind)
{
	return kind == PST_FD_TCP || kind == PST_FD_UDP || kind == PST_FD_UNIX ||
	       kind == PST_FD_SOCKET;
}

enum io_class io_op_class(unsigned op, unsigned fd_kind)
{
	if (op >= PST_IO_MUTEX)
		return IO_CLASS_LOCK;
	if (op >= PST_IO_POLL)
		return IO_CLASS_WAIT;
	if (op >= PST_IO_SOCKET || is_net_kind(fd_kind))
		return IO_CLASS_NET;
	return IO_CLASS_FILE;
}

uint64_t io_call_bytes(unsigned op, uint64_t asked, int64_t result, bool *is_read, bool *is_write)
{
	*is_read = *is_write = false;
	switch (op) {
	case PST_IO_READ:
	case PST_IO_PREAD:
	case PST_IO_READV:
	case PST_IO_PREADV:
	case PST_IO_STDIO_READ:
	case PST_IO_RECV:
	case PST_IO_RECVFROM:
	case PST_IO_RECVMSG:
		*is_read = true;
		return result > 0 ? (uint64_t)result : 0;
	case PST_IO_RECVMMSG:
		*is_read = true;
		return result > 0 ? asked : 0;
	case PST_IO_WRITE:
	case PST_IO_PWRITE:
	case PST_IO_WRITEV:
	case PST_IO_PWRITEV:
	case PST_IO_STDIO_WRITE:
	case PST_IO_SEND:
	case PST_IO_SENDTO:
	case PST_IO_SENDMSG:
	case PST_IO_SENDFILE:
	case PST_IO_COPY_RANGE:
	case PST_IO_SPLICE:
		*is_write = true;
		return result > 0 ? (uint64_t)result : 0;
	case PST_IO_SENDMMSG:
		*is_write = true;
		return result > 0 ? asked : 0;
	default:
		return 0;
	}
}

/* --- stats --- */

static void stat_init(struct io_stat *st)
{
	memset(st, 0, sizeof(*st));
	pa_vec_init(&st->durs, sizeof(double));
}

static void stat_add(struct io_stat *st, double ns, bool error)
{
	st->count++;
	st->errors += error;
	st->total_ns += ns;
	if (ns > st->max_ns)
		st->max_ns = ns;
	*(double *)pa_vec_push(&st->durs) = ns;
}

static void stat_merge(struct io_stat *into, const struct io_stat *from)
{
	into->count += from->count;
	into->errors += from->errors;
	into->total_ns += from->total_ns;
	if (from->max_ns > into->max_ns)
		into->max_ns = from->max_ns;
	for (size_t i = 0; i < from->durs.len; i++)
		*(double *)pa_vec_push(&into->durs) = ((double *)from->durs.items)[i];
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void stat_sort(struct io_stat *st)
{
	if (st->durs.len > 1)
		qsort(st->durs.items, st->durs.len, sizeof(double), cmp_double);
}

double io_stat_pct(const struct io_stat *st, double pct)
{
	if (!st->durs.len)
		return 0;
	/* nearest rank */
	size_t n = st->durs.len;
	size_t k = (size_t)(pct / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return ((double *)st->durs.items)[k - 1];
}

/* --- lookups --- */

static uint64_t hash_str(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	return h | 1;
}

struct io_model *io_model_new(struct pa_session *s, const struct pa_options *o)
{
	struct io_model *m = pa_xcalloc(1, sizeof(*m));
	m->s = s;
	m->slow_ns = (o && o->slow_ms > 0 ? o->slow_ms : 10.0) * 1e6;
	m->only_tid = o ? o->thread : -1;
	pa_vec_init(&m->descs, sizeof(struct io_desc));
	pa_vec_init(&m->groups, sizeof(struct io_group));
	pa_vec_init(&m->sites, sizeof(struct io_site));
	pa_vec_init(&m->slow, sizeof(struct io_slow));
	pa_vec_init(&m->locks, sizeof(struct io_lock));
	pa_vec_init(&m->dns, sizeof(struct io_dns));
	pa_vec_init(&m->threads, sizeof(struct io_thread));
	pa_vec_init(&m->spans, sizeof(struct io_span_stat));
	pa_vec_init(&m->counters, sizeof(struct io_counter));
	pa_vec_init(&m->counter_names, sizeof(struct io_counter_name));
	pa_vec_init(&m->blocks, sizeof(struct io_block));
	pa_vec_init(&m->span_recs, sizeof(struct io_span_rec));
	for (size_t i = 0; i < s->threads.len; i++) {
		struct io_thread *t = pa_vec_push(&m->threads);
		pa_vec_init(&t->open, sizeof(uint64_t) * 2);
	}
	for (unsigned i = 0; i < PST_IO_OP_MAX; i++)
		stat_init(&m->by_op[i]);
	stat_init(&m->fs_all);
	stat_init(&m->net_all);
	pa_pairmap_init(&m->desc_index);
	pa_pairmap_init(&m->group_index);
	pa_pairmap_init(&m->site_index);
	pa_pairmap_init(&m->lock_index);
	pa_pairmap_init(&m->dns_index);
	pa_pairmap_init(&m->span_index);
	pa_pairmap_init(&m->counter_index);
	return m;
}

static struct io_desc *desc_get(struct io_model *m, uint32_t id)
{
	uint32_t i = pa_pairmap_get(&m->desc_index, id, 0);
	if (i)
		return pa_vec_at(&m->descs, i - 1);
	struct io_desc *d = pa_vec_push(&m->descs);
	d->id = id;
	stat_init(&d->calls.st);
	pa_pairmap_put(&m->desc_index, id, 0, (uint32_t)m->descs.len);
	return d;
}

static void on_fd(struct io_model *m, const struct pa_event *ev)
{
	struct io_desc *d = desc_get(m, ev->u.fd.desc);
	if (d->described)
		return;
	d->described = true;
	d->fd = ev->u.fd.fd;
	d->calls.kind = ev->u.fd.kind;
	d->calls.port = ev->u.fd.port;
	d->calls.name = pa_xstrndup(ev->u.fd.name, ev->u.fd.name_len);
	if (ev->u.fd.note_len)
		d->note = pa_xstrndup(ev->u.fd.note, ev->u.fd.note_len);
	d->calls.unknown = ev->u.fd.kind == PST_FD_UNKNOWN ||
			   (ev->u.fd.note_len >= 8 && !memcmp(ev->u.fd.note, "unknown:", 8));
}

static struct io_block *add_block(struct io_model *m, const struct pa_event *ev, uint64_t dur,
				  uint32_t stack, const struct io_site *site, double ns)
{
	struct io_block *b = pa_vec_push(&m->blocks);
	b->ticks = ev->ticks > dur ? ev->ticks - dur : 0;
	b->thread = (uint32_t)ev->thread->index;
	b->stack = stack;
	b->site = (uint32_t)(site - (const struct io_site *)m->sites.items);
	b->ns = ns;
	b->off_ns = ns;
	b->end = ev->ticks;
	return b;
}

static struct io_site *site_get(struct io_model *m, uint64_t pc, enum io_class cls, unsigned op)
{
	uint32_t i = pa_pairmap_get(&m->site_index, pc, cls);
	if (i)
		return pa_vec_at(&m->sites, i - 1);
	struct io_site *s = pa_vec_push(&m->sites);
	s->pc = pc;
	s->cls = cls;
	s->op = op;
	stat_init(&s->st);
	pa_pairmap_put(&m->site_index, pc, cls, (uint32_t)m->sites.len);
	return s;
}

static void on_lock(struct io_model *m, const struct pa_event *ev, double ns)
{
	uint32_t i = pa_pairmap_get(&m->lock_index, ev->u.io.obj, 0);
	struct io_lock *l;
	if (i) {
		l = pa_vec_at(&m->locks, i - 1);
	} else {
		l = pa_vec_push(&m->locks);
		l->addr = ev->u.io.obj;
		l->op = ev->u.io.op;
		l->site = ev->u.io.site;
		stat_init(&l->st);
		pa_pairmap_put(&m->lock_index, ev->u.io.obj, 0, (uint32_t)m->locks.len);
	}
	stat_add(&l->st, ns, ev->u.io.result < 0);
}

static void on_io(struct io_model *m, const struct pa_event *ev)
{
	const struct pa_session *s = m->s;
	unsigned op = ev->u.io.op;
	double ns = pa_ticks_to_ns(s, ev->u.io.dur);
	bool err = ev->u.io.result < 0;
	m->calls++;
	struct io_desc *d = ev->u.io.desc ? desc_get(m, ev->u.io.desc) : NULL;
	/* the class needs the descriptor's kind; an FD record comes before
	 * any call on it in its own thread, and almost always in time */
	enum io_class cls = io_op_class(op, d ? d->calls.kind : 0);
	stat_add(&m->by_op[op], ns, err);
	if (d && op < IO_FD_OPS) {
		struct io_group *g = &d->calls;
		bool rd, wr;
		uint64_t bytes = io_call_bytes(op, ev->u.io.asked, ev->u.io.result, &rd, &wr);
		g->ops_by_op[op]++;
		g->reads += rd;
		g->writes += wr;
		g->bytes_read += rd ? bytes : 0;
		g->bytes_written += wr ? bytes : 0;
		/* compared before negating: a damaged result may be INT64_MIN */
		if (err && ev->u.io.result > -(int64_t)IO_MAX_ERRNO)
			g->errno_count[-ev->u.io.result]++;
		stat_add(&g->st, ns, err);
	}
	if (cls == IO_CLASS_LOCK)
		on_lock(m, ev, ns);
	struct io_site *site = site_get(m, ev->u.io.site, cls, op);
	stat_add(&site->st, ns, err);
	if (ev->u.io.stack && ns >= site->stack_dur) {
		site->stack = ev->u.io.stack;
		site->stack_ticks = ev->ticks;
		site->stack_dur = ns;
	}
	struct io_block *b = add_block(m, ev, ev->u.io.dur, ev->u.io.stack, site, ns);
	bool rd, wr;
	b->op = op;
	b->desc = ev->u.io.desc;
	b->bytes = io_call_bytes(op, ev->u.io.asked, ev->u.io.result, &rd, &wr);
	b->asked = ev->u.io.asked;
	b->result = ev->u.io.result;
	b->obj = ev->u.io.obj;
	struct io_thread *th = pa_vec_at(&m->threads, ev->thread->index);
	th->ns[cls] += ns;
	if (ns >= m->slow_ns) {
		struct io_slow *sl = pa_vec_push(&m->slow);
		sl->ticks = ev->ticks;
		sl->thread = (uint32_t)ev->thread->index;
		sl->op = op;
		sl->desc = ev->u.io.desc;
		sl->obj = ev->u.io.obj;
		sl->result = ev->u.io.result;
		sl->dur_ns = ns;
		sl->stack = ev->u.io.stack;
		sl->site = ev->u.io.site;
	}
}

static void on_dns(struct io_model *m, const struct pa_event *ev)
{
	uint64_t h = hash_str(ev->u.dns.host, ev->u.dns.host_len);
	uint32_t i = pa_pairmap_get(&m->dns_index, h, 0);
	struct io_dns *d;
	if (i) {
		d = pa_vec_at(&m->dns, i - 1);
	} else {
		d = pa_vec_push(&m->dns);
		d->host = pa_xstrndup(ev->u.dns.host, ev->u.dns.host_len);
		stat_init(&d->st);
		pa_pairmap_put(&m->dns_index, h, 0, (uint32_t)m->dns.len);
	}
	double ns = pa_ticks_to_ns(m->s, ev->u.dns.dur);
	stat_add(&d->st, ns, ev->u.dns.result != 0);
	struct io_thread *th = pa_vec_at(&m->threads, ev->thread->index);
	th->ns[IO_CLASS_NET] += ns;
	struct io_site *site = site_get(m, ev->u.dns.site, IO_CLASS_NET, 0);
	stat_add(&site->st, ns, ev->u.dns.result != 0);
	add_block(m, ev, ev->u.dns.dur, ev->u.dns.stack, site, ns)->result = ev->u.dns.result;
	if (ev->u.dns.stack && ns >= site->stack_dur) {
		site->stack = ev->u.dns.stack;
		site->stack_ticks = ev->ticks;
		site->stack_dur = ns;
	}
}

/* --- spans and counters --- */

static struct io_span_stat *span_stat(struct io_model *m, const char *name, size_t len,
				      uint32_t thread)
{
	uint64_t h = hash_str(name, len);
	uint32_t i = pa_pairmap_get(&m->span_index, h, thread);
	if (i)
		return pa_vec_at(&m->spans, i - 1);
	struct io_span_stat *st = pa_vec_push(&m->spans);
	st->name = pa_xstrndup(name, len);
	st->thread = thread;
	stat_init(&st->st);
	pa_pairmap_put(&m->span_index, h, thread, (uint32_t)m->spans.len);
	return st;
}

/* An open span: (start ticks, index of its totals entry). */
static void on_span(struct io_model *m, const struct pa_event *ev)
{
	struct io_thread *th = pa_vec_at(&m->threads, ev->thread->index);
	uint32_t ti = (uint32_t)ev->thread->index;
	switch (ev->u.span.what) {
	case PST_SPAN_BEGIN: {
		span_stat(m, ev->u.span.name, ev->u.span.name_len, ti);
		struct io_span_stat *tot =
		    span_stat(m, ev->u.span.name, ev->u.span.name_len, UINT32_MAX);
		uint64_t *o = pa_vec_push(&th->open);
		o[0] = ev->ticks;
		o[1] = (uint64_t)(tot - (struct io_span_stat *)m->spans.items);
		break;
	}
	case PST_SPAN_END:
	case PST_SPAN_END_ERROR: {
		if (!th->open.len) {
			m->span_unmatched++;
			break;
		}
		uint64_t *o = pa_vec_at(&th->open, th->open.len - 1);
		th->open.len--;
		double ns = pa_ticks_to_ns(m->s, ev->ticks - o[0]);
		bool err = ev->u.span.what == PST_SPAN_END_ERROR;
		struct io_span_stat *tot = pa_vec_at(&m->spans, (size_t)o[1]);
		stat_add(&tot->st, ns, err);
		struct io_span_stat *per = span_stat(m, tot->name, strlen(tot->name), ti);
		stat_add(&per->st, ns, err);
		struct io_span_rec *r = pa_vec_push(&m->span_recs);
		r->start = o[0];
		r->end = ev->ticks;
		r->thread = ti;
		r->stat = (uint32_t)o[1];
		r->depth = (uint32_t)th->open.len;
		r->error = err;
		break;
	}
	case PST_SPAN_COUNTER: {
		uint64_t h = hash_str(ev->u.span.name, ev->u.span.name_len);
		uint32_t i = pa_pairmap_get(&m->counter_index, h, 0);
		if (!i) {
			struct io_counter_name *cn = pa_vec_push(&m->counter_names);
			cn->name = pa_xstrndup(ev->u.span.name, ev->u.span.name_len);
			cn->min = cn->max = ev->u.span.value;
			pa_pairmap_put(&m->counter_index, h, 0, (uint32_t)m->counter_names.len);
			i = (uint32_t)m->counter_names.len;
		}
		struct io_counter_name *cn = pa_vec_at(&m->counter_names, i - 1);
		cn->count++;
		cn->last = ev->u.span.value;
		cn->min = ev->u.span.value < cn->min ? ev->u.span.value : cn->min;
		cn->max = ev->u.span.value > cn->max ? ev->u.span.value : cn->max;
		struct io_counter *c = pa_vec_push(&m->counters);
		c->ticks = ev->ticks;
		c->thread = ti;
		c->name = i - 1;
		c->value = ev->u.span.value;
		break;
	}
	}
}

void io_model_event(struct io_model *m, const struct pa_event *ev)
{
	/* descriptions are needed whoever made them; the rest follows --thread */
	if (m->only_tid >= 0 && ev->kind != PA_EV_FD && ev->thread &&
	    ev->thread->tid != (uint32_t)m->only_tid)
		return;
	switch (ev->kind) {
	case PA_EV_IO:
		on_io(m, ev);
		break;
	case PA_EV_FD:
		on_fd(m, ev);
		break;
	case PA_EV_DNS:
		on_dns(m, ev);
		break;
	case PA_EV_SPAN:
		on_span(m, ev);
		break;
	default:
		break;
	}
}

/* --- finish: descriptions into groups by name --- */

static void desc_name(struct io_desc *d, char *buf, size_t cap)
{
	if (!d->described)
		snprintf(buf, cap, "descriptor %u (no description)", d->id);
	else if (d->calls.unknown)
		snprintf(buf, cap, "fd %u (unknown%s%s)", d->fd, d->note ? ": " : "",
			 d->note ? d->note + (strncmp(d->note, "unknown: ", 9) ? 0 : 9) : "");
	else if (d->note && !strncmp(d->note, "inherited: ", 11) && !is_net_kind(d->calls.kind))
		snprintf(buf, cap, "fd %u (%s)", d->fd, d->note);
	else if (d->calls.kind == PST_FD_TCP && d->calls.port &&
		 !strstr(d->calls.name, "(listening)"))
		snprintf(buf, cap, "%s (accepted on port %u)", d->calls.name, d->calls.port);
	else
		snprintf(buf, cap, "%s", d->calls.name);
}

static void group_desc(struct io_model *m, struct io_desc *d)
{
	char name[PST_MAX_STR + 64];
	desc_name(d, name, sizeof(name));
	enum io_class cls = is_net_kind(d->calls.kind) ? IO_CLASS_NET : IO_CLASS_FILE;
	uint64_t h = hash_str(name, strlen(name));
	uint32_t i = pa_pairmap_get(&m->group_index, h, cls);
	struct io_group *g;
	if (!i) {
		g = pa_vec_push(&m->groups);
		g->name = pa_xstrdup(name);
		g->cls = cls;
		g->kind = d->calls.kind;
		g->port = d->calls.port;
		g->unknown = d->calls.unknown;
		stat_init(&g->st);
		pa_pairmap_put(&m->group_index, h, cls, (uint32_t)m->groups.len);
		i = (uint32_t)m->groups.len;
	}
	g = pa_vec_at(&m->groups, i - 1);
	d->group = i - 1;
	const struct io_group *c = &d->calls;
	for (unsigned k = 0; k < IO_FD_OPS; k++)
		g->ops_by_op[k] += c->ops_by_op[k];
	for (unsigned k = 0; k < IO_MAX_ERRNO; k++)
		g->errno_count[k] += c->errno_count[k];
	g->reads += c->reads;
	g->writes += c->writes;
	g->bytes_read += c->bytes_read;
	g->bytes_written += c->bytes_written;
	stat_merge(&g->st, &c->st);
	stat_merge(cls == IO_CLASS_NET ? &m->net_all : &m->fs_all, &c->st);
}

/* Waits still in progress when the process ended (EXT IO_OPEN): calls
 * ending then, marked unfinished, so waits, the wall split and the
 * off-CPU/wall profiles include them. */
static void add_unfinished(struct io_model *m)
{
	struct pa_session *s = m->s;
	for (size_t i = 0; i < s->io_open.len; i++) {
		const struct pa_io_open *o = pa_vec_at(&s->io_open, i);
		struct pa_event ev = {.kind = PA_EV_IO, .ticks = o->end};
		ev.thread = *(struct pa_thread **)pa_vec_at(&s->threads, o->thread);
		if (m->only_tid >= 0 && ev.thread->tid != (uint32_t)m->only_tid)
			continue;
		ev.u.io.op = o->op;
		ev.u.io.obj = o->obj;
		ev.u.io.dur = o->end - o->start;
		ev.u.io.site = o->site;
		ev.u.io.desc = o->desc;
		size_t slow = m->slow.len;
		on_io(m, &ev);
		((struct io_block *)pa_vec_at(&m->blocks, m->blocks.len - 1))->unfinished = true;
		if (m->slow.len > slow)
			((struct io_slow *)pa_vec_at(&m->slow, m->slow.len - 1))->unfinished = true;
		m->unfinished++;
		m->unfinished_by_op[o->op]++;
	}
}

void io_model_finish(struct io_model *m)
{
	add_unfinished(m);
	for (size_t i = 0; i < m->descs.len; i++) {
		struct io_desc *d = pa_vec_at(&m->descs, i);
		if (d->calls.st.count)
			group_desc(m, d);
	}
	for (size_t i = 0; i < m->groups.len; i++)
		stat_sort(&((struct io_group *)pa_vec_at(&m->groups, i))->st);
	for (size_t i = 0; i < m->sites.len; i++)
		stat_sort(&((struct io_site *)pa_vec_at(&m->sites, i))->st);
	for (size_t i = 0; i < m->locks.len; i++)
		stat_sort(&((struct io_lock *)pa_vec_at(&m->locks, i))->st);
	for (size_t i = 0; i < m->dns.len; i++)
		stat_sort(&((struct io_dns *)pa_vec_at(&m->dns, i))->st);
	for (size_t i = 0; i < m->spans.len; i++) {
		struct io_span_stat *sp = pa_vec_at(&m->spans, i);
		stat_sort(&sp->st);
	}
	/* spans never closed, by name */
	for (size_t i = 0; i < m->threads.len; i++) {
		struct io_thread *th = pa_vec_at(&m->threads, i);
		for (size_t k = 0; k < th->open.len; k++) {
			uint64_t *o = pa_vec_at(&th->open, k);
			((struct io_span_stat *)pa_vec_at(&m->spans, (size_t)o[1]))->unclosed++;
		}
	}
	for (unsigned i = 0; i < PST_IO_OP_MAX; i++)
		stat_sort(&m->by_op[i]);
	stat_sort(&m->fs_all);
	stat_sort(&m->net_all);
}

const struct io_group *io_desc_group(const struct io_model *m, uint32_t desc)
{
	uint32_t i = desc ? pa_pairmap_get(&m->desc_index, desc, 0) : 0;
	if (!i)
		return NULL;
	const struct io_desc *d = pa_vec_at(&m->descs, i - 1);
	return d->calls.st.count ? pa_vec_at(&m->groups, d->group) : NULL;
}

bool io_model_has_data(const struct io_model *m)
{
	return m && (m->calls || m->spans.len || m->counters.len || m->dns.len);
}

static void stat_free(struct io_stat *st)
{
	pa_vec_free(&st->durs);
}

void io_model_free(struct io_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->descs.len; i++) {
		struct io_desc *d = pa_vec_at(&m->descs, i);
		free(d->calls.name);
		free(d->note);
		stat_free(&d->calls.st);
	}
	for (size_t i = 0; i < m->groups.len; i++) {
		struct io_group *g = pa_vec_at(&m->groups, i);
		free(g->name);
		stat_free(&g->st);
	}
	for (size_t i = 0; i < m->sites.len; i++)
		stat_free(&((struct io_site *)pa_vec_at(&m->sites, i))->st);
	for (size_t i = 0; i < m->locks.len; i++)
		stat_free(&((struct io_lock *)pa_vec_at(&m->locks, i))->st);
	for (size_t i = 0; i < m->dns.len; i++) {
		struct io_dns *d = pa_vec_at(&m->dns, i);
		free(d->host);
		stat_free(&d->st);
	}
	for (size_t i = 0; i < m->spans.len; i++) {
		struct io_span_stat *sp = pa_vec_at(&m->spans, i);
		free(sp->name);
		stat_free(&sp->st);
	}
	for (size_t i = 0; i < m->counter_names.len; i++)
		free(((struct io_counter_name *)pa_vec_at(&m->counter_names, i))->name);
	for (size_t i = 0; i < m->threads.len; i++)
		pa_vec_free(&((struct io_thread *)pa_vec_at(&m->threads, i))->open);
	for (unsigned i = 0; i < PST_IO_OP_MAX; i++)
		stat_free(&m->by_op[i]);
	stat_free(&m->fs_all);
	stat_free(&m->net_all);
	pa_vec_free(&m->descs);
	pa_vec_free(&m->groups);
	pa_vec_free(&m->sites);
	pa_vec_free(&m->slow);
	pa_vec_free(&m->locks);
	pa_vec_free(&m->dns);
	pa_vec_free(&m->threads);
	pa_vec_free(&m->spans);
	pa_vec_free(&m->counters);
	pa_vec_free(&m->counter_names);
	pa_vec_free(&m->blocks);
	pa_vec_free(&m->span_recs);
	pa_pairmap_free(&m->desc_index);
	pa_pairmap_free(&m->group_index);
	pa_pairmap_free(&m->site_index);
	pa_pairmap_free(&m->lock_index);
	pa_pairmap_free(&m->dns_index);
	pa_pairmap_free(&m->span_index);
	pa_pairmap_free(&m->counter_index);
	free(m);
}

uint64_t io_total_bytes(const struct io_model *m)
{
	uint64_t b = 0;
	for (size_t i = 0; m && i < m->groups.len; i++) {
		const struct io_group *g = pa_vec_at(&m->groups, i);
		b += g->bytes_read + g->bytes_written;
	}
	return b;
}
