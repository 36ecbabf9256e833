/*
 * Findings on waiting (io recorder): locks that threads queue on, and
 * loops that sleep or poll with a short timeout to check for something
 * instead of waiting for it.
 *
 * The io recorder records a lock only when it is contended (the try-lock
 * failed), so every recorded lock wait is time a thread could not run.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "findings_io.h"

/* lock_contention: one lock with this many contended acquisitions and
 * this much waiting, a share of the threads' time. */
#define LOCK_MIN_WAITS 5
#define LOCK_MIN_NS 10e6
#define LOCK_MIN_SHARE 0.01
/* short_sleep_poll: at one site this many wake-ups with nothing to do
 * (sleeps, or poll/select/epoll_wait timing out) of at most SHORT_NS
 * each, most of the site's calls, this often per second. */
#define SHORT_MIN_WAKEUPS 100
#define SHORT_NS 10e6
#define SHORT_MIN_SHARE 0.5
#define SHORT_MIN_RATE 10.0
#define WAKEUP_COST_NS 10000.0 /* two context switches and the loop's check: estimate */

static double threads_s(const struct pa_models *pm)
{
	double t = 0;
	for (size_t i = 0; i < pm->s->threads.len; i++) {
		const struct pa_thread *th = *(struct pa_thread **)pa_vec_at(&pm->s->threads, i);
		if (th->end_ticks > th->start_ticks)
			t += pa_ticks_to_ns(pm->s, th->end_ticks - th->start_ticks) / 1e9;
	}
	return t;
}

static const char *lock_name(unsigned op)
{
	switch (op) {
	case PST_IO_RDLOCK:
	case PST_IO_WRLOCK:
		return "rwlock";
	case PST_IO_SPIN:
		return "spinlock";
	default:
		return "mutex";
	}
}

/* Threads that waited on the lock at addr, and the site with most waits. */
static uint32_t lock_waiters(const struct io_model *m, uint64_t addr, struct fio_where *site)
{
	struct pa_pairmap seen;
	struct fio_tally sites;
	pa_pairmap_init(&seen);
	fio_tally_init(&sites);
	uint32_t n = 0;
	for (size_t i = 0; i < m->blocks.len; i++) {
		const struct io_block *b = pa_vec_at(&m->blocks, i);
		if (b->op < PST_IO_MUTEX || b->obj != addr)
			continue;
		fio_tally_add(&sites, 0, b->site, b);
		if (!pa_pairmap_get(&seen, b->thread, 0)) {
			pa_pairmap_put(&seen, b->thread, 0, 1);
			n++;
		}
	}
	*site = fio_tally_top(&sites, 0);
	fio_tally_free(&sites);
	pa_pairmap_free(&seen);
	return n;
}

void findings_lock_contention(const struct pa_models *pm, struct findings *out)
{
	const struct io_model *m = pm->io;
	if (!m || !m->locks.len)
		return;
	/* several threads wait at once: their waits are a share of all
	 * threads' time (the process's wall time would pass 100%) */
	double all = threads_s(pm);
	for (size_t i = 0; i < m->locks.len; i++) {
		const struct io_lock *l = pa_vec_at(&m->locks, i);
		double s = l->st.total_ns / 1e9;
		if (l->st.count < LOCK_MIN_WAITS || l->st.total_ns < LOCK_MIN_NS ||
		    s < LOCK_MIN_SHARE * all)
			continue;
		struct fio_where site;
		uint32_t threads = lock_waiters(m, l->addr, &site);
		char t[32], a[32], obj[64];
		/* a share of all threads' time: four threads waiting half of
		 * their time is half of what the process could have done */
		struct finding *f = finding_add(out, "lock_contention", fio_share(s, all));
		finding_impact(
		    f, s, "wall_seconds", 100 * fio_share(s, all),
		    "%s of thread time waiting for this %s (%.1f%% of all threads' time)",
		    finding_seconds(s, t, sizeof(t)), lock_name(l->op), 100 * fio_share(s, all));
		fio_site_where(pm, site, f);
		snprintf(obj, sizeof(obj), "%s at 0x%" PRIx64, lock_name(l->op), l->addr);
		finding_object(f, obj);
		finding_summary(f,
				"%" PRIu64 " contended acquisitions by %u threads, %s each on "
				"average (longest %s)",
				l->st.count, threads,
				finding_seconds(s / (double)l->st.count, a, sizeof(a)),
				finding_seconds(l->st.max_ns / 1e9, t, sizeof(t)));
		finding_count(f, "contentions", (double)l->st.count);
		finding_count(f, "wait_seconds", s);
		finding_count(f, "threads", threads);
		finding_count(f, "p99_ms", io_stat_pct(&l->st, 99) / 1e6);
		finding_recommend(f, "Hold the lock for less time (compute outside the critical "
				     "section), split it (per bucket or per thread, merged at the "
				     "end), or replace it with atomics; see the site's callers for "
				     "the hot path.");
	}
}

/* --- sleeping or polling in a loop --- */

static bool is_timed_wait(unsigned op)
{
	return op == PST_IO_SLEEP || op == PST_IO_POLL || op == PST_IO_SELECT ||
	       op == PST_IO_EPOLL_WAIT;
}

/* A wake-up with nothing to do: a short sleep, or a short poll that timed
 * out (result 0: no descriptor ready). */
static bool empty_wakeup(const struct io_block *b)
{
	if (b->unfinished || b->ns > SHORT_NS)
		return false;
	return b->op == PST_IO_SLEEP || b->result == 0;
}

struct wake_acc {
	uint64_t calls, empty, first, last;
	uint32_t stack; /* of the first empty wake-up that has one */
	uint64_t stack_ticks;
	struct pa_vec ns; /* double: the empty wake-ups' durations */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void short_sleep_finding(const struct pa_models *pm, uint32_t site, struct wake_acc *a,
				struct findings *out)
{
	const struct io_site *st = pa_vec_at(&pm->io->sites, site);
	double wall = fio_wall_s(pm);
	double span = pa_ticks_to_ns(pm->s, a->last - a->first) / 1e9;
	double rate = span > 0 ? (double)(a->empty - 1) / span : 0;
	qsort(a->ns.items, a->ns.len, sizeof(double), cmp_double);
	double p50 = ((double *)a->ns.items)[a->ns.len / 2];
	double cost = (double)a->empty * WAKEUP_COST_NS / 1e9;
	char t[32], u[32];
	struct finding *f = finding_add(out, "short_sleep_poll", fio_share(cost, wall));
	finding_impact(f, cost, "cpu_seconds", 100 * fio_share(cost, wall),
		       "%" PRIu64 " wake-ups with nothing to do (about %s of CPU, estimated), and "
		       "up to %s of delay before each event is seen",
		       a->empty, finding_seconds(cost, t, sizeof(t)),
		       finding_seconds(p50 / 1e9, u, sizeof(u)));
	fio_site_where(pm, (struct fio_where){site, a->stack, a->stack_ticks}, f);
	bool sleep = st->op == PST_IO_SLEEP;
	finding_summary(f, "%s in a loop: %" PRIu64 " %s of %s (median), %.0f per second",
			sleep ? "sleeping" : "polling with a short timeout", a->empty,
			sleep ? "sleeps" : "timeouts", finding_seconds(p50 / 1e9, t, sizeof(t)),
			rate);
	finding_count(f, "wakeups", (double)a->empty);
	finding_count(f, "calls", (double)a->calls);
	finding_count(f, "median_ms", p50 / 1e6);
	finding_count(f, "per_second", rate);
	finding_count(f, "syscalls_saved", (double)a->empty);
	finding_recommend(f, "Wait for the event itself (a condition variable, a pipe or eventfd "
			     "in the poll set, or no timeout) instead of waking up to check; if "
			     "polling is unavoidable, back off to longer intervals.");
}

void findings_short_sleeps(const struct pa_models *pm, struct findings *out)
{
	const struct io_model *m = pm->io;
	if (!m || !m->calls || !m->sites.len)
		return;
	struct wake_acc *acc = pa_xcalloc(m->sites.len, sizeof(*acc));
	for (size_t i = 0; i < m->sites.len; i++)
		pa_vec_init(&acc[i].ns, sizeof(double));
	for (size_t i = 0; i < m->blocks.len; i++) {
		const struct io_block *b = pa_vec_at(&m->blocks, i);
		if (!is_timed_wait(b->op) || b->site >= m->sites.len)
			continue;
		struct wake_acc *a = &acc[b->site];
		a->calls++;
		if (!empty_wakeup(b))
			continue;
		if (!a->empty++)
			a->first = b->ticks;
		a->last = b->ticks;
		*(double *)pa_vec_push(&a->ns) = b->ns;
		if (b->stack && !a->stack) {
			a->stack = b->stack;
			a->stack_ticks = b->end;
		}
	}
	for (uint32_t i = 0; i < m->sites.len; i++) {
		struct wake_acc *a = &acc[i];
		double span = pa_ticks_to_ns(m->s, a->last - a->first) / 1e9;
		if (a->empty >= SHORT_MIN_WAKEUPS &&
		    (double)a->empty >= SHORT_MIN_SHARE * (double)a->calls && span > 0 &&
		    (double)(a->empty - 1) / span >= SHORT_MIN_RATE)
			short_sleep_finding(pm, i, a, out);
		pa_vec_free(&a->ns);
	}
	free(acc);
}
