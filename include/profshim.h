/*
 * profshim public API — markers, start/stop and live counters.
 *
 * Include this header and call the PROFSHIM_* macros (or the functions when
 * profshim_active() says the shim is there). The functions are declared weak:
 * a program built with them runs unchanged without the shim (the calls do
 * nothing) and reports into the trace when started with
 * LD_PRELOAD=libprofshim.so or tools/profshim. No link flag is needed.
 */
#ifndef PROFSHIM_H
#define PROFSHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Weak in programs (they run with or without the shim); strong in the shim. */
#ifdef PROFSHIM_BUILDING_SHIM
#define PROFSHIM_WEAK
#else
#define PROFSHIM_WEAK __attribute__((weak))
#endif

struct profshim_counters {
	uint64_t events;      /* records written so far, all threads */
	uint64_t allocations; /* calls to allocation functions */
	uint64_t frees;	      /* calls to free (non-NULL) */
	int64_t live_bytes;   /* usable bytes of blocks live now */
	uint64_t samples;     /* CPU samples taken */
	uint64_t calls;	      /* instrumented function calls entered */
};

/* Resume recording (recording is on from the start unless
 * PROFSHIM_START=paused). */
void profshim_start(void) PROFSHIM_WEAK;
/* Pause recording in every thread; events while paused are not recorded. */
void profshim_stop(void) PROFSHIM_WEAK;
/* Record a named marker with its time, thread and call site. */
void profshim_mark(const char *name) PROFSHIM_WEAK;
/* Fill *out with the counters so far; returns 0, or -1 when not recording. */
int profshim_get_counters(struct profshim_counters *out) PROFSHIM_WEAK;

#ifndef PROFSHIM_BUILDING_SHIM
/* Non-zero when the program runs under the shim. Not instrumented: with
 * -finstrument-functions it would show as one of the program's calls. */
__attribute__((no_instrument_function)) static inline int profshim_active(void)
{
	return profshim_mark != 0;
}

#define PROFSHIM_START()                                                                           \
	do {                                                                                       \
		if (profshim_start)                                                                \
			profshim_start();                                                          \
	} while (0)
#define PROFSHIM_STOP()                                                                            \
	do {                                                                                       \
		if (profshim_stop)                                                                 \
			profshim_stop();                                                           \
	} while (0)
#define PROFSHIM_MARK(name)                                                                        \
	do {                                                                                       \
		if (profshim_mark)                                                                 \
			profshim_mark(name);                                                       \
	} while (0)
#endif

#ifdef __cplusplus
}
#endif

#endif
