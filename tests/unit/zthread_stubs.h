/* What preload/core/zthread.c takes from the rest of the shim, for the
 * unit tests that link the real compressor thread (test_zthread.c,
 * test_zmap.c): the signals it blocks, its log, and no zstd warm-up.
 * Included after zthread.c. */
#ifndef TEST_ZTHREAD_STUBS_H
#define TEST_ZTHREAD_STUBS_H

#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

/* What zthread.c takes from the rest of the shim. */
__thread struct ps_thread *ps_self;
__thread int ps_thread_over;
int ps_cpu_signal(void)
{
	return SIGPROF;
}
int ps_rss_signal(void)
{
	return 0;
}
void ps_log(const char *msg, ...)
{
	fprintf(stderr, "%s\n", msg);
}
int pw_z_warm(struct pw_zscratch *sc)
{
	(void)sc;
	return 0;
}

/* Before a test of the real compressor thread: false (the test is
 * skipped) with one CPU, where no compressor is made. Under ASan the
 * compressor is a glibc thread: ASan's runtime keeps per-thread state in
 * TLS, which a raw thread has not (the shim itself is never built with
 * it). */
static inline bool zthread_test_start(const char *file)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) < 2) {
		printf("%s: one CPU, no compressor thread: skipped\n", file);
		return false;
	}
#if defined(__SANITIZE_ADDRESS__)
	pw_zt_on = PW_ZT_PTHREAD;
#endif
	return true;
}

#endif
