/*
 * Decoding thread files and merging their events in time order.
 *
 * Each thread file is decoded one event ahead; a binary heap keyed by the
 * next event's time picks the thread whose event comes first. Definitions
 * (STACK, FUNC, names, CCT nodes) are applied while decoding, so they are
 * in place before any event that uses them is delivered.
 *
 * With a call sink (pa_session_run_calls), ENTER and EXIT records do not
 * take part in the merge: the sink decodes and uses them in one loop, in
 * each thread's order, before the thread's next merged event.
 *
 * The rarer records (EXT, I/O, call-tree nodes) are decoded in
 * decode_ext.c; the decoder's state is in decoder.h.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "alloc_ids.h"
#include "decode.h"
#include "decoder.h"
#include "session.h"
#include "zrun.h"

#define MAX_LOCAL_ID (1u << 26)	 /* bound on ids, so bad input cannot ask for huge tables */
#define CALL_CHUNK (4u << 20)	 /* bytes of call records per sink call (progress) */
#define RELEASE_CHUNK (8u << 20) /* decoded trace bytes given back at a time */

int pa_decoder_bad(struct decoder *d, const char *fmt, ...)
{
	char what[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	size_t zblock = pa_zrun_block_off(d->t);
	if (zblock) /* in a compressed run: the block, and where in its records */
		snprintf(d->err->msg, sizeof(d->err->msg),
			 "%s: offset %zu: in the compressed block there, at byte %zu of its "
			 "records: %s",
			 d->t->path, zblock, d->rec_off - PST_DATA_OFFSET, what);
	else
		snprintf(d->err->msg, sizeof(d->err->msg), "%s: offset %zu: %s", d->t->path,
			 d->rec_off, what);
	return -1;
}

static uint32_t *local_slot(struct pa_vec *map, uint64_t id)
{
	while (map->len <= id)
		*(uint32_t *)pa_vec_push(map) = 0;
	return pa_vec_at(map, (size_t)id);
}

static int define_stack(struct decoder *d, uint64_t id)
{
	uint64_t parent_local, pc;
	GET(&parent_local);
	GET(&pc);
	if (id == 0 || id >= MAX_LOCAL_ID || parent_local >= id)
		return pa_decoder_bad(d, "bad stack node %llu (parent %llu)",
				      (unsigned long long)id, (unsigned long long)parent_local);
	uint32_t parent = 0;
	if (lookup_local(d, &d->t->stack_map, parent_local, &parent, "stack node"))
		return -1;
	struct pa_session *s = d->s;
	uint32_t node = pa_pairmap_get(&s->stack_index, parent, pc);
	if (!node) {
		uint32_t depth = ((struct pa_stack_node *)pa_vec_at(&s->stacks, parent))->depth + 1;
		struct pa_stack_node *n = pa_vec_push(&s->stacks);
		n->parent = parent;
		n->pc = pc;
		n->depth = depth;
		node = (uint32_t)(s->stacks.len - 1);
		pa_pairmap_put(&s->stack_index, parent, pc, node);
	}
	*local_slot(&d->t->stack_map, id) = node;
	return 0;
}

static int define_func(struct decoder *d, uint64_t id)
{
	uint64_t addr;
	GET(&addr);
	if (id == 0 || id >= MAX_LOCAL_ID)
		return pa_decoder_bad(d, "bad function id %llu", (unsigned long long)id);
	struct pa_session *s = d->s;
	uint32_t f = pa_pairmap_get(&s->func_index, addr, 0);
	if (!f) {
		((struct pa_func *)pa_vec_push(&s->funcs))->addr = addr;
		f = (uint32_t)(s->funcs.len - 1);
		pa_pairmap_put(&s->func_index, addr, 0, f);
	}
	*local_slot(&d->t->func_map, id) = f;
	return 0;
}

static inline uint64_t undelta_old(uint64_t addr, uint64_t zz)
{
	return zz ? addr + (uint64_t)pst_unzigzag(zz - 1) : 0;
}

static int decode_alloc(struct decoder *d, uint64_t dt, struct pa_event *ev)
{
	uint64_t fn, stack_local;
	char why[PA_IDS_WHY];
	if (d->t->ids) { /* numbered blocks (alloc_ids.c) */
		if (pa_ids_alloc(d->t, &d->c, dt, ev, &stack_local, why))
			return pa_decoder_bad(d, "%s", why);
		return lookup_local(d, &d->t->stack_map, stack_local, &ev->u.alloc.stack,
				    "stack node");
	}
	d->t->now += dt;
	GET(&fn);
	GET(&ev->u.alloc.size);
	GET(&ev->u.alloc.addr);
	GET(&stack_local);
	if (fn >= PST_FN_COUNT)
		return pa_decoder_bad(d, "unknown allocation function %llu",
				      (unsigned long long)fn);
	ev->u.alloc.fn = (unsigned)fn;
	ev->u.alloc.old_addr = 0;
	if (fn == PST_FN_REALLOC || fn == PST_FN_REALLOCARRAY)
		GET(&ev->u.alloc.old_addr);
	if (d->t->delta) {
		ev->u.alloc.addr = pa_undelta(&d->t->last_addr, ev->u.alloc.addr);
		stack_local = pa_undelta(&d->t->last_stack, stack_local);
		if (fn == PST_FN_REALLOC || fn == PST_FN_REALLOCARRAY)
			ev->u.alloc.old_addr = undelta_old(ev->u.alloc.addr, ev->u.alloc.old_addr);
	}
	return lookup_local(d, &d->t->stack_map, stack_local, &ev->u.alloc.stack, "stack node");
}

static int decode_mark(struct decoder *d, uint64_t dt, struct pa_event *ev)
{
	uint64_t pc;
	const char *name;
	size_t nlen;
	d->t->now += dt;
	GET(&pc);
	if (pa_get_str(&d->c, &name, &nlen, PST_MAX_STR))
		return pa_decoder_bad(d, "malformed marker name");
	struct pa_marker *m = pa_vec_push(&d->s->markers);
	m->ticks = d->t->now;
	m->thread = (uint32_t)d->t->index;
	m->pc = pc;
	m->name = pa_xstrndup(name, nlen);
	ev->u.mark.index = d->s->markers.len - 1;
	return 0;
}

/* The fast path for the records of a call trace (nearly all of it): an
 * ENTER or EXIT with short varints, away from the end of the data, and a
 * known function. Returns 1 with *ev filled, 0 to leave the record to the
 * checked decoder (which also reports any error). Same results as that. */
static inline int next_call_event(struct decoder *d, struct pa_event *ev)
{
	const uint8_t *p = d->c.p;
	if (__builtin_expect(d->c.end - p < 8, 0))
		return 0;
	struct pa_thread *t = d->t;
	uint64_t tag, dt;
	unsigned n = pa_short_varint(p, &tag);
	if (!n)
		return 0;
	switch (tag & PST_KIND_MASK) {
	case PST_K_EXIT:
		dt = tag >> PST_KIND_BITS;
		ev->kind = PA_EV_EXIT;
		break;
	case PST_K_ENTER: {
		unsigned n2 = pa_short_varint(p + n, &dt);
		uint64_t id = tag >> PST_KIND_BITS;
		const struct pa_vec *map = &t->func_map;
		if (!n2 || id >= map->len)
			return 0;
		uint32_t f = ((const uint32_t *)map->items)[id];
		if (!f && id)
			return 0;
		n += n2;
		ev->kind = PA_EV_ENTER;
		ev->u.enter.func = f;
		break;
	}
	default:
		return 0;
	}
	d->c.p = p + n;
	t->events++;
	t->now += dt;
	ev->thread = t;
	ev->ticks = t->now;
	if (ev->ticks > t->end_ticks && !t->ended)
		t->end_ticks = ev->ticks;
	return 1;
}

static void count_progress(struct progress *p, uint64_t n);
static void release_behind(struct decoder *d);

/* The call sink's path for what the unchecked one leaves: the last
 * bytes of the data, long varints; anything else (another kind, a
 * malformed record, an unknown function, the stop) stays for the checked
 * decoder, which reports the errors. */
int pa_next_call_checked(struct pa_call_cursor *c, uint32_t *func)
{
	if (c->p >= c->stop)
		return -1;
	struct pa_cursor in = {c->p, c->p, c->end};
	uint64_t tag, dt;
	if (pa_get_varint(&in, &tag))
		return -1;
	uint64_t value = tag >> PST_KIND_BITS;
	switch (tag & PST_KIND_MASK) {
	case PST_K_EXIT:
		c->now += value;
		c->p = in.p;
		return 0;
	case PST_K_ENTER:
		if (pa_get_varint(&in, &dt) || value >= c->nfuncs)
			return -1;
		if (!c->func_map[value] && value)
			return -1;
		*func = c->func_map[value];
		c->now += dt;
		c->p = in.p;
		return 1;
	default:
		return -1;
	}
}

/* A memory or CPU trace is mostly other records: the kind, in the low
 * bits of the tag's first byte, spares the sink a call (and its
 * per-thread set-up) that would take nothing. */
static inline bool call_record_next(const struct decoder *d)
{
	const uint8_t *p = d->c.p;
	return p < d->c.end &&
	       ((*p & PST_KIND_MASK) == PST_K_ENTER || (*p & PST_KIND_MASK) == PST_K_EXIT);
}

/* Let the call sink take the call records ahead, a chunk at a time. */
static void sink_calls(struct decoder *d)
{
	struct pa_thread *t = d->t;
	for (;;) {
		const uint8_t *p = d->c.p, *end = d->c.end;
		if (!call_record_next(d))
			return;
		const uint8_t *stop = (size_t)(end - p) > CALL_CHUNK ? p + CALL_CHUNK : end;
		struct pa_call_run run = {.thread = t,
					  .cur = {.p = p,
						  .fast_end = end - p > 8 ? end - 8 : p,
						  .stop = stop,
						  .end = end,
						  .func_map = t->func_map.items,
						  .nfuncs = t->func_map.len,
						  .now = t->now}};
		if (run.cur.fast_end > stop)
			run.cur.fast_end = stop;
		d->calls_fn(&run, d->ctx);
		if (!run.n)
			return;
		d->c.p = run.cur.p;
		t->now = run.cur.now;
		t->events += run.n;
		if (t->now > t->end_ticks && !t->ended)
			t->end_ticks = t->now;
		count_progress(d->prog, run.n);
		if (d->c.p >= d->release_at)
			release_behind(d);
		if (run.cur.p < stop)
			return; /* on a record it does not take */
	}
}

/* Decode records up to the next event: 1 = *ev filled, 0 = end, -1 = error. */
static int next_event(struct decoder *d, struct pa_event *ev)
{
	struct pa_thread *t = d->t;
	if (d->calls_fn) {
		if (call_record_next(d))
			sink_calls(d);
	} else if (__builtin_expect(next_call_event(d, ev), 1))
		return 1;
	while (d->c.p < d->c.end || (t->z && pa_zrun_leave(t, &d->c))) {
		d->rec_off = PST_DATA_OFFSET + pa_cursor_off(&d->c);
		uint64_t tag, v;
		GET(&tag);
		unsigned kind = (unsigned)(tag & PST_KIND_MASK);
		uint64_t value = tag >> PST_KIND_BITS;
		t->events++;
		/* no memset: each kind sets the fields it defines (the hot
		 * ENTER and EXIT records have one or none) */
		ev->kind = kind;
		ev->thread = t;
		int rc = 1;
		switch (kind) {
		case PST_K_EXIT:
			t->now += value;
			break;
		case PST_K_ENTER:
			GET(&v);
			t->now += v;
			rc = lookup_local(d, &t->func_map, value, &ev->u.enter.func, "function");
			rc = rc ? rc : 1;
			break;
		case PST_K_ALLOC:
			rc = decode_alloc(d, value, ev);
			rc = rc ? rc : 1;
			break;
		case PST_K_FREE:
			if (t->ids) { /* numbered blocks (alloc_ids.c) */
				char why[PA_IDS_WHY];
				if (pa_ids_free(t, &d->c, value, ev, why))
					return pa_decoder_bad(d, "%s", why);
				break;
			}
			t->now += value;
			GET(&ev->u.free.addr);
			if (t->delta)
				ev->u.free.addr = pa_undelta(&t->last_addr, ev->u.free.addr);
			break;
		case PST_K_SAMPLE:
			t->now += value;
			GET(&ev->u.sample.weight);
			GET(&v);
			GET(&ev->u.sample.shadow_depth);
			rc = lookup_local(d, &t->stack_map, v, &ev->u.sample.stack, "stack node");
			rc = rc ? rc : 1;
			break;
		case PST_K_STACK:
			rc = define_stack(d, value);
			break;
		case PST_K_FUNC:
			rc = define_func(d, value);
			break;
		case PST_K_MARK:
			rc = decode_mark(d, value, ev);
			rc = rc ? rc : 1;
			break;
		case PST_K_RSS:
			t->now += value;
			GET(&ev->u.rss.bytes);
			break;
		case PST_K_IO:
			rc = pa_decode_io(d, value, ev);
			rc = rc ? rc : 1;
			break;
		case PST_K_FD:
			rc = pa_decode_fd(d, value, ev);
			rc = rc ? rc : 1;
			break;
		case PST_K_SPAN:
			rc = pa_decode_span(d, value, ev);
			rc = rc ? rc : 1;
			break;
		case PST_K_EXT:
			rc = pa_decode_ext(d, value, ev);
			break;
		case PST_K_ZRUN: /* compressed runs: the cursor may move (zrun.c) */
			t->events--;
			rc = pa_zrun_record(d->s, t, &d->c, value, d->rec_off, d->err);
			break;
		default:
			return pa_decoder_bad(d, "unknown record kind %u", kind);
		}
		if (rc < 0)
			return -1;
		if (rc == 1) {
			if (ev->kind != PA_EV_THREAD_END && ev->kind != PA_EV_DNS &&
			    ev->kind != PA_EV_MEM_USABLE)
				ev->ticks = t->now;
			if (ev->ticks > t->end_ticks && !t->ended)
				t->end_ticks = ev->ticks;
			return 1;
		}
		if (d->calls_fn && call_record_next(d))
			sink_calls(d);
	}
	return 0;
}

/* Streaming: the mapped pages of a thread file behind the cursor are
 * never read again by the decoder, yet stay resident and count in the
 * reader's memory, so a long trace would cost its whole size. Giving them
 * back every RELEASE_CHUNK keeps the reader's memory independent of the
 * trace's length. The mapping is private, read-only and never written: a
 * page touched again later (a string an I/O event points to) is simply
 * read back from the file. Data that is not in the mapping (decoded
 * elsewhere) is left alone. */
static void release_behind(struct decoder *d)
{
	const struct pa_thread *t = d->t;
	const uint8_t *p = d->c.p;
	d->release_at = p + RELEASE_CHUNK;
	if (!t->map || p < t->map || p > t->map + t->map_len)
		return;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t upto = (size_t)(p - t->map) / page * page;
	if (upto > d->released)
		madvise((void *)(t->map + d->released), upto - d->released, MADV_DONTNEED);
	if (upto > d->released)
		d->released = upto;
}

/* --- the merge heap --- */

struct source {
	struct decoder d;
	struct pa_event ev; /* next event of this thread */
};

static bool before(const struct source *a, const struct source *b)
{
	if (a->ev.ticks != b->ev.ticks)
		return a->ev.ticks < b->ev.ticks;
	return a->d.t->index < b->d.t->index;
}

static void sift_down(struct source **h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && before(h[l], h[m]))
			m = l;
		if (r < n && before(h[r], h[m]))
			m = r;
		if (m == i)
			return;
		struct source *tmp = h[i];
		h[i] = h[m];
		h[m] = tmp;
		i = m;
	}
}

struct progress {
	bool on;
	size_t total, done;
	uint64_t events;
	time_t last, started;
	const struct source *src;
	size_t nsrc;
};

static void show_progress(struct progress *p, bool final)
{
	if (!p->on)
		return;
	time_t now = time(NULL);
	if (!final && now == p->last)
		return;
	p->last = now;
	fprintf(stderr, "\rprofanalyze: reading %3.0f%% (%llu events)%s",
		p->total ? 100.0 * (double)p->done / (double)p->total : 100.0,
		(unsigned long long)p->events, final ? "\n" : "");
}

/* n more events delivered: show progress about once a second (after the
 * first second) */
static void count_progress(struct progress *p, uint64_t n)
{
	uint64_t before = p->events;
	p->events += n;
	if ((before >> 20) == (p->events >> 20))
		return;
	p->done = 0;
	for (size_t i = 0; i < p->nsrc; i++)
		p->done += pa_cursor_off(&p->src[i].d.c);
	if (time(NULL) - p->started >= 1)
		show_progress(p, false);
}

static int marker_cmp(const void *a, const void *b)
{
	const struct pa_marker *x = a, *y = b;
	if (x->ticks != y->ticks)
		return x->ticks < y->ticks ? -1 : 1;
	return x->thread < y->thread ? -1 : x->thread > y->thread;
}

/* Markers were stored in decode order (each thread is decoded one event
 * ahead); reports want them in time order. */
static void sort_markers(struct pa_session *s)
{
	if (s->markers.len > 1)
		qsort(s->markers.items, s->markers.len, s->markers.item, marker_cmp);
}

int pa_session_run(struct pa_session *s, pa_event_fn fn, void *ctx, struct pa_error *err)
{
	return pa_session_run_calls(s, fn, NULL, ctx, err);
}

int pa_session_run_calls(struct pa_session *s, pa_event_fn fn, pa_calls_fn calls_fn, void *ctx,
			 struct pa_error *err)
{
	size_t n = 0, nthreads = s->threads.len;
	struct source *src = pa_xcalloc(nthreads + 1, sizeof(*src));
	struct source **heap = pa_xcalloc(nthreads + 1, sizeof(*heap));
	struct progress prog = {.on = s->progress && isatty(STDERR_FILENO),
				.last = time(NULL),
				.started = time(NULL),
				.src = src,
				.nsrc = nthreads};
	int rc = 0;
	for (size_t i = 0; i < nthreads; i++) {
		struct source *so = &src[i];
		so->d.s = s;
		so->d.t = *(struct pa_thread **)pa_vec_at(&s->threads, i);
		so->d.err = err;
		so->d.calls_fn = calls_fn;
		so->d.ctx = ctx;
		so->d.prog = &prog;
		pa_cursor_init(&so->d.c, so->d.t->data, so->d.t->data_len);
		so->d.release_at = so->d.c.p + RELEASE_CHUNK;
		prog.total += so->d.t->data_len;
		int r = next_event(&so->d, &so->ev);
		if (r < 0) {
			rc = -1;
			goto out;
		}
		if (r == 1)
			heap[n++] = so;
	}
	for (size_t i = n / 2; i-- > 0;)
		sift_down(heap, n, i);
	while (n) {
		struct source *top = heap[0];
		fn(&top->ev, ctx);
		count_progress(&prog, 1);
		int r = next_event(&top->d, &top->ev);
		if (r < 0) {
			rc = -1;
			goto out;
		}
		if (__builtin_expect(top->d.c.p >= top->d.release_at, 0))
			release_behind(&top->d);
		if (r == 0)
			heap[0] = heap[--n];
		if (n > 1) /* one thread left (or one at all): nothing to order */
			sift_down(heap, n, 0);
	}
	if (prog.events > 0xfffff && time(NULL) - prog.started >= 1) {
		prog.done = prog.total;
		show_progress(&prog, true);
	}
	/* A process that did not end cleanly ends at its last event. */
	for (size_t i = 0; i < nthreads; i++) {
		struct pa_thread *t = src[i].d.t;
		if (!s->ended && t->end_ticks > s->end_ticks)
			s->end_ticks = t->end_ticks;
		if (!t->ended && s->ended && s->end_ticks > t->end_ticks)
			t->end_ticks = s->end_ticks;
		for (unsigned c = 0; c < PST_C_COUNTER_MAX; c++)
			s->counters[c] += t->counters[c];
		pa_cct_settle(s, t);
	}
	if (s->counters[PST_C_DROP_NO_SPACE])
		pa_warn(s,
			"%" PRIu64 " events could not be written (a trace file could not grow "
			"or be reopened) and are missing from this report",
			s->counters[PST_C_DROP_NO_SPACE]);
	sort_markers(s);
out:
	free(src);
	free(heap);
	return rc;
}
