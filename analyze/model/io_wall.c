/*
 * CPU time inside recorded calls (see io_model_take_cpu in io_model.h).
 *
 * The CPU timer counts user and system time: a read() of /dev/zero or a
 * send() that copies a large buffer is mostly on CPU, and its samples land
 * inside the call's recorded interval. Counting both the samples and the
 * call's whole duration would charge that time twice (on CPU and I/O), so
 * the wall-time split and --data=wall would exceed the thread's wall time.
 * Each sample inside a call is taken off that call's blocked time (never
 * below zero); the call's duration in the per-file and per-site tables is
 * unchanged (it is what the program waited for).
 *
 * Most system-call CPU time is not located that way: a timer expiry in
 * the kernel is signalled late (the sampler charges it at the thread's
 * next sample or its end). So, per thread, whatever on CPU + blocked
 * still exceeds the wall time is CPU time spent inside recorded calls: it
 * is taken off the thread's blocked calls, first off the calls that do
 * work in the kernel (files, network) in proportion to their blocked
 * time, then off the waits and locks (spinning before the futex).
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "io_model.h"
#include "sample_model.h"

struct ref {
	uint64_t ticks;
	uint32_t thread, index;
};

static int cmp_ref(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	return x->ticks < y->ticks ? -1 : x->ticks > y->ticks;
}

static struct ref *block_refs(const struct io_model *m)
{
	struct ref *r = pa_xcalloc(m->blocks.len + 1, sizeof(*r));
	for (size_t i = 0; i < m->blocks.len; i++) {
		const struct io_block *b = pa_vec_at(&m->blocks, i);
		r[i] = (struct ref){b->ticks, b->thread, (uint32_t)i};
	}
	qsort(r, m->blocks.len, sizeof(*r), cmp_ref);
	return r;
}

static struct ref *sample_refs(const struct cpu_model *cpu)
{
	struct ref *r = pa_xcalloc(cpu->samples_v.len + 1, sizeof(*r));
	for (size_t i = 0; i < cpu->samples_v.len; i++) {
		const struct cpu_sample *cs = pa_vec_at(&cpu->samples_v, i);
		r[i] = (struct ref){cs->ticks, cs->thread, (uint32_t)i};
	}
	qsort(r, cpu->samples_v.len, sizeof(*r), cmp_ref);
	return r;
}

/* Sample s (CPU time cpu_ns) fell inside block b: move it off b. */
static void take(struct io_model *m, struct io_block *b, double cpu_ns)
{
	double taken = cpu_ns < b->off_ns ? cpu_ns : b->off_ns;
	b->off_ns -= taken;
	const struct io_site *site = pa_vec_at(&m->sites, b->site);
	if (b->thread >= m->threads.len)
		return;
	struct io_thread *th = pa_vec_at(&m->threads, b->thread);
	th->ns[site->cls] = th->ns[site->cls] > taken ? th->ns[site->cls] - taken : 0;
}

static bool is_work(const struct io_model *m, const struct io_block *b)
{
	const struct io_site *site = pa_vec_at(&m->sites, b->site);
	return site->cls == IO_CLASS_FILE || site->cls == IO_CLASS_NET;
}

/* Thread i's on CPU + blocked time beyond its wall time (0 if none). */
static double thread_excess(const struct io_model *m, const struct cpu_model *cpu, size_t i)
{
	const struct pa_session *s = m->s;
	const struct pa_thread *t = *(struct pa_thread **)pa_vec_at(&s->threads, i);
	const struct io_thread *th = pa_vec_at(&m->threads, i);
	double wall =
	    pa_ticks_to_ns(s, t->end_ticks > t->start_ticks ? t->end_ticks - t->start_ticks : 0);
	double used = 0;
	if (i < cpu->threads.len) {
		const struct cpu_thread_stats *ts = pa_vec_at(&cpu->threads, i);
		used = (double)ts->weight * cpu->period_s * 1e9;
	}
	for (unsigned c = 0; c < IO_CLASS_N; c++)
		used += th->ns[c];
	return used > wall ? used - wall : 0;
}

/* Per thread: [0] excess, [1] blocked in file and network calls, then
 * the share of it to take. */
static void take_excess(struct io_model *m, const struct cpu_model *cpu)
{
	size_t nt = m->threads.len < m->s->threads.len ? m->threads.len : m->s->threads.len;
	double(*x)[2] = pa_xcalloc(nt + 1, sizeof(*x));
	bool any = false;
	for (size_t i = 0; i < nt; i++)
		any |= (x[i][0] = thread_excess(m, cpu, i)) > 0;
	for (size_t i = 0; any && i < m->blocks.len; i++) {
		const struct io_block *b = pa_vec_at(&m->blocks, i);
		if (b->thread < nt && is_work(m, b))
			x[b->thread][1] += b->off_ns;
	}
	for (size_t i = 0; any && i < nt; i++) {
		double e = x[i][0], work = x[i][1];
		x[i][1] = work > 0 ? (e >= work ? 1.0 : e / work) : 0;
		struct io_thread *th = pa_vec_at(&m->threads, i);
		th->cpu_over_ns = e > work ? e - work : 0;
	}
	for (size_t i = 0; any && i < m->blocks.len; i++) {
		struct io_block *b = pa_vec_at(&m->blocks, i);
		if (b->thread < nt && x[b->thread][0] > 0 && is_work(m, b))
			take(m, b, b->off_ns * x[b->thread][1]);
	}
	free(x);
}

/* Of the CPU time sample cs carries, what can have been spent inside
 * call b: a sample's weight is the CPU time since the thread's previous
 * sample (at `since`), and no more of it than the wall time from the
 * call's start (or that previous sample) to this one was inside the call.
 * A sample that lands in a sleep's hook just before the system call
 * carries the CPU time of the loop that ran before: it is not taken off
 * the sleep. */
static double inside_call(const struct pa_session *s, const struct io_block *b, uint64_t since,
			  const struct cpu_sample *cs, double period_ns)
{
	uint64_t from = since > b->ticks ? since : b->ticks;
	double cpu_ns = (double)cs->weight * period_ns;
	double wall_ns = pa_ticks_to_ns(s, cs->ticks > from ? cs->ticks - from : 0);
	return cpu_ns < wall_ns ? cpu_ns : wall_ns;
}

void io_model_take_cpu(struct io_model *m, const struct cpu_model *cpu)
{
	if (!m || !cpu || !m->blocks.len)
		return;
	struct ref *bl = block_refs(m), *sa = sample_refs(cpu);
	size_t nb = m->blocks.len, ns = cpu->samples_v.len, k = 0;
	double period_ns = cpu->period_s * 1e9;
	/* both sorted by (thread, time); a thread's recorded calls do not
	 * overlap (a call inside a recorded call is not recorded) */
	uint64_t prev_ticks = 0; /* the thread's sample before this one */
	for (size_t i = 0; i < ns; i++) {
		const struct cpu_sample *cs = pa_vec_at(&cpu->samples_v, sa[i].index);
		uint64_t since = i && sa[i - 1].thread == sa[i].thread ? prev_ticks : 0;
		prev_ticks = cs->ticks;
		while (k < nb) {
			const struct io_block *b = pa_vec_at(&m->blocks, bl[k].index);
			if (b->thread > cs->thread ||
			    (b->thread == cs->thread && b->end >= cs->ticks))
				break;
			k++;
		}
		if (k == nb)
			break;
		struct io_block *b = pa_vec_at(&m->blocks, bl[k].index);
		if (b->thread == cs->thread && b->ticks <= cs->ticks && cs->ticks <= b->end)
			take(m, b, inside_call(m->s, b, since, cs, period_ns));
	}
	free(bl);
	free(sa);
	take_excess(m, cpu);
}
