/* Unit tests: the io recorder's encodings and the io model's helpers. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "io_model.h"
#include "profshim_trace.h"
#include "sample_model.h"
#include "session.h"
#include "unit.h"

static void zigzag_round_trips(void)
{
	const int64_t values[] = {0, 1, -1, 4096, -4, -EINTR, INT64_MAX, INT64_MIN, INT64_MIN + 1};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		CHECK(pst_unzigzag(pst_zigzag(values[i])) == values[i]);
	/* small magnitudes stay one byte: -errno and short counts */
	CHECK(pst_zigzag(-4) == 7);
	CHECK(pst_zigzag(63) == 126);
	CHECK(pst_unzigzag(UINT64_MAX) == INT64_MIN);
}

static void op_classes(void)
{
	CHECK(io_op_class(PST_IO_READ, PST_FD_FILE) == IO_CLASS_FILE);
	CHECK(io_op_class(PST_IO_READ, PST_FD_PIPE) == IO_CLASS_FILE);
	CHECK(io_op_class(PST_IO_READ, PST_FD_TCP) == IO_CLASS_NET);
	CHECK(io_op_class(PST_IO_WRITE, PST_FD_UNIX) == IO_CLASS_NET);
	CHECK(io_op_class(PST_IO_SEND, 0) == IO_CLASS_NET);
	CHECK(io_op_class(PST_IO_POLL, 0) == IO_CLASS_WAIT);
	CHECK(io_op_class(PST_IO_WAITPID, 0) == IO_CLASS_WAIT);
	CHECK(io_op_class(PST_IO_MUTEX, 0) == IO_CLASS_LOCK);
	CHECK(io_op_class(PST_IO_SPIN, 0) == IO_CLASS_LOCK);
	CHECK(!strcmp(io_op_name(PST_IO_STDIO_WRITE), "stdio_write"));
	CHECK(!strcmp(io_op_name(PST_IO_OP_MAX + 5), "io"));
}

static void bytes_of_calls(void)
{
	bool rd, wr;
	CHECK(io_call_bytes(PST_IO_READ, 100, 60, &rd, &wr) == 60 && rd && !wr);
	CHECK(io_call_bytes(PST_IO_WRITE, 6000, 4096, &rd, &wr) == 4096 && wr && !rd);
	CHECK(io_call_bytes(PST_IO_WRITE, 10, -EINTR, &rd, &wr) == 0 && wr);
	/* mmsg: the bytes moved are in `asked`, the result counts messages */
	CHECK(io_call_bytes(PST_IO_SENDMMSG, 300, 3, &rd, &wr) == 300 && wr);
	CHECK(io_call_bytes(PST_IO_RECVMMSG, 300, -EAGAIN, &rd, &wr) == 0 && rd);
	CHECK(io_call_bytes(PST_IO_FSYNC, 0, 0, &rd, &wr) == 0 && !rd && !wr);
}

static void percentiles_nearest_rank(void)
{
	struct io_stat st;
	memset(&st, 0, sizeof(st));
	pa_vec_init(&st.durs, sizeof(double));
	CHECK(io_stat_pct(&st, 50) == 0);
	for (int i = 1; i <= 100; i++)
		*(double *)pa_vec_push(&st.durs) = i;
	CHECK(io_stat_pct(&st, 50) == 50);
	CHECK(io_stat_pct(&st, 95) == 95);
	CHECK(io_stat_pct(&st, 99) == 99);
	CHECK(io_stat_pct(&st, 100) == 100);
	CHECK(io_stat_pct(&st, 0) == 1);
	pa_vec_free(&st.durs);
}

/* One thread (clock: 1 tick = 1 ns, 10 ms periods), calls and samples
 * at the given times; what io_model_take_cpu leaves of each call. */
struct take_case {
	uint64_t call[2][2];   /* [start, end) of two calls, ms */
	uint64_t sample[4][2]; /* (ms, weight) of up to four samples, 0 = none */
	double left_ms[2];     /* off_ns left of each call, ms */
};

static void run_take_case(const struct take_case *tc)
{
	const uint64_t ms = 1000000;
	struct pa_session s = {0};
	s.ticks_per_ns = 1;
	pa_vec_init(&s.threads, sizeof(struct pa_thread *));
	struct pa_thread t = {0};
	t.end_ticks = 1000 * ms;
	*(struct pa_thread **)pa_vec_push(&s.threads) = &t;
	struct io_model m = {0};
	m.s = &s;
	pa_vec_init(&m.sites, sizeof(struct io_site));
	pa_vec_init(&m.threads, sizeof(struct io_thread));
	pa_vec_init(&m.blocks, sizeof(struct io_block));
	((struct io_site *)pa_vec_push(&m.sites))->cls = IO_CLASS_WAIT;
	struct io_thread *th = pa_vec_push(&m.threads);
	for (int i = 0; i < 2; i++) {
		struct io_block *b = pa_vec_push(&m.blocks);
		b->ticks = tc->call[i][0] * ms;
		b->end = tc->call[i][1] * ms;
		b->ns = b->off_ns = (double)(b->end - b->ticks);
		th->ns[IO_CLASS_WAIT] += b->ns;
	}
	struct cpu_model c = {0};
	c.s = &s;
	c.period_s = 0.010;
	pa_vec_init(&c.samples_v, sizeof(struct cpu_sample));
	pa_vec_init(&c.threads, sizeof(struct cpu_thread_stats));
	for (int i = 0; i < 4 && tc->sample[i][1]; i++) {
		struct cpu_sample *cs = pa_vec_push(&c.samples_v);
		cs->ticks = tc->sample[i][0] * ms;
		cs->weight = tc->sample[i][1];
	}
	io_model_take_cpu(&m, &c);
	for (int i = 0; i < 2; i++) {
		const struct io_block *b = pa_vec_at(&m.blocks, (size_t)i);
		double left = b->off_ns / (double)ms;
		CHECK(left > tc->left_ms[i] - 1e-6 && left < tc->left_ms[i] + 1e-6);
	}
	pa_vec_free(&c.samples_v);
	pa_vec_free(&c.threads);
	pa_vec_free(&m.blocks);
	pa_vec_free(&m.threads);
	pa_vec_free(&m.sites);
	pa_vec_free(&s.threads);
}

/* CPU samples inside a call are taken off its blocked time, but never
 * more than the wall time the call (or the time since the thread's
 * previous sample) had run: a sample's weight is CPU time since the
 * previous sample, mostly before the call when the call just began. */
static void samples_inside_calls(void)
{
	static const struct take_case cases[] = {
	    /* a sleep of 30 ms at 100 ms, a sample 1 ms in carrying 10 ms of
	     * the loop before it: 1 ms taken, not 10 */
	    {{{100, 130}, {500, 510}}, {{101, 1}}, {29, 10}},
	    /* a read of 50 ms on CPU: five samples inside, 50 ms taken */
	    {{{0, 50}, {500, 510}}, {{10, 1}, {20, 1}, {30, 1}, {45, 1}}, {10, 10}},
	    /* the previous sample 2 ms before the second: 2 ms of its 30 */
	    {{{100, 200}, {300, 400}}, {{150, 1}, {152, 3}}, {88, 100}},
	    /* samples outside every call take nothing */
	    {{{100, 200}, {300, 400}}, {{250, 5}, {450, 1}}, {100, 100}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_take_case(&cases[i]);
}

int main(void)
{
	zigzag_round_trips();
	op_classes();
	bytes_of_calls();
	percentiles_nearest_rank();
	samples_inside_calls();
	return UNIT_DONE();
}
