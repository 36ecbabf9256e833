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
	int64_t live_bytes;   /* usable bytes of blocks live now; with every
			       * call recorded: of the blocks allocated and
			       * freed since the first profshim_get_counters
			       * call (counting starts there: it costs a
			       * malloc_usable_size per call) */
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

/* Spans: a named, nested stretch of one thread's time (a request, a
 * phase). profshim_span_end closes the thread's innermost open span;
 * error != 0 marks it failed (counted under the span's errors). */
void profshim_span_begin(const char *name) PROFSHIM_WEAK;
void profshim_span_end(int error) PROFSHIM_WEAK;
/* A named value over time (a queue depth, a cache size): a counter track
 * in the timeline. */
void profshim_counter(const char *name, int64_t value) PROFSHIM_WEAK;

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
#define PROFSHIM_SPAN_BEGIN(name)                                                                  \
	do {                                                                                       \
		if (profshim_span_begin)                                                           \
			profshim_span_begin(name);                                                 \
	} while (0)
#define PROFSHIM_SPAN_END()                                                                        \
	do {                                                                                       \
		if (profshim_span_end)                                                             \
			profshim_span_end(0);                                                      \
	} while (0)
#define PROFSHIM_SPAN_END_ERROR()                                                                  \
	do {                                                                                       \
		if (profshim_span_end)                                                             \
			profshim_span_end(1);                                                      \
	} while (0)
#define PROFSHIM_COUNTER(name, value)                                                              \
	do {                                                                                       \
		if (profshim_counter)                                                              \
			profshim_counter(name, value);                                             \
	} while (0)

/* Scope guard (C, GCC/Clang): the span ends when the enclosing block is
 * left, by any path:   { PROFSHIM_SPAN_SCOPE("parse"); ... }           */
static inline int profshim_span_enter_(const char *name)
{
	if (profshim_span_begin)
		profshim_span_begin(name);
	return 0;
}
static inline void profshim_span_leave_(int *unused)
{
	(void)unused;
	if (profshim_span_end)
		profshim_span_end(0);
}
#define PROFSHIM_CAT2_(a, b) a##b
#define PROFSHIM_CAT_(a, b) PROFSHIM_CAT2_(a, b)
#define PROFSHIM_SPAN_SCOPE(name)                                                                  \
	int PROFSHIM_CAT_(profshim_span_, __LINE__)                                                \
	    __attribute__((cleanup(profshim_span_leave_), unused)) = profshim_span_enter_(name)
#endif

#ifdef __cplusplus
}
#endif

#if defined(__cplusplus) && !defined(PROFSHIM_BUILDING_SHIM)
/* Scope guard (C++): profshim::Span s("request"); */
namespace profshim
{
class Span
{
      public:
	explicit Span(const char *name)
	{
		profshim_span_enter_(name);
	}
	~Span()
	{
		profshim_span_leave_(nullptr);
	}
	Span(const Span &) = delete;
	Span &operator=(const Span &) = delete;
};
} // namespace profshim
#endif

#endif
