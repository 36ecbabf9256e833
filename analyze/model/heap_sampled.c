/*
 * Sampling mode's peak and leak from exact live bytes: see heap_sampled.h.
 *
 * Why this bound holds whatever the sample: live usable bytes L are exact
 * at each MEM_USABLE record of a thread, and the record carries the
 * thread's highest live value since its previous record, so for a
 * single-threaded program the usable peak is exact (with several threads,
 * the others' values are as of their last record: each thread writes one
 * at most about M allocated or M freed bytes apart). Requested bytes are L
 * x (1 - r), r the slack share (usable - requested) / usable of the live
 * heap, estimated from the sampled live blocks as a ratio of two
 * Horvitz-Thompson sums. r is a share between 0 and 1 (glibc: a few
 * percent), so the error of the peak is at most L x max(r, 1 - r)'s
 * deviation, in practice one or two percent of r's few percent; the
 * stated error is its linearized standard deviation.
 */
#include <math.h>
#include <stdlib.h>

#include "heap_sampled.h"

struct usable_thread {
	int64_t live; /* alloc - freed at its last record */
};

struct heap_usable {
	struct pa_vec threads; /* struct usable_thread per thread index */
	int64_t live_sum;      /* sum of the threads' live values */
	/* live sampled blocks: sums of w x usable and w x slack, and the
	 * pieces of their variances, sum of w (w - 1) x (slack^2, slack x
	 * usable, usable^2) */
	double su, ss, vss, vsu, vuu;
	/* every sampled block so far (the share when none is live) */
	double all_su, all_ss;
	double peak_ht; /* the sampled estimate of live bytes at the peak */
	/* sampled blocks seen by MEM_USABLE: (addr, 0) -> slack + 2 while
	 * live, 1 once gone (the map has no removal) */
	struct pa_pairmap slack;
};

static struct heap_usable *usable_of(struct heap_model *m)
{
	if (!m->usable) {
		m->usable = pa_xcalloc(1, sizeof(*m->usable));
		pa_vec_init(&m->usable->threads, sizeof(struct usable_thread));
		pa_pairmap_init(&m->usable->slack);
	}
	return m->usable;
}

/* The weight of a sampled block of `size` bytes, as the heap model's
 * (1 / (1 - exp(-size / M))), kept here so that what a block adds is
 * exactly what it takes away. */
static double block_weight_of(const struct heap_model *m, uint64_t size)
{
	double p = -expm1(-(double)(size ? size : 1) / m->sample_bytes);
	return p > 0 ? 1.0 / p : 1.0;
}

/* A sampled block of `size` requested bytes and `slack` more in the
 * allocator becomes live (sign +1) or goes (-1). */
static void usable_block(struct heap_usable *u, double w, uint64_t size, uint64_t slack, int sign)
{
	double us = (double)(size + slack), sl = (double)slack, v = w * (w - 1);
	u->su += sign * w * us;
	u->ss += sign * w * sl;
	u->vss += sign * v * sl * sl;
	u->vsu += sign * v * sl * us;
	u->vuu += sign * v * us * us;
	if (sign > 0) {
		u->all_su += w * us;
		u->all_ss += w * sl;
	}
}

/* The sampled block at addr (just allocated) is `usable` bytes in the
 * allocator. */
static void block_usable(struct heap_model *m, struct heap_usable *u, uint64_t addr,
			 uint64_t usable)
{
	uint64_t size;
	if (!heap_block_size(m, addr, &size) || usable < size ||
	    pa_pairmap_get(&u->slack, addr, 0) >= 2)
		return;
	uint64_t slack = usable - size;
	if (slack > UINT32_MAX - 2)
		slack = UINT32_MAX - 2;
	pa_pairmap_put(&u->slack, addr, 0, (uint32_t)slack + 2);
	usable_block(u, block_weight_of(m, size), size, slack, +1);
}

void heap_usable_release(struct heap_model *m, uint64_t addr, uint64_t size)
{
	struct heap_usable *u = m->usable;
	uint32_t v = pa_pairmap_get(&u->slack, addr, 0);
	if (v < 2)
		return;
	usable_block(u, block_weight_of(m, size), size, v - 2, -1);
	pa_pairmap_put(&u->slack, addr, 0, 1);
}

/* The slack share r of the live heap and its variance (a ratio
 * estimator, linearized). Sums of adds and removes leave dust: a live
 * sum under one byte is none. */
static double slack_share(const struct heap_usable *u, double *var)
{
	*var = 0;
	if (u->su < 1.0)
		return u->all_su >= 1.0 ? u->all_ss / u->all_su : 0;
	double r = u->ss / u->su;
	if (r < 0)
		r = 0;
	if (r > 1)
		r = 1;
	double v = u->vss - 2 * r * u->vsu + r * r * u->vuu;
	*var = v > 0 ? v / (u->su * u->su) : 0;
	return r;
}

void heap_usable_event(struct heap_model *m, const struct pa_event *ev)
{
	/* zeros: the allocator has no malloc_usable_size; the sampled
	 * estimates stand */
	if (!ev->u.usable.alloc && !ev->u.usable.freed)
		return;
	struct heap_usable *u = usable_of(m);
	if (!m->usable_mode) {
		/* the sampled peak so far (a sample or two) gives way */
		m->usable_mode = true;
		m->peak_bytes = 0;
		m->peak_var_bytes = 0;
	}
	if (ev->u.usable.addr)
		block_usable(m, u, ev->u.usable.addr, ev->u.usable.block);
	while (u->threads.len <= ev->thread->index)
		pa_vec_push(&u->threads);
	struct usable_thread *t = pa_vec_at(&u->threads, ev->thread->index);
	int64_t live = (int64_t)(ev->u.usable.alloc - ev->u.usable.freed);
	u->live_sum += live - t->live;
	t->live = live;
	int64_t high = ev->u.usable.high > live ? ev->u.usable.high : live;
	double at_high = (double)(u->live_sum - live + high), var;
	if (at_high <= 0)
		return;
	double r = slack_share(u, &var);
	double requested = at_high * (1 - r);
	if (requested > m->peak_bytes) {
		m->peak_bytes = requested;
		m->peak_var_bytes = at_high * at_high * var;
		m->peak_ticks = ev->ticks;
		m->peak_epoch++; /* the sites' shares are taken now */
		u->peak_ht = m->live_bytes;
	}
}

/* Sites' estimated shares, scaled so that they add up to the total. */
static void scale_sites(struct heap_model *m, double peak_factor, double live_factor)
{
	for (size_t i = 0; i < m->sites.len; i++) {
		struct heap_site *site = pa_vec_at(&m->sites, i);
		site->peak_bytes *= peak_factor;
		site->live_bytes *= live_factor;
		site->live_between_marks *= live_factor;
	}
}

void heap_usable_finish(struct heap_model *m)
{
	if (!m->usable_mode || (m->o && m->o->thread >= 0))
		return;
	struct heap_usable *u = m->usable;
	const uint64_t *c = m->s->counters;
	/* the threads' final counts: exact live usable bytes at the end (a
	 * forked child freeing its parent's blocks could go below 0) */
	double live = (double)(int64_t)(c[PST_C_MEM_USABLE_ALLOC] - c[PST_C_MEM_USABLE_FREED]);
	if (live < 0)
		live = 0;
	double var, r = slack_share(u, &var);
	double leaked = live * (1 - r);
	double peak_factor = u->peak_ht > 0 ? m->peak_bytes / u->peak_ht : 1;
	double live_factor = m->live_bytes > 0 ? leaked / m->live_bytes : 1;
	scale_sites(m, peak_factor, live_factor);
	m->live_bytes = leaked;
	m->live_var_bytes = live * live * var;
	/* a leak no sampled block shows is still a leak of at least one */
	if (leaked >= 1 && m->live_blocks < 1)
		m->live_blocks = 1;
	if (m->peak_bytes < leaked) {
		m->peak_bytes = leaked;
		m->peak_var_bytes = m->live_var_bytes;
	}
}

void heap_usable_free(struct heap_model *m)
{
	if (!m->usable)
		return;
	pa_vec_free(&m->usable->threads);
	pa_pairmap_free(&m->usable->slack);
	free(m->usable);
	m->usable = NULL;
}
