/*
 * The event clock. On x86 with an invariant TSC, ticks are TSC cycles
 * (a few ns cheaper per event than the vDSO clock); otherwise ticks are
 * CLOCK_MONOTONIC nanoseconds. The process file records which one and the
 * calibration against CLOCK_MONOTONIC (PROCESS_INFO, CLOCK_SYNC).
 */
#ifndef PS_CLOCK_H
#define PS_CLOCK_H

#include <stdint.h>
#include <time.h>

#include "profshim_trace.h"
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define PS_HAVE_TSC 1
#endif

extern int ps_clock_kind __attribute__((visibility("hidden"))); /* enum pst_clock */
extern uint64_t ps_ticks_per_sec_x1000;
extern uint32_t ps_clock_read_x16; /* one clock read, in ticks x 16 */

static inline uint64_t ps_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t ps_now(void)
{
#ifdef PS_HAVE_TSC
	if (__builtin_expect(ps_clock_kind == 1, 1))
		return __rdtsc() >> PST_TSC_SHIFT;
#endif
	return ps_mono_ns();
}

/* Choose the clock (PROFSHIM_CLOCK=tsc|mono overrides) and start
 * calibrating; ps_ticks_per_sec_x1000 is valid after ps_clock_settle(),
 * which ends the calibration (at least 40 us after ps_clock_init: usually
 * long past by then). Not in a signal handler. */
void ps_clock_init(void);
void ps_clock_settle(void);
/* "PROFSHIM_CLOCK_CAL=..." for the environment of an exec (the new image
 * skips calibrating), or NULL; and whether an entry is that variable. */
const char *ps_clock_exec_env(void);
int ps_clock_is_exec_env(const char *entry);
/* At the end or an exec: the TSC rate measured over the process's life so
 * far, into the process file (CLOCK_CAL), when it beats the start-up
 * estimate. */
void ps_clock_write_refined(void);
/* Convert a tick interval to nanoseconds with the calibration. */
uint64_t ps_ticks_to_ns(uint64_t ticks);

#endif
