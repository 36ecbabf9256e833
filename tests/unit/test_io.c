/* Unit tests: the io recorder's encodings and the io model's helpers. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "io_model.h"
#include "profshim_trace.h"
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

int main(void)
{
	zigzag_round_trips();
	op_classes();
	bytes_of_calls();
	percentiles_nearest_rank();
	return UNIT_DONE();
}
