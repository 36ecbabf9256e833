/*
 * Decoding the thread files' EXT records (thread name and end, counters,
 * call-tree nodes, DNS, MEM_USABLE) and the I/O recorder's records (kinds
 * 9-11): rarer than the allocation and call records merge.c decodes
 * inline.
 */
#define _GNU_SOURCE
#include <string.h>

#include "decoder.h"

static int decode_cct_node(struct decoder *d)
{
	struct pa_cct_node n;
	memset(&n, 0, sizeof(n));
	uint64_t func, nb;
	GET(&n.id);
	GET(&n.parent);
	GET(&func);
	GET(&n.calls);
	GET(&n.incl_ticks);
	GET(&n.excl_ticks);
	GET(&n.min_ticks);
	GET(&n.max_ticks);
	GET(&nb);
	if (nb > 64)
		return pa_decoder_bad(d, "call tree node with %llu histogram buckets",
				      (unsigned long long)nb);
	n.nbuckets = (uint32_t)nb;
	for (unsigned i = 0; i < nb; i++)
		GET(&n.buckets[i]);
	n.timed = n.stood_for = n.calls; /* absent from older writers: all timed */
	if (d->c.p < d->c.end)
		GET(&n.timed);
	if (d->c.p < d->c.end)
		GET(&n.stood_for);
	if (d->c.p < d->c.end) /* added later: absent, 0 */
		GET(&n.timed_sub);
	if (lookup_local(d, &d->t->func_map, func, &n.func, "function"))
		return -1;
	*(struct pa_cct_node *)pa_vec_push(&d->t->cct) = n;
	return 0;
}

static int decode_thread_counters(struct decoder *d)
{
	while (d->c.p < d->c.end) {
		uint64_t id, v;
		GET(&id);
		GET(&v);
		if (id < PST_C_COUNTER_MAX)
			d->t->counters[id] = v;
	}
	return 0;
}

/* --- io recorder records (kinds 9-11, EXT IO_DNS) --- */

/* A call site: the pc of a one-frame STACK node (0 = unknown). */
static int site_pc(struct decoder *d, uint64_t local, uint64_t *pc)
{
	uint32_t node = 0;
	if (lookup_local(d, &d->t->stack_map, local, &node, "stack node"))
		return -1;
	*pc = node ? ((struct pa_stack_node *)pa_vec_at(&d->s->stacks, node))->pc : 0;
	return 0;
}

int pa_decode_io(struct decoder *d, uint64_t dt, struct pa_event *ev)
{
	uint64_t op, desc, res, stack, site;
	d->t->now += dt;
	GET(&op);
	GET(&desc);
	GET(&ev->u.io.obj);
	GET(&ev->u.io.asked);
	GET(&res);
	GET(&ev->u.io.dur);
	GET(&site);
	GET(&stack);
	if (op == 0 || op >= PST_IO_OP_MAX)
		return pa_decoder_bad(d, "unknown I/O operation %llu", (unsigned long long)op);
	if (desc > UINT32_MAX)
		return pa_decoder_bad(d, "I/O descriptor id %llu out of range",
				      (unsigned long long)desc);
	ev->u.io.op = (unsigned)op;
	ev->u.io.desc = (uint32_t)desc;
	ev->u.io.result = pst_unzigzag(res);
	if (site_pc(d, site, &ev->u.io.site))
		return -1;
	return lookup_local(d, &d->t->stack_map, stack, &ev->u.io.stack, "stack node");
}

int pa_decode_fd(struct decoder *d, uint64_t dt, struct pa_event *ev)
{
	uint64_t desc, kind, fd, port;
	d->t->now += dt;
	GET(&desc);
	GET(&kind);
	GET(&fd);
	GET(&port);
	if (desc == 0 || desc > UINT32_MAX || kind == 0 || kind >= PST_FD_KIND_MAX ||
	    fd > INT32_MAX || port > 65535)
		return pa_decoder_bad(
		    d, "bad descriptor record (id %llu, kind %llu, fd %llu, port %llu)",
		    (unsigned long long)desc, (unsigned long long)kind, (unsigned long long)fd,
		    (unsigned long long)port);
	if (pa_get_str(&d->c, &ev->u.fd.name, &ev->u.fd.name_len, PST_MAX_STR) ||
	    pa_get_str(&d->c, &ev->u.fd.note, &ev->u.fd.note_len, PST_MAX_STR))
		return pa_decoder_bad(d, "malformed descriptor name");
	ev->u.fd.desc = (uint32_t)desc;
	ev->u.fd.kind = (unsigned)kind;
	ev->u.fd.fd = (uint32_t)fd;
	ev->u.fd.port = (uint32_t)port;
	return 0;
}

int pa_decode_span(struct decoder *d, uint64_t dt, struct pa_event *ev)
{
	uint64_t what, v = 0;
	d->t->now += dt;
	GET(&what);
	if (what > PST_SPAN_COUNTER)
		return pa_decoder_bad(d, "unknown span record %llu", (unsigned long long)what);
	ev->u.span.what = (unsigned)what;
	ev->u.span.name = "";
	ev->u.span.name_len = 0;
	if ((what == PST_SPAN_BEGIN || what == PST_SPAN_COUNTER) &&
	    pa_get_str(&d->c, &ev->u.span.name, &ev->u.span.name_len, PST_MAX_STR))
		return pa_decoder_bad(d, "malformed span name");
	if (what == PST_SPAN_COUNTER)
		GET(&v);
	ev->u.span.value = pst_unzigzag(v);
	return 0;
}

static int decode_dns(struct decoder *d, struct pa_event *ev)
{
	uint64_t end, res, stack, site;
	GET(&end);
	GET(&ev->u.dns.dur);
	GET(&res);
	GET(&site);
	GET(&stack);
	if (pa_get_str(&d->c, &ev->u.dns.host, &ev->u.dns.host_len, PST_MAX_STR))
		return pa_decoder_bad(d, "malformed DNS record");
	ev->u.dns.result = pst_unzigzag(res);
	if (site_pc(d, site, &ev->u.dns.site))
		return -1;
	ev->kind = PA_EV_DNS;
	ev->ticks = end;
	if (lookup_local(d, &d->t->stack_map, stack, &ev->u.dns.stack, "stack node"))
		return -1;
	return 1;
}

static int decode_mem_usable(struct decoder *d, struct pa_event *ev)
{
	uint64_t ticks, high;
	GET(&ticks);
	GET(&ev->u.usable.alloc);
	GET(&ev->u.usable.freed);
	GET(&high);
	GET(&ev->u.usable.addr);
	GET(&ev->u.usable.block);
	ev->u.usable.high = pst_unzigzag(high);
	ev->kind = PA_EV_MEM_USABLE;
	/* absolute (0: at the record before); never before that record, as
	 * the writer's dt clamps a clock read a little behind the last one */
	ev->ticks = ticks > d->t->now ? ticks : d->t->now;
	return 1;
}

/* An EXT record; returns 1 when it produced an event (THREAD_END, DNS,
 * MEM_USABLE). */
int pa_decode_ext(struct decoder *d, uint64_t ext, struct pa_event *ev)
{
	uint64_t len;
	GET(&len);
	if (len > (uint64_t)(d->c.end - d->c.p))
		return pa_decoder_bad(d, "record length runs past the end of data");
	struct pa_cursor outer = d->c;
	d->c.end = d->c.p + len;
	int rc = 0;
	const char *name;
	size_t nlen;
	uint64_t end;
	switch (ext) {
	case PST_X_THREAD_NAME:
		if (pa_get_str(&d->c, &name, &nlen, PST_MAX_STR))
			return pa_decoder_bad(d, "malformed thread name");
		if (nlen >= sizeof(d->t->name))
			nlen = sizeof(d->t->name) - 1;
		memcpy(d->t->name, name, nlen);
		d->t->name[nlen] = 0;
		break;
	case PST_X_THREAD_END:
		GET(&end);
		d->t->ended = true;
		d->t->end_ticks = end;
		ev->kind = PA_EV_THREAD_END;
		ev->ticks = end;
		rc = 1;
		break;
	case PST_X_COUNTERS:
		rc = decode_thread_counters(d);
		break;
	case PST_X_CCT_NODE:
		rc = decode_cct_node(d);
		break;
	case PST_X_CCT_END:
		pa_cct_commit(&d->t->cct, &d->t->cct_done);
		d->t->cct_marked = true;
		break;
	case PST_X_IO_DNS:
		rc = decode_dns(d, ev);
		break;
	case PST_X_MEM_USABLE:
		rc = decode_mem_usable(d, ev);
		break;
	default:
		break; /* newer kinds: skipped by length */
	}
	d->c.p = outer.p + len;
	d->c.end = outer.end;
	return rc;
}
