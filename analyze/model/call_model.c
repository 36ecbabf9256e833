/*
 * The call model (see call_model.h): one pass over each thread's call
 * records for trace mode, the threads' calling-context trees for tree mode.
 *
 * Trace mode keeps per call only what the tree and the percentiles need:
 * the node's calls, inclusive and exclusive time, and the function's min,
 * max and duration (exact list or histogram). Per-function calls, total
 * and self and the caller -> callee edges are sums over the nodes, made
 * once at the end.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "call_model.h"
#include "call_model_internal.h"
#include "models.h"
#include "symbols.h"

/* A call open on a thread's stack while reading trace-mode events. Slot
 * 0 of a stack stands for the thread outside any call (node 0): its child
 * time is the thread's time in outermost calls. */
struct open_call {
	uint64_t start;
	uint64_t child; /* ticks in completed children */
	uint32_t func;
	uint32_t node;
};

struct call_model *call_model_new(struct pa_session *s, const struct pa_options *o)
{
	struct call_model *m = pa_xcalloc(1, sizeof(*m));
	m->s = s;
	m->o = o;
	pa_vec_init(&m->funcs, sizeof(struct call_func));
	pa_vec_init(&m->nodes, sizeof(struct call_node));
	pa_vec_init(&m->edges, sizeof(struct call_edge));
	pa_vec_init(&m->threads, sizeof(struct call_thread_total));
	pa_vec_init(&m->stacks, sizeof(struct pa_vec));
	pa_vec_init(&m->spans, sizeof(struct call_span));
	pa_pairmap_init(&m->node_index);
	pa_pairmap_init(&m->edge_index);
	pa_vec_push(&m->nodes); /* root */
	m->child_cache = pa_xcalloc(CALL_CHILD_CACHE, sizeof(*m->child_cache));
	m->keep_spans = o && (o->format == PA_FMT_TRACE || o->format == PA_FMT_SPEEDSCOPE);
	return m;
}

bool call_model_has_data(const struct call_model *m)
{
	return m && (m->from_trace || m->from_tree);
}

static __attribute__((noinline)) void grow_funcs(struct call_model *m, uint32_t func)
{
	while (m->funcs.len <= func) {
		struct call_func *f = pa_vec_push(&m->funcs);
		f->min = UINT64_MAX;
		pa_vec_init(&f->durs, sizeof(uint64_t));
	}
}

struct call_func *call_model_func(struct call_model *m, uint32_t func)
{
	if (__builtin_expect(m->funcs.len <= func, 0))
		grow_funcs(m, func);
	return FUNC_AT(m, func);
}

/* The merged tree's child of parent for func, created when new: the
 * index is the authority, a direct-mapped cache in front of it
 * (child_node) the usual hit; when a big tree crowds the cache, the
 * parent's last child is the next. */
__attribute__((noinline)) uint32_t call_model_child_node_slow(struct call_model *m, uint32_t parent,
							      uint32_t func)
{
	struct call_child_slot *cs = child_slot(m, parent, func);
	uint32_t id = NODE_AT(m, parent)->last_child;
	if (!id || NODE_AT(m, id)->func != func)
		id = pa_pairmap_get(&m->node_index, parent, func);
	if (!id) {
		struct call_node *n = pa_vec_push(&m->nodes);
		id = (uint32_t)(m->nodes.len - 1);
		n->func = func;
		n->parent = parent;
		struct call_node *p = NODE_AT(m, parent);
		n->next_sibling = p->first_child;
		p->first_child = id;
		pa_pairmap_put(&m->node_index, parent, func, id);
	}
	*cs = (struct call_child_slot){parent, func, id};
	return NODE_AT(m, parent)->last_child = id;
}

/* Count calls on the caller -> callee edge; returns its index + 1. */
uint32_t call_model_add_edge(struct call_model *m, uint32_t caller, uint32_t callee, uint64_t count)
{
	uint32_t e = pa_pairmap_get(&m->edge_index, caller, callee);
	if (!e) {
		struct call_edge *ne = pa_vec_push(&m->edges);
		ne->caller = caller;
		ne->callee = callee;
		e = (uint32_t)m->edges.len;
		pa_pairmap_put(&m->edge_index, caller, callee, e);
	}
	((struct call_edge *)pa_vec_at(&m->edges, e - 1))->count += count;
	return e;
}

/* Thread t's open calls. */
static inline struct pa_vec *thread_stack(struct call_model *m, size_t t)
{
	while (__builtin_expect(m->stacks.len <= t, 0)) {
		struct pa_vec *st = pa_vec_push(&m->stacks);
		pa_vec_init(st, sizeof(struct open_call));
		pa_vec_push(st); /* slot 0: outside any call */
	}
	return STACK_AT(m, t);
}

/* The fine histogram's bucket of a duration: the value itself under
 * 2^(SUB_BITS+1); above, the power of two and the next SUB_BITS bits. */
static inline unsigned fine_bucket(uint64_t v)
{
	if (v < (2u << CALL_FINE_SUB_BITS))
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* > SUB_BITS */
	unsigned shift = e - CALL_FINE_SUB_BITS;
	return (shift << CALL_FINE_SUB_BITS) + (unsigned)(v >> shift);
}

/* The function's durations outgrow the exact list: into the histogram,
 * which takes every later call. */
static __attribute__((noinline)) void go_fine(struct call_func *f)
{
	f->fine = pa_xcalloc(CALL_FINE_BUCKETS, sizeof(uint64_t));
	const uint64_t *v = f->durs.items;
	for (size_t i = 0; i < f->durs.len; i++)
		f->fine[fine_bucket(v[i])]++;
	pa_vec_free(&f->durs);
}

/* Keep a call's duration for the percentiles. */
static inline void keep_duration(struct call_func *f, uint64_t dur)
{
	if (__builtin_expect(f->fine != NULL, 1)) {
		f->fine[fine_bucket(dur)]++;
		return;
	}
	struct pa_vec *d = &f->durs;
	if (__builtin_expect(d->len == d->cap, 0)) {
		if (d->len == CALL_MAX_DURATIONS) {
			go_fine(f);
			f->fine[fine_bucket(dur)]++;
			return;
		}
		/* doubling up to 1024, then the whole list at once: the
		 * allocator maps it and only the pages used get touched,
		 * where every doubling would copy into fresh pages */
		d->cap = !d->cap ? 16 : d->cap < 1024 ? d->cap * 2 : CALL_MAX_DURATIONS;
		d->items = pa_xrealloc(d->items, d->cap * sizeof(uint64_t));
	}
	((uint64_t *)d->items)[d->len++] = dur;
}

static bool span_wanted(const struct call_model *m, const struct pa_thread *t, uint64_t start,
			uint64_t dur, uint32_t depth)
{
	const struct pa_options *o = m->o;
	const struct pa_session *s = m->s;
	if (o->thread >= 0 && (long)t->tid != o->thread)
		return false;
	if (o->max_depth > 0 && depth >= (uint32_t)o->max_depth)
		return false;
	double dur_us = pa_ticks_to_ns(s, dur) / 1e3;
	if (dur_us < o->min_dur_us)
		return false;
	double from_ms = pa_ns_since_start(s, start) / 1e6;
	double to_ms = pa_ns_since_start(s, start + dur) / 1e6;
	if (to_ms < o->time_from_ms)
		return false;
	if (o->time_to_ms >= 0 && from_ms > o->time_to_ms)
		return false;
	return true;
}

/* One thread's calls while a run of its records is read: its stack of
 * open calls in local pointers, and sums added to the model at the end. */
struct run_state {
	struct pa_thread *t;
	struct pa_vec *st;
	struct open_call *base, *top, *limit; /* stack: [0] = outside, top = innermost */
	uint64_t closed, self_sum, unmatched;
};

static inline void run_begin(struct call_model *m, struct pa_thread *t, struct run_state *rs)
{
	/* every function the run can name is defined by now */
	if (m->funcs.len < m->s->funcs.len)
		grow_funcs(m, (uint32_t)m->s->funcs.len - 1);
	rs->t = t;
	rs->st = thread_stack(m, t->index);
	rs->base = rs->st->items;
	rs->top = rs->base + rs->st->len - 1;
	rs->limit = rs->base + rs->st->cap;
	rs->closed = rs->self_sum = rs->unmatched = 0;
}

static void run_end(struct call_model *m, struct run_state *rs)
{
	rs->st->len = (size_t)(rs->top - rs->base) + 1;
	struct call_thread_total *tt = thread_total(m, rs->t->index);
	tt->calls += rs->closed;
	tt->self += rs->self_sum;
	tt->outer += rs->base->child;
	rs->base->child = 0;
	m->calls += rs->closed;
	m->unmatched_exits += rs->unmatched;
}

static __attribute__((noinline)) void grow_stack(struct run_state *rs)
{
	size_t len = (size_t)(rs->top - rs->base) + 1;
	rs->st->cap = rs->st->cap * 2 + 64;
	rs->st->items = pa_xrealloc(rs->st->items, rs->st->cap * sizeof(struct open_call));
	rs->base = rs->st->items;
	rs->top = rs->base + len - 1;
	rs->limit = rs->base + rs->st->cap;
}

static inline __attribute__((always_inline)) void
enter_call(struct call_model *m, struct run_state *rs, uint64_t now, uint32_t func)
{
	if (__builtin_expect(rs->top + 1 == rs->limit, 0))
		grow_stack(rs);
	if (__builtin_expect(func >= m->funcs.len, 0))
		grow_funcs(m, func);
	uint32_t node = child_node(m, rs->top->node, func);
	struct open_call *top = ++rs->top;
	top->start = now;
	top->child = 0;
	top->func = func;
	top->node = node;
}

static void add_span(struct call_model *m, const struct pa_thread *t, const struct open_call *top,
		     uint64_t now, uint32_t depth)
{
	uint64_t dur = now > top->start ? now - top->start : 0;
	if (!span_wanted(m, t, top->start, dur, depth))
		return;
	struct call_span *sp = pa_vec_push(&m->spans);
	sp->start = top->start;
	sp->dur = dur;
	sp->func = top->func;
	sp->depth = depth;
	sp->thread = (uint32_t)t->index;
}

/* The innermost call closes at `now`: its node and function take its
 * times, its caller (or the thread's outside, slot 0) its duration as
 * child time. `spans` (a constant where inlined) also keeps it for a
 * timeline. */
static inline __attribute__((always_inline)) void
exit_call(struct call_model *m, struct run_state *rs, uint64_t now, bool spans)
{
	struct open_call *top = rs->top;
	if (__builtin_expect(top == rs->base, 0)) {
		rs->unmatched++;
		return;
	}
	if (spans)
		add_span(m, rs->t, top, now, (uint32_t)(top - rs->base - 1));
	uint64_t dur = now > top->start ? now - top->start : 0;
	uint64_t self = dur > top->child ? dur - top->child : 0;
	struct call_node *n = NODE_AT(m, top->node);
	n->calls++;
	n->incl += dur;
	n->excl += self;
	struct call_func *f = FUNC_AT(m, top->func);
	if (dur < f->min)
		f->min = dur;
	if (dur > f->max)
		f->max = dur;
	keep_duration(f, dur);
	top[-1].child += dur;
	rs->top = top - 1;
	rs->self_sum += self;
	rs->closed++;
}

/* Decode and count in one loop (the bulk of a call trace's analysis). */
static inline __attribute__((always_inline)) void run_loop(struct call_model *m,
							   struct pa_call_run *run, bool spans)
{
	struct run_state rs;
	run_begin(m, run->thread, &rs);
	struct pa_call_cursor cur = run->cur;
	size_t n = 0, enters = 0;
	for (;;) {
		uint32_t func;
		int k = pa_next_call(&cur, &func);
		if (k > 0) {
			enter_call(m, &rs, cur.now, func);
			enters++;
		} else if (k == 0) {
			exit_call(m, &rs, cur.now, spans);
		} else {
			break;
		}
		n++;
	}
	run_end(m, &rs);
	run->cur = cur;
	run->n = n;
	run->enters = enters;
	if (enters)
		m->from_trace = true;
}

void call_model_calls(struct call_model *m, struct pa_call_run *run)
{
	if (m->keep_spans)
		run_loop(m, run, true);
	else
		run_loop(m, run, false);
}

/* Close the calls still open on thread t at its end. */
static void close_thread_calls(struct call_model *m, struct pa_thread *t)
{
	if (m->stacks.len <= t->index)
		return;
	struct run_state rs;
	run_begin(m, t, &rs);
	while (rs.top != rs.base)
		exit_call(m, &rs, t->end_ticks, m->keep_spans);
	run_end(m, &rs);
}

void call_model_event(struct call_model *m, const struct pa_event *ev)
{
	struct run_state rs;
	switch (ev->kind) {
	case PA_EV_ENTER:
		m->from_trace = true;
		run_begin(m, ev->thread, &rs);
		enter_call(m, &rs, ev->ticks, ev->u.enter.func);
		run_end(m, &rs);
		break;
	case PA_EV_EXIT:
		run_begin(m, ev->thread, &rs);
		exit_call(m, &rs, ev->ticks, m->keep_spans);
		run_end(m, &rs);
		break;
	case PA_EV_THREAD_END:
		/* The shim closes every call at the thread's end; a thread
		 * that did not end cleanly leaves calls open: close them at
		 * its last event. */
		close_thread_calls(m, ev->thread);
		break;
	default:
		break;
	}
}

/* Calls still open when a thread's data ends without a THREAD_END (exec,
 * a killed process) end with the thread. */
static void close_open_calls(struct call_model *m)
{
	for (size_t i = 0; i < m->stacks.len && i < m->s->threads.len; i++)
		close_thread_calls(m, *(struct pa_thread **)pa_vec_at(&m->s->threads, i));
}

/* Trace mode, after the run: every call entered on a node was closed on
 * it (open ones by close_open_calls), so a function's calls and self time
 * and an edge's count are sums over the nodes, and its total the sum over
 * the nodes with no node of the same function above them (the outermost
 * activations of a recursion: nested time is not counted twice). Summing
 * here spares those updates per call. */
static void trace_sums(struct call_model *m)
{
	/* edges in the order their first node was made (= first call) */
	for (uint32_t i = 1; i < m->nodes.len; i++) {
		const struct call_node *n = NODE_AT(m, i);
		if (n->parent)
			call_model_add_edge(m, NODE_AT(m, n->parent)->func, n->func, n->calls);
	}
	/* depth first, counting per function the nodes open on the path */
	uint32_t *on_path = pa_xcalloc(m->funcs.len + 1, sizeof(uint32_t));
	uint32_t i = NODE_AT(m, 0)->first_child;
	while (i) {
		const struct call_node *n = NODE_AT(m, i);
		struct call_func *f = FUNC_AT(m, n->func);
		f->calls += n->calls;
		f->self += n->excl;
		if (!on_path[n->func])
			f->total += n->incl;
		if (n->first_child) {
			on_path[n->func]++;
			i = n->first_child;
			continue;
		}
		/* the next sibling of this node or of the nearest ancestor
		 * that has one, leaving the ancestors passed */
		while (i && !NODE_AT(m, i)->next_sibling) {
			i = NODE_AT(m, i)->parent;
			if (i)
				on_path[NODE_AT(m, i)->func]--;
		}
		if (i)
			i = NODE_AT(m, i)->next_sibling;
	}
	free(on_path);
}

void call_model_finish(struct call_model *m, const struct pa_models *pm)
{
	close_open_calls(m);
	if (m->from_trace)
		trace_sums(m);
	if (!m->from_trace)
		call_model_load_trees(m);
	else if (m->s->threads.len)
		for (size_t i = 0; i < m->s->threads.len; i++) {
			struct pa_thread *t = *(struct pa_thread **)pa_vec_at(&m->s->threads, i);
			if (t->cct.len)
				pa_warn(m->s,
					"thread %u has both call events and a call tree; "
					"the tree is ignored",
					t->tid);
		}
	if (m->from_trace)
		m->timed = m->calls;
	if (m->unmatched_exits)
		pa_warn(m->s, "%llu call exits without an open call were ignored",
			(unsigned long long)m->unmatched_exits);
	static const struct pa_frame unknown = {.function = "(unknown function)"};
	for (size_t i = 0; i < m->funcs.len; i++) {
		struct call_func *f = pa_vec_at(&m->funcs, i);
		if (m->from_trace)
			f->timed = f->calls; /* a trace times every call */
		call_model_percentiles(f);
		/* Estimated: max is the longest timed call; the calls' average
		 * (reconciled total / calls) proves some call took that long */
		if (f->calls && f->timed < f->calls && f->total / f->calls > f->max)
			f->max = f->total / f->calls;
		const struct pa_func *pf = i < m->s->funcs.len ? pa_vec_at(&m->s->funcs, i) : NULL;
		f->frame = i && pf && pm->syms
			       ? pa_symbols_function(pm->syms, pf->addr, m->s->start_ticks)
			       : &unknown;
		f->name = f->frame->function;
		f->file = f->frame->file ? f->frame->file : "";
		f->line = f->frame->func_line ? f->frame->func_line : f->frame->line;
	}
}

void call_model_free(struct call_model *m)
{
	if (!m)
		return;
	free(m->child_cache);
	for (size_t i = 0; i < m->funcs.len; i++) {
		struct call_func *f = pa_vec_at(&m->funcs, i);
		pa_vec_free(&f->durs);
		free(f->fine);
	}
	for (size_t i = 0; i < m->stacks.len; i++)
		pa_vec_free(pa_vec_at(&m->stacks, i));
	pa_vec_free(&m->funcs);
	pa_vec_free(&m->nodes);
	pa_vec_free(&m->edges);
	pa_vec_free(&m->threads);
	pa_vec_free(&m->stacks);
	pa_vec_free(&m->spans);
	pa_pairmap_free(&m->node_index);
	pa_pairmap_free(&m->edge_index);
	free(m);
}
