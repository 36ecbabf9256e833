/*
 * Calls recorder, tree mode: snapshots of a thread's tree as CCT_NODE
 * records, at the thread's end, before exec, and for threads still running
 * at the process's end.
 */
#define _GNU_SOURCE
#include "calls_internal.h"

/* The fields of a CCT_NODE after its function: counts, times, buckets,
 * timed calls. Exclusive time is the node's time less its children's. */
static uint8_t *put_node_counts(uint8_t *p, const struct cct_node *n)
{
	unsigned nb = CCT_BUCKETS;
	while (nb && !n->hist[nb - 1])
		nb--;
	p = pst_put_varint(p, n->calls);
	p = pst_put_varint(p, n->incl);
	p = pst_put_varint(p, n->incl > n->kids ? n->incl - n->kids : 0);
	p = pst_put_varint(p, n->timed ? n->min : 0);
	p = pst_put_varint(p, n->max);
	p = pst_put_varint(p, nb);
	for (unsigned i = 0; i < nb; i++)
		p = pst_put_varint(p, n->hist[i]);
	p = pst_put_varint(p, n->timed);
	p = pst_put_varint(p, n->stood_for);
	p = pst_put_varint(p, n->timed_sub);
	return p;
}

#define NODE_RECORD_MAX (19 * PST_VARINT_MAX + CCT_BUCKETS * 5)

/* Where a snapshot goes: the thread's own file (function ids), or the
 * process file for a thread still running (function addresses). */
struct snap_out {
	struct ps_thread *own; /* own file: the writing thread itself */
	uint32_t seq;	       /* process file: the thread's seq */
	uint32_t count;
};

static void emit_node(struct snap_out *o, struct ps_calls_thread *c, uint32_t id,
		      const struct cct_node *n)
{
	uint8_t buf[NODE_RECORD_MAX], *p = buf;
	if (o->own) {
		p = pst_put_varint(p, id);
		p = pst_put_varint(p, n->parent);
		p = pst_put_varint(p, func_id(o->own, c, n->fn));
		p = put_node_counts(p, n);
		ps_write_ext(o->own, PST_X_CCT_NODE, buf, (size_t)(p - buf));
	} else {
		p = pst_put_varint(p, o->seq);
		p = pst_put_varint(p, id);
		p = pst_put_varint(p, n->parent);
		p = pst_put_varint(p, n->fn);
		p = put_node_counts(p, n);
		ps_process_ext(PST_X_CCT_LIVE, buf, (size_t)(p - buf));
	}
	o->count++;
}

static void emit_end(struct snap_out *o)
{
	uint8_t buf[2 * PST_VARINT_MAX], *p = buf;
	if (o->own) {
		p = pst_put_varint(p, o->count);
		ps_write_ext(o->own, PST_X_CCT_END, buf, (size_t)(p - buf));
	} else {
		p = pst_put_varint(p, o->seq);
		p = pst_put_varint(p, o->count);
		ps_process_ext(PST_X_CCT_LIVE_END, buf, (size_t)(p - buf));
	}
}

/* Write c's tree as a full snapshot at `now`: calls still open on the
 * shadow stack count as ending now (as they would at the thread's end),
 * without changing the tree, so the thread can record on.
 *
 * May read another thread's state while it runs (live snapshots): every
 * load is bounded by what was published (nnodes after the node, nodes
 * arrays only grow and stay mapped, frames is fixed), so the read is
 * safe; the values of a call being counted right then may be off by it.
 * Open frames have increasing node ids from the root down (a child node is
 * created after its parent), which lets one pass pair them with nodes. */
static void write_snapshot(struct snap_out *o, struct ps_calls_thread *c, uint64_t now)
{
	uint32_t n = __atomic_load_n(&c->nnodes, __ATOMIC_ACQUIRE);
	const struct cct_node *nodes = __atomic_load_n(&c->nodes, __ATOMIC_ACQUIRE);
	uint32_t depth = __atomic_load_n(&c->depth, __ATOMIC_ACQUIRE);
	if (depth > c->cap)
		depth = c->cap;
	uint32_t k = 0;
	for (uint32_t id = 1; nodes && id < n; id++) {
		struct cct_node node = nodes[id];
		while (k < depth && c->frames[k].node < id)
			k++;
		if (k < depth && c->frames[k].node == id) {
			/* an open call (counted at its enter): its time so far,
			 * and its open child's, if that is this node's child */
			const struct call_frame *f = &c->frames[k];
			if (f->weight)
				node_account(&node, now > f->start ? now - f->start : 0, f->weight,
					     1); /* judged as a call alone, as it is cut short */
			const struct call_frame *in = k + 1 < depth ? &c->frames[k + 1] : NULL;
			if (in && in->weight && in->node != CCT_UNTRACKED && in->node < n &&
			    nodes[in->node].parent == id)
				node.kids += (now > in->start ? now - in->start : 0) * in->weight;
			k++;
		}
		emit_node(o, c, id, &node);
	}
	emit_end(o);
}

/* Close every open call at the thread's end (main() of a program that calls
 * exit() never returns), then write the tree. Runs with t->busy set. */
void ps_calls_thread_end(struct ps_thread *t)
{
	struct ps_calls_thread *c = t->calls;
	if (!c)
		return;
	ps_calls_pending_drain(t, c);
	uint64_t now = ps_now();
	c->overflow = 0;
	while (c->depth)
		pop(t, c, now);
	if (c->mode == PS_CALLS_TREE) {
		struct snap_out o = {.own = t};
		write_snapshot(&o, c, now);
	}
	ps_calls_free(t);
}

/* Before exec: the thread's tree as it is now, into its own file (exec
 * would lose it). If exec fails the thread records on; its end writes a
 * newer full snapshot, which readers take instead. Runs with t->busy set. */
void ps_calls_flush(struct ps_thread *t)
{
	struct ps_calls_thread *c = t->calls;
	if (!c)
		return;
	ps_calls_pending_drain(t, c);
	if (c->mode == PS_CALLS_TREE) {
		struct snap_out o = {.own = t};
		write_snapshot(&o, c, ps_now());
	}
}

/* At the process's end (or exec), from the thread ending it: the tree of
 * thread t, which is still running, into the process file (writing into
 * t's own stream is not safe). */
void ps_calls_write_live(struct ps_thread *t)
{
	struct ps_calls_thread *c = __atomic_load_n(&t->calls, __ATOMIC_ACQUIRE);
	if (!c || c->mode != PS_CALLS_TREE)
		return;
	struct snap_out o = {.seq = t->seq};
	write_snapshot(&o, c, ps_now());
}
