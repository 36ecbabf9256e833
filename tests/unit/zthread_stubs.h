/* What preload/core/zthread.c takes from the rest of the shim, for the
 * unit tests that link the real compressor thread (test_zthread.c,
 * test_zmap.c): the signals it blocks, its log, and no zstd warm-up.
 * Included after zthread.c. */
#ifndef TEST_ZTHREAD_STUBS_H
#define TEST_ZTHREAD_STUBS_H

#include <signal.h>
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

#endif
