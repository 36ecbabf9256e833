/*
 * The io recorder: its settings, the IO record and the stack policy, and
 * its descriptor for the core (recorder.h). The wrappers live in
 * io_files.c, io_stdio.c, io_net.c and io_wait.c; the descriptor table in
 * io_fd.c.
 *
 * Stack policy: counts, bytes and durations are exact for every call (one
 * record each, with the caller's return address as its site); a stack is
 * unwound only for calls of at least PROFSHIM_IO_STACK_US, for the first
 * call of each site, and for one in PROFSHIM_IO_SAMPLE of the shorter
 * ones, so syscall-heavy servers pay an unwind (a few µs) on a small share
 * of their calls.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "recorder.h"

volatile int ps_io_on;
__thread int ps_io_depth PS_TLS;
static __thread uint32_t io_countdown PS_TLS; /* short calls until the next stacked one */

static uint64_t stack_ns = 100000; /* PROFSHIM_IO_STACK_US = 100 */
static uint64_t stack_ticks;
static uint32_t sample_every = 1024; /* PROFSHIM_IO_SAMPLE */

bool ps_io_begin_slow(struct io_call *c)
{
	if (ps_in_shim(c->site))
		return false; /* the shim's own I/O */
	struct ps_thread *t = ps_self;
	if (PS_UNLIKELY(!t)) {
		int saved = errno;
		t = ps_thread_get();
		errno = saved;
		if (!t)
			return false;
	}
	if (t->busy)
		return false;
	if (ps_io_depth) {
		t->counters[PST_C_DROP_IO_NESTED]++;
		return false;
	}
	c->t = t;
	c->published = false;
	ps_io_depth = 1;
	c->start = ps_now();
	return true;
}

static uint64_t capture_stack(struct ps_thread *t)
{
	uintptr_t pcs[PS_MAX_CAPTURE];
	int trunc = 0;
	/* A CPU sample cannot walk the stack while libunwind does (its lock):
	 * it waits for this stack instead, as in the memory hooks. */
	t->unwinding = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	int n = ps_unwind_here(pcs, (int)ps_cfg.stack_depth, &trunc);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->unwinding = 0;
	if (PS_UNLIKELY(t->cpu_pending))
		ps_cpu_hook_stack(t, pcs, n);
	if (trunc)
		t->counters[PST_C_DROP_STACK_TRUNC]++;
	t->counters[PST_C_IO_STACKS]++;
	return ps_stack_intern(t, pcs, n);
}

static bool wants_stack(uint64_t dur)
{
	if (dur >= stack_ticks)
		return true;
	if (!sample_every)
		return false;
	if (io_countdown == 0) {
		/* a random phase so periodic patterns do not hide sites */
		io_countdown = (uint32_t)(ps_now() % sample_every) + 1;
	}
	if (--io_countdown == 0) {
		io_countdown = sample_every;
		return true;
	}
	return false;
}

/* Write the IO record of call c ended at `end`; t entered. */
void ps_io_write(struct ps_thread *t, const struct io_call *c, uint64_t end, unsigned op,
		 uint32_t desc, uint64_t obj, uint64_t asked, int64_t result)
{
	uint64_t dur = end > c->start ? end - c->start : 0;
	/* the site as a one-frame STACK node: a table lookup here, a byte or
	 * two in the record instead of a full address */
	bool new_site;
	uint64_t site = ps_stack_intern_site(t, c->site, &new_site);
	/* every site's first call has a stack: each site in the reports (and
	 * in the off-CPU profile) has one, at the cost of one unwind per site */
	uint64_t stack = wants_stack(dur) || new_site ? capture_stack(t) : 0;
	uint8_t *p = ps_reserve(t, 9 * PST_VARINT_MAX);
	if (!p)
		return;
	p = pst_put_tag(p, ps_dt(t, end), PST_K_IO);
	p = pst_put_varint(p, op);
	p = pst_put_varint(p, desc);
	p = pst_put_varint(p, obj);
	p = pst_put_varint(p, asked);
	p = pst_put_varint(p, pst_zigzag(result));
	p = pst_put_varint(p, dur);
	p = pst_put_varint(p, site);
	p = pst_put_varint(p, stack);
	ps_commit(t, p);
	t->counters[PST_C_IO_CALLS]++;
}

void ps_io_end(struct io_call *c, unsigned op, uint32_t desc, uint64_t obj, uint64_t asked,
	       int64_t result)
{
	uint64_t end = ps_now();
	int saved = errno;
	struct ps_thread *t = io_enter(c);
	if (t) {
		ps_io_write(t, c, end, op, desc, obj, asked, result);
		ps_leave(t);
	}
	errno = saved;
}

void ps_io_end_fd(struct io_call *c, unsigned op, int fd, uint64_t asked, int64_t result)
{
	uint64_t end = ps_now();
	int saved = errno;
	struct ps_thread *t = io_enter(c);
	if (t) {
		uint32_t desc = ps_io_fd_desc(t, fd);
		ps_io_write(t, c, end, op, desc, fd >= 0 ? (uint64_t)fd + 1 : 0, asked, result);
		ps_leave(t);
	}
	errno = saved;
}

/* --- settings --- */

static void load_uint(const char *var, uint64_t max, const char *accepts, uint64_t *out)
{
	const char *v = getenv(var);
	if (!v || !*v)
		return;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || *end || v[0] == '-' || x > max) {
		ps_log("ignoring ", var, "=", v, ": expected ", accepts, NULL);
		return;
	}
	*out = x;
}

static void io_init(void)
{
	uint64_t us = stack_ns / 1000, every = sample_every;
	load_uint("PROFSHIM_IO_STACK_US", 60000000, "microseconds from 0 (every call) to 60000000",
		  &us);
	load_uint("PROFSHIM_IO_SAMPLE", 1u << 20,
		  "a number N from 0 (no short call) to 1048576 (one short call in N)", &every);
	stack_ns = us * 1000;
	sample_every = (uint32_t)every;
	/* ticks = ns x ticks per second / 10^9 */
	stack_ticks = (uint64_t)((double)stack_ns * (double)ps_ticks_per_sec_x1000 / 1e12);
}

/* IO_CONFIG into the process file: the reader's key to the stack policy. */
static void write_config(void)
{
	uint8_t buf[32], *p = buf;
	p = pst_put_varint(p, stack_ns);
	p = pst_put_varint(p, sample_every);
	p = pst_put_varint(p, 1);
	ps_process_ext(PST_X_IO_CONFIG, buf, (size_t)(p - buf));
}

/* The descriptors the process came with, listed while the table is small:
 * /proc/self/fd walks every slot of it, and the shim's high descriptors
 * make it thousands long (13 us against 50 here). Nothing is recorded yet
 * (ps_io_on is 0), so the listing's own open and close pass unseen. */
static int listed_early;
static void io_before_files(void)
{
	if (!(ps_cfg.record & PST_REC_IO))
		return;
	ps_io_fd_init();
	listed_early = 1;
}

static void io_start(void)
{
	if (!(ps_cfg.record & PST_REC_IO) || ps_disabled)
		return;
	struct ps_thread *t = ps_self;
	if (!listed_early && t && ps_enter(t)) { /* its open and close unrecorded */
		ps_io_fd_init();
		ps_leave(t);
	}
	write_config();
	ps_io_on = 1;
}

/* A forked child: its own process file needs the settings and the
 * descriptions of what it holds (the parent's are in the parent's files).
 * Nothing is needed before exec: every call is written when it ends. */
static void io_after_fork(int side)
{
	if (!ps_io_on)
		return;
	if (side == PS_FORK_CHILD_OFF) {
		ps_io_on = 0;
		return;
	}
	if (side != PS_FORK_CHILD)
		return;
	ps_io_depth = 0;
	struct ps_thread *t = ps_self;
	if (t && ps_enter(t)) {
		ps_io_fd_fork_child();
		ps_leave(t);
	}
	write_config();
}

/* At the process's end, from the exiting thread: the wait thread t is in
 * (a worker blocked in pthread_cond_wait, a pool at shutdown) would never
 * be recorded. It goes into the process file (never into t's stream) as
 * IO_OPEN, ending now; the exchange makes sure that a wait returning at
 * this moment is recorded once, by one side. */
static void io_flush_other(struct ps_thread *t)
{
	if (!ps_io_on)
		return;
	uint64_t start = __atomic_exchange_n(&t->io_open_start, 0, __ATOMIC_ACQ_REL);
	if (!start)
		return;
	uint8_t buf[8 * PST_VARINT_MAX], *p = buf;
	unsigned op = t->io_open_op;
	uint64_t obj = t->io_open_obj;
	p = pst_put_varint(p, t->seq);
	p = pst_put_varint(p, op);
	p = pst_put_varint(p, obj);
	p = pst_put_varint(p, start);
	p = pst_put_varint(p, ps_now());
	p = pst_put_varint(p, t->io_open_site);
	/* a descriptor call: its file or peer, as far as the table knows it */
	p = pst_put_varint(p, op < PST_IO_POLL && obj ? ps_io_fd_known((int)obj - 1) : 0);
	ps_process_ext(PST_X_IO_OPEN, buf, (size_t)(p - buf));
}

const struct ps_recorder ps_recorder_io = {
    .name = "io",
    .before_files = io_before_files,
    .init = io_init,
    .start = io_start,
    .after_fork = io_after_fork,
    .flush_other = io_flush_other,
};
